"""Reads: documents, their copies, aliases and revisions, sentences and chunks, quotes."""

import json
from collections.abc import Iterable

import numpy as np

from askbrief.citations import CITATION_ID, cite
from askbrief.errors import BadInput, CitationReplaced, DocumentNotFound
from askbrief.index.base import StoreBase
from askbrief.index.schema import batches, filter_sql, marks, vectors_of
from askbrief.records import ChunkRow, Citation, Document, DocumentInfo, DocumentPage, Filter, Quote
from askbrief.text.language import detect


class Reads(StoreBase):
    def has(self, doc_id: str) -> bool:
        return self._value("SELECT 1 FROM documents WHERE id = ?", (doc_id,)) is not None

    def holder_of(self, digest: str) -> str | None:
        """The stored document with exactly this text (by hash): the one exact-duplicate rule."""
        return self._value("SELECT id FROM documents WHERE hash = ?", (digest,))

    def resolve(self, doc_ids: Iterable[str]) -> dict[str, str]:
        """Each id that names a stored document or an alias of one -> the stored id."""
        ids = list(dict.fromkeys(doc_ids))
        found: dict[str, str] = {}
        for part in batches(ids):
            found |= dict(self._rows(f"SELECT alias, doc_id FROM aliases WHERE alias IN ({marks(part)})", part))
            found |= {r[0]: r[0] for r in self._rows(f"SELECT id FROM documents WHERE id IN ({marks(part)})", part)}
        return {d: found[d] for d in ids if d in found}

    def aliases_of(self, doc_id: str) -> list[str]:
        return [r[0] for r in self._rows("SELECT alias FROM aliases WHERE doc_id = ? ORDER BY alias", (doc_id,))]

    def id_for_hash_prefix(self, prefix: str) -> str | None:
        """The document whose text hash starts with `prefix` (hex), if exactly one does."""
        rows = self._rows("SELECT id FROM documents WHERE hash >= ? AND hash < ? LIMIT 2",
                          (prefix, prefix + "g"))  # 'g' sorts after every hex digit
        return rows[0][0] if len(rows) == 1 else None

    def revisions(self, doc_id: str) -> tuple[int, str | None]:
        """How many times the document's text was replaced, and when last."""
        row = self._rows("SELECT count(*), max(replaced) FROM revisions WHERE doc_id = ?", (doc_id,))[0]
        return int(row[0]), row[1]

    def replaced_text(self, prefix: str) -> tuple[str, int] | None:
        """(document, revision) of an earlier text whose hash starts with `prefix`, if one does."""
        rows = self._rows("SELECT doc_id, revision FROM revisions WHERE hash >= ? AND hash < ? LIMIT 2",
                          (prefix, prefix + "g"))
        return (rows[0][0], int(rows[0][1])) if len(rows) == 1 else None

    def newest_published(self) -> str | None:
        return self._value("SELECT max(published) FROM documents")

    def count(self) -> int:
        return self._value("SELECT count(*) FROM documents")

    def chunk_count(self) -> int:
        return int(self._value("SELECT value FROM meta WHERE key = 'chunks'"))

    def documents(self, doc_ids: Iterable[str]) -> dict[str, Document]:
        """The stored documents by id; ids not in the index are left out."""
        ids = list(dict.fromkeys(doc_ids))
        return {r[0]: Document(id=r[0], title=r[1], published=r[2], source=r[3], text=r[4], hash=r[5],
                               lang=r[6] or detect(r[4]))  # detected: stored before documents had a language
                for part in batches(ids) for r in self._rows(
                    f"SELECT id, title, published, source, text, hash, lang FROM documents WHERE id IN ({marks(part)})",
                    part)}

    def languages(self) -> frozenset[str]:
        """The languages of the documents stored since documents had one (writes.py keeps them)."""
        stored = self._value("SELECT value FROM meta WHERE key = 'languages'")
        return frozenset(json.loads(stored)) if stored else frozenset()

    def pinned_embedder(self) -> str | None:
        """The embedder someone chose for this index ("english", "multilingual"), or None."""
        return self._value("SELECT value FROM meta WHERE key = 'embedder_pinned'")

    def document(self, doc_id: str) -> Document:
        found = self.documents([doc_id])
        if doc_id not in found:
            raise DocumentNotFound.by_id(doc_id, self.name)
        return found[doc_id]

    def document_view(self, doc_id: str) -> Document:
        """The stored document (an exact copy's id resolves to it), with the ids of its syndicated
        copies and of its exact copies, and its revisions: one snapshot."""
        with self.snapshot():
            stored = self.resolve([doc_id]).get(doc_id, doc_id)
            revisions, updated = self.revisions(stored)
            return self.document(stored).model_copy(update={
                "also_reported_by": self.also_reported_by(stored), "aliases": self.aliases_of(stored),
                "revisions": revisions, "updated": updated})

    def page(self, offset: int, limit: int) -> DocumentPage:
        """One page of the index, oldest published first (undated last), then by id."""
        with self.snapshot():
            ids = self.list_ids(offset, limit)
            docs = self.documents(ids)
            return DocumentPage(total=self.count(), offset=offset, limit=limit, documents=[
                DocumentInfo(id=d.id, title=d.title, published=d.published, source=d.source) for d in map(docs.get, ids)])

    def list_ids(self, offset: int = 0, limit: int | None = None) -> list[str]:
        """Document ids, oldest published first (undated last), then by id."""
        return [r[0] for r in self._rows(
            "SELECT id FROM documents ORDER BY published IS NULL, published, id LIMIT ? OFFSET ?",
            (limit if limit is not None and limit >= 0 else 1 << 62, offset))]

    def quotes(self, speaker: str | None = None) -> list[tuple[str, Quote]]:
        """(doc_id, quote) of every stored quote, or of speakers whose name contains `speaker`
        (any case), oldest article first."""
        sql = ('SELECT q.doc_id, q.speaker, q.cue, q.start, q."end", q.speaker_start, q.speaker_end FROM quotes q'
               " JOIN documents d ON d.id = q.doc_id")
        params: list = []
        if speaker:
            sql += " WHERE lower(q.speaker) LIKE lower(?) ESCAPE '\\'"
            params.append("%" + speaker.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        rows = self._rows(sql + " ORDER BY d.published IS NULL, d.published, q.doc_id, q.start", params)
        return [(r[0], Quote(*r[1:])) for r in rows]

    def also_reported_by(self, doc_id: str) -> list[str]:
        """The other documents in this one's cluster of syndicated copies."""
        return [r[0] for r in self._rows(
            "SELECT doc_id FROM syndication WHERE cluster = (SELECT cluster FROM syndication WHERE doc_id = ?)"
            " AND doc_id != ? ORDER BY doc_id", (doc_id, doc_id))]

    def clusters_of(self, doc_ids: Iterable[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(doc_ids))
        found = {d: c for part in batches(ids) for d, c in self._rows(
            f"SELECT doc_id, cluster FROM syndication WHERE doc_id IN ({marks(part)})", part)}
        return {d: found.get(d, d) for d in ids}

    def copies(self, doc_ids: Iterable[str]) -> dict[str, int]:
        """How many other stored documents share each one's syndication cluster."""
        ids = list(dict.fromkeys(doc_ids))
        found = {d: n for part in batches(ids) for d, n in self._rows(
            "SELECT s.doc_id, (SELECT count(*) - 1 FROM syndication o WHERE o.cluster = s.cluster)"
            f" FROM syndication s WHERE s.doc_id IN ({marks(part)})", part)}
        return {d: found.get(d, 0) for d in ids}

    # ---- sentences and chunks -----------------------------------------------------------

    def sentences(self, doc_id: str, first: int = 0, last: int = 1 << 30) -> tuple[list[tuple[int, int, int]], np.ndarray]:
        """[(idx, start, end)] of a document's sentences in `first..last`, and their vectors."""
        rows = self._rows('SELECT idx, start, "end", vector FROM sentences WHERE doc_id = ? AND idx BETWEEN ? AND ?'
                          " ORDER BY idx", (doc_id, first, last))
        return [(r[0], r[1], r[2]) for r in rows], vectors_of([bytes(r[3]) for r in rows], self.dim)

    def story_sentences(self, where: Filter) -> tuple[list[tuple[str, int, int, int]], np.ndarray]:
        """Every sentence (doc_id, idx, start, end) of the documents inside `where`, with its
        vector, in document and sentence order: what a timeline reads."""
        clause, params = filter_sql(where)
        rows = self._rows('SELECT s.doc_id, s.idx, s.start, s."end", s.vector FROM sentences s JOIN documents d'
                          f" ON d.id = s.doc_id WHERE {clause} ORDER BY s.doc_id, s.idx", params)
        return [(r[0], r[1], r[2], r[3]) for r in rows], vectors_of([bytes(r[4]) for r in rows], self.dim)

    def story_days(self, where: Filter) -> list[tuple[str, int, str]]:
        """(doc_id, sentence idx, day) of every day named by the documents inside `where`."""
        clause, params = filter_sql(where)
        return [tuple(r) for r in self._rows("SELECT t.doc_id, t.idx, t.day FROM sentence_days t JOIN documents d"
                                             f" ON d.id = t.doc_id WHERE {clause} ORDER BY t.doc_id, t.idx, t.start", params)]

    def sentence_range(self, doc_id: str, start: int, end: int) -> tuple[int, int] | None:
        """(first, last) index of the document's sentences that overlap text[start:end]."""
        row = self._rows('SELECT min(idx), max(idx) FROM sentences WHERE doc_id = ? AND "end" > ? AND start < ?',
                         (doc_id, start, end))[0]
        return None if row[0] is None else (row[0], row[1])

    def chunks(self, chunk_ids: list[int]) -> dict[int, ChunkRow]:
        return {r[0]: ChunkRow(*r) for part in batches(list(chunk_ids)) for r in self._rows(
            f'SELECT id, doc_id, first, last, start, "end" FROM chunks WHERE id IN ({marks(part)})', part)}

    def citation(self, citation_id: str) -> Citation:
        """Resolve a citation id ("<hash prefix>:<start>-<end>") to its quote in the stored text."""
        match = CITATION_ID.fullmatch(citation_id.strip())
        if not match:
            raise BadInput("citation", f"citation id {citation_id!r}: expected HASH:START-END, as in an answer's citations")
        prefix, start, end = match.group(1).lower(), int(match.group(2)), int(match.group(3))
        with self.snapshot() as store:
            doc_id = store.id_for_hash_prefix(prefix)
            if doc_id is None:
                replaced = store.replaced_text(prefix)
                if replaced:
                    raise CitationReplaced(f"citation {citation_id} quotes revision {replaced[1]} of {replaced[0]!r}, since"
                                           f" replaced by a newer text; ask again, or read {replaced[0]!r}", *replaced)
                raise DocumentNotFound(f"no document in {self.name!r} has the text that citation {citation_id} quotes")
            doc = store.document(doc_id)
        if not start < end <= len(doc.text):
            raise BadInput("citation", f"citation {citation_id} points past the end of {doc_id} ({len(doc.text)} characters)")
        return cite(0, doc, start, end)
