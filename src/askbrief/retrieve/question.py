"""The question, parsed once: its text in, a `Question` record out, which retrieval and reading take.

Its keyword terms, the dates its words ask for (read against the newest indexed article, see
dates.py), the speaker and topic of "What did X say about Y?", and the kind of answer it wants.
Explicit since/until options win over dates read from its words.
"""

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from askbrief.index.store import Store
from askbrief.records import Filter
from askbrief.retrieve.dates import scope
from askbrief.retrieve.dates_fr_de_es import scope_in
from askbrief.text.language import ENGLISH, reading
from askbrief.text.sentences import terms

_YEAR = re.compile(r"\b(1[5-9]|20)\d\d\b")
_MONTH = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\bcentur", re.I)
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion)\b", re.I)
_DATE = re.compile(f"{_YEAR.pattern}|{_MONTH.pattern}", re.I)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")
_ASKS_NUMBER = re.compile(r"\bhow (many|much|long|old|far|large|big)\b|\bwhat (percent|percentage|number)\b", re.I)
_ASKS_DATE = re.compile(r"\bwhen\b|\bwhat (year|date|century|month|day)\b", re.I)
_ASKS_NAME = re.compile(r"\bwho(m|se)?\b|\bwhere\b", re.I)
_ASKS_CAUSE = re.compile(r"^\s*(?:and\s+)?why\b|\bwhat (?:caused|led to|made|prompted|drove)\b|\bfor what reason\b|"
                         r"\bhow come\b|\bwhat (?:is|was|were) the (?:reason|cause)s?\b", re.I)
# Words that give a reason: "because", "due to", "after", "the result of"...
_REASON_WORDS = (r"because|due to|owing to|result(?:s|ed)? (?:of|from)|stem(?:s|med)? from|attributed to|thanks to|"
                 r"caused by|blamed (?:on|for)|led to|on the back of|driven by|fuell?ed by|hit by|sparked by|"
                 r"prompted by|in response to|reasons?|amid|after|following|so that|in order to")
# A clause that starts as a reason; "as" too ("as the euro rose").
_CAUSE = re.compile(rf"\b(?:{_REASON_WORDS}|as)\b", re.I)
# What a sentence needs to answer a why question: not a bare "as", which most sentences hold for other ends.
_GIVES_REASON = re.compile(rf"\b(?:{_REASON_WORDS})\b", re.I)
# "What did X say (about Y)?": X is at most MAX_NAME_WORDS words and Y the rest; bounded repeats
# of single words keep the match linear in the question's length.
MAX_NAME_WORDS = 8
_ASKS_SPEAKER = re.compile(
    rf"^\s*what\s+(?:did|does|has|have|had)\s+((?:[^\s?]+\s+){{0,{MAX_NAME_WORDS - 1}}}?[^\s?]+)\s+"
    r"(?:say|said|tell|told|think|thought)\b(?:\s+(?:\w+\s+){0,2}?(?:about|on|of|regarding)\s+([^?]+?))?\s*\??\s*$",
    re.I)


@dataclass(frozen=True)
class Question:
    text: str
    terms: tuple[str, ...]  # stemmed content words, the keyword query
    where: Filter  # dates (asked or given) and sources
    prefer_recent: bool  # "the latest on…": newer articles rank up
    speaker: str | None  # X of "What did X say about Y?"
    topic: str | None  # Y of it
    wants: re.Pattern | None  # what a sentence must hold to answer: a number, a date, a name
    time_words: tuple[str, ...] = ()  # words read as time, left out of the terms ("latest", "last month")
    recent_words: tuple[str, ...] = ()  # of those, the ones asking for the latest ("latest", "newest")
    span_words: tuple[str, ...] = ()  # of those, the ones read as the date filter ("last month")
    dates_from: str = "none"  # where `where`'s dates came from: "question", "options" or "none"
    resolved_against: str | None = None  # the newest indexed date the question's time words were read against
    lang: str = ENGLISH  # ISO 639-1; the English rules (answer types, dates, speakers) read English only
    across: bool = False  # an English question over articles none of which is English (language.asked_across)

    def offers_new(self, sentence: str) -> bool:
        """Whether the sentence holds something of the wanted kind that the question does not
        already say: the answer to "Who met Putin?" is a name other than Putin."""
        if self.wants is None:
            return False
        asked = self.text.lower()
        return any(m.group(0).lower() not in asked for m in self.wants.finditer(sentence))

    @property
    def asks_reason(self) -> bool:
        """Whether it asks why (its answer type is a reason), so a short answer must read as a clause."""
        return self.wants is _GIVES_REASON


def answer_type(text: str) -> re.Pattern | None:
    """What a sentence must contain to answer this kind of question, if the kind is clear."""
    if _ASKS_CAUSE.search(text):
        return _GIVES_REASON
    if _ASKS_NUMBER.search(text):
        return _NUMBER
    if _ASKS_DATE.search(text):
        return _DATE
    if _ASKS_NAME.search(text):
        return _NAME
    return None


def is_clause(text: str) -> bool:
    """Whether a short answer reads as a reason (a "because / due to / after" clause, or words
    enough for one), as a why question needs; a lone noun phrase does not."""
    return bool(_CAUSE.match(text.strip())) or len(text.split()) >= 4


def speaker_question(text: str) -> tuple[str, str | None] | None:
    """(speaker, topic) of "What did X say (about Y)?", else None."""
    m = _ASKS_SPEAKER.match(text)
    return (m.group(1).strip(), m.group(2).strip() if m.group(2) else None) if m else None


def as_query(text: str, where: Filter = Filter(), lang: str = ENGLISH, across: bool = False) -> Question:
    """A search query taken as it is: its terms, and no dates, speaker or answer type read from it."""
    return Question(text=text, terms=tuple(terms(text, lang)), where=where, prefer_recent=False, speaker=None,
                    topic=None, wants=None, lang=lang, across=across)


def parse(text: str, newest: dt.date | None = None, since: str | None = None, until: str | None = None,
          sources: Iterable[str] = (), lang: str = ENGLISH, across: bool = False) -> Question:
    """The question read once; `since`/`until` (validated ISO dates) override dates in its words.
    Words read as time ("latest", "in February") are left out of its terms: the date filter or
    the recency ranking does their work, and a passage need not contain them. A question in
    another language gets its own language's terms and dates (French, German, Spanish) and none
    of the English readings (answer types, speakers)."""
    asked = scope(text, newest) if lang == ENGLISH else scope_in(lang, text, newest)
    recent, span = tuple(asked.recent_words), ()
    dates_from = "options" if since or until else "none"
    if not (since or until):
        since, until = asked.since, asked.until
        span = tuple(asked.span_words)
        dates_from = "question" if since or until else "none"
    said_as_time = recent + span
    time_terms = set(terms(" ".join(said_as_time), lang))
    kept = tuple(t for t in terms(text, lang) if t not in time_terms) or tuple(terms(text, lang))
    english = lang == ENGLISH
    speaker, topic = (speaker_question(text) if english else None) or (None, None)
    return Question(text=text, terms=kept, where=Filter(since, until, tuple(sources)),
                    prefer_recent=asked.prefer_recent, speaker=speaker, topic=topic,
                    wants=answer_type(text) if english else None, time_words=said_as_time, recent_words=recent,
                    span_words=span, dates_from=dates_from,
                    resolved_against=newest.isoformat() if newest and said_as_time else None, lang=lang,
                    across=across)


def kind_of_answer(wants: re.Pattern | None) -> str | None:
    """The answer type in words, as an explanation says it."""
    return {_NUMBER: "a number", _DATE: "a date", _NAME: "a name", _GIVES_REASON: "a reason"}.get(wants) if wants else None




def parse_all(store: Store, texts: list[str], since: str | None, until: str | None,
              sources: tuple[str, ...]) -> list[Question]:
    """Questions asked of one index: time words read against its newest article, each question's
    language among the index's."""
    newest = store.newest_published()
    newest_date = dt.date.fromisoformat(newest) if newest else None
    languages = store.languages()
    return [parse(q, newest_date, since, until, sources, *reading(q, languages)) for q in texts]
