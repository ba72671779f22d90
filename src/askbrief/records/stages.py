"""The plain records that pass between stages inside one process (never serialised)."""

from dataclasses import dataclass, field

import numpy as np

from askbrief.records.public import Document


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
    days: list[tuple[int, str, int, int]] = field(default_factory=list)  # (sentence, day named, start, end)


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
    folded: dict[str, str] = field(default_factory=dict)  # a syndicated copy among the hits -> the one read
