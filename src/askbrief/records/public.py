"""The records that leave through the CLI, the API and the MCP server.

Invariant kept everywhere: `Citation.quote == Document.text[start:end]`.
"""

from askbrief.records.base import Record
from askbrief.records.explained import Explanation, SummaryExplanation


class Document(Record):
    id: str
    title: str
    published: str | None  # ISO date, YYYY-MM-DD
    source: str
    text: str  # exactly as ingested: every offset points into it
    hash: str
    also_reported_by: list[str] = []  # other indexed documents that are syndicated copies of this one
    aliases: list[str] = []  # ids ingested with exactly this text, skipped as copies: they resolve here
    revisions: int = 0  # how many times a newer text replaced this document's (a corrected article)
    updated: str | None = None  # when the last replacement landed (UTC, ISO)
    lang: str | None = None  # ISO 639-1 code: as the input named it, else detected at ingest (py3langid)


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
    span: Span | None = None  # the short answer inside the best cited sentence, when the reader finds one
    explanation: Explanation | None = None  # only when asked (explain)



class Summary(Record):
    summary: str
    citations: list[Citation]
    doc_ids: list[str]
    query: str | None
    resolved: dict[str, str] = {}  # a requested id that was an exact copy -> the stored document read instead
    since: str | None = None  # "what's new since": only articles published on or after this date speak
    compared_with: list[str] = []  # ...against these earlier (or undated) ones, whose facts are left out
    explanation: SummaryExplanation | None = None  # only when asked (explain)


class IngestResult(Record):
    id: str
    sentences: int
    chunks: int
    duplicate_of: str | None  # set when the same text is already indexed; nothing was added
    replaced: bool = False  # an older text under the same id was swapped out


class Feed(Record):
    """A watched RSS or Atom feed and what its polls did."""

    id: int
    url: str
    title: str | None  # the feed's own title, once polled
    added: str  # when it was added (UTC, ISO)
    last_polled: str | None
    last_status: str | None  # "updated", "not modified" or "failed"
    last_error: str | None  # why the last poll failed, or None
    polls: int
    documents_added: int  # over all polls
    entries_skipped: int  # over all polls: already indexed, copies, pages that failed


class Job(Record):
    """A write done off the serving path (POST /documents over ASKBRIEF_ASYNC_INGEST_BYTES):
    queued, then running (done of total documents), then done (what was added) or failed (why)."""

    id: int
    state: str  # "queued", "running", "done" or "failed"
    total: int  # documents in the job
    done: int  # documents embedded so far, while running
    attempts: int  # how many times a worker took it (a killed worker's job is taken again)
    created: str
    finished: str | None
    result: list[IngestResult] | None  # what was added or skipped, when done
    error: str | None  # why it failed


class SkippedEntry(Record):
    url: str
    reason: str
    duplicate_of: str | None = None  # the stored document, when the entry was already indexed


class FeedPoll(Record):
    """One poll of one feed: what was indexed, and what was skipped and why."""

    feed: Feed  # as it stands after this poll
    status: str  # "updated", "not modified" or "failed"
    added: list[IngestResult]
    revised: list[IngestResult] = []  # known articles whose page changed, re-read and replaced
    skipped: list[SkippedEntry]
    error: str | None


class DocumentInfo(Record):
    id: str
    title: str
    published: str | None
    source: str


class DocumentPage(Record):
    total: int
    offset: int
    limit: int
    documents: list[DocumentInfo]


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
