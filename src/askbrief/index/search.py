"""Search: the vector index's nearest chunks (re-scored by their best sentence), term
statistics for keyword search, what a filter keeps out, and the vector index's upkeep."""

from collections.abc import Iterator

import numpy as np

from askbrief.index.base import StoreBase
from askbrief.index.schema import batches, filter_sql, marks, vectors_of
from askbrief.index.vectors import Page
from askbrief.records import Filter

# Keyword queries leave out terms found in more than this many chunks (keeping the KEEP_RAREST
# rarest terms of every query). A count, not a share: the keyword index's cost is the rows it
# scores, and in a small topical collection the topic's own word is in most chunks (a 10% share
# cut SQuAD 2.0's fused recall@5 by a point). At 200k BBC chunks, 100 headlines: FTS5 keyword
# search median 17.8 -> 11.9 ms (p95 42.7 -> 18.8), the fused top 10 the same but for 0.6%.
COMMON_CHUNKS = 5_000
KEEP_RAREST = 2
# BM25's constants, FTS5's defaults (Robertson & Zaragoza 2009): PostgreSQL's keyword search and the
# reader's sentence BM25 use these, so every BM25 here ranks alike.
BM25_K1, BM25_B = 1.2, 0.75


class Search(StoreBase):
    def telling_terms(self, terms: list[str], freqs: dict[str, int] | None = None) -> list[str]:
        """The terms worth matching: those in at most COMMON_CHUNKS chunks, and always the
        KEEP_RAREST rarest. The keyword index scores every chunk a term of the OR matches, so a
        term in 10,000 chunks costs 10,000 rows on every question, for a small BM25 weight.
        `freqs`: the terms' chunk counts, when the caller has them."""
        if freqs is None:
            ever = int(self._value("SELECT value FROM meta WHERE key = 'next_chunk'"))  # O(1), unlike count(*)
            if len(terms) <= KEEP_RAREST or ever <= COMMON_CHUNKS:
                return terms
            freqs = self._term_counts(terms)
        if len(terms) <= KEEP_RAREST:
            return terms
        rarest = set(sorted(terms, key=lambda t: freqs.get(t, 0))[:KEEP_RAREST])
        return [t for t in terms if t in rarest or freqs.get(t, 0) <= COMMON_CHUNKS]

    def document_frequencies(self, query_terms: list[str]) -> tuple[dict[str, int], int]:
        """How many chunks hold each term, and how many chunks there are (for IDF)."""
        return self._term_counts(query_terms), self.chunk_count()

    def dense_search(self, query: np.ndarray, k: int, where: Filter | None = None,
                     by_sentence: bool = False) -> list[tuple[int, float]]:
        """Chunks by inner product with a unit query vector: [(id, cosine)], best first. Only
        chunks the database holds: a Milvus server may still return a chunk deleted a moment ago
        (in Session consistency its deletes land after its inserts do), or one written by a
        write that never committed (a shared index takes vectors first).

        `by_sentence`: the `k` chunks nearest by their mean vector, each scored and re-ranked by
        its best sentence's cosine (the sentences' stored vectors, read in the same query that
        checks the chunks are held)."""
        with self._search_lock:
            self._vectors.sync(self._generation(), self)
            hits = self._vectors.search(query, k, where, lambda: self._allowed_chunks(where))
        ids = [i for i, _ in hits]
        if not by_sentence:
            held = {r[0] for part in batches(ids) for r in self._rows(
                f"SELECT id FROM chunks WHERE id IN ({marks(part)})", part)}
            return [(i, score) for i, score in hits if i in held]
        best: dict[int, float] = {}
        for part in batches(ids):
            rows = self._rows("SELECT c.id, s.vector FROM chunks c JOIN sentences s ON s.doc_id = c.doc_id"
                              f" AND s.idx BETWEEN c.first AND c.last WHERE c.id IN ({marks(part)})", part)
            if rows:
                scores = vectors_of([bytes(r[1]) for r in rows], self.dim) @ query
                for (chunk_id, _), score in zip(rows, scores.tolist()):
                    best[chunk_id] = max(score, best.get(chunk_id, -1.0))
        place = {i: n for n, i in enumerate(ids)}
        return sorted(best.items(), key=lambda item: (-item[1], place[item[0]]))

    def excluded_by(self, where: Filter) -> dict[str, int]:
        """How many chunks each part of a filter keeps out (dates, sources), each counted alone:
        what an explanation says of a filter. A count over the chunks, so only when explaining."""
        parts = {"dates": Filter(where.since, where.until), "sources": Filter(sources=where.sources)}
        total = self.chunk_count()
        out = {}
        for name, part in parts.items():
            if part:
                clause, params = filter_sql(part)
                out[name] = total - int(self._value(
                    f"SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {clause}", params))
        return out

    def _allowed_chunks(self, where: Filter) -> np.ndarray:
        clause, params = filter_sql(where)
        return np.array([r[0] for r in self._rows(
            f"SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {clause}", params)], dtype=np.int64)

    # ---- the vector index ---------------------------------------------------------------

    def vector_pages(self, every: int = 1, size: int = 20_000) -> Iterator[Page]:
        """Stored chunk vectors with their filter fields, `size` at a time (a rebuild at 1M chunks
        never holds them all twice)."""
        after = -1
        while True:
            rows = self._rows(
                "SELECT c.id, c.vector, d.published, d.source FROM chunks c JOIN documents d ON d.id = c.doc_id"
                " WHERE c.id > ? AND c.id % ? = 0 ORDER BY c.id LIMIT ?", (after, every, size))
            if not rows:
                return
            after = rows[-1][0]
            yield Page(np.array([r[0] for r in rows], dtype=np.int64), vectors_of([bytes(r[1]) for r in rows], self.dim),
                       [r[2] for r in rows], [r[3] for r in rows])

    def save_vectors(self) -> None:
        """Persist the vector index if it is in step with the database (after an ingest or a delete)."""
        with self._lock:
            self._vectors.save(self._generation())

    def vector_index(self) -> dict:
        with self._lock:
            self._vectors.sync(self._generation(), self)
            return self._vectors.describe()

