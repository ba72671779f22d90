"""The index in PostgreSQL, shared by any number of askbrief processes on any number of machines
(ASKBRIEF_STORE_URL=postgresql://…), its vectors in a Milvus server beside it.

Each index is a schema of its own (`ab_<name>_<digest>`), holding the same tables as SQLite's
plus the index's identity (manifest, embedder, Milvus collection name) in `meta`, so no process
keeps state that another needs. Writers take one advisory lock a transaction, so they queue
instead of failing on each other; readers never wait (MVCC). Keyword search is BM25 computed
here from a GIN-indexed `tsvector` of the stemmed terms and the term statistics each write keeps
(FTS5's formula, so both stores rank alike). psycopg 3 with a connection pool.
"""

import hashlib
import json
import math
import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext

from askbrief.errors import BackendUnavailable, BadSetting, IndexNotFound
from askbrief.index.base import now
from askbrief.index.identity import check_identity
from askbrief.index.milvus_vectors import SharedMilvusIndex
from askbrief.index.postgres_schema import (
    CONNECT_TIMEOUT_S,
    MIGRATIONS,
    SCHEMA,
    TF_WEIGHTS,
    as_tsvector,
    lexeme,
    pg,
    schema_name,
    storable,
)
from askbrief.index.schema import FORMAT_VERSION, filter_sql
from askbrief.index.search import BM25_B as B
from askbrief.index.search import BM25_K1 as K1
from askbrief.index.store import Store
from askbrief.records import Filter

POOL_SIZE = 8  # connections a process keeps at most: a server's request threads, its worker, its poller
MIN_IDF = 1e-6  # FTS5 floors a term's IDF here (a term in over half the chunks)
WRITE_LOCK, POLL_LOCK, CREATE_LOCK = 1, 2, 3  # advisory lock ids, one space per index schema

class PostgresStore(Store):
    """One index in a PostgreSQL database; many processes may hold it open at once."""

    TERM_COUNTS_SQL = "SELECT term, chunks FROM term_stats WHERE term IN ({marks}) AND chunks > 0"

    _REEMBED_TABLE = ('CREATE TABLE IF NOT EXISTS reembed (doc_id TEXT COLLATE "C" NOT NULL, idx INTEGER NOT NULL,'
                      " vector BYTEA NOT NULL, PRIMARY KEY (doc_id, idx))")

    def __init__(self, settings, index: str, model: str, dim: int, create: bool = False, any_model: bool = False):
        super().__init__()
        import psycopg
        from psycopg_pool import ConnectionPool

        if settings.vector_backend != "milvus" or "://" not in (settings.milvus_uri or ""):
            raise BadSetting("store_url", "ASKBRIEF_STORE_URL (PostgreSQL) is shared by many processes, and the vector"
                             " index must be too: FAISS and milvus-lite live in one process's folder. Set"
                             " ASKBRIEF_VECTOR_BACKEND=milvus and ASKBRIEF_MILVUS_URI=http://HOST:19530 (a Milvus server)")
        self.name, self.dim, self.schema = index, dim, schema_name(index)
        self._local = threading.local()  # the connection of this thread's transaction or snapshot
        self._stats_change: Counter = Counter()  # term -> chunks added minus removed, in the write under way
        self._tokens_change = 0
        self._search_lock = nullcontext()  # Milvus searches run in parallel; its first sync locks in the database
        self._key = int(hashlib.sha1(self.schema.encode()).hexdigest()[:12], 16)  # the advisory lock space

        def configure(conn) -> None:
            conn.execute(f'SET search_path TO "{self.schema}"')  # the name is [a-z0-9_] only

        self._pool = ConnectionPool(settings.store_url, min_size=1, max_size=POOL_SIZE, open=False, configure=configure,
                                    kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S})
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except Exception as e:  # psycopg_pool's PoolTimeout says nothing of why: ask once more for the reason
            try:
                psycopg.connect(settings.store_url, connect_timeout=CONNECT_TIMEOUT_S).close()
                reason = str(e)
            except psycopg.OperationalError as why:
                reason = str(why).strip()
            self._pool.close()
            raise BackendUnavailable(f"cannot reach PostgreSQL at ASKBRIEF_STORE_URL: {reason}") from e
        self._settings = settings
        self.manifest = self._open(model, dim, create, any_model)
        self._vectors = self._shared_vectors()

    def _shared_vectors(self) -> SharedMilvusIndex:
        s = self._settings
        return SharedMilvusIndex(self.dim, s.milvus_uri, self.manifest["collection"], s.milvus_token,
                                 s.milvus_consistency, lambda: self._advisory(CREATE_LOCK))

    def _open(self, model: str, dim: int, create: bool, any_model: bool = False) -> dict:
        """The index's manifest, creating the index (schema, tables, identity) if asked; one
        process at a time creates or migrates."""
        with self._advisory(CREATE_LOCK), self._pool.connection() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'manifest'").fetchone() if self._has_meta(conn) else None
            if row is None:
                if not create:
                    raise IndexNotFound(f"no index {self.name!r} in the PostgreSQL database of ASKBRIEF_STORE_URL; build it"
                                        f" with `askbrief ingest PATH --index {self.name}`")
                manifest = {"format": FORMAT_VERSION, "model": model, "dim": dim, "created": now(),
                            "collection": f"askbrief_{self.schema}_{uuid.uuid4().hex[:8]}"}
                with conn.transaction():
                    conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                    conn.execute(SCHEMA)
                    conn.execute("INSERT INTO meta VALUES ('manifest', %s)", (json.dumps(manifest),))
                return manifest
            manifest = json.loads(row[0])
            if any_model:  # `askbrief reindex` opens an index of another model to re-embed it
                model = manifest.get("model")
            while manifest.get("format") in MIGRATIONS and (manifest["model"], manifest["dim"]) == (model, dim):
                with conn.transaction():
                    step = MIGRATIONS[manifest["format"]]
                    step(conn) if callable(step) else conn.execute(step)
                    manifest["format"] += 1
                    conn.execute("UPDATE meta SET value = %s WHERE key = 'manifest'", (json.dumps(manifest),))
        check_identity(manifest, model, dim, self.name, f"index {self.name!r} in PostgreSQL")
        return manifest

    def _record_model(self, model: str) -> None:
        """The new model, and a new Milvus collection for its vectors (made from the database once
        this commits: the old one may still serve a server that has not stopped yet)."""
        self.manifest = {**self.manifest, "model": model,
                         "collection": f"askbrief_{self.schema}_{uuid.uuid4().hex[:8]}"}
        self._rows("UPDATE meta SET value = ? WHERE key = 'manifest'", (json.dumps(self.manifest),))

    def _reembedded(self) -> None:
        old = self._vectors
        self._vectors = self._shared_vectors()
        super()._reembedded()  # builds the new collection from the database
        old.drop()
        old.close()

    def _has_meta(self, conn) -> bool:
        return conn.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'meta'",
                            (self.schema,)).fetchone() is not None

    @contextmanager
    def _advisory(self, lock: int) -> Iterator[None]:
        """A session-level advisory lock of this index, on a connection of its own, waited for."""
        with self._pool.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (self._key % 2**31, lock))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (self._key % 2**31, lock))

    # ---- statements ---------------------------------------------------------------------

    @contextmanager
    def _connection(self):
        held = getattr(self._local, "conn", None)
        if held is not None:
            yield held
            return
        with self._pool.connection() as conn:
            yield conn

    def _rows(self, sql: str, params: Iterable = ()) -> list[tuple]:
        with self._connection() as conn:
            cursor = conn.execute(pg(sql), storable(params))
            return cursor.fetchall() if cursor.description else []

    def _many(self, sql: str, rows: Iterable[tuple]) -> None:
        rows = [storable(row) for row in rows]
        if rows:
            with self._connection() as conn, conn.cursor() as cursor:
                cursor.executemany(pg(sql), rows)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction; writers of every process take the index's write lock first."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        self._stats_change, self._tokens_change = Counter(), 0  # a failed write's leftovers are not carried
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (self._key % 2**31, WRITE_LOCK))
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    @contextmanager
    def snapshot(self) -> Iterator["PostgresStore"]:
        """Reads inside see one state of the index (a REPEATABLE READ transaction); writers,
        here or elsewhere, neither wait for it nor show through it."""
        if getattr(self._local, "conn", None) is not None:
            yield self
            return
        with self._pool.connection() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            self._local.conn = conn
            try:
                yield self
            finally:
                self._local.conn = None
                conn.execute("COMMIT")

    # ---- the keyword index: tsvector, GIN, BM25 from kept statistics ---------------------------

    def _index_terms(self, chunk_ids: list[int], texts: list[str]) -> None:
        self._many("INSERT INTO chunk_terms (chunk_id, terms, length) VALUES (?, CAST(? AS tsvector), ?)",
                   [(i, as_tsvector(t), len(t.split())) for i, t in zip(chunk_ids, texts)])
        self._stats_change.update(term for t in texts for term in set(t.split()))  # written once a transaction
        self._tokens_change += sum(len(t.split()) for t in texts)

    def _unindex_terms(self, chunk_ids: list[int]) -> None:
        if not chunk_ids:
            return
        rows = self._rows("SELECT u.lexeme, count(*) FROM chunk_terms, unnest(terms) AS u WHERE chunk_id = ANY(?)"
                          " GROUP BY u.lexeme", (chunk_ids,))
        length = self._value("SELECT coalesce(sum(length), 0) FROM chunk_terms WHERE chunk_id = ANY(?)", (chunk_ids,))
        self._rows("DELETE FROM chunk_terms WHERE chunk_id = ANY(?)", (chunk_ids,))
        self._stats_change.subtract(dict(rows))
        self._tokens_change -= int(length)

    def _after_write(self) -> None:
        """The term statistics the write changed, in one statement each, inside its transaction."""
        changes, self._stats_change = sorted((t, n) for t, n in self._stats_change.items() if n), Counter()
        tokens, self._tokens_change = self._tokens_change, 0
        self._many("INSERT INTO term_stats (term, chunks) VALUES (?, ?)"
                   " ON CONFLICT (term) DO UPDATE SET chunks = term_stats.chunks + excluded.chunks", changes)
        if tokens:
            self._rows("UPDATE meta SET value = CAST(CAST(value AS BIGINT) + ? AS TEXT) WHERE key = 'term_total'", (tokens,))

    def keyword_search(self, query_terms: list[str], k: int, where: Filter | None = None) -> list[tuple[int, float]]:
        """Chunks by BM25 over any of the terms, best first: [(id, score)]. The GIN index finds
        the chunks; each one's term frequencies come from the weights of its tsvector."""
        unique = list(dict.fromkeys(t for t in query_terms if t))
        if not unique:
            return []
        # One round trip for what BM25 and the pruning need: each term's chunk count, and the totals.
        stats = self._rows("SELECT t.term, coalesce(s.chunks, 0), m.total, m.tokens FROM unnest(CAST(? AS text[])) AS t(term)"
                           " LEFT JOIN term_stats s ON s.term = t.term CROSS JOIN (SELECT"
                           " (SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'chunks') AS total,"
                           " (SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'term_total') AS tokens) AS m", (unique,))
        counts = {term: n for term, n, _, _ in stats}
        total, tokens = int(stats[0][2]), int(stats[0][3])
        if total == 0:
            return []
        kept = self.telling_terms(unique, counts)
        average = tokens / total or 1.0
        idf = [max(MIN_IDF, math.log((total - counts.get(t, 0) + 0.5) / (counts.get(t, 0) + 0.5))) for t in kept]
        # Each term's frequency in a matched chunk from its weight, then BM25 over the terms.
        frequency = ("(CASE " + " ".join(f"WHEN ct.terms @@ CAST(? AS tsquery) THEN {n}" for n, _ in TF_WEIGHTS)
                     + " WHEN ct.terms @@ CAST(? AS tsquery) THEN 1 ELSE 0 END)")
        sql = (f"SELECT chunk_id, ({' + '.join(f'? * tf{i} / (tf{i} + {K1} * norm)' for i in range(len(kept)))}) AS score"
               f" FROM (SELECT ct.chunk_id, ({1 - B} + {B} * ct.length / ?) AS norm, "
               + ", ".join(f"{frequency} AS tf{i}" for i in range(len(kept)))
               + " FROM chunk_terms ct WHERE ct.terms @@ CAST(? AS tsquery)")
        params: list = [w * (K1 + 1) for w in idf] + [average]
        for term in kept:
            params += [f"{lexeme(term)}:{weight}" for _, weight in TF_WEIGHTS] + [lexeme(term)]
        params.append(" | ".join(map(lexeme, kept)))
        if where:
            clause, extra = filter_sql(where)
            sql += f" AND ct.chunk_id IN (SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {clause})"
            params += extra
        rows = self._rows(sql + ") AS matched ORDER BY score DESC, chunk_id LIMIT ?", [*params, k])
        return [(int(r[0]), float(r[1])) for r in rows]

    # ---- the rest -------------------------------------------------------------------------

    @contextmanager
    def poll_lock(self) -> Iterator[bool]:
        """The index's feed-polling lock, if free: one process polls at a time, whichever holds it."""
        with self._pool.connection() as conn:
            got = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (self._key % 2**31, POLL_LOCK)).fetchone()[0]
            try:
                yield got
            finally:
                if got:
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", (self._key % 2**31, POLL_LOCK))

    def sizes(self) -> dict[str, int]:
        """Documents and chunks as of the last commit; MVCC: a write in progress never delays it."""
        row = self._rows("SELECT (SELECT count(*) FROM documents), (SELECT value FROM meta WHERE key = 'chunks')")[0]
        return {"documents": int(row[0]), "chunks": int(row[1])}

    def drop(self) -> None:
        """Remove the index: its schema and its Milvus collection (tests, `askbrief drop`)."""
        self._vectors.drop()
        self._rows(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def close(self) -> None:
        self._vectors.close()
        self._pool.close()
