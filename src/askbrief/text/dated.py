"""Days a news sentence refers to, resolved against its article's publication date.

"on 20 April", "April 20, 2010", "on Tuesday", "yesterday", "last night": a story's timeline
needs to know which day a sentence speaks of, and news names days relative to the day it is
published. Only references to one day are kept (a month or a year is no timeline step); a weekday
is the latest such day on or before publication ("on Tuesday", in past-tense news), or the next one
after a future cue ("will", "is due to"). Written for English; measured against dateparser's
`search_dates` in docs/timelines.md (scripts/eval_date_refs.py).
"""

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name} | {"sept": 9}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:(?:,?\s+|\.)(1[5-9]\d\d|20\d\d)\b)?"  # "April 20, 2010", "Jan 2.2003" (a crawl's joined stop)
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_WEEKDAY = "(" + "|".join(_WEEKDAYS) + ")"

# A range ("April 21-27", "23-25 October") or a week ("the week of May 17") names no one day.
_NOT_A_RANGE = r"(?<!week of )(?<![\d–-])"
_DAY_MONTH = re.compile(rf"{_NOT_A_RANGE}\b{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}", re.I)  # 20 April (2010)
_MONTH_DAY = re.compile(rf"(?<!week of )\b{_MONTH}\s+{_DAY}\b(?!\s*(?:%|percent|per cent|[–-]\s*\d)){_YEAR}", re.I)
_ISO = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
_WEEKDAY_REF = re.compile(rf"(?<!News )\b(?:(last|next|this|on|since|by|until)\s+)?{_WEEKDAY}\b(?!\s*,?\s*{_MONTH}|\s+\d)",
                          re.I)  # not "Fox News Sunday"
_RELATIVE = re.compile(r"\b(today|tonight|this (?:morning|afternoon|evening)|yesterday|last night|tomorrow)\b", re.I)
_RELATIVE_DAYS = {"today": 0, "tonight": 0, "yesterday": -1, "last night": -1, "tomorrow": 1}
_FUTURE = re.compile(r"\b(will|shall|is due|are due|(?:is|are|was|were) expected|expects?|(?:is|are) scheduled|plans? to"
                     r"|to be|going to)\b", re.I)
_CLAUSE = re.compile(r"[;:]|,\s|\b(?:and|but|while|versus|whereas)\b")
# A page's own dateline ("8 November 2011 Last updated at 14:07 GMT", "updated at 08:14 GMT,
# Tuesday, 8 November 2011") names when it was posted, not a day of the story.
_DATELINE_BEFORE = re.compile(r"(?:\b(?:updated|published|posted)\b|\bGMT\b|\d\d:\d\d)[^.]{0,24}$", re.I)
_DATELINE_AFTER = re.compile(r"^[\s,|-]*(?:last updated|updated|\d{1,2}:\d\d)", re.I)
# Months far from the publication date are a year off: "December 30" in a January article.
_NEAREST_YEAR_DAYS = 183


@dataclass(frozen=True, slots=True)
class DateRef:
    """`text[start:end]` names `day` (ISO, YYYY-MM-DD)."""

    start: int
    end: int
    day: str


def references(text: str, published: str | None) -> list[DateRef]:
    """Every one-day reference in `text` (a sentence), in order; relative ones ("Tuesday",
    "yesterday") need the publication date and are left out without it."""
    base = _as_date(published)
    found: list[DateRef] = []
    taken: list[tuple[int, int]] = []

    def keep(match: re.Match, day: dt.date | None) -> None:
        span = match.span()
        if day is None or any(a < span[1] and span[0] < b for a, b in taken):
            return
        if _DATELINE_BEFORE.search(text, max(0, span[0] - 40), span[0]) or _DATELINE_AFTER.match(text[span[1]:span[1] + 20]):
            taken.append(span)  # and its weekday ("Tuesday, 8 November") goes with it
            return
        taken.append(span)
        found.append(DateRef(span[0], span[1], day.isoformat()))

    for m in _ISO.finditer(text):
        keep(m, _safe_date(int(m[1]), int(m[2]), int(m[3])))
    for m in _DAY_MONTH.finditer(text):
        keep(m, _calendar_day(int(m[1]), _MONTHS[m[2].lower()], m[3], base))
    for m in _MONTH_DAY.finditer(text):
        keep(m, _calendar_day(int(m[2]), _MONTHS[m[1].lower()], m[3], base))
    if base is not None:
        for m in _WEEKDAY_REF.finditer(text):
            keep(m, _weekday(_WEEKDAYS[m[2].lower()], (m[1] or "").lower(), _future_before(text, m.start()), base))
        for m in _RELATIVE.finditer(text):
            word = m[1].lower()
            keep(m, base + dt.timedelta(days=_RELATIVE_DAYS.get(word, 0)))
    return sorted(found, key=lambda r: r.start)


def _future_before(text: str, at: int) -> bool:
    """Whether the clause that ends at `at` speaks of the future ("will testify on Thursday"); a
    "will" in another clause ("will hit... versus the barrels trapped on Wednesday") does not count."""
    clause_start = max((m.end() for m in _CLAUSE.finditer(text, 0, at)), default=0)
    return bool(_FUTURE.search(text, clause_start, at))


def _as_date(published: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(published[:10]) if published else None
    except ValueError:
        return None


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _calendar_day(day: int, month: int, year: str | None, base: dt.date | None) -> dt.date | None:
    """A day and month, in the year given, else the year that puts it nearest publication."""
    if year:
        return _safe_date(int(year), month, day)
    if base is None:
        return None
    candidates = [d for y in (base.year - 1, base.year, base.year + 1) if (d := _safe_date(y, month, day))]
    nearest = min(candidates, key=lambda d: abs((d - base).days), default=None)
    return nearest if nearest and abs((nearest - base).days) <= _NEAREST_YEAR_DAYS else None


def _weekday(weekday: int, modifier: str, future: bool, base: dt.date) -> dt.date:
    """The weekday's date: the latest on or before publication, or with "next" or a future cue
    ("will", "is due to") the first after it; "last Tuesday" is always before publication."""
    back = (base.weekday() - weekday) % 7
    if modifier == "last":
        return base - dt.timedelta(days=back or 7)
    if modifier == "next" or (future and modifier not in ("since",) and back):
        return base + dt.timedelta(days=(weekday - base.weekday()) % 7 or 7)
    return base - dt.timedelta(days=back)


def sentence_days(text: str, published: str | None, spans: list[tuple[int, int]]) -> list[tuple[int, str, int, int]]:
    """(sentence index, day, start, end) of every one-day reference in a document's sentences, the
    offsets in the document's text: the rows ingest stores beside the sentences."""
    return [(i, ref.day, a + ref.start, a + ref.end)
            for i, (a, b) in enumerate(spans) for ref in references(text[a:b], published)]
