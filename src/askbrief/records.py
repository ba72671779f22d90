"""The records that pass between stages and leave through the CLI and the API (DESIGN.md).

Invariant kept everywhere: `Citation.quote == Document.text[start:end]`.
"""

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class Document(Record):
    id: str
    title: str
    published: str | None  # ISO date, YYYY-MM-DD
    source: str
    text: str  # exactly as ingested: every offset points into it
    hash: str
    also_reported_by: list[str] = []  # other indexed documents that are syndicated copies of this one


class Citation(Record):
    n: int  # the marker number, [n] in the text
    id: str  # content-addressed: "<first 16 hex of the text's sha256>:<start>-<end>", stable across re-indexing
    doc_id: str
    title: str
    published: str | None
    source: str
    start: int
    end: int
    quote: str


class Span(Record):
    """A short answer inside the first cited sentence: `text == document.text[start:end]`."""

    doc_id: str
    start: int
    end: int
    text: str


class Answer(Record):
    question: str
    answer: str
    abstained: bool
    confidence: float  # 0-1, calibrated against evidence accuracy
    citations: list[Citation]
    timings_ms: dict[str, float]
    span: Span | None = None  # only with a local QA model (ASKBRIEF_READER_MODEL)


class Summary(Record):
    summary: str
    citations: list[Citation]
    doc_ids: list[str]
    query: str | None


class IngestResult(Record):
    id: str
    sentences: int
    chunks: int
    duplicate_of: str | None  # set when the same text is already indexed; nothing was added
    replaced: bool = False  # an older text under the same id was swapped out


class QuoteRecord(Record):
    """Who said what: `quote == text[start:end]`, `text[speaker_start:speaker_end]` names the speaker there."""

    speaker: str
    quote: str
    cue: str
    doc_id: str
    start: int
    end: int
    speaker_start: int
    speaker_end: int
    published: str | None


class SearchHit(Record):
    doc_id: str
    title: str
    published: str | None
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True, slots=True)
class Sentence:
    doc_id: str
    idx: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Chunk:
    doc_id: str
    first: int  # index of its first sentence
    last: int  # index of its last sentence, inclusive
    start: int
    end: int
