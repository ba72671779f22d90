"""A story's timeline: the days it happened on, each with the sentences that say what happened."""

from askbrief.records.base import Record
from askbrief.records.public import Citation


class TimelineSentence(Record):
    text: str  # verbatim: `citation.quote`
    citation: Citation
    also_reported_by: list[str] = []  # syndicated copies folded into this one (their document ids)


class TimelineEntry(Record):
    date: str  # YYYY-MM-DD
    sentences: list[TimelineSentence]
    reported_by: list[str]  # the outlets (sources) whose articles report this day, the cited ones first
    first_reported: str  # the earliest publication date among the articles that report it


class DayExplained(Record):
    date: str
    score: float
    published: int  # articles about the query published that day
    referenced: int  # sentences about the query that name the day ("on 20 April", "last Tuesday")
    chosen: bool


class TimelineExplanation(Record):
    articles: int  # the articles about the query (inside since..until)
    articles_read: int  # the articles inside since..until
    dates_asked: int | None  # --dates; None when askbrief chose how many
    dates_reason: str  # how the number of days was chosen
    days: list[DayExplained]  # the best candidate days, chosen or not, best first
    folded: int  # sentences left out as copies of a chosen one (syndication or repetition)


class Timeline(Record):
    query: str
    entries: list[TimelineEntry]  # in date order
    reason: str | None = None  # why the timeline is empty, when it is
    explanation: TimelineExplanation | None = None
    timings_ms: dict[str, float] = {}
