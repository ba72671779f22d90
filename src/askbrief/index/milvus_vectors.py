"""Vectors in Milvus (pymilvus): a local milvus-lite file by default, or a Milvus server by
URI; the filter fields (published, source) live there too, so filters run in Milvus. A shared
collection (`SharedMilvusIndex`) serves the PostgreSQL store's many processes."""

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from askbrief.errors import BackendUnavailable
from askbrief.index.vectors import Added, Chunks, write_atomic

if TYPE_CHECKING:
    from askbrief.records import Filter

MILVUS_FILE = "vectors.milvus.db"  # milvus-lite's file when no URI is given
MILVUS_STAMP = "milvus.generation"
MILVUS_TIMEOUT_S = 10  # to connect to a Milvus server before saying it is unreachable
_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_]")  # Milvus collection names take these characters only
MILVUS_INSERT_ROWS = 2000  # rows per insert: 2000 x 384 floats stay under gRPC's 64 MB message limit
MILVUS_TOP_K = 16384  # the largest `limit` a Milvus search accepts


class MilvusIndex:
    """Chunk vectors in a Milvus collection, through pymilvus. `uri` is a milvus-lite file
    (embedded, the default) or a server such as http://milvus:19530."""

    def __init__(self, folder: Path, dim: int, uri: str | None, index_name: str, token: str | None = None,
                 consistency: str = "Session", collection: str | None = None):
        os.environ.setdefault("GRPC_VERBOSITY", "NONE")  # grpc's keepalive chatter with milvus-lite; errors still raise
        from pymilvus import MilvusClient

        self.folder = Path(folder)
        self.dim = dim
        self.uri = uri or str(self.folder / MILVUS_FILE)
        self.local = "://" not in self.uri
        self.consistency = consistency  # of every search and count (settings.py says what each costs)
        # One collection per index folder: two homes with an index of the same name share a server.
        digest = hashlib.sha1(index_name.encode()).hexdigest()[:8]
        self.collection = collection or f"askbrief_{_NOT_IN_NAME.sub('_', Path(index_name).name)}_{digest}"
        try:
            with _quiet("milvus_lite"):  # it logs a traceback of its own before pymilvus raises
                self.client = MilvusClient(self.uri, token=token or "", timeout=MILVUS_TIMEOUT_S)
        except Exception as e:  # pymilvus raises its own and grpc's errors; all mean the same here
            if self.local:
                raise BackendUnavailable(
                    f"cannot open the milvus-lite file {self.uri}: another process probably holds it (milvus-lite"
                    " serves one process at a time); stop that process, or run a Milvus server and set"
                    " ASKBRIEF_MILVUS_URI") from e
            raise BackendUnavailable(f"cannot reach Milvus at {self.uri}: {e}; check ASKBRIEF_MILVUS_URI") from e
        self.generation = -1

    def _stamp(self) -> Path:
        return self.folder / MILVUS_STAMP

    def sync(self, generation: int, chunks: Chunks) -> None:
        if self.generation == generation:
            return
        stamp = self._stamp()
        if (stamp.exists() and int(stamp.read_text()) == generation
                and self.client.has_collection(self.collection)):
            self.client.load_collection(self.collection)  # a reopened collection starts released
            self.generation = generation
            return
        self._create()
        for page in chunks.vector_pages():
            self._insert(page.ids, page.vectors, page.published, page.source)
        self._mark(generation)

    def _create(self) -> None:
        from pymilvus import DataType

        if self.client.has_collection(self.collection):
            self.client.drop_collection(self.collection)
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        schema.add_field("published", DataType.VARCHAR, max_length=10)  # ISO date, "" when unknown
        schema.add_field("source", DataType.VARCHAR, max_length=65535)
        params = self.client.prepare_index_params()
        params.add_index("vector", index_type="AUTOINDEX", metric_type="IP")
        with _quiet("grpc._server"):  # milvus-lite logs an unimplemented AllocTimestamp call, harmlessly
            self.client.create_collection(self.collection, schema=schema, index_params=params,
                                          consistency_level=self.consistency)

    def _insert(self, ids, vectors: np.ndarray, published: list, source: list) -> None:
        rows = [{"id": int(i), "vector": v, "published": p or "", "source": s}
                for i, v, p, s in zip(ids, vectors.tolist(), published, source)]
        for at in range(0, len(rows), MILVUS_INSERT_ROWS):
            self.client.insert(self.collection, rows[at:at + MILVUS_INSERT_ROWS])

    def _mark(self, generation: int) -> None:
        write_atomic(self._stamp(), str(generation).encode())
        self.generation = generation

    def apply(self, added: list[Added], removed: list[int], generation: int) -> None:
        if self.generation < 0:
            return  # synced (or rebuilt) from SQLite when next synced
        if removed:
            self.client.delete(self.collection, ids=removed)
        for first_id, vectors, published, source in added:
            n = len(vectors)
            self._insert(range(first_id, first_id + n), vectors, [published] * n, [source] * n)
        self._mark(generation)

    def search(self, query: np.ndarray, k: int, where: "Filter | None",
               allowed: Callable[[], np.ndarray]) -> list[tuple[int, float]]:
        # milvus-lite has no filter templates: literals are JSON-quoted (dates are validated ISO).
        wanted = (where is not None) and [(where.since or where.until, 'published != ""'),
                                          (where.since, f"published >= {json.dumps(where.since)}"),
                                          (where.until, f"published <= {json.dumps(where.until)}"),
                                          (where.sources, f"source in {json.dumps(list(where.sources))}")]
        clauses = [clause for asked, clause in wanted or [] if asked]
        from pymilvus.exceptions import MilvusException

        try:
            hits = self.client.search(
                self.collection, data=[query.astype(np.float32).tolist()], limit=max(1, min(k, MILVUS_TOP_K)),
                filter=" and ".join(clauses), output_fields=["id"], search_params={"metric_type": "IP"},
                consistency_level=self.consistency)[0]
        except MilvusException as e:
            raise BackendUnavailable(f"Milvus at {self.uri} failed a search: {e.message}") from e
        return [(int(h["id"]), float(h["distance"])) for h in hits]

    def save(self, generation: int) -> None:
        pass  # every apply is already in Milvus and stamped

    def describe(self) -> dict:
        count = None
        if self.generation >= 0:  # counted, not the collection's stats: a server's lag behind its writes
            count = self.client.query(self.collection, filter="", output_fields=["count(*)"],
                                      consistency_level=self.consistency)[0]["count(*)"]
        return {"backend": "milvus", "kind": "milvus", "uri": self.uri if self.local else "remote",
                "vectors": count}

    def close(self) -> None:
        self.client.close()
        if self.local:  # and stop the embedded server, so another process may open the file
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(self.uri)
        self.generation = -1


class SharedMilvusIndex(MilvusIndex):
    """A Milvus server collection that many processes share (beside PostgreSQL). Its name comes
    from the database, it is created once with the index and never dropped or rebuilt by a
    server, and a write reaches it before the database commits: a crash leaves at most vectors
    that no chunk names, which searches skip (`Store.dense_search`)."""

    write_through = True

    def __init__(self, dim: int, uri: str, collection: str, token: str | None, consistency: str,
                 creating: Callable[[], AbstractContextManager]):
        super().__init__(Path("."), dim, uri, collection, token, consistency, collection=collection)
        self._creating = creating  # the database's lock for creating the collection, held across processes

    def sync(self, generation: int, chunks: Chunks) -> None:
        if self.generation >= 0:
            return
        if not self.client.has_collection(self.collection):
            with self._creating():
                if not self.client.has_collection(self.collection):  # none of the others made it meanwhile
                    self._create()
                    for page in chunks.vector_pages():
                        self._insert(page.ids, page.vectors, page.published, page.source)
        self.client.load_collection(self.collection)
        self.generation = generation  # "ready": the database's generation no longer matters here

    def apply(self, added: list[Added], removed: list[int], generation: int) -> None:
        if removed:
            self.client.delete(self.collection, ids=removed)
        if added:  # the whole batch in as few inserts as gRPC's message size allows (one a document cost 5 ms each)
            self._insert([i for a in added for i in range(a.first_id, a.first_id + len(a.vectors))],
                         np.concatenate([a.vectors for a in added]),
                         [a.published for a in added for _ in a.vectors], [a.source for a in added for _ in a.vectors])

    def drop(self) -> None:
        if self.client.has_collection(self.collection):
            self.client.drop_collection(self.collection)



@contextmanager
def _quiet(logger: str) -> Iterator[None]:
    """Silence one library logger for the duration (its noise, not its exceptions)."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)

