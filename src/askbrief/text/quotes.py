"""Quote attribution: an article's text in, who said what out, with char offsets for both.

Direct quotes ("…", “…”, across several sentences) and reported speech ("X said that …",
"according to X, …") are found with patterns; the speaker is the name at the speech cue, or for
"he", "she" and role nouns ("the minister") the nearest earlier person the article has named
with a title or a cue. A rule-based first cut: no NER model ships on PyPI here.
"""

import re
from bisect import bisect_left, bisect_right
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
# Capitalised words and "S." initials, at most NAME_WORDS of them: a bounded repeat keeps every
# pattern built on it linear (an unbounded one took 19 s on 36 KB of capitalised words; tests/test_patterns.py).
NAME_WORDS = 8  # the longest seen in 460 BBC and Wikinews articles is 6 ("South Africa Finance Minister Trevor Manuel")
_NAME = rf"(?:{_NOT_NAME}(?:[A-Z]\.|[A-Z][\w'’-]*)\s){{0,{NAME_WORDS - 1}}}{_NOT_NAME}[A-Z][\w'’-]+"
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
CLAUSE_CHARS = 400  # a reported clause ("X said that …") is at most this long: bounded, so linear
MAX_PEOPLE = 300  # distinct surnames looked up in one article; news names far fewer
LOOKBACK = 500  # earlier mentions a role noun is resolved against
SENTENCE_LOOKBACK = 2000  # characters searched back for the start of a sentence
_LINE = re.compile(r"[^\n]+")
_MARK = re.compile(r'["“”]')
# A name right before a cue ("Putin told"), looked for only in a window before each cue: one
# scan of the whole text for a name held the GIL 150 ms on 200 KB of capitalised words.
_CUE_WORD = re.compile(rf"\b{_CUE}\b")
_NAME_BEFORE_CUE = re.compile(rf"\b({_NAME})\s+(?:\w+ly\s+)?\Z")
NAME_WINDOW = 250  # characters before a cue: 8 words of a name and an adverb
_CUE_THEN_NAME = re.compile(rf"\b{_CUE}\s+({_NAME})")  # "said Robert Sinche"
_NOT_A_FIRST_NAME = re.compile(r"(?:The|In|On|At|But|And|This|That|A|An)")
_PRONOUN_ONLY = re.compile(_PRONOUN)
_ROLE_ONLY = re.compile(_ROLE)
_REPORTED = re.compile(rf"(?:^|(?<=[.!?]\s)|(?<=,\s)){_SPEAKER}\s+(?:\w+ly\s+)?({_CUE})"
                       rf"(?:\s+(?:{_NAME}|him|her|them|reporters))?\s+(?:that\s+)?([^\"“”\n]{{1,{CLAUSE_CHARS}}}?[.!?])(?=\s|$)")
_ACCORDING = re.compile(rf"[Aa]ccording to ({_NAME}),?\s+([^\"“”\n]{{1,{CLAUSE_CHARS}}}?[.!?])(?=\s|$)")
# After a quotation (at most 120 characters of its line): who said it.
_SPEAKER_THEN_CUE = re.compile(rf"^[,.!?]?\s*(?:[a-z][\w'’-]*\s+){{0,6}}{_SPEAKER}\s+(?:\w+ly\s+)?({_CUE})")
_CUE_THEN_ROLE = re.compile(rf"^[,.!?]?\s*({_CUE})\s+({_ROLE})(?=\s*[,.;:]|\s*$)")
_CUE_THEN_WHO = re.compile(rf"^[,.!?]?\s*({_CUE})\s+(?:[^,.\n]{{0,120}}?\s)?({_NAME}|(?:[A-Z]\w*\s+)?(?:spokesman|spokeswoman|official|source))"
                           rf"(?=\s*[,.;:]|\s+(?:of|from|at)\s|\s*$)")
_APPOSITIVE = re.compile(rf"^[,.!?]?\s*[^.!?\"“]{{0,60}}?,\s*({_NAME}),\s+(?:\w+ly\s+)?({_CUE})")  # "the organiser, Sarah Mukasa, told"
# Before a quotation (at most 120 characters of its line): "X said:".
_CUE_BEFORE = re.compile(rf"{_SPEAKER}\s+(?:\w+ly\s+)?({_CUE})[^.!?\"“]{{0,120}}?[:,]?\s*$")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")
_ANY_CUE = re.compile(_CUE)
AROUND = 120  # characters of a quotation's line read for its attribution


def direct_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) inside each quotation. A straight mark opens when it follows a space or the
    start of a line and comes before a word, and closes otherwise; a quote still open when the
    next one opens (news copy often drops the closing mark between quoted paragraphs) or when
    its line ends is closed there."""
    spans = []
    for line in _LINE.finditer(text):
        opened = None
        for mark in _MARK.finditer(line.group(0)):
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

    mentions: list[tuple[int, int, str]]  # (start, end, full name), by start
    titles: dict[str, str]
    by_end: list[tuple[int, int, str]]  # the same mentions, by end
    ends: list[int]
    by_surname: dict[str, str]  # surname -> the fullest name first mentioned with it


def people(text: str) -> People:
    """Mentions of named people: after a title ("President Vladimir Putin") or at a speech cue
    ("Putin told"); a bare surname later on counts as the fullest name it belongs to."""
    titled = [(m.start(1), m.end(1), _HONORIFIC.sub("", m.group(1)).strip(), m.start())
              for m in _PERSON_AFTER_TITLE.finditer(text)]
    found = [(s, e, n) for s, e, n, _ in titled]
    at_cue = _names_before_cues(text) + [m.span(1) for m in _CUE_THEN_NAME.finditer(text)]
    for start, end in at_cue:
        name = text[start:end]
        role = text[max(0, start - 4):start].lower() == "the "  # "the Bishop said" names a role, not a person
        if not role and not _NOT_A_FIRST_NAME.fullmatch(name.split()[0]):
            found.append((start, end, _HONORIFIC.sub("", name).strip()))
    full: dict[str, str] = {}
    for _, _, name in sorted(found, key=lambda f: -len(f[2])):
        full.setdefault(name.split()[-1], name)
    mentions = {(s, e, full[name.split()[-1]]) for s, e, name in found}
    for surname, name in list(full.items())[:MAX_PEOPLE]:
        for m in re.finditer(rf"\b{re.escape(surname)}\b", text):
            mentions.add((m.start(), m.end(), name))
    titles: dict[str, str] = {}
    for _, _, name, at in titled:
        key = full[name.split()[-1]]
        titles[key] = titles.get(key, "") + " " + text[max(0, at - 40):at + 20].lower()
    by_start = sorted(mentions)
    by_end = sorted(mentions, key=lambda m: (m[1], m[0]))
    first_named: dict[str, str] = {}
    for _, _, name in by_start:
        first_named.setdefault(name.split()[-1], name)
    return People(by_start, titles, by_end, [m[1] for m in by_end], first_named)


def _names_before_cues(text: str) -> list[tuple[int, int]]:
    """Spans of the names that speak at a cue, left to right, not overlapping (as one finditer
    of name-then-cue would find them)."""
    spans, free_from = [], 0
    for cue in _CUE_WORD.finditer(text):
        m = _NAME_BEFORE_CUE.search(text, max(free_from, cue.start() - NAME_WINDOW), cue.start())
        if m:
            spans.append(m.span(1))
            free_from = cue.end()
    return spans


def _sentence_start(text: str, at: int) -> int:
    low = max(0, at - SENTENCE_LOOKBACK)
    cut = max(text.rfind(". ", low, at), text.rfind("? ", low, at), text.rfind("! ", low, at), text.rfind("\n", low, at))
    return cut + 1 if cut >= 0 else low


def resolve(text: str, mention: str, at: int, known: People) -> str | None:
    """A name to its fullest form; a pronoun to the subject (first named person) of the nearest
    earlier sentence that names someone; a role noun ("the minister") to the nearest earlier
    person with that title."""
    if not (_PRONOUN_ONLY.fullmatch(mention) or _ROLE_ONLY.fullmatch(mention)):
        surname = _HONORIFIC.sub("", mention).split()[-1]
        return known.by_surname.get(surname) or _HONORIFIC.sub("", mention)
    head = mention.lower().split()[-1]
    if head in ORG_HEADS:
        return mention[0].lower() + mention[1:]
    before = bisect_right(known.ends, at)  # known.by_end[:before] end at or before `at`
    if head in ROLE_HEADS:
        for i in range(before - 1, max(before - LOOKBACK, 0) - 1, -1):
            if head in known.titles.get(known.by_end[i][2], ""):
                return known.by_end[i][2]
    if not before:
        return None
    return _subject_before(text, known, before)


def _subject_before(text: str, known: People, before: int) -> str:
    """The first person named in the sentence of the latest mention among `known.by_end[:before]`."""
    i = before - 1
    last = known.by_end[i]
    while i > 0 and known.by_end[i - 1][1] >= last[0]:  # an earlier-ending mention may still start later
        i -= 1
        last = max(last, known.by_end[i])
    sentence = _sentence_start(text, last[0])
    first = bisect_left(known.ends, sentence, 0, before)  # mentions starting in the sentence end after it
    return min(m for m in known.by_end[first:before] if m[0] >= sentence)[2]


def extract(text: str) -> list[Quote]:
    """Every attributed quote in the text, in order. Quotes with no speaker found are left out."""
    mentions = people(text)
    quotes: list[Quote] = []
    for start, end in direct_spans(text):
        quote = _attribute_direct(text, start, end, mentions, quotes)
        if quote:
            quotes.append(quote)
    taken = [(q.start, q.end) for q in quotes]
    for m in _REPORTED.finditer(text):
        clause = (m.start(3), m.end(3) - 1)
        if any(s <= clause[0] < e for s, e in taken) or len(m.group(3).split()) < MIN_WORDS:
            continue
        speaker = resolve(text, m.group(1), m.start(1), mentions)
        if speaker:
            quotes.append(Quote(speaker, m.group(2), clause[0], clause[1], m.start(1), m.end(1)))
    for m in _ACCORDING.finditer(text):
        speaker = resolve(text, m.group(1), m.start(1), mentions)
        if speaker and len(m.group(2).split()) >= MIN_WORDS:
            quotes.append(Quote(speaker, "according to", m.start(2), m.end(2) - 1, m.start(1), m.end(1)))
    return sorted(quotes, key=lambda q: q.start)


def _attribute_direct(text: str, start: int, end: int, mentions, earlier: list[Quote]) -> Quote | None:
    after = text[end + 1:end + AROUND].split("\n")[0]
    line_start = text.rfind("\n", max(0, start - 1 - AROUND), max(start - 1, 0)) + 1
    before = text[max(line_start, start - 1 - AROUND):max(start - 1, 0)]
    base_after = end + 1
    m = _SPEAKER_THEN_CUE.search(after)
    if m:
        return _make(text, m.group(1), m.group(2), start, end, base_after + m.start(1), mentions)
    for pattern in (_CUE_THEN_ROLE, _CUE_THEN_WHO):  # cue first, then who
        m = pattern.search(after)
        if m:
            return _make(text, m.group(2), m.group(1), start, end, base_after + m.start(2), mentions)
    m = _APPOSITIVE.search(after)
    if m:
        return _make(text, m.group(1), m.group(2), start, end, base_after + m.start(1), mentions)
    m = _CUE_BEFORE.search(before)
    if m:
        return _make(text, m.group(1), m.group(2), start, end, start - 1 - len(before) + m.start(1), mentions)
    between = text[earlier[-1].end + 1:start - 1] if earlier else "x"
    narrative = [p for p in _SENTENCE_BREAK.split(between.strip(" \t\n,;\"“”")) if p.strip(" .\"“”")]
    attribution_only = len(narrative) <= 1 and (not narrative or _ANY_CUE.search(narrative[0]))
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
