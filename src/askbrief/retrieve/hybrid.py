"""Retrieval: a parsed `Question` and its vector in, ranked chunks and the reader's `Evidence` out.

Dense (the store's vector index: FAISS or Milvus, inner product) and keyword (the store's BM25:
SQLite FTS5, or PostgreSQL's tsvector) candidates are fused by reciprocal rank, which needs no score normalisation and is robust to either list being empty. The dense
list ranks a chunk by its best sentence: the chunks nearest by mean vector, re-scored from the
sentence vectors the store already keeps (no second vector index, no memory growth). Evidence is
read in one snapshot of the store, so the reader never calls back into an index that moved.
"""

import datetime as dt
from typing import TYPE_CHECKING, Literal

import numpy as np

from askbrief.encoders.embed import Embedder
from askbrief.index.store import Store
from askbrief.records import ChunkRow, Document, Evidence, Filter, Hit, SearchHit, StoredSentence
from askbrief.retrieve.question import Question, as_query
from askbrief.text.copies import first_per_cluster, folds
from askbrief.text.language import reading

if TYPE_CHECKING:
    from askbrief.records.trace import Trace

Mode = Literal["fused", "dense", "keyword"]
RRF_K = 60  # Cormack, Clarke & Büttcher, "Reciprocal Rank Fusion outperforms Condorcet…" (SIGIR 2009)
CANDIDATES = 50  # per list before fusion; both lists' tails barely move the fused top 10
# Chunks the mean-vector search hands to best-sentence re-scoring. SQuAD 2.0 subset among 9,376
# chunks (BBC beside it), dense recall@1/@5 with the tuned embedder: mean vectors 0.643/0.860;
# re-scoring the nearest 50 0.780/0.930, 100 0.780/0.932, every sentence 0.791/0.939
# (scripts/eval_best_sentence.py). 100 cost PostgreSQL + Milvus 7 ms more a question than 50 at
# 2k chunks (retrieval 22.8 against 15.9 ms), SQLite + FAISS nothing measurable (docs/reader.md).
DENSE_POOL = 50
# The keyword list counts twice: on SQuAD 2.0 this lifts fused MRR@10 from 0.855 to 0.873, past
# either list alone (keyword 0.866, dense 0.786); on SQuAD 1.1 it changes nothing (README).
KEYWORD_WEIGHT = 2.0
RECENCY_HALF_LIFE = 30.0  # days: for "latest" questions an article a month older counts half as much
UNDATED_AGE = 10 * RECENCY_HALF_LIFE  # days an undated article counts as old in a "latest" ranking
# Ages count back from the newest of the best few hits by relevance, not of all 50: an archive's
# newest article on another story (2023 asylum news, for "the latest on the Puerto Rico governor"
# over 2019 coverage) would otherwise halve the story's own articles dozens of times over.
RECENCY_CLOCK = 5
MAX_QUOTES = 50  # a speaker's quotes read per question, newest first: each is embedded to rank it
EXPLAINED_CHUNKS = 10  # the fused list an explanation shows, when more than the chunks read


def fuse(dense: list[int], keyword: list[int], k: int, rrf_k: float = RRF_K,
         keyword_weight: float = KEYWORD_WEIGHT) -> list[Hit]:
    """Weighted reciprocal rank fusion of two ranked id lists: the sum of weight / (rrf_k + rank),
    best first."""
    dense_rank = {cid: r for r, cid in enumerate(dense)}
    keyword_rank = {cid: r for r, cid in enumerate(keyword)}

    def score(cid: int) -> float:
        total = 1.0 / (rrf_k + 1 + dense_rank[cid]) if cid in dense_rank else 0.0
        return total + (keyword_weight / (rrf_k + 1 + keyword_rank[cid]) if cid in keyword_rank else 0.0)

    hits = [Hit(cid, score(cid), dense_rank.get(cid), keyword_rank.get(cid)) for cid in dict.fromkeys(dense + keyword)]
    hits.sort(key=lambda h: -h.score)
    return hits[:k]


class Retriever:
    def __init__(self, store: Store):
        self.store = store

    def search(self, question: Question, query_vector: np.ndarray, k: int = 10, mode: Mode = "fused",
               trace: "Trace | None" = None) -> list[Hit]:
        """The top `k` chunks for the question, best first; newer ones ranked up when it asks
        for the latest. A `trace` (explain mode) keeps both lists with their scores, and the
        fused list a little past `k`."""
        return self._ranked(question, query_vector, k, mode, trace)[0]

    def _ranked(self, question: Question, query_vector: np.ndarray, k: int, mode: Mode = "fused",
                trace: "Trace | None" = None) -> tuple[list[Hit], dict[int, ChunkRow], dict[str, Document]]:
        """`search`, with the chunks and documents a "latest" ranking read (none otherwise), so
        that the evidence does not read them again."""
        where = question.where or None
        chunks, docs = {}, {}
        with self.store.snapshot() as store:
            dense = store.dense_search(query_vector, DENSE_POOL, where, by_sentence=True)[:CANDIDATES] \
                if mode != "keyword" else []
            keyword = store.keyword_search(list(question.terms), CANDIDATES, where) if mode != "dense" else []
            listed = CANDIDATES if question.prefer_recent else max(k, EXPLAINED_CHUNKS) if trace else k
            hits = fuse([cid for cid, _ in dense], [cid for cid, _ in keyword], listed)
            if question.prefer_recent:
                chunks = store.chunks([h.chunk_id for h in hits])
                docs = store.documents({c.doc_id for c in chunks.values()})
                hits = by_recency(hits, chunks, docs)
            if trace is not None:
                trace.dense, trace.keyword, trace.fused = dense, keyword, hits[:max(k, EXPLAINED_CHUNKS)]
                trace.excluded = store.excluded_by(where) if where else {}
            return hits[:k], chunks, docs

    def passages(self, question: Question, query_vector: np.ndarray, k: int, mode: Mode = "fused") -> list[SearchHit]:
        """The `k` best passages as search results, one copy per syndicated cluster, from one snapshot."""
        store = self.store
        with store.snapshot():
            hits = self.search(question, query_vector, k=k * 2, mode=mode)
            chunks = store.chunks([h.chunk_id for h in hits])
            docs = store.documents(c.doc_id for c in chunks.values())
            kept = set(first_per_cluster([chunks[h.chunk_id].doc_id for h in hits], store.clusters_of(docs)))
        hits = [h for h in hits if chunks[h.chunk_id].doc_id in kept][:k]
        return [SearchHit(doc_id=c.doc_id, title=docs[c.doc_id].title, published=docs[c.doc_id].published,
                          start=c.start, end=c.end, text=docs[c.doc_id].text[c.start:c.end], score=round(h.score, 6))
                for h in hits for c in [chunks[h.chunk_id]]]

    def passages_for(self, query: str, embedder: Embedder, k: int, where: Filter, mode: Mode = "fused") -> list[SearchHit]:
        """A search box's query (not a question: no time words read) over the filtered documents."""
        question = as_query(query, where, *reading(query, self.store.languages()))
        return self.passages(question, embedder.encode_queries([query], [question.across])[0], k, mode)

    def evidence(self, question: Question, query_vector: np.ndarray, read: int, trace: "Trace | None" = None) -> Evidence:
        """The top `read` chunks and all the reader needs about them, from one snapshot: a write
        landing meanwhile is either wholly in it or wholly out. A `trace` also gets the chunks
        and documents of the fused list beyond `read`, to explain what was not read."""
        with self.store.snapshot() as store:
            hits, known, known_docs = self._ranked(question, query_vector, read, trace=trace)
            listed = trace.fused if trace is not None else hits
            if known:  # a "latest" ranking read every candidate's chunk and document already
                ids = {h.chunk_id for h in listed}
                chunks = {cid: c for cid, c in known.items() if cid in ids}
                read_docs = {c.doc_id for c in chunks.values()}
                documents = {d: doc for d, doc in known_docs.items() if d in read_docs}
            else:
                chunks = store.chunks([h.chunk_id for h in listed])
                documents = store.documents(c.doc_id for c in chunks.values())
            clusters = store.clusters_of(documents)
            folded = folds([chunks[h.chunk_id].doc_id for h in hits], clusters)  # read once, by the best-ranked copy
            sentences: dict[tuple[str, int], StoredSentence] = {}
            for chunk in (chunks[h.chunk_id] for h in hits):
                if chunk.doc_id not in folded:
                    _collect(store, sentences, chunk.doc_id, chunk.first - 1, chunk.last + 1)
            quotes = []
            if question.speaker:
                quotes = store.quotes(question.speaker)[-MAX_QUOTES:]
                documents |= store.documents({d for d, _ in quotes} - set(documents))
                for doc_id, quote in quotes:
                    covered = store.sentence_range(doc_id, quote.start, quote.end)
                    if covered:
                        _collect(store, sentences, doc_id, covered[0] - 1, covered[1] + 1)
            term_counts, total = store.document_frequencies(list(dict.fromkeys(question.terms)))
            if trace is not None:
                trace.searched = store.telling_terms(list(dict.fromkeys(question.terms)), term_counts)
            return Evidence(hits=hits, chunks=chunks, documents=documents, sentences=sentences, clusters=clusters,
                            copies=store.copies(documents), term_counts=term_counts, chunk_total=total, quotes=quotes,
                            folded=folded)


def by_recency(hits: list[Hit], chunks: dict[int, ChunkRow], docs: dict[str, Document]) -> list[Hit]:
    """Scale each score by its article's recency weight (see `recency_weights`)."""
    published = [docs[chunks[h.chunk_id].doc_id].published for h in hits]
    weights = recency_weights(published, max((p for p in published[:RECENCY_CLOCK] if p), default=None))
    rescored = [Hit(h.chunk_id, h.score * w, h.dense_rank, h.keyword_rank, float(w)) for h, w in zip(hits, weights)]
    return sorted(rescored, key=lambda h: -h.score)


def _collect(store: Store, into: dict[tuple[str, int], StoredSentence], doc_id: str, first: int, last: int) -> None:
    rows, vectors = store.sentences(doc_id, first, last)
    for (idx, start, end), vector in zip(rows, vectors):
        into[(doc_id, idx)] = StoredSentence(start, end, vector)


def recency_weights(published: list[str | None], clock: str | None = None) -> np.ndarray:
    """2^(-age / RECENCY_HALF_LIFE), age in days behind `clock` (by default the newest of these
    dates; a newer one counts as age 0); undated articles count as ten half-lives old. All ones
    when nothing is dated."""
    dates = [dt.date.fromisoformat(p) if p else None for p in published]
    known = [d for d in dates if d]
    if not known:
        return np.ones(len(published))
    newest = dt.date.fromisoformat(clock) if clock else max(known)
    ages = np.array([max((newest - d).days, 0) if d else UNDATED_AGE for d in dates], dtype=float)
    return np.power(2.0, -ages / RECENCY_HALF_LIFE)
