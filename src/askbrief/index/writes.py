"""Writes: a batch of prepared documents in one transaction (a corrected text replacing its
stored version, kept as a revision), aliases, deletes; the vector index mirrored after each."""

import json
from collections.abc import Iterable

import numpy as np

from askbrief.errors import DocumentNotFound
from askbrief.index.base import StoreBase, now
from askbrief.index.schema import vector_blobs, vectors_of
from askbrief.index.vectors import Added
from askbrief.records import IngestResult, Prepared
from askbrief.text.copies import Clusters


class Writes(StoreBase):
    def add(self, batch: Iterable[Prepared], syndication: bool = True,
            aliases: Iterable[tuple[str, str]] = ()) -> list[IngestResult]:
        """Write a batch in one transaction: all of it lands, or none (also on kill -9).
        `aliases` are (id, stored id) of exact copies skipped before preparing. The ids in a
        batch must differ (the engine checks). `syndication=False` files every document in a
        cluster of its own (benchmarks of copies)."""
        results: list[IngestResult] = []
        removed: list[int] = []
        through = getattr(self._vectors, "write_through", False)  # vectors first, then the commit
        with self._lock:
            self._vectors.sync(self._generation(), self)  # in step before the write, so it is mirrored, not rebuilt
            with self._transaction():
                pending: list[tuple[str, np.ndarray, str]] = []
                new_vectors: list[Added] = []
                for alias, doc_id in aliases:
                    self._alias(alias, doc_id)
                for item in batch:
                    result, first_id, gone = self._add_one(item, pending, syndication)
                    results.append(result)
                    removed += gone
                    if first_id is not None:
                        doc = item.document
                        # as stored, so the index holds what a rebuild from the database would
                        stored = vectors_of(vector_blobs(item.chunk_vectors), self.dim)
                        new_vectors.append(Added(first_id, stored, doc.published, doc.source))
                self._after_write()
                generation = self._bump_generation()
                gone = set(removed)  # a chunk added and replaced within the batch never reaches the index
                new_vectors = [a for a in new_vectors if a.first_id not in gone]
                if through:  # before the commit: a crash leaves only vectors no chunk names
                    self._vectors.apply(new_vectors, [], generation)
            self._vectors.apply([] if through else new_vectors, removed, generation)
            if removed:
                self._clusters = None  # rebuilt from the database when next needed
            elif self._clusters is not None:
                for doc_id, values, cluster in pending:
                    self._clusters.add(doc_id, values, cluster)
                self._clusters_at = generation
        return results

    def _add_one(self, item: Prepared, pending: list, syndication: bool) -> tuple[IngestResult, int | None, list[int]]:
        """One document's rows; returns its result, its first chunk id (None when nothing was
        added) and the chunk ids of the version it replaced."""
        doc = item.document
        same = self.holder_of(doc.hash)
        if same:  # written since the engine looked (another process): the same rule, one place
            self._alias(doc.id, same)
            return IngestResult(id=doc.id, sentences=0, chunks=0, duplicate_of=same), None, []
        gone = []
        if self.has(doc.id):  # a new text under a stored id (a corrected article): the old one becomes a revision
            old_hash = self._value("SELECT hash FROM documents WHERE id = ?", (doc.id,))
            revision = self._value("SELECT count(*) FROM revisions WHERE doc_id = ?", (doc.id,)) + 1
            self._rows("INSERT INTO revisions (doc_id, hash, revision, replaced) VALUES (?, ?, ?, ?)",
                       (doc.id, old_hash, revision, now()))
            gone = self._delete_one(doc.id, keep_revisions=True)
        self._rows("DELETE FROM aliases WHERE alias = ?", (doc.id,))
        self._rows("INSERT INTO documents (id, title, published, source, text, hash, added, lang)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (doc.id, doc.title, doc.published, doc.source, doc.text,
                                                       doc.hash, now(), doc.lang))
        self._note_language(doc.lang)
        self._many('INSERT INTO sentences (doc_id, idx, start, "end", vector) VALUES (?, ?, ?, ?, ?)',
                   [(doc.id, i, s, e, v) for i, ((s, e), v) in enumerate(zip(item.sentences, vector_blobs(item.sentence_vectors)))])
        base = int(self._value("SELECT value FROM meta WHERE key = 'next_chunk'"))
        ids = list(range(base, base + len(item.chunks)))
        self._rows("UPDATE meta SET value = ? WHERE key = 'next_chunk'", (str(base + len(ids)),))
        self._count_chunks(len(ids))
        self._many('INSERT INTO chunks (id, doc_id, first, last, start, "end", vector) VALUES (?, ?, ?, ?, ?, ?, ?)',
                   [(cid, doc.id, f, l, item.sentences[f][0], item.sentences[l][1], v)
                    for cid, (f, l), v in zip(ids, item.chunks, vector_blobs(item.chunk_vectors))])
        self._index_terms(ids, list(item.chunk_terms))
        self._many('INSERT INTO quotes (doc_id, speaker, cue, start, "end", speaker_start, speaker_end)'
                   ' VALUES (?, ?, ?, ?, ?, ?, ?)',
                   [(doc.id, q.speaker, q.cue, q.start, q.end, q.speaker_start, q.speaker_end) for q in item.quotes])
        self._many('INSERT INTO sentence_days (doc_id, idx, day, start, "end") VALUES (?, ?, ?, ?, ?)',
                   [(doc.id, *row) for row in item.days])
        cluster = (syndication and self._cluster_for(item.signature, pending)) or doc.id
        self._rows("INSERT INTO syndication (doc_id, signature, cluster) VALUES (?, ?, ?)",
                   (doc.id, item.signature.tobytes(), cluster))
        pending.append((doc.id, item.signature, cluster))
        result = IngestResult(id=doc.id, sentences=len(item.sentences), chunks=len(ids), duplicate_of=None, replaced=bool(gone))
        return result, (base if ids else None), gone

    def add_aliases(self, aliases: Iterable[tuple[str, str]]) -> None:
        """Let each (alias, stored id) resolve, in one transaction (a feed's link to the article's
        canonical id)."""
        with self._lock, self._transaction():
            for alias, doc_id in aliases:
                if self.has(doc_id):
                    self._alias(alias, doc_id)

    def _alias(self, alias: str, doc_id: str) -> None:
        """Let `alias` resolve to `doc_id`, unless it names a stored document of its own."""
        if alias != doc_id and not self.has(alias):
            self._rows("INSERT INTO aliases (alias, doc_id) VALUES (?, ?)"
                       " ON CONFLICT (alias) DO UPDATE SET doc_id = excluded.doc_id", (alias, doc_id))

    def delete(self, doc_ids: list[str]) -> None:
        """Remove documents with all their rows (an alias: just the alias), in one transaction;
        an unknown id changes nothing and raises `DocumentNotFound`."""
        with self._lock:
            self._vectors.sync(self._generation(), self)  # so the delete is mirrored, not followed by a rebuild
            with self._transaction():
                missing = [d for d in doc_ids if not self.has(d) and d not in self.resolve([d])]
                if missing:
                    raise DocumentNotFound.by_id(missing[0], self.name)
                removed = [cid for d in dict.fromkeys(doc_ids) for cid in self._delete_one(d)]
                self._many("DELETE FROM aliases WHERE alias = ?", [(d,) for d in doc_ids])
                self._after_write()
                generation = self._bump_generation()
            self._vectors.apply([], removed, generation)
            self._clusters = None

    def _note_language(self, lang: str | None) -> None:
        """The index's languages, kept in `meta` as documents arrive (a question's language is
        detected among them), so no read scans the documents for them."""
        stored = self._value("SELECT value FROM meta WHERE key = 'languages'")
        languages = set(json.loads(stored)) if stored else set()
        if lang and lang not in languages:
            self._rows("INSERT INTO meta (key, value) VALUES ('languages', ?) ON CONFLICT (key) DO UPDATE"
                       " SET value = excluded.value", (json.dumps(sorted(languages | {lang})),))

    def pin_embedder(self, embedder: str) -> None:
        """Record that someone chose this index's embedder (`--embedder`): from now on articles in
        other languages do not move it (index/embedder_choice.py)."""
        self._rows("INSERT INTO meta (key, value) VALUES ('embedder_pinned', ?) ON CONFLICT (key) DO UPDATE"
                   " SET value = excluded.value", (embedder,))

    def _delete_one(self, doc_id: str, keep_revisions: bool = False) -> list[int]:
        ids = [r[0] for r in self._rows("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))]
        if not keep_revisions:
            self._rows("DELETE FROM revisions WHERE doc_id = ?", (doc_id,))
        self._unindex_terms(ids)
        self._rows("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        self._count_chunks(-len(ids))
        for table in ("sentences", "sentence_days", "syndication", "quotes"):
            self._rows(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))
        self._rows("DELETE FROM documents WHERE id = ?", (doc_id,))
        self._rows("DELETE FROM aliases WHERE doc_id = ?", (doc_id,))
        return ids

    def _cluster_for(self, values: np.ndarray, pending: list[tuple[str, np.ndarray, str]]) -> str | None:
        """The cluster a new text joins: a stored near-copy's, or one written earlier in this batch."""
        generation = self._generation()
        if self._clusters is None or self._clusters_at != generation:
            self._clusters = Clusters(self._rows("SELECT doc_id, signature, cluster FROM syndication"))
            self._clusters_at = generation
        return self._clusters.find(values, pending)

    def _count_chunks(self, change: int) -> None:
        self._rows("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + ? AS TEXT) WHERE key = 'chunks'", (change,))

    def _bump_generation(self) -> int:
        self._rows("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'generation'")
        return self._generation()


