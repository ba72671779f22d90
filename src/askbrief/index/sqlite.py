"""The index in one SQLite file (`index.db`, laid out in schema.py) beside one process: the
default, nothing to set up.

Its keyword index is FTS5; its identity is `manifest.json` in the index folder; its vector index
(FAISS in `vectors.faiss`, or Milvus) is rebuilt from the database whenever it is missing or
older than it (a write generation tells).
"""

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from askbrief.errors import BadSetting, IndexNotFound
from askbrief.index.faiss_vectors import FaissIndex
from askbrief.index.identity import check_identity
from askbrief.index.milvus_vectors import MilvusIndex
from askbrief.index.schema import (
    FORMAT_VERSION,
    SCHEMA,
    filter_sql,
    migrate_from_1,
    migrate_from_2,
    migrate_from_3,
    migrate_from_4,
)
from askbrief.index.store import Store
from askbrief.index.vectors import VectorIndex, write_atomic
from askbrief.records import Filter

WAL_LIMIT = 64 * 1024 * 1024  # bytes: the WAL shrinks back to this after a big ingest
# FTS5 writes each batch as a new segment and merges them only partly; a search reads every
# segment. Merging all into one whenever the index has grown by a quarter since the last merge
# (0.6 s at 200k chunks; a geometric schedule, so a few seconds over a whole build) took keyword
# search at 200k from 7.1 to 6.1 ms median (docs/speed.md).
MERGE_FROM = 5_000  # chunks; below this there are few segments to merge
MERGE_GROWTH = 1.25


class SqliteStore(Store):
    """One index folder. Every statement holds the store's lock (one connection), so readers
    in this process never see half a write; WAL lets other processes read while one writes."""

    TERM_COUNTS_SQL = "SELECT term, doc FROM chunk_vocab WHERE term IN ({marks})"

    def __init__(self, path: Path, model: str, dim: int, create: bool = False, vector_backend: str = "faiss",
                 milvus_uri: str | None = None, milvus_token: str | None = None, milvus_consistency: str = "Session",
                 any_model: bool = False):
        super().__init__()
        self.path = Path(path)
        self.name = self.path.name
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
        if self.manifest.get("model") != model:  # only then can a re-embedding's manifest write have been lost
            self._recorded_model(manifest)
        if any_model:  # `askbrief reindex` opens an index of another model to re-embed it
            model = self.manifest.get("model")
        if (self.manifest.get("model"), self.manifest.get("dim")) == (model, dim):
            for version, step in ((1, migrate_from_1), (2, lambda db: migrate_from_2(db, dim)), (3, migrate_from_3),
                                  (4, migrate_from_4)):
                if self.manifest.get("format") == version:
                    step(self.path / "index.db")
                    self.manifest["format"] = version + 1
                    write_atomic(manifest, json.dumps(self.manifest, indent=2).encode())
        check_identity(self.manifest, model, dim, self.path.name, str(self.path))
        self._db = sqlite3.connect(self.path / "index.db", isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")  # readers of other processes keep reading while one writes
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a crash loses no committed state
        self._db.execute("PRAGMA busy_timeout=10000")  # another process's write: wait for it, do not fail
        self._db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
        self._db.executescript(SCHEMA)
        # Sizes for /health on a connection of their own: WAL lets it read while a write holds
        # the lock and the main connection (a 1,300-sentence write held /health 250 ms).
        self._sizes = sqlite3.connect(self.path / "index.db", isolation_level=None, check_same_thread=False)
        self._sizes_lock = threading.Lock()
        self._vectors = open_vector_index(vector_backend, self.path, dim, milvus_uri, milvus_token, milvus_consistency)
        self._search_lock = self._lock  # FAISS is changed in place by writes
        self._reading = 0  # depth of nested snapshots in the thread holding the lock
        self._polling = threading.Lock()

    def _recorded_model(self, manifest: Path) -> None:
        """The model the database says its vectors are of wins over the manifest's: a re-embedding
        commits it with the vectors and rewrites the manifest after, which a crash can miss."""
        if not (self.path / "index.db").exists():
            return
        db = sqlite3.connect(self.path / "index.db")
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'model'").fetchone()
        except sqlite3.OperationalError:  # an index from before the meta table
            row = None
        finally:
            db.close()
        if row and row[0] != self.manifest.get("model"):
            self.manifest["model"] = row[0]
            write_atomic(manifest, json.dumps(self.manifest, indent=2).encode())

    def _record_model(self, model: str) -> None:
        self._rows("INSERT INTO meta VALUES ('model', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (model,))

    def _reembedded(self) -> None:
        self._recorded_model(self.path / "manifest.json")
        super()._reembedded()

    def _rows(self, sql: str, params: Iterable = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _many(self, sql: str, rows: Iterable[tuple]) -> None:
        with self._lock:
            self._db.executemany(sql, rows)

    @contextmanager
    def snapshot(self) -> Iterator["SqliteStore"]:
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

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction: all of it commits, or none; other processes' writers wait."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ---- the keyword index: FTS5 --------------------------------------------------------

    def _index_terms(self, chunk_ids: list[int], texts: list[str]) -> None:
        self._many("INSERT INTO chunk_terms(rowid, terms) VALUES (?, ?)", zip(chunk_ids, texts))

    def _unindex_terms(self, chunk_ids: list[int]) -> None:
        self._many("DELETE FROM chunk_terms WHERE rowid = ?", [(i,) for i in chunk_ids])

    def _after_write(self) -> None:
        """Merge the keyword index into one segment, inside the write's transaction, when it has
        grown by MERGE_GROWTH since the last merge."""
        count = self.chunk_count()
        merged_at = int(self._value("SELECT value FROM meta WHERE key = 'keywords_merged_at'") or 0)
        if count >= MERGE_FROM and count > merged_at * MERGE_GROWTH:
            self._rows("INSERT INTO chunk_terms(chunk_terms) VALUES ('optimize')")
            self._rows("INSERT OR REPLACE INTO meta VALUES ('keywords_merged_at', ?)", (str(count),))

    def keyword_search(self, query_terms: list[str], k: int, where: Filter | None = None) -> list[tuple[int, float]]:
        """Chunks by BM25 (FTS5's `bm25()`, lower is better) over any of the terms: [(id, score)]."""
        unique = list(dict.fromkeys(t.replace('"', "") for t in query_terms if t.replace('"', "")))
        if not unique:
            return []
        match = " OR ".join(f'"{t}"' for t in self.telling_terms(unique))
        sql = "SELECT rowid, bm25(chunk_terms) FROM chunk_terms WHERE chunk_terms MATCH ?"
        params: list = [match]
        if where:
            clause, extra = filter_sql(where)
            sql += f" AND rowid IN (SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {clause})"
            params += extra
        return [(r[0], -r[1]) for r in self._rows(sql + " ORDER BY bm25(chunk_terms) LIMIT ?", [*params, k])]

    # ---- the rest -------------------------------------------------------------------------

    @contextmanager
    def poll_lock(self) -> Iterator[bool]:
        """One poll at a time in this process (one file, one process)."""
        with self._polling:
            yield True

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


def open_vector_index(backend: str, folder: Path, dim: int, milvus_uri: str | None = None,
                      milvus_token: str | None = None, milvus_consistency: str = "Session") -> VectorIndex:
    if backend == "faiss":
        return FaissIndex(folder, dim)
    if backend == "milvus":
        return MilvusIndex(folder, dim, milvus_uri, str(Path(folder).resolve()), milvus_token, milvus_consistency)
    raise BadSetting("vector_backend", f"unknown vector backend {backend!r}; choose faiss or milvus")
