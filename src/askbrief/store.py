"""The index: prepared documents in, stored rows and nearest chunks out.

SQLite (`index.db`, laid out in schema.py) is the single source of truth: documents, sentences
and chunks with their vectors, and an FTS5 keyword index. The vector index (FAISS in
`vectors.faiss`, or Milvus) is derived, rebuilt from SQLite whenever it is missing or older than
the database (a write generation tells). Reads that belong together run in `snapshot()`.
"""

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from askbrief.errors import DocumentNotFound, FeedNotFound, IndexIncompatible, IndexNotFound
from askbrief.records import ChunkRow, Document, Feed, Filter, IngestResult, Prepared, Quote
from askbrief.schema import (FORMAT_VERSION, SCHEMA, batches, filter_sql, marks, migrate_from_1, migrate_from_2,
                             vector_blobs, vectors_of)
from askbrief.syndication import Clusters
from askbrief.vectors import Added, Page, VectorIndex, open_vector_index, write_atomic

WAL_LIMIT = 64 * 1024 * 1024  # bytes: the WAL shrinks back to this after a big ingest
# Keyword queries leave out terms found in more than this many chunks (keeping the KEEP_RAREST
# rarest terms of every query). A count, not a share: FTS5's cost is the rows it scores, and in a
# small topical collection the topic's own word is in most chunks (a 10% share cut SQuAD 2.0's
# fused recall@5 by a point). At 200k BBC chunks, 100 headlines: keyword search median 17.8 ->
# 11.9 ms (p95 42.7 -> 18.8), the fused top 10 the same but for 0.6%; at 2,000 8.1 ms but 3.5%
# of the top 10 changed, and below that nothing more was gained (README, "Speed and scale").
COMMON_CHUNKS = 5_000
KEEP_RAREST = 2
# FTS5 writes each batch as a new segment and merges them only partly; a search reads every
# segment. Merging all into one whenever the index has grown by a quarter since the last merge
# (0.6 s at 200k chunks; a geometric schedule, so a few seconds over a whole build) took keyword
# search at 200k from 7.1 to 6.1 ms median (README, "Speed and scale").
MERGE_FROM = 5_000  # chunks; below this there are few segments to merge
MERGE_GROWTH = 1.25


class Store:
    """One index folder. Thread-safe: every call holds one lock, so readers never see half a write."""

    def __init__(self, path: Path, model: str, dim: int, create: bool = False, vector_backend: str = "faiss",
                 milvus_uri: str | None = None, milvus_token: str | None = None, milvus_consistency: str = "Session"):
        self.path = Path(path)
        self.dim = dim
        manifest = self.path / "manifest.json"
        if not manifest.exists():
            if not create:
                raise IndexNotFound(f"no index at {self.path}; build it with `askbrief ingest PATH --index {self.path.name}`")
            self.path.mkdir(parents=True, exist_ok=True)
            write_atomic(manifest, json.dumps(
                {"format": FORMAT_VERSION, "model": model, "dim": dim,
                 "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}, indent=2).encode())
        self.manifest = json.loads(manifest.read_text())
        if (self.manifest.get("model"), self.manifest.get("dim")) == (model, dim):
            for version, step in ((1, migrate_from_1), (2, lambda db: migrate_from_2(db, dim))):
                if self.manifest.get("format") == version:
                    step(self.path / "index.db")
                    self.manifest["format"] = version + 1
                    write_atomic(manifest, json.dumps(self.manifest, indent=2).encode())
        if (self.manifest.get("format"), self.manifest.get("model"), self.manifest.get("dim")) != (FORMAT_VERSION, model, dim):
            raise IndexIncompatible(
                f"{self.path} was built with model {self.manifest.get('model')} (format {self.manifest.get('format')}),"
                f" not {model} (format {FORMAT_VERSION}); rebuild it into a new index")
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path / "index.db", isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")  # readers of other processes keep reading while one writes
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a crash loses no committed state
        self._db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
        self._db.executescript(SCHEMA)
        # Sizes for /health on a connection of their own: WAL lets it read while a write holds
        # the lock and the main connection (a 1,300-sentence write held /health 250 ms, issue 16).
        self._sizes = sqlite3.connect(self.path / "index.db", isolation_level=None, check_same_thread=False)
        self._sizes_lock = threading.Lock()
        self._vectors: VectorIndex = open_vector_index(vector_backend, self.path, dim, milvus_uri, milvus_token,
                                                       milvus_consistency)
        self._clusters: Clusters | None = None  # built from the syndication table on first use
        self._reading = 0  # depth of nested snapshots in the thread holding the lock

    @contextmanager
    def snapshot(self) -> Iterator["Store"]:
        """Reads inside see one state of the index: the lock keeps this process's writes out, and
        one SQLite read transaction keeps other processes' commits out."""
        with self._lock:
            outer = self._reading == 0
            if outer:
                self._db.execute("BEGIN")
            self._reading += 1
            try:
                yield self
            finally:
                self._reading -= 1
                if outer:
                    self._db.execute("COMMIT")

    # ---- writes -------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction (the caller holds the lock): all of it commits, or none."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def add(self, batch: Iterable[Prepared], syndication: bool = True,
            aliases: Iterable[tuple[str, str]] = ()) -> list[IngestResult]:
        """Write a batch in one transaction: all of it lands, or none (also on kill -9).
        `aliases` are (id, stored id) of exact copies skipped before preparing. The ids in a
        batch must differ (the engine checks). `syndication=False` files every document in a
        cluster of its own (benchmarks of copies)."""
        results: list[IngestResult] = []
        new_vectors: list[Added] = []
        removed: list[int] = []
        pending: list[tuple[str, np.ndarray, str]] = []
        with self._lock:
            self._vectors.sync(self._generation(), self)  # in step before the write, so it is mirrored, not rebuilt
            with self._transaction():
                for alias, doc_id in aliases:
                    self._alias(alias, doc_id)
                for item in batch:
                    result, first_id, gone = self._add_one(item, pending, syndication)
                    results.append(result)
                    removed += gone
                    if first_id is not None:
                        doc = item.document
                        # as stored, so the index holds what a rebuild from SQLite would
                        stored = vectors_of(vector_blobs(item.chunk_vectors), self.dim)
                        new_vectors.append(Added(first_id, stored, doc.published, doc.source))
                self._merge_keywords_when_grown()
                self._bump_generation()
            gone = set(removed)  # a chunk added and replaced within the batch never reaches the index
            new_vectors = [a for a in new_vectors if a.first_id not in gone]
            self._vectors.apply(new_vectors, removed, self._generation())
            if removed or self._clusters is None:
                self._clusters = None  # rebuilt from SQLite when next needed
            else:
                for doc_id, values, cluster in pending:
                    self._clusters.add(doc_id, values, cluster)
        return results

    def _add_one(self, item: Prepared, pending: list, syndication: bool) -> tuple[IngestResult, int | None, list[int]]:
        """One document's rows; returns its result, its first chunk id (None when nothing was
        added) and the chunk ids of the version it replaced."""
        doc = item.document
        same = self.holder_of(doc.hash)
        if same:  # written since the engine looked (another process): the same rule, one place
            self._alias(doc.id, same)
            return IngestResult(id=doc.id, sentences=0, chunks=0, duplicate_of=same), None, []
        gone = self._delete_one(doc.id) if self.has(doc.id) else []
        self._db.execute("DELETE FROM aliases WHERE alias = ?", (doc.id,))
        self._db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
            (doc.id, doc.title, doc.published, doc.source, doc.text, doc.hash,
             dt.datetime.now(dt.UTC).isoformat(timespec="seconds")))
        self._db.executemany(
            "INSERT INTO sentences VALUES (?, ?, ?, ?, ?)",
            [(doc.id, i, s, e, v) for i, ((s, e), v) in enumerate(zip(item.sentences, vector_blobs(item.sentence_vectors)))])
        base = int(self._db.execute("SELECT value FROM meta WHERE key = 'next_chunk'").fetchone()[0])
        ids = list(range(base, base + len(item.chunks)))
        self._db.execute("UPDATE meta SET value = ? WHERE key = 'next_chunk'", (str(base + len(ids)),))
        self._count_chunks(len(ids))
        self._db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(cid, doc.id, f, l, item.sentences[f][0], item.sentences[l][1], v)
             for cid, (f, l), v in zip(ids, item.chunks, vector_blobs(item.chunk_vectors))])
        self._db.executemany("INSERT INTO chunk_terms(rowid, terms) VALUES (?, ?)", zip(ids, item.chunk_terms))
        self._db.executemany("INSERT INTO quotes VALUES (?, ?, ?, ?, ?, ?, ?)", [
            (doc.id, q.speaker, q.cue, q.start, q.end, q.speaker_start, q.speaker_end) for q in item.quotes])
        cluster = (syndication and self._cluster_for(item.signature, pending)) or doc.id
        self._db.execute("INSERT INTO syndication VALUES (?, ?, ?)", (doc.id, item.signature.tobytes(), cluster))
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
            self._db.execute("INSERT OR REPLACE INTO aliases VALUES (?, ?)", (alias, doc_id))

    def delete(self, doc_ids: list[str]) -> None:
        """Remove documents with all their rows (an alias: just the alias), in one transaction;
        an unknown id changes nothing and raises `DocumentNotFound`."""
        with self._lock:
            missing = [d for d in doc_ids if not self.has(d) and d not in self.resolve([d])]
            if missing:
                raise DocumentNotFound.by_id(missing[0], self.path.name)
            self._vectors.sync(self._generation(), self)  # so the delete is mirrored, not followed by a rebuild
            with self._transaction():
                removed = [cid for d in dict.fromkeys(doc_ids) for cid in self._delete_one(d)]
                self._db.executemany("DELETE FROM aliases WHERE alias = ?", [(d,) for d in doc_ids])
                self._bump_generation()
            self._vectors.apply([], removed, self._generation())
            self._clusters = None

    def _cluster_for(self, values: np.ndarray, pending: list[tuple[str, np.ndarray, str]]) -> str | None:
        """The cluster a new text joins: a stored near-copy's, or one written earlier in this batch."""
        if self._clusters is None:
            self._clusters = Clusters(self._db.execute("SELECT doc_id, signature, cluster FROM syndication").fetchall())
        return self._clusters.find(values, pending)

    def quotes(self, speaker: str | None = None) -> list[tuple[str, Quote]]:
        """(doc_id, quote) of every stored quote, or of speakers whose name contains `speaker`
        (any case), oldest article first."""
        sql = ("SELECT q.doc_id, q.speaker, q.cue, q.start, q.end, q.speaker_start, q.speaker_end FROM quotes q"
               " JOIN documents d ON d.id = q.doc_id")
        params: list = []
        if speaker:
            sql += " WHERE q.speaker LIKE ? ESCAPE '\\'"
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

    def _delete_one(self, doc_id: str) -> list[int]:
        ids = [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))]
        self._db.executemany("DELETE FROM chunk_terms WHERE rowid = ?", [(i,) for i in ids])
        self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        self._count_chunks(-len(ids))
        self._db.execute("DELETE FROM sentences WHERE doc_id = ?", (doc_id,))
        self._db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        self._db.execute("DELETE FROM syndication WHERE doc_id = ?", (doc_id,))
        self._db.execute("DELETE FROM quotes WHERE doc_id = ?", (doc_id,))
        self._db.execute("DELETE FROM aliases WHERE doc_id = ?", (doc_id,))
        return ids

    def _merge_keywords_when_grown(self) -> None:
        """Merge the keyword index into one segment, inside the write's transaction, when it has
        grown by MERGE_GROWTH since the last merge."""
        count = self.chunk_count()
        merged_at = int(self._value("SELECT value FROM meta WHERE key = 'keywords_merged_at'") or 0)
        if count >= MERGE_FROM and count > merged_at * MERGE_GROWTH:
            self._db.execute("INSERT INTO chunk_terms(chunk_terms) VALUES ('optimize')")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('keywords_merged_at', ?)", (str(count),))

    def _count_chunks(self, change: int) -> None:
        self._db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = 'chunks'", (change,))

    def _bump_generation(self) -> None:
        self._db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")

    # ---- documents ----------------------------------------------------------------------

    def _rows(self, sql: str, params: Iterable = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _value(self, sql: str, params: Iterable = ()):
        """The first column of the first row, or None."""
        rows = self._rows(sql, params)
        return rows[0][0] if rows else None

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
            raise DocumentNotFound.by_id(doc_id, self.path.name)
        return found[doc_id]

    def list_ids(self, offset: int = 0, limit: int = -1) -> list[str]:
        """Document ids, oldest published first (undated last), then by id."""
        return [r[0] for r in self._rows(
            "SELECT id FROM documents ORDER BY published IS NULL, published, id LIMIT ? OFFSET ?", (limit, offset))]

    # ---- sentences and chunks -----------------------------------------------------------

    def sentences(self, doc_id: str, first: int = 0, last: int = 1 << 30) -> tuple[list[tuple[int, int, int]], np.ndarray]:
        """[(idx, start, end)] of a document's sentences in `first..last`, and their vectors."""
        rows = self._rows("SELECT idx, start, end, vector FROM sentences WHERE doc_id = ? AND idx BETWEEN ? AND ?"
                          " ORDER BY idx", (doc_id, first, last))
        return [(r[0], r[1], r[2]) for r in rows], vectors_of([r[3] for r in rows], self.dim)

    def sentence_range(self, doc_id: str, start: int, end: int) -> tuple[int, int] | None:
        """(first, last) index of the document's sentences that overlap text[start:end]."""
        row = self._rows("SELECT min(idx), max(idx) FROM sentences WHERE doc_id = ? AND end > ? AND start < ?",
                         (doc_id, start, end))[0]
        return None if row[0] is None else (row[0], row[1])

    def chunks(self, chunk_ids: list[int]) -> dict[int, ChunkRow]:
        return {r[0]: ChunkRow(*r) for part in batches(list(chunk_ids)) for r in self._rows(
            f"SELECT id, doc_id, first, last, start, end FROM chunks WHERE id IN ({marks(part)})", part)}

    # ---- search -------------------------------------------------------------------------

    def keyword_search(self, query_terms: list[str], k: int, where: "Filter | None" = None) -> list[tuple[int, float]]:
        """Chunks by BM25 (FTS5's `bm25()`, lower is better) over any of the terms: [(id, score)]."""
        unique = list(dict.fromkeys(t.replace('"', "") for t in query_terms if t.replace('"', "")))
        if not unique:
            return []
        match = " OR ".join(f'"{t}"' for t in self._telling_terms(unique))
        sql = "SELECT rowid, bm25(chunk_terms) FROM chunk_terms WHERE chunk_terms MATCH ?"
        params: list = [match]
        if where:
            clause, extra = filter_sql(where)
            sql += f" AND rowid IN (SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {clause})"
            params += extra
        return [(r[0], -r[1]) for r in self._rows(sql + " ORDER BY bm25(chunk_terms) LIMIT ?", [*params, k])]

    def _telling_terms(self, terms: list[str]) -> list[str]:
        """The terms worth matching: those in at most COMMON_CHUNKS chunks, and always the
        KEEP_RAREST rarest. FTS5 scores every chunk a term of the OR matches, so a term in 10,000
        chunks costs 10,000 rows on every question, for a small BM25 weight."""
        ever = int(self._value("SELECT value FROM meta WHERE key = 'next_chunk'"))  # O(1), unlike count(*)
        if len(terms) <= KEEP_RAREST or ever <= COMMON_CHUNKS:
            return terms
        freqs = self._term_counts(terms)  # not document_frequencies: its count(*) is 2.4 ms at 200k
        rarest = set(sorted(terms, key=lambda t: freqs.get(t, 0))[:KEEP_RAREST])
        return [t for t in terms if t in rarest or freqs.get(t, 0) <= COMMON_CHUNKS]

    def _term_counts(self, terms: list[str]) -> dict[str, int]:
        """How many chunks hold each term (absent terms are left out)."""
        unique = list(dict.fromkeys(terms))
        return {t: n for part in batches(unique)
                for t, n in self._rows(f"SELECT term, doc FROM chunk_vocab WHERE term IN ({marks(part)})", part)}

    def document_frequencies(self, query_terms: list[str]) -> tuple[dict[str, int], int]:
        """How many chunks hold each term, and how many chunks there are (for IDF)."""
        return self._term_counts(query_terms), self.chunk_count()

    def dense_search(self, query: np.ndarray, k: int, where: "Filter | None" = None) -> list[tuple[int, float]]:
        """Chunks by inner product with a unit query vector: [(id, cosine)], best first. Only
        chunks SQLite still holds: a Milvus server in Session consistency may still return a
        chunk this process deleted a moment ago (its deletes land after its inserts do)."""
        with self._lock:
            self._vectors.sync(self._generation(), self)
            hits = self._vectors.search(query, k, where, lambda: self._allowed_chunks(where))
            held = {r[0] for part in batches([i for i, _ in hits]) for r in self._db.execute(
                f"SELECT id FROM chunks WHERE id IN ({marks(part)})", part)}
            return [(i, score) for i, score in hits if i in held]

    def _allowed_chunks(self, where: "Filter") -> np.ndarray:
        clause, params = filter_sql(where)
        return np.array([r[0] for r in self._db.execute(
            f"SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {clause}", params)], dtype=np.int64)

    # ---- the vector index ---------------------------------------------------------------

    def _generation(self) -> int:
        return int(self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])

    def vector_pages(self, every: int = 1, size: int = 20_000) -> Iterator[Page]:
        """Stored chunk vectors with their filter fields, `size` at a time (a rebuild at 1M chunks
        never holds them all twice)."""
        after = -1
        while True:
            rows = self._db.execute(
                "SELECT c.id, c.vector, d.published, d.source FROM chunks c JOIN documents d ON d.id = c.doc_id"
                " WHERE c.id > ? AND c.id % ? = 0 ORDER BY c.id LIMIT ?", (after, every, size)).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            yield Page(np.array([r[0] for r in rows], dtype=np.int64), vectors_of([r[1] for r in rows], self.dim),
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
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO feeds (url, added) VALUES (?, ?)",
                             (url, dt.datetime.now(dt.UTC).isoformat(timespec="seconds")))
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
        with self._lock:
            self._db.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))

    def feed_validators(self, feed_id: int) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified of the feed's last full answer, for a conditional GET."""
        rows = self._rows("SELECT etag, last_modified FROM feeds WHERE id = ?", (feed_id,))
        return rows[0] if rows else (None, None)

    def record_poll(self, feed_id: int, status: str, error: str | None, title: str | None,
                    validators: tuple[str | None, str | None] | None, added: int, skipped: int) -> None:
        """What a poll found; validators None keeps the old ones (a failed or 304 poll)."""
        with self._lock:
            self._db.execute(
                "UPDATE feeds SET last_polled = ?, last_status = ?, last_error = ?, title = coalesce(?, title),"
                " etag = CASE WHEN ? THEN ? ELSE etag END, last_modified = CASE WHEN ? THEN ? ELSE last_modified END,"
                " polls = polls + 1, documents_added = documents_added + ?, entries_skipped = entries_skipped + ?"
                " WHERE id = ?",
                (dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), status, error, title,
                 validators is not None, (validators or (None, None))[0],
                 validators is not None, (validators or (None, None))[1], added, skipped, feed_id))

    def sizes(self) -> dict[str, int]:
        """Documents and chunks, as of the last commit; never waits for a write in progress."""
        with self._sizes_lock:
            row = self._sizes.execute("SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM chunks)").fetchone()
        return {"documents": row[0], "chunks": row[1]}

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._sizes.close()
            self._vectors.close()


_FEED_COLUMNS = ("id, url, title, added, last_polled, last_status, last_error, polls, documents_added,"
                 " entries_skipped")


def _feed(row: tuple) -> Feed:
    return Feed(**dict(zip((c.strip() for c in _FEED_COLUMNS.split(",")), row)))
