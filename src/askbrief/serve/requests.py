"""One spec per operation: every bound and default of a request, written once and read by the API
(its bodies and query parameters), the MCP server's tools and the CLI's options, so the three
faces cannot disagree. Bodies reject unknown fields; the engine checks the same bounds again."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from askbrief.ingest.documents import MAX_ID
from askbrief.limits import (
    MAX_PER_DATE,
    MAX_QUESTION,
    MAX_SUMMARY_DOCS,
    MAX_SUMMARY_SENTENCES,
    MAX_TIMELINE_DATES,
    MAX_TOP_K,
)

MAX_DATE = 40  # characters of a date a request gives (YYYY-MM-DD, with room for a clear error)
MAX_SPEAKER = 200  # characters of a speaker's name asked for
MAX_LISTED = 500  # quotes or documents one request lists
MAX_SOURCES, MAX_SOURCE = 100, 2000  # sources an ask may name, and the characters of each
MAX_URL = 2000
MAX_CITATION_ID = 300
TOP_K = 5  # chunks read for an answer
SEARCH_K = 10  # passages a search returns
SUMMARY_SENTENCES = 4
QUOTES_LIMIT = 50
PAGE = 50  # documents a listing returns

Question = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION)]
TopK = Annotated[int, Field(ge=1, le=MAX_TOP_K, description=f"1-{MAX_TOP_K}")]
Date = Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")]
Sources = Annotated[list[Annotated[str, Field(max_length=MAX_SOURCE)]], Field(max_length=MAX_SOURCES)]
DocIds = Annotated[list[Annotated[str, Field(max_length=MAX_ID)]], Field(max_length=MAX_SUMMARY_DOCS)]
Topic = Annotated[str | None, Field(min_length=1, max_length=MAX_QUESTION)]
Sentences = Annotated[int, Field(ge=1, le=MAX_SUMMARY_SENTENCES, description=f"1-{MAX_SUMMARY_SENTENCES}")]
About = Annotated[str | None, Field(max_length=MAX_QUESTION)]  # a topic to rank by; empty ranks by nothing
Speaker = Annotated[str | None, Field(max_length=MAX_SPEAKER)]
Listed = Annotated[int, Field(ge=1, le=MAX_LISTED, description=f"1-{MAX_LISTED}")]
Offset = Annotated[int, Field(ge=0, le=2**31)]
Dates = Annotated[int | None, Field(ge=1, le=MAX_TIMELINE_DATES,
                                    description=f"days on the timeline, 1-{MAX_TIMELINE_DATES}; none: askbrief chooses")]
PerDate = Annotated[int, Field(ge=1, le=MAX_PER_DATE, description=f"sentences a day, 1-{MAX_PER_DATE}")]
CitationId = Annotated[str, Field(min_length=1, max_length=MAX_CITATION_ID)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AskRequest(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"question": "What did Putin say about trade?"}]})
    question: Question
    top_k: TopK = TOP_K
    since: Date = None
    until: Date = None
    sources: Sources = []
    explain: bool = Field(False, description="Add `explanation`: why this answer, stage by stage")


class SummarizeRequest(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"query": "trade between Russia and India"}]})
    doc_ids: DocIds = []
    query: Topic = None
    max_sentences: Sentences = SUMMARY_SENTENCES
    since: Date = Field(None, description="What's new since this date (YYYY-MM-DD)")
    explain: bool = Field(False, description="Add `explanation`: why each sentence was picked, what was left out")


class TimelineRequest(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"query": "BP oil spill", "dates": 10}]})
    query: Question
    dates: Dates = None
    per_date: PerDate = 1
    since: Date = None
    until: Date = None
    explain: bool = Field(False, description="Add `explanation`: why these days and sentences")


class TimelineQuery(BaseModel):  # GET /timeline: the same fields as query parameters
    query: Question
    dates: Dates = None
    per_date: PerDate = 1
    since: Date = None
    until: Date = None
    explain: bool = False


class SearchQuery(BaseModel):  # query parameters: unknown ones are ignored, as HTTP clients expect
    q: Question
    k: TopK = SEARCH_K
    since: Date = None
    until: Date = None


class QuotesQuery(BaseModel):
    speaker: Speaker = None
    about: About = None
    limit: Listed = QUOTES_LIMIT


class DocumentsQuery(BaseModel):
    offset: Offset = 0
    limit: Listed = PAGE


class DocumentIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "tass-2023-12-27", "title": "Putin meets Jaishankar", "published": "2023-12-27",
         "source": "TASS", "text": "Russian President Vladimir Putin met India's foreign minister…"}]})
    text: str = Field(min_length=1)
    id: str | None = Field(None, max_length=MAX_ID)
    title: str | None = None
    published: str | None = None
    source: str | None = None


documents_in = TypeAdapter(DocumentIn | list[DocumentIn])


class UrlIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"url": "https://en.wikinews.org/wiki/Main_Page"}]})
    url: str = Field(min_length=1, max_length=MAX_URL)
