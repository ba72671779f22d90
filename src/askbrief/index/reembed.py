"""Re-embedding (askbrief reindex): an index built by another embedder gets new vectors in
place, a page of documents a transaction, resuming where a stopped run was; one transaction
swaps vectors and model."""

from collections.abc import Callable, Iterator

import numpy as np

from askbrief.index.base import StoreBase
from askbrief.index.schema import marks, vector_blobs, vectors_of

REEMBED_PAGE = 64  # documents embedded a transaction while re-embedding (an ingest's batch)


class Reembed(StoreBase):
    _REEMBED_TABLE = "CREATE TABLE IF NOT EXISTS reembed (doc_id TEXT NOT NULL, idx INTEGER NOT NULL, vector BLOB NOT NULL," \
                     " PRIMARY KEY (doc_id, idx))"

    def reembed(self, encode: Callable[[list[str]], np.ndarray], model: str,
                progress: Callable[[int, int], None] | None = None, page: int = REEMBED_PAGE) -> None:
        """Re-embed every sentence and chunk with another model, in place.

        Two steps. First every document's sentences are embedded into a staging table, `page`
        documents a transaction, so a stopped run resumes where it was (the index is untouched
        and keeps its old model meanwhile). Then one transaction swaps them in: the sentences'
        and chunks' vectors, and the model the index records; any sentence written since the
        staging began is embedded there too. Readers see the old index or the new, never a mix;
        the vector index is rebuilt from the database after. `progress(done, total)` hears of
        each page of documents."""
        self._rows(self._REEMBED_TABLE)
        total = self.count()
        after = self._value("SELECT max(doc_id) FROM reembed") or ""
        done = int(self._value("SELECT count(*) FROM documents WHERE id <= ?", (after,)) or 0)
        for ids in self._document_pages(after, page):
            rows = self._sentence_texts(ids)
            vectors = encode([text for *_, text in rows])
            with self._lock, self._transaction():
                self._many("INSERT INTO reembed (doc_id, idx, vector) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                           [(d, i, v) for (d, i, _), v in zip(rows, vector_blobs(vectors))])
            done += len(ids)
            if progress:
                progress(done, total)
        with self._lock, self._transaction():
            missing = self._rows('SELECT s.doc_id, s.idx, d.text, s.start, s."end" FROM sentences s'
                                 " JOIN documents d ON d.id = s.doc_id LEFT JOIN reembed r"
                                 " ON r.doc_id = s.doc_id AND r.idx = s.idx WHERE r.doc_id IS NULL")
            if missing:
                vectors = encode([text[a:b] for _, _, text, a, b in missing])
                self._many("INSERT INTO reembed (doc_id, idx, vector) VALUES (?, ?, ?)",
                           [(d, i, v) for (d, i, *_), v in zip(missing, vector_blobs(vectors))])
            self._rows("UPDATE sentences SET vector = (SELECT r.vector FROM reembed r WHERE r.doc_id = sentences.doc_id"
                       " AND r.idx = sentences.idx)")
            self._reembed_chunks()
            self._rows("DROP TABLE reembed")
            self._bump_generation()
            self._record_model(model)
        self._reembedded()

    def _sentence_texts(self, doc_ids: list[str]) -> list[tuple[str, int, str]]:
        """(doc_id, idx, sentence text) of these documents' sentences."""
        texts = dict(self._rows(f"SELECT id, text FROM documents WHERE id IN ({marks(doc_ids)})", doc_ids))
        rows = self._rows(f'SELECT doc_id, idx, start, "end" FROM sentences WHERE doc_id IN ({marks(doc_ids)})'
                          " ORDER BY doc_id, idx", doc_ids)
        return [(d, i, texts[d][a:b]) for d, i, a, b in rows]

    def _document_pages(self, after: str = "", page: int = REEMBED_PAGE) -> Iterator[list[str]]:
        """Document ids after `after`, in id order, `page` at a time."""
        while ids := [r[0] for r in self._rows("SELECT id FROM documents WHERE id > ? ORDER BY id LIMIT ?", (after, page))]:
            after = ids[-1]
            yield ids

    def _reembed_chunks(self, page: int = 500) -> None:
        """Each chunk's vector again: the normalised mean of its sentences' (new) vectors, as at
        ingest; a page of documents two reads and one write."""
        for ids in self._document_pages(page=page):
            rows = self._rows(f"SELECT doc_id, idx, vector FROM sentences WHERE doc_id IN ({marks(ids)})", ids)
            vectors = dict(zip([(d, i) for d, i, _ in rows], vectors_of([bytes(r[2]) for r in rows], self.dim)))
            chunks = self._rows(f"SELECT id, doc_id, first, last FROM chunks WHERE doc_id IN ({marks(ids)})", ids)
            if not chunks:
                continue
            sums = np.array([sum(vectors[(d, i)] for i in range(first, last + 1)) for _, d, first, last in chunks])
            sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
            self._many("UPDATE chunks SET vector = ? WHERE id = ?",
                       [(blob, row[0]) for row, blob in zip(chunks, vector_blobs(sums))])

    def _record_model(self, model: str) -> None:
        """Inside the swap's transaction: the index now holds `model`'s vectors."""
        raise NotImplementedError

    def _reembedded(self) -> None:
        """After the swap committed: bring the vector index in step (rebuilt from the database)."""
        with self._lock:
            self._vectors.sync(self._generation(), self)
            self._vectors.save(self._generation())

