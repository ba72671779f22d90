"""The index: prepared documents in, stored rows and nearest chunks out.

SQLite (`index.db`) is the single source of truth: documents, sentences and chunks with their
vectors, and an FTS5 keyword index. The vector index (FAISS in `vectors.faiss`, or Milvus) is
derived, rebuilt from SQLite whenever it is missing or older than the database (a write
generation tells).
"""

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from askbrief.errors import DocumentNotFound, IndexIncompatible, IndexNotFound
from askbrief.quotes import Quote
from askbrief.records import Document, IngestResult
from askbrief.syndication import Clusters
from askbrief.vectors import Added, Page, VectorIndex, open_vector_index, write_atomic

FORMAT_VERSION = 2  # 2: sentences became a rowid table (format 1 indexes are migrated on open)
SQLITE_VARS = 900  # stay under SQLite's default 999 host parameters per statement (pre-3.32)

# A rowid table: WITHOUT ROWID stored these 1.5 KB vector rows at ~4.9 KB each (SQLite advises it
# only for rows under 1/20 of a page). Format 1 had that layout; _migrate_from_1 copies into this.
_SENTENCES = """CREATE TABLE IF NOT EXISTS sentences (
    doc_id TEXT NOT NULL, idx INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    vector BLOB NOT NULL, PRIMARY KEY (doc_id, idx))"""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, published TEXT, source TEXT NOT NULL,
    text TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, added TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS documents_published ON documents(published);
{sentences};
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
-- Terms are stemmed by askbrief.text.terms; FTS5 only splits them at spaces ('.-' stay inside).
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_terms USING fts5(terms, tokenize="unicode61 tokenchars '.-''’'");
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_vocab USING fts5vocab(chunk_terms, 'row');
CREATE TABLE IF NOT EXISTS quotes (
    doc_id TEXT NOT NULL, speaker TEXT NOT NULL, cue TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    speaker_start INTEGER NOT NULL, speaker_end INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS quotes_doc ON quotes(doc_id);
CREATE TABLE IF NOT EXISTS syndication (
    doc_id TEXT PRIMARY KEY, signature BLOB NOT NULL, cluster TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS syndication_cluster ON syndication(cluster);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('generation', '0');
""".format(sentences=_SENTENCES)


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


@dataclass(frozen=True)
class Filter:
    """Which documents a search may return: published in since..until (inclusive), from sources."""

    since: str | None = None
    until: str | None = None
    sources: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.sources)

    def sql(self) -> tuple[str, list]:
        """A WHERE clause over `documents d`, and its parameters."""
        clauses, params = ["1"], []
        if self.since:
            clauses.append("d.published >= ?")
            params.append(self.since)
        if self.until:
            clauses.append("d.published <= ?")
            params.append(self.until)
        if self.sources:
            clauses.append(f"d.source IN ({_marks(list(self.sources))})")
            params += list(self.sources)
        return " AND ".join(clauses), params


@dataclass(frozen=True, slots=True)
class ChunkRow:
    id: int
    doc_id: str
    first: int
    last: int
    start: int
    end: int


class Store:
    """One index folder. Thread-safe: every call holds one lock, so readers never see half a write."""

    def __init__(self, path: Path, model: str, dim: int, create: bool = False, vector_backend: str = "faiss",
                 milvus_uri: str | None = None, milvus_token: str | None = None):
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
        if self.manifest.get("format") == 1 and (self.manifest.get("model"), self.manifest.get("dim")) == (model, dim):
            self._migrate_from_1(manifest)
        if (self.manifest.get("format"), self.manifest.get("model"), self.manifest.get("dim")) != (FORMAT_VERSION, model, dim):
            raise IndexIncompatible(
                f"{self.path} was built with model {self.manifest.get('model')} (format {self.manifest.get('format')}),"
                f" not {model} (format {FORMAT_VERSION}); rebuild it into a new index")
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path / "index.db", isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")  # readers of other processes keep reading while one writes
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a crash loses no committed state
        self._db.execute("PRAGMA journal_size_limit=67108864")  # the WAL shrinks back to 64 MB after a big ingest
        self._db.executescript(_SCHEMA)
        self._vectors: VectorIndex = open_vector_index(vector_backend, self.path, dim, milvus_uri, milvus_token)
        self._clusters: Clusters | None = None  # built from the syndication table on first use

    def _migrate_from_1(self, manifest: Path) -> None:
        """Copy format 1's WITHOUT ROWID sentences into a rowid table, in one transaction, then
        reclaim the space; the manifest says format 2 only once the copy has committed."""
        db = sqlite3.connect(self.path / "index.db", isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("ALTER TABLE sentences RENAME TO sentences_format_1")
            db.execute(_SENTENCES)
            db.execute("INSERT INTO sentences SELECT * FROM sentences_format_1 ORDER BY doc_id, idx")
            db.execute("DROP TABLE sentences_format_1")
            db.execute("COMMIT")
            db.execute("VACUUM")
        finally:
            db.close()
        self.manifest["format"] = 2
        write_atomic(manifest, json.dumps(self.manifest, indent=2).encode())

    # ---- writes -------------------------------------------------------------------------

    def add(self, batch: Iterable[Prepared], syndication: bool = True) -> list[IngestResult]:
        """Write a batch in one transaction: all of it lands, or none (also on kill -9).
        `syndication=False` files every document in a cluster of its own (benchmarks of copies)."""
        results: list[IngestResult] = []
        new_vectors: list[Added] = []
        removed: list[int] = []
        pending: list[tuple[str, np.ndarray, str]] = []
        with self._lock:
            self._vectors.sync(self._generation(), self)  # in step before the write, so it is mirrored, not rebuilt
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for item in batch:
                    result, ids, gone = self._add_one(item, pending, syndication)
                    results.append(result)
                    removed += gone
                    if ids:
                        doc = item.document
                        new_vectors.append(Added(ids[0], item.chunk_vectors, doc.published, doc.source))
                self._bump_generation()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._vectors.apply(new_vectors, removed, self._generation())
            if removed or self._clusters is None:
                self._clusters = None  # rebuilt from SQLite when next needed
            else:
                for doc_id, values, cluster in pending:
                    self._clusters.add(doc_id, values, cluster)
        return results

    def _add_one(self, item: Prepared, pending: list, syndication: bool) -> tuple[IngestResult, list[int], list[int]]:
        doc = item.document
        same = self._db.execute("SELECT id FROM documents WHERE hash = ?", (doc.hash,)).fetchone()
        if same:
            return IngestResult(id=doc.id, sentences=0, chunks=0, duplicate_of=same[0]), [], []
        gone = self._delete_one(doc.id) if self.has(doc.id) else []
        self._db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
            (doc.id, doc.title, doc.published, doc.source, doc.text, doc.hash,
             dt.datetime.now(dt.UTC).isoformat(timespec="seconds")))
        self._db.executemany(
            "INSERT INTO sentences VALUES (?, ?, ?, ?, ?)",
            [(doc.id, i, s, e, v.tobytes()) for i, ((s, e), v) in enumerate(zip(item.sentences, item.sentence_vectors))])
        base = self._db.execute("SELECT coalesce(max(id), 0) + 1 FROM chunks").fetchone()[0]
        ids = list(range(base, base + len(item.chunks)))
        self._db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(cid, doc.id, f, l, item.sentences[f][0], item.sentences[l][1], v.tobytes())
             for cid, (f, l), v in zip(ids, item.chunks, item.chunk_vectors)])
        self._db.executemany("INSERT INTO chunk_terms(rowid, terms) VALUES (?, ?)", zip(ids, item.chunk_terms))
        self._db.executemany("INSERT INTO quotes VALUES (?, ?, ?, ?, ?, ?, ?)", [
            (doc.id, q.speaker, q.cue, q.start, q.end, q.speaker_start, q.speaker_end) for q in item.quotes])
        cluster = (syndication and self._cluster_for(item.signature, pending)) or doc.id
        self._db.execute("INSERT INTO syndication VALUES (?, ?, ?)", (doc.id, item.signature.tobytes(), cluster))
        pending.append((doc.id, item.signature, cluster))
        result = IngestResult(id=doc.id, sentences=len(item.sentences), chunks=len(ids), duplicate_of=None, replaced=bool(gone))
        return result, ids, gone

    def delete(self, doc_ids: list[str]) -> None:
        """Remove documents with all their rows, in one transaction; unknown ids change nothing."""
        with self._lock:
            missing = [d for d in doc_ids if not self.has(d)]
            if missing:
                raise DocumentNotFound(f"no document {missing[0]!r} in {self.path.name}; `askbrief search` lists what is there")
            self._vectors.sync(self._generation(), self)  # so the delete is mirrored, not followed by a rebuild
            self._db.execute("BEGIN IMMEDIATE")
            try:
                removed = [cid for d in doc_ids for cid in self._delete_one(d)]
                self._bump_generation()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
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
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY d.published IS NULL, d.published, q.doc_id, q.start", params).fetchall()
        return [(r[0], Quote(*r[1:])) for r in rows]

    def also_reported_by(self, doc_id: str) -> list[str]:
        """The other documents in this one's cluster of syndicated copies."""
        with self._lock:
            rows = self._db.execute(
                "SELECT doc_id FROM syndication WHERE cluster = (SELECT cluster FROM syndication WHERE doc_id = ?)"
                " AND doc_id != ? ORDER BY doc_id", (doc_id, doc_id))
            return [r[0] for r in rows]

    def clusters_of(self, doc_ids: Iterable[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(doc_ids))
        with self._lock:
            rows = self._db.execute(f"SELECT doc_id, cluster FROM syndication WHERE doc_id IN ({_marks(ids)})", ids)
            found = dict(rows.fetchall()) if ids else {}
        return {d: found.get(d, d) for d in ids}

    def _delete_one(self, doc_id: str) -> list[int]:
        ids = [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))]
        self._db.executemany("DELETE FROM chunk_terms WHERE rowid = ?", [(i,) for i in ids])
        self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        self._db.execute("DELETE FROM sentences WHERE doc_id = ?", (doc_id,))
        self._db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        self._db.execute("DELETE FROM syndication WHERE doc_id = ?", (doc_id,))
        self._db.execute("DELETE FROM quotes WHERE doc_id = ?", (doc_id,))
        return ids

    def _bump_generation(self) -> None:
        self._db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")

    # ---- documents ----------------------------------------------------------------------

    def has(self, doc_id: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone() is not None

    def doc_id_for_hash(self, digest: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT id FROM documents WHERE hash = ?", (digest,)).fetchone()
        return row[0] if row else None

    def id_for_hash_prefix(self, prefix: str) -> str | None:
        """The document whose text hash starts with `prefix` (hex), if exactly one does."""
        with self._lock:
            rows = self._db.execute("SELECT id FROM documents WHERE hash >= ? AND hash < ? LIMIT 2",
                                    (prefix, prefix + "g")).fetchall()  # 'g' sorts after every hex digit
        return rows[0][0] if len(rows) == 1 else None

    def newest_published(self) -> str | None:
        with self._lock:
            return self._db.execute("SELECT max(published) FROM documents").fetchone()[0]

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM documents").fetchone()[0]

    def chunk_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def documents(self, doc_ids: Iterable[str]) -> dict[str, Document]:
        """The stored documents by id; ids not in the index are left out."""
        ids = list(dict.fromkeys(doc_ids))
        found: dict[str, Document] = {}
        with self._lock:
            for part in _batches(ids):
                rows = self._db.execute(
                    f"SELECT id, title, published, source, text, hash FROM documents WHERE id IN ({_marks(part)})", part)
                for r in rows:
                    found[r[0]] = Document(id=r[0], title=r[1], published=r[2], source=r[3], text=r[4], hash=r[5])
        return found

    def document(self, doc_id: str) -> Document:
        found = self.documents([doc_id])
        if doc_id not in found:
            raise DocumentNotFound(f"no document {doc_id!r} in {self.path.name}; `askbrief search` lists what is there")
        return found[doc_id]

    def list_ids(self, offset: int = 0, limit: int = -1) -> list[str]:
        """Document ids, oldest published first (undated last), then by id."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM documents ORDER BY published IS NULL, published, id LIMIT ? OFFSET ?", (limit, offset))
            return [r[0] for r in rows]

    # ---- sentences and chunks -----------------------------------------------------------

    def sentences(self, doc_id: str, first: int = 0, last: int = 1 << 30) -> tuple[list[tuple[int, int, int]], np.ndarray]:
        """[(idx, start, end)] of a document's sentences in `first..last`, and their vectors."""
        with self._lock:
            rows = self._db.execute(
                "SELECT idx, start, end, vector FROM sentences WHERE doc_id = ? AND idx BETWEEN ? AND ? ORDER BY idx",
                (doc_id, first, last)).fetchall()
        return [(r[0], r[1], r[2]) for r in rows], _vectors([r[3] for r in rows], self.dim)

    def chunks(self, chunk_ids: list[int]) -> dict[int, ChunkRow]:
        found: dict[int, ChunkRow] = {}
        with self._lock:
            for part in _batches(chunk_ids):
                for r in self._db.execute(
                        f"SELECT id, doc_id, first, last, start, end FROM chunks WHERE id IN ({_marks(part)})", part):
                    found[r[0]] = ChunkRow(*r)
        return found

    # ---- search -------------------------------------------------------------------------

    def keyword_search(self, query_terms: list[str], k: int, where: "Filter | None" = None) -> list[tuple[int, float]]:
        """Chunks by BM25 (FTS5's `bm25()`, lower is better) over any of the terms: [(id, score)]."""
        unique = list(dict.fromkeys(t.replace('"', "") for t in query_terms if t.replace('"', "")))
        if not unique:
            return []
        match = " OR ".join(f'"{t}"' for t in unique)
        sql = "SELECT rowid, bm25(chunk_terms) FROM chunk_terms WHERE chunk_terms MATCH ?"
        params: list = [match]
        if where:
            clause, extra = where.sql()
            sql += f" AND rowid IN (SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {clause})"
            params += extra
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY bm25(chunk_terms) LIMIT ?", [*params, k]).fetchall()
        return [(r[0], -r[1]) for r in rows]

    def document_frequencies(self, query_terms: list[str]) -> tuple[dict[str, int], int]:
        """How many chunks hold each term, and how many chunks there are (for IDF)."""
        unique = list(dict.fromkeys(query_terms))
        with self._lock:
            rows = self._db.execute(f"SELECT term, doc FROM chunk_vocab WHERE term IN ({_marks(unique)})", unique) if unique else []
            freqs = {r[0]: r[1] for r in rows}
            total = self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return freqs, total

    def dense_search(self, query: np.ndarray, k: int, where: "Filter | None" = None) -> list[tuple[int, float]]:
        """Chunks by inner product with a unit query vector: [(id, cosine)], best first."""
        with self._lock:
            self._vectors.sync(self._generation(), self)
            return self._vectors.search(query, k, where, lambda: self._allowed_chunks(where))

    def _allowed_chunks(self, where: "Filter") -> np.ndarray:
        clause, params = where.sql()
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
            yield Page(np.array([r[0] for r in rows], dtype=np.int64), _vectors([r[1] for r in rows], self.dim),
                       [r[2] for r in rows], [r[3] for r in rows])

    def save_vectors(self) -> None:
        """Persist the vector index if it is in step with the database (after an ingest or a delete)."""
        with self._lock:
            self._vectors.save(self._generation())

    def vector_index(self) -> dict:
        with self._lock:
            self._vectors.sync(self._generation(), self)
            return self._vectors.describe()

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._vectors.close()


def _vectors(blobs: list[bytes], dim: int) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), dim)


def _batches(items: list, size: int = SQLITE_VARS) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _marks(items: list) -> str:
    return ",".join("?" * len(items))
