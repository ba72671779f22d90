"""The records that pass between stages and leave through the CLI and the API (DESIGN.md).

Invariant kept everywhere: `Citation.quote == Document.text[start:end]`.
"""

from dataclasses import dataclass, field

import numpy as np
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
    aliases: list[str] = []  # ids ingested with exactly this text, skipped as copies: they resolve here
    revisions: int = 0  # how many times a newer text replaced this document's (a corrected article)
    updated: str | None = None  # when the last replacement landed (UTC, ISO)


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


# ---- explain mode: why an answer (or a decline, or a summary) came out as it did -------------
# Filled from the run that made the record (explain.py), never from a second one; every text in
# it is indexed text, cut at its offsets.


class TermExplained(Record):
    term: str  # stemmed, as the keyword index holds it
    word: str  # as the question wrote it
    weight: float  # BM25 IDF over the index's chunks: rarer terms weigh more
    chunks: int  # how many chunks hold it
    searched: bool  # False: so common that keyword search left it out (the reader still counts it)


class QuestionExplained(Record):
    terms: list[TermExplained]
    time_words: list[str]  # words read as time ("latest", "last month"), left out of the terms
    since: str | None
    until: str | None
    dates: str  # in words: where since/until came from
    resolved_against: str | None  # the newest indexed article's date, which "last month" counts from
    prefer_recent: bool
    speaker: str | None
    topic: str | None
    answer_type: str | None  # "a number", "a date", "a name"
    sources: list[str]


class ChunkExplained(Record):
    doc_id: str
    title: str
    published: str | None
    start: int
    end: int
    found_by: str  # "retrieval", or "the speaker's quotes" (read for "What did X say?")
    fused_rank: int | None  # 1-based places; None: not in that list
    fused_score: float | None
    dense_rank: int | None
    dense_score: float | None  # the cosine of its best sentence to the question
    keyword_rank: int | None
    keyword_score: float | None  # BM25
    recency_weight: float | None  # "latest" questions: 2^(-age / 30 days)
    read: bool  # among the chunks the reader read
    folded_into: str | None  # a syndicated copy: this document was read instead


class RetrievalExplained(Record):
    dense_candidates: int
    keyword_candidates: int
    read: int  # chunks read (top_k)
    chunks: list[ChunkExplained]  # the fused list, best first, then the speaker's quotes
    excluded: dict[str, int]  # filter ("dates", "sources") -> chunks it kept out
    folded: dict[str, str]  # syndicated copy -> the document read in its place


class FeatureEffect(Record):
    feature: str
    value: float
    effect: float  # nats against the average candidate of this question: + raised it, - lowered it
    words: str


class SentenceExplained(Record):
    doc_id: str
    start: int
    end: int
    text: str
    kind: str  # "sentence", or "quote" (an opening sentence of the speaker's quote)
    score: float  # the ranker's logit
    adjusted: float  # after the adjustments named
    adjustments: list[str]
    rank: int  # 1-based, by adjusted score within its kind
    effects: list[FeatureEffect]  # what moved it most
    cited: int | None  # its [n], when cited
    outcome: str  # in words: why it was cited, or left out


class ConfidenceExplained(Record):
    confidence: float
    threshold: float
    answered: bool
    span_model: float  # the span model's answer logit for the best sentence (the calibrator reads it)
    reason: str


class Explanation(Record):
    question: QuestionExplained
    retrieval: RetrievalExplained
    reading: list[SentenceExplained]  # best first; quotes after sentences
    headlines: int  # lines of the chunks read without a sentence ending (headlines, bylines): not candidates
    path: str  # "sentences", "quotes" or "declined"
    order: str | None  # when reading order put a cited sentence before the best one
    confidence: ConfidenceExplained


class Answer(Record):
    question: str
    answer: str
    abstained: bool
    confidence: float  # 0-1, calibrated against evidence accuracy
    citations: list[Citation]
    timings_ms: dict[str, float]
    span: Span | None = None  # the short answer inside the best cited sentence, when the reader finds one
    explanation: Explanation | None = None  # only when asked (explain)


class SummarySentenceExplained(Record):
    doc_id: str
    start: int
    end: int
    text: str
    score: float  # salience: the trained scorer, plus the query's pull, less what earlier articles said
    cited: int | None
    covers: list[str]  # its words that the other articles' sentences use most: what it is about
    outcome: str


class SummaryExplanation(Record):
    documents: list[str]  # in words: which articles were read and why
    sentences_read: int
    picked: list[SummarySentenceExplained]  # in citation order
    left_out: list[SummarySentenceExplained]  # the most salient sentences not picked, and why


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


@dataclass(frozen=True, slots=True)
class Quote:
    """Who said what inside one text: `text[start:end]` is the quote (inside its marks, or the
    reported clause), `text[speaker_start:speaker_end]` how the article names the speaker there."""

    speaker: str
    cue: str
    start: int
    end: int
    speaker_start: int
    speaker_end: int


@dataclass(frozen=True)
class Filter:
    """Which documents a search may return: published in since..until (inclusive), from sources."""

    since: str | None = None
    until: str | None = None
    sources: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.sources)


@dataclass(frozen=True)
class Prepared:
    """A document split and embedded, ready to be written in one transaction."""

    document: Document
    sentences: list[tuple[int, int]]
    chunks: list[tuple[int, int]]  # (first, last) sentence indexes
    sentence_vectors: np.ndarray
    chunk_vectors: np.ndarray
    chunk_terms: list[str]  # space-joined stemmed terms, one string a chunk
    signature: np.ndarray  # MinHash of the text, to find syndicated copies
    quotes: list[Quote]  # who said what in it


@dataclass(frozen=True, slots=True)
class ChunkRow:
    """A stored chunk: its id in the index and the run of sentences it covers."""

    id: int
    doc_id: str
    first: int
    last: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved chunk: `score` is the fused (or single-list) score, higher is better; the ranks
    are 0-based places in the dense and keyword lists before fusion, None when not in one."""

    chunk_id: int
    score: float
    dense_rank: int | None
    keyword_rank: int | None
    recency: float | None = None  # the weight a "latest" question scaled its score by


@dataclass(frozen=True, slots=True)
class StoredSentence:
    start: int
    end: int
    vector: np.ndarray


@dataclass(frozen=True)
class Evidence:
    """Everything the reader needs for one question, read from one snapshot of the index.

    `hits` are the chunks to read, best first; `sentences` holds their sentences and each one's
    neighbours by (doc_id, idx); `quotes` the asked speaker's quotes, with their documents in
    `documents` too. Ids always resolve inside the record, whatever was written since."""

    hits: list[Hit]
    chunks: dict[int, ChunkRow]
    documents: dict[str, Document]
    sentences: dict[tuple[str, int], StoredSentence]
    clusters: dict[str, str]  # doc_id -> its syndication cluster
    copies: dict[str, int]  # doc_id -> how many other indexed documents are copies of it
    term_counts: dict[str, int]  # question term -> chunks holding it (for IDF)
    chunk_total: int
    quotes: list[tuple[str, Quote]] = field(default_factory=list)  # (doc_id, quote)
