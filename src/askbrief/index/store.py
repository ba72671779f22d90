"""The index: prepared documents in, stored rows and nearest chunks out.

One contract, two databases: `SqliteStore` (store_sqlite.py, one file beside one process, the
default) and `PostgresStore` (store_postgres.py, a server that many askbrief processes share,
chosen by ASKBRIEF_STORE_URL). Everything both do alike is written here once, in SQL both speak
(`?` placeholders, ON CONFLICT upserts, "end" quoted); each subclass brings its connection
handling, its keyword index and where the index's identity lives. The database is the single
source of truth; the vector index (FAISS or Milvus) holds derived state.
"""

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import numpy as np

from askbrief.errors import DocumentNotFound, FeedNotFound
from askbrief.records import ChunkRow, Document, Feed, Filter, IngestResult, Job, Prepared, Quote
from askbrief.index.schema import batches, filter_sql, marks, vector_blobs, vectors_of
from askbrief.ingest.copies import Clusters
from askbrief.index.vectors import Added, Page, VectorIndex

if TYPE_CHECKING:
    from askbrief.settings import Settings

# Keyword queries leave out terms found in more than this many chunks (keeping the KEEP_RAREST
# rarest terms of every query). A count, not a share: the keyword index's cost is the rows it
# scores, and in a small topical collection the topic's own word is in most chunks (a 10% share
# cut SQuAD 2.0's fused recall@5 by a point). At 200k BBC chunks, 100 headlines: FTS5 keyword
# search median 17.8 -> 11.9 ms (p95 42.7 -> 18.8), the fused top 10 the same but for 0.6%.
COMMON_CHUNKS = 5_000
KEEP_RAREST = 2
REEMBED_PAGE = 64  # documents embedded a transaction while re-embedding (an ingest's batch)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Store:
    """The shared logic. Subclasses provide `_rows` (one statement, its rows), `_many`,
    `_transaction()` (a write: all of it or none, writers one at a time), `snapshot()`, the
    keyword index (`_index_terms`, `_unindex_terms`, `keyword_search`, `_term_counts`) and
    `sizes()`. Thread-safe: writes and the vector index's state hold one lock."""

    name: str
    dim: int
    _vectors: VectorIndex
    _search_lock: AbstractContextManager  # what a vector search holds (FAISS: the store's lock)

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._clusters: Clusters | None = None  # built from the syndication table on first use
        self._clusters_at = -1  # the generation they were built at: another process may have written since

    # ---- what a database brings -----------------------------------------------------------

    def _rows(self, sql: str, params: Iterable = ()) -> list[tuple]:
        raise NotImplementedError

    def _many(self, sql: str, rows: Iterable[tuple]) -> None:
        raise NotImplementedError

    def _transaction(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def snapshot(self) -> AbstractContextManager["Store"]:
        raise NotImplementedError

    def _index_terms(self, chunk_ids: list[int], texts: list[str]) -> None:
        raise NotImplementedError

    def _unindex_terms(self, chunk_ids: list[int]) -> None:
        raise NotImplementedError

    def _after_write(self) -> None:
        """Inside a write's transaction, after its rows (SQLite merges its keyword index here,
        PostgreSQL writes the term statistics the write changed)."""

    def keyword_search(self, query_terms: list[str], k: int, where: Filter | None = None) -> list[tuple[int, float]]:
        raise NotImplementedError

    def _term_counts(self, terms: list[str]) -> dict[str, int]:
        raise NotImplementedError

    def sizes(self) -> dict[str, int]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _value(self, sql: str, params: Iterable = ()):
        """The first column of the first row, or None."""
        rows = self._rows(sql, params)
        return rows[0][0] if rows else None

    # ---- writes -------------------------------------------------------------------------

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
        self._rows("INSERT INTO documents (id, title, published, source, text, hash, added) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (doc.id, doc.title, doc.published, doc.source, doc.text, doc.hash, now()))
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

    def _delete_one(self, doc_id: str, keep_revisions: bool = False) -> list[int]:
        ids = [r[0] for r in self._rows("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))]
        if not keep_revisions:
            self._rows("DELETE FROM revisions WHERE doc_id = ?", (doc_id,))
        self._unindex_terms(ids)
        self._rows("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        self._count_chunks(-len(ids))
        for table in ("sentences", "syndication", "quotes"):
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

    def _generation(self) -> int:
        return int(self._value("SELECT value FROM meta WHERE key = 'generation'"))

    # ---- documents ----------------------------------------------------------------------

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
        return {r[0]: Document(id=r[0], title=r[1], published=r[2], source=r[3], text=r[4], hash=r[5])
                for part in batches(ids) for r in self._rows(
                    f"SELECT id, title, published, source, text, hash FROM documents WHERE id IN ({marks(part)})", part)}

    def document(self, doc_id: str) -> Document:
        found = self.documents([doc_id])
        if doc_id not in found:
            raise DocumentNotFound.by_id(doc_id, self.name)
        return found[doc_id]

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

    def sentence_range(self, doc_id: str, start: int, end: int) -> tuple[int, int] | None:
        """(first, last) index of the document's sentences that overlap text[start:end]."""
        row = self._rows('SELECT min(idx), max(idx) FROM sentences WHERE doc_id = ? AND "end" > ? AND start < ?',
                         (doc_id, start, end))[0]
        return None if row[0] is None else (row[0], row[1])

    def chunks(self, chunk_ids: list[int]) -> dict[int, ChunkRow]:
        return {r[0]: ChunkRow(*r) for part in batches(list(chunk_ids)) for r in self._rows(
            f'SELECT id, doc_id, first, last, start, "end" FROM chunks WHERE id IN ({marks(part)})', part)}

    # ---- search -------------------------------------------------------------------------

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

    # ---- feeds ----------------------------------------------------------------------------

    def add_feed(self, url: str) -> Feed:
        """Watch a feed (again adding a watched URL changes nothing)."""
        self._rows("INSERT INTO feeds (url, added) VALUES (?, ?) ON CONFLICT (url) DO NOTHING", (url, now()))
        return self.feed(url)

    def feeds(self) -> list[Feed]:
        return [_feed(r) for r in self._rows(f"SELECT {_FEED_COLUMNS} FROM feeds ORDER BY id")]

    def feed(self, ref: str | int) -> Feed:
        """A watched feed by its id or its URL; `FeedNotFound` otherwise."""
        rows = self._rows(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE id = ? OR url = ?",
                          (int(ref) if str(ref).isdigit() and int(ref) < 2**62 else -1, str(ref)))
        if not rows:
            raise FeedNotFound(f"no feed {ref!r} is watched here; `askbrief feeds list` shows them")
        return _feed(rows[0])

    def remove_feed(self, feed_id: int) -> None:
        """Stop watching a feed; the articles it brought stay."""
        self._rows("DELETE FROM feeds WHERE id = ?", (feed_id,))
        self._rows("DELETE FROM feed_entries WHERE feed_id = ?", (feed_id,))

    def feed_validators(self, feed_id: int) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified of the feed's last full answer, for a conditional GET."""
        rows = self._rows("SELECT etag, last_modified FROM feeds WHERE id = ?", (feed_id,))
        return tuple(rows[0]) if rows else (None, None)

    def record_poll(self, feed_id: int, status: str, error: str | None, title: str | None,
                    validators: tuple[str | None, str | None] | None, added: int, skipped: int) -> None:
        """What a poll found; validators None keeps the old ones (a failed or 304 poll)."""
        keep = validators is None
        etag, modified = validators or (None, None)
        self._rows(
            "UPDATE feeds SET last_polled = ?, last_status = ?, last_error = ?, title = coalesce(?, title),"
            " etag = CASE WHEN ? THEN etag ELSE ? END, last_modified = CASE WHEN ? THEN last_modified ELSE ? END,"
            " polls = polls + 1, documents_added = documents_added + ?, entries_skipped = entries_skipped + ?"
            " WHERE id = ?", (now(), status, error, title, keep, etag, keep, modified, added, skipped, feed_id))

    def feed_entries(self, feed_id: int) -> dict[str, tuple[str, str | None, str | None, float]]:
        """doc id -> (signature, etag, last modified, checked) of what the feed listed before."""
        return {r[0]: (r[1], r[2], r[3], float(r[4])) for r in self._rows(
            "SELECT doc_id, signature, etag, last_modified, checked FROM feed_entries WHERE feed_id = ?", (feed_id,))}

    def record_entries(self, feed_id: int, entries: list[tuple[str, str, str | None, str | None, float]]) -> None:
        """Remember (doc id, signature, etag, last modified, checked) of the feed's entries."""
        self._many("INSERT INTO feed_entries (feed_id, doc_id, signature, etag, last_modified, checked)"
                   " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (feed_id, doc_id) DO UPDATE SET signature = excluded.signature,"
                   " etag = excluded.etag, last_modified = excluded.last_modified, checked = excluded.checked",
                   [(feed_id, *e) for e in entries])

    def poll_lock(self) -> AbstractContextManager[bool]:
        """Held while this process polls feeds; yields False when another process polls now."""
        raise NotImplementedError

    # ---- fetching: turns at each host and robots.txt, shared by every process ------------------

    def claim_turn(self, host: str, delay_s: float) -> float:
        """Seconds to wait before asking `host` (its next free turn, kept here so that servers and
        cron polls of one index never ask one host faster than `delay_s`); takes that turn."""
        at = time.time()
        turn_after = self._value(
            "INSERT INTO hosts (host, next_turn) VALUES (?, ?) ON CONFLICT (host) DO UPDATE SET next_turn ="
            " CASE WHEN hosts.next_turn > ? THEN hosts.next_turn ELSE ? END + ? RETURNING next_turn",
            (host, at + delay_s, at, at, delay_s))
        return max(0.0, float(turn_after) - delay_s - at)

    def robots(self, host: str) -> tuple[str, float] | None:
        rows = self._rows("SELECT robots, robots_expires FROM hosts WHERE host = ? AND robots IS NOT NULL", (host,))
        return (rows[0][0], float(rows[0][1])) if rows else None

    def save_robots(self, host: str, text: str, expires: float) -> None:
        self._rows("INSERT INTO hosts (host, next_turn, robots, robots_expires) VALUES (?, 0, ?, ?) ON CONFLICT (host)"
                   " DO UPDATE SET robots = excluded.robots, robots_expires = excluded.robots_expires",
                   (host, text, expires))

    # ---- jobs: writes done off the serving path ---------------------------------------------

    def add_job(self, payload: str, total: int) -> Job:
        job_id = self._value("INSERT INTO jobs (payload, total, state, created) VALUES (?, ?, 'queued', ?) RETURNING id",
                             (payload, total, now()))
        return self.job(job_id)

    def job(self, job_id: int) -> Job | None:
        rows = self._rows(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            return None
        fields = dict(zip(_JOB_FIELDS, rows[0]))
        return Job(**fields | {"result": json.loads(fields["result"]) if fields["result"] else None})

    def take_job(self, worker: str, stale_s: float) -> tuple[Job, str] | None:
        """The oldest queued job (or a running one whose worker has not beaten its heart for
        `stale_s`), marked running by `worker`, with its payload; None when there is none."""
        stale = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=stale_s)).isoformat(timespec="seconds")
        with self._lock, self._transaction():
            row = self._rows("SELECT id, payload FROM jobs WHERE state = 'queued' OR (state = 'running' AND heartbeat < ?)"
                             " ORDER BY id LIMIT 1", (stale,))
            if not row:
                return None
            self._rows("UPDATE jobs SET state = 'running', worker = ?, heartbeat = ?, attempts = attempts + 1,"
                       " done = 0 WHERE id = ?", (worker, now(), row[0][0]))
        return self.job(row[0][0]), row[0][1]

    def job_progress(self, job_id: int, worker: str, done: int) -> None:
        self._rows("UPDATE jobs SET done = ?, heartbeat = ? WHERE id = ? AND worker = ?", (done, now(), job_id, worker))

    def finish_job(self, job_id: int, worker: str, done: int, result: str | None, error: str | None) -> None:
        self._rows("UPDATE jobs SET state = ?, done = ?, result = ?, error = ?, finished = ?, payload = ''"
                   " WHERE id = ? AND worker = ?", ("failed" if error else "done", done, result, error, now(), job_id, worker))


    # ---- re-embedding (askbrief reindex) --------------------------------------------------

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


_FEED_COLUMNS = ("id, url, title, added, last_polled, last_status, last_error, polls, documents_added,"
                 " entries_skipped")
_JOB_FIELDS = ("id", "state", "total", "done", "attempts", "created", "finished", "result", "error")
_JOB_COLUMNS = ", ".join(_JOB_FIELDS)


def _feed(row: tuple) -> Feed:
    return Feed(**dict(zip((c.strip() for c in _FEED_COLUMNS.split(",")), row)))


def reindex_message(index: str, recorded: str | None, model: str) -> str:
    return (f"index {index!r} holds vectors of {recorded}, and this askbrief embeds questions with {model}: re-embed it"
            f" in place with `askbrief reindex --index {index}` (its articles, citations and feeds stay)")


def open_store(settings: "Settings", name: str, model: str, dim: int, create: bool = False,
               any_model: bool = False) -> Store:
    """The store the settings name: PostgreSQL when ASKBRIEF_STORE_URL is set, else SQLite in
    the index's folder. `any_model`: open an index whatever model embedded it (to re-embed it)."""
    if settings.store_url:
        from askbrief.index.postgres import PostgresStore

        return PostgresStore(settings, name, model, dim, create, any_model=any_model)
    from askbrief.index.sqlite import SqliteStore

    return SqliteStore(settings.home / name, model, dim, create=create, vector_backend=settings.vector_backend,
                       milvus_uri=settings.milvus_uri, milvus_token=settings.milvus_token,
                       milvus_consistency=settings.milvus_consistency, any_model=any_model)


def store_exists(settings: "Settings", name: str) -> bool:
    """Whether the index has been created (without creating it)."""
    if settings.store_url:
        from askbrief.index.postgres import index_exists

        return index_exists(settings.store_url, name)
    return (settings.home / name / "manifest.json").exists()
