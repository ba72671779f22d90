"""Dates in questions: a question and the newest date in the index in, a time scope out.

"latest", "this week", "last month", "in March", "since 2023" are resolved against the newest
article in the index, not the wall clock, so an archive of 2005 news answers "this week" with
the last week of 2005. Explicit `since`/`until` options always win over words in the question.
"""

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field

from askbrief.errors import BadInput

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
RECENT = re.compile(r"\b(latest|most recent|newest|recent(ly)?|lately|currently|now)\b", re.I)
_RELATIVE = re.compile(r"\b(today|yesterday|this (week|month|year)|last (week|month|year))\b", re.I)
_IN_MONTH = re.compile(rf"\bin {_MONTH}(?: (\d{{4}}))?\b", re.I)
_IN_YEAR = re.compile(r"\bin (\d{4})\b")
_SINCE = re.compile(rf"\b(since|after|before|until) (?:{_MONTH} )?(\d{{4}})(?:-(\d\d)-(\d\d))?\b", re.I)


@dataclass(frozen=True)
class TimeScope:
    since: str | None = None  # ISO dates, inclusive
    until: str | None = None
    prefer_recent: bool = False  # rank newer articles up ("latest", "most recent")
    # The words read as time ("latest", "in February"): a filter or a ranking now, so no longer
    # words a passage must contain (question.parse leaves them out of the terms).
    recent_words: tuple[str, ...] = field(default=(), compare=False)
    span_words: tuple[str, ...] = field(default=(), compare=False)


def _month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    year = min(max(year, dt.MINYEAR), dt.MAXYEAR)  # "last month" of year 1 stays in year 1
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _shift(day: dt.date, days: int) -> dt.date:
    """`day` moved by `days`, held inside the calendar (an article dated 9999-12-31 has a "this week")."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


def _written(phrase: str, year: int, month: int = 1, day: int = 1) -> dt.date:
    """A date the question writes out; one that is not in the calendar is the asker's mistake."""
    try:
        return dt.date(year, month, day)
    except ValueError as e:
        raise BadInput("question", f"{phrase!r} in the question is not a real date ({e}); write it as YYYY-MM-DD") from e


def _relative(phrase: str, newest: dt.date) -> tuple[dt.date, dt.date]:
    phrase = phrase.lower()
    if phrase == "today":
        return newest, newest
    if phrase == "yesterday":
        day = _shift(newest, -1)
        return day, day
    unit = phrase.split()[1]
    last = phrase.startswith("last")
    if unit == "week":
        monday = _shift(newest, -newest.weekday() - 7 * int(last))
        return monday, _shift(monday, 6)
    if unit == "month":
        year, month = (newest.year, newest.month - 1) if last else (newest.year, newest.month)
        if month == 0:
            year, month = year - 1, 12
        return _month_range(year, month)
    year = max(newest.year - int(last), dt.MINYEAR)
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def scope(question: str, newest: dt.date | None) -> TimeScope:
    """The dates a question's own words ask for, read against the newest indexed date."""
    recent_words = tuple(m.group(0) for m in RECENT.finditer(question))
    prefer_recent = bool(recent_words)
    if newest is None:
        return TimeScope(prefer_recent=prefer_recent, recent_words=recent_words)
    span: tuple[dt.date | None, dt.date | None] = (None, None)
    if m := _RELATIVE.search(question):
        span = _relative(m.group(1), newest)
    elif m := _SINCE.search(question):
        word, month, year, mm, dd = m.group(1).lower(), m.group(2), int(m.group(3)), m.group(4), m.group(5)
        if mm and dd:
            day = _written(m.group(0), year, int(mm), int(dd))
        else:
            _written(m.group(0), year)
            first, last = _month_range(year, _MONTHS[month.lower()]) if month else (dt.date(year, 1, 1), dt.date(year, 12, 31))
            day = first if word in ("since", "until") else (last if word == "after" else first)
            if word == "until":
                day = last
        span = (day, None) if word in ("since", "after") else (None, day)
    elif m := _IN_MONTH.search(question):
        month = _MONTHS[m.group(1).lower()]
        year = int(m.group(2)) if m.group(2) else (newest.year if month <= newest.month else newest.year - 1)
        if m.group(2):
            _written(m.group(0), year, month)
        span = _month_range(year, month)
    elif m := _IN_YEAR.search(question):
        year = int(m.group(1))
        span = (_written(m.group(0), year), dt.date(year, 12, 31))
    since, until = span
    return TimeScope(since.isoformat() if since else None, until.isoformat() if until else None, prefer_recent,
                     recent_words, (m.group(0),) if m else ())
