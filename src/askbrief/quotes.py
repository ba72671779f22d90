"""Quote attribution: an article's text in, who said what out, with char offsets for both.

Direct quotes ("…", “…”, across several sentences) and reported speech ("X said that …",
"according to X, …") are found with patterns; the speaker is the name at the speech cue, or for
"he", "she" and role nouns ("the minister") the nearest earlier person the article has named
with a title or a cue. A rule-based first cut: no NER model ships on PyPI here.
"""

import re
from dataclasses import dataclass

from askbrief.records import Quote

CUES = ("said", "says", "told", "added", "warned", "argued", "claimed", "announced", "stated", "explained", "described",
        "insisted", "noted", "stressed", "urged", "wrote", "tweeted", "asked", "replied", "admitted", "suggested",
        "underlined", "recalls", "recalled", "concluded", "continued", "remarked", "commented")
_CUE = r"(?:" + "|".join(CUES) + r"|was quoted as saying|is quoted as saying)"
TITLES = ("President", "Minister", "Prime Minister", "Secretary", "Chancellor", "Dr", "Dr.", "Mr", "Mr.", "Mrs", "Mrs.",
          "Ms", "Ms.", "Prof", "Professor", "chairman", "chief executive", "boss", "spokesman", "spokeswoman",
          "director", "manager", "coach", "captain", "analyst", "Senator", "Governor", "King", "Queen", "Sir",
          "champion", "economist", "lawyer", "producer", "writer", "author", "playwright", "critic", "actor",
          "actress", "singer", "founder", "head", "MP", "striker", "player", "athlete", "organiser", "Prince")
_NOT_NAME = r"(?!(?:It|He|She|They|The|I|We|You)\b|I['’])"  # capitalised, but not a name
_NAME = rf"(?:{_NOT_NAME}(?:[A-Z]\.|[A-Z][\w'’-]*)\s)*{_NOT_NAME}[A-Z][\w'’-]+"  # capitalised words; "S." initials
_PRONOUN = r"(?:he|she|they|He|She|They)"
ROLE_HEADS = ("minister", "president", "chairman", "chief", "boss", "spokesman", "spokeswoman", "coach", "captain",
              "manager", "director", "analyst", "official", "star", "singer", "actor", "player", "executive",
              "champion", "bishop", "economist")
# Bodies that speak as themselves: "the magazine said" is attributed to the magazine.
ORG_HEADS = ("magazine", "council", "company", "firm", "group", "judges", "artists", "agency", "government",
             "ministry", "police", "club", "band", "organisers", "report", "newspaper", "union", "court")
_ROLE = r"(?:[Tt]he\s+(?:[A-Z]?[a-z-]+\s+){0,2}(?i:" + "|".join(ROLE_HEADS + ORG_HEADS) + r"))"
_SPEAKER = rf"({_ROLE}|{_PRONOUN}|{_NAME})"
_PERSON_AFTER_TITLE = re.compile(r"\b(?:" + "|".join(re.escape(t) for t in TITLES) + rf")\s+({_NAME})")
_HONORIFIC = re.compile(r"^(?:(?:Dr|Mr|Mrs|Ms|Prof|Sir)\.?\s+)+")
MIN_WORDS = 4  # shorter quoted bits are titles or scare quotes, not statements


def direct_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) inside each quotation. A straight mark opens when it follows a space or the
    start of a line and comes before a word, and closes otherwise; a quote still open when the
    next one opens (news copy often drops the closing mark between quoted paragraphs) or when
    its line ends is closed there."""
    spans = []
    for line in re.finditer(r"[^\n]+", text):
        opened = None
        for mark in re.finditer(r'["“”]', line.group(0)):
            i = mark.start()
            before = line.group(0)[i - 1] if i else " "
            after = line.group(0)[i + 1] if i + 1 < len(line.group(0)) else " "
            opening = mark.group(0) == "“" or (mark.group(0) == '"' and (before.isspace() or before in "([—-")
                                                and not after.isspace())
            if opening:
                if opened is not None:
                    spans.append((line.start() + opened, line.start() + i))
                opened = i + 1
            elif opened is not None:
                spans.append((line.start() + opened, line.start() + i))
                opened = None
        if opened is not None:
            spans.append((line.start() + opened, line.end()))
    trimmed = []
    for start, end in spans:
        piece = text[start:end]
        start, end = start + len(piece) - len(piece.lstrip()), end - (len(piece) - len(piece.rstrip()))
        if len(text[start:end].split()) >= MIN_WORDS:
            trimmed.append((start, end))
    return trimmed


@dataclass(frozen=True)
class People:
    """Named people in one article: their mentions in order, and the words around their titled
    mentions ("external affairs minister"), which role nouns are matched against."""

    mentions: list[tuple[int, int, str]]  # (start, end, full name)
    titles: dict[str, str]


def people(text: str) -> People:
    """Mentions of named people: after a title ("President Vladimir Putin") or at a speech cue
    ("Putin told"); a bare surname later on counts as the fullest name it belongs to."""
    titled = [(m.start(1), m.end(1), _HONORIFIC.sub("", m.group(1)).strip(), m.start())
              for m in _PERSON_AFTER_TITLE.finditer(text)]
    found = [(s, e, n) for s, e, n, _ in titled]
    at_cue = [m.span(1) for m in re.finditer(rf"\b({_NAME})\s+(?:\w+ly\s+)?{_CUE}\b", text)]
    at_cue += [m.span(1) for m in re.finditer(rf"\b{_CUE}\s+({_NAME})", text)]  # "said Robert Sinche"
    for start, end in at_cue:
        name = text[start:end]
        role = text[max(0, start - 4):start].lower() == "the "  # "the Bishop said" names a role, not a person
        if not role and not re.fullmatch(r"(?:The|In|On|At|But|And|This|That|A|An)", name.split()[0]):
            found.append((start, end, _HONORIFIC.sub("", name).strip()))
    full: dict[str, str] = {}
    for _, _, name in sorted(found, key=lambda f: -len(f[2])):
        full.setdefault(name.split()[-1], name)
    mentions = {(s, e, full[name.split()[-1]]) for s, e, name in found}
    for surname, name in full.items():
        for m in re.finditer(rf"\b{re.escape(surname)}\b", text):
            mentions.add((m.start(), m.end(), name))
    titles: dict[str, str] = {}
    for _, _, name, at in titled:
        key = full[name.split()[-1]]
        titles[key] = titles.get(key, "") + " " + text[max(0, at - 40):at + 20].lower()
    return People(sorted(mentions), titles)


def _sentence_start(text: str, at: int) -> int:
    cut = max(text.rfind(". ", 0, at), text.rfind("? ", 0, at), text.rfind("! ", 0, at), text.rfind("\n", 0, at))
    return cut + 1


def resolve(text: str, mention: str, at: int, known: People) -> str | None:
    """A name to its fullest form; a pronoun to the subject (first named person) of the nearest
    earlier sentence that names someone; a role noun ("the minister") to the nearest earlier
    person with that title."""
    if not (re.fullmatch(_PRONOUN, mention) or re.fullmatch(_ROLE, mention)):
        surname = _HONORIFIC.sub("", mention).split()[-1]
        named = [m for m in known.mentions if m[2].split()[-1] == surname]
        return named[0][2] if named else _HONORIFIC.sub("", mention)
    earlier = [m for m in known.mentions if m[1] <= at]
    head = mention.lower().split()[-1]
    if head in ORG_HEADS:
        return mention[0].lower() + mention[1:]
    if head in ROLE_HEADS:
        titled = [m for m in earlier if head in known.titles.get(m[2], "")]
        if titled:
            return titled[-1][2]
    if not earlier:
        return None
    sentence = _sentence_start(text, earlier[-1][0])
    return next(m[2] for m in earlier if m[0] >= sentence)


def extract(text: str) -> list[Quote]:
    """Every attributed quote in the text, in order. Quotes with no speaker found are left out."""
    mentions = people(text)
    quotes: list[Quote] = []
    for start, end in direct_spans(text):
        quote = _attribute_direct(text, start, end, mentions, quotes)
        if quote:
            quotes.append(quote)
    taken = [(q.start, q.end) for q in quotes]
    for m in re.finditer(rf"(?:^|(?<=[.!?]\s)|(?<=,\s)){_SPEAKER}\s+(?:\w+ly\s+)?({_CUE})(?:\s+(?:{_NAME}|him|her|them|reporters))?\s+(?:that\s+)?([^\"“”\n]+?[.!?])(?=\s|$)", text):
        clause = (m.start(3), m.end(3) - 1)
        if any(s <= clause[0] < e for s, e in taken) or len(m.group(3).split()) < MIN_WORDS:
            continue
        speaker = resolve(text, m.group(1), m.start(1), mentions)
        if speaker:
            quotes.append(Quote(speaker, m.group(2), clause[0], clause[1], m.start(1), m.end(1)))
    for m in re.finditer(rf"[Aa]ccording to ({_NAME}),?\s+([^\"“”\n]+?[.!?])(?=\s|$)", text):
        speaker = resolve(text, m.group(1), m.start(1), mentions)
        if speaker and len(m.group(2).split()) >= MIN_WORDS:
            quotes.append(Quote(speaker, "according to", m.start(2), m.end(2) - 1, m.start(1), m.end(1)))
    return sorted(quotes, key=lambda q: q.start)


def _attribute_direct(text: str, start: int, end: int, mentions, earlier: list[Quote]) -> Quote | None:
    after = text[end + 1:end + 120].split("\n")[0]
    before_line = text[:start - 1].rsplit("\n", 1)[-1]
    before = before_line[-120:]
    base_after = end + 1
    patterns_after = [rf"^[,.!?]?\s*(?:[a-z][\w'’-]*\s+){{0,6}}{_SPEAKER}\s+(?:\w+ly\s+)?({_CUE})",
                      rf"^[,.!?]?\s*({_CUE})\s+({_ROLE})(?=\s*[,.;:]|\s*$)",
                      rf"^[,.!?]?\s*({_CUE})\s+(?:[^,.\n]*?\s)?({_NAME}|(?:[A-Z]\w*\s+)?(?:spokesman|spokeswoman|official|source))(?=\s*[,.;:]|\s+(?:of|from|at)\s|\s*$)",
                      rf"^[,.!?]?\s*[^.!?\"“]{{0,60}}?,\s*({_NAME}),\s+(?:\w+ly\s+)?({_CUE})"]  # "the organiser, Sarah Mukasa, told"
    m = re.search(patterns_after[0], after)
    if m:
        return _make(text, m.group(1), m.group(2), start, end, base_after + m.start(1), mentions)
    for pattern in patterns_after[1:3]:  # cue first, then who
        m = re.search(pattern, after)
        if m:
            return _make(text, m.group(2), m.group(1), start, end, base_after + m.start(2), mentions)
    m = re.search(patterns_after[3], after)
    if m:
        return _make(text, m.group(1), m.group(2), start, end, base_after + m.start(1), mentions)
    m = re.search(rf"{_SPEAKER}\s+(?:\w+ly\s+)?({_CUE})[^.!?\"“]*?[:,]?\s*$", before)
    if m:
        return _make(text, m.group(1), m.group(2), start, end, start - 1 - len(before) + m.start(1), mentions)
    between = text[earlier[-1].end + 1:start - 1] if earlier else "x"
    narrative = [p for p in re.split(r"(?<=[.!?])\s+", between.strip(" \t\n,;\"“”")) if p.strip(" .\"“”")]
    attribution_only = len(narrative) <= 1 and (not narrative or re.search(_CUE, narrative[0]))
    about_speaker = bool(earlier and narrative and earlier[-1].speaker.split()[-1] in narrative[-1])
    if earlier and (attribution_only or about_speaker):
        last = earlier[-1]  # a quote standing alone continues the last speaker
        return Quote(last.speaker, last.cue, start, end, last.speaker_start, last.speaker_end)
    return None


def _make(text, mention, cue, start, end, at, mentions) -> Quote | None:
    speaker = resolve(text, mention, at, mentions)
    if not speaker:
        return None
    return Quote(speaker, cue, start, end, at, at + len(mention))


def with_marks(text: str, start: int, end: int) -> tuple[int, int]:
    """The quote's span widened to take in its own quote marks, when it has them."""
    if start > 0 and text[start - 1] in '"“' and end < len(text) and text[end] in '"”':
        return start - 1, end + 1
    return start, end
