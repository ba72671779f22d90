"""Direct quotes in French, German and Spanish: each language's quotation marks and speech verbs.

« … », a déclaré X / X a déclaré : « … »; „…“, sagte X / X sagte: „…“; «…», dijo X / X dijo: «…».
A quotation is attributed to the name right after its closing mark's speech verb (a role noun or
two may stand between: "s'est réjoui le président Obama") or right before its opening mark's
("John Womersley a déclaré :"). Reported speech and pronouns ("dit-il", "sagte er") are left out:
a quote without a named speaker is none. Every other language gets no quotes rather than
English rules (quotes.py is English).
"""

import re

from askbrief.records import Quote
from askbrief.text.quotes import AROUND, MIN_WORDS

# Opening mark -> the closing marks that end it (French and Spanish guillemets, German low-high
# quotes and reversed guillemets, typographic and straight double quotes).
PAIRS = {"«": "»", "„": "“”", "»": "«", "“": "”", '"': '"'}
CUES = {
    "fr": ("a déclaré", "déclare", "a dit", "dit", "a affirmé", "affirme", "a expliqué", "explique", "a ajouté",
           "ajoute", "a souligné", "souligne", "a estimé", "estime", "a indiqué", "indique", "indiquait",
           "a annoncé", "annonce", "a précisé", "précise", "a assuré", "assure", "a lancé", "lance",
           "a confié", "confie", "a répondu", "répond", "s'est réjoui", "s’est réjoui", "a averti", "a reconnu"),
    "de": ("sagte", "sagt", "erklärte", "erklärt", "betonte", "betont", "meinte", "meint", "fügte hinzu",
           "sagte dazu", "kündigte an", "warnte", "warnt", "so", "schrieb", "schreibt", "antwortete", "versicherte"),
    "es": ("dijo", "dice", "afirmó", "afirma", "declaró", "declara", "explicó", "explica", "aseguró", "asegura",
           "señaló", "señala", "añadió", "añade", "indicó", "indica", "advirtió", "subrayó", "agregó", "sostuvo"),
}
_UPPER = "A-ZÀ-ÖØ-ÞĀ-Ž"
_WORD = rf"[{_UPPER}][\w'’-]+"
_NAME = rf"{_WORD}(?:\s+(?:(?:de|von|van|del|da|di|le|la)\s+)?{_WORD}){{0,4}}"
# Capitalised words before a name that are not of it: articles, and German nouns of office.
_NOT_OF_NAME = re.compile(r"^(?:(?:Die|Der|Das|Den|Dem|La|Le|Les|El|Los|Las|Un|Une|Ein|Eine|Selon|Según|Laut)\s+"
                          r"|\w*(?:minister|ministerin|kanzler|kanzlerin|präsident|präsidentin|sprecher|sprecherin"
                          r"|chef|chefin|direktor|direktorin|vorsitzende|vorsitzender|trainer|trainerin|ökonom|ökonomin|experte|expertin"
                          r"|analyst|analystin|politiker|politikerin|abgeordnete|abgeordneter|meister|meisterin|leiter"
                          r"|leiterin|professor|professorin|Dr\.?)\s+)+", re.I)
_ROLE_WORDS = r"(?:[\w'’-]+,?\s+){0,4}?"  # "le président", "un jeune manifestant,", "der Minister"
_OPEN = re.compile(r'[«„»“"]')


def _cue(lang: str) -> str:
    return "(" + "|".join(re.escape(c) for c in sorted(CUES[lang], key=len, reverse=True)) + ")"


def _patterns(lang: str) -> tuple[re.Pattern, re.Pattern]:
    # Each run of spaces is matched one way only (`\s*[,.]?\s*` would try every split of a long
    # run: 41 s on 20,000 spaces; tests/test_patterns.py).
    after = re.compile(rf"^\s*(?:[,.!?]\s*)?{_cue(lang)}\s+{_ROLE_WORDS}({_NAME})")
    before = re.compile(rf"({_NAME})(?:\s*,)?\s+{_cue(lang)}(?:\s+(?:que|dass))?(?:\s*:)?\s*\Z")
    return after, before


_PATTERNS = {lang: _patterns(lang) for lang in CUES}


def quotations(text: str) -> list[tuple[int, int, int, int]]:
    """(opening mark, start, end, closing mark) of each quotation of at least MIN_WORDS words
    within one line; start and end trimmed of the spaces French puts inside guillemets."""
    found, at = [], 0
    while m := _OPEN.search(text, at):
        closers = PAIRS[m.group(0)] + "\n"
        close = next((i for i in range(m.end(), min(len(text), m.end() + 2000)) if text[i] in closers), None)
        if close is None or text[close] == "\n":
            at = m.end()
            continue
        piece = text[m.end():close]
        start, end = m.end() + len(piece) - len(piece.lstrip()), close - (len(piece) - len(piece.rstrip()))
        if len(text[start:end].split()) >= MIN_WORDS:
            found.append((m.start(), start, end, close))
        at = close + 1
    return found


def extract_other(text: str, lang: str | None) -> list[Quote]:
    """The quotes of an article in French, German or Spanish; none in another language."""
    if lang not in _PATTERNS:
        return []
    after_cue, before_cue = _PATTERNS[lang]
    quotes = []
    for opening, start, end, close in quotations(text):
        after = text[close + 1:close + 1 + AROUND].split("\n")[0]
        if m := after_cue.search(after):
            quotes.append(_quote(m, 2, m.group(1), close + 1, start, end))
            continue
        line = text.rfind("\n", 0, opening) + 1
        before_at = max(line, opening - AROUND)
        if m := before_cue.search(text[before_at:opening]):
            quotes.append(_quote(m, 1, m.group(2), before_at, start, end))
    return [q for q in quotes if q.speaker]


def _quote(m: re.Match, group: int, cue: str, base: int, start: int, end: int) -> Quote:
    """The quote, its speaker's name without the article or office before it ("Die Ministerin")."""
    name = m.group(group)
    skip = len(_NOT_OF_NAME.match(name).group(0)) if _NOT_OF_NAME.match(name) else 0
    at = base + m.start(group) + skip
    return Quote(name[skip:], cue, start, end, at, at + len(name) - skip)
