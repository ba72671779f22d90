"""Vector indexes: chunk vectors in, nearest chunk ids out, kept in step with SQLite.

They hold derived state. SQLite is the truth; each index remembers the store's write generation
it reflects, and when that disagrees with the database (a crash between commit and save, a
deleted file, a wiped Milvus collection) it is rebuilt from the vectors SQLite holds.

Two backends behind one interface (`VectorIndex`), chosen by ASKBRIEF_VECTOR_BACKEND:
- faiss (default): in process. Exact inner product up to EXACT_UP_TO chunks; above, IVF with
  8-bit scalar quantisation (a quarter of the memory, recall@10 measured in docs/speed.md).
- milvus: through pymilvus, to a local milvus-lite file by default or a Milvus cluster by URI.
  Vectors and the filter fields (published, source) live there; filters run in Milvus.
"""

import hashlib
import json
import logging
import os
import re
import struct
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NamedTuple, Protocol

import faiss
import numpy as np

from askbrief.errors import BackendUnavailable, BadSetting

if TYPE_CHECKING:
    from askbrief.records import Filter

FAISS_FILE = "vectors.faiss"
MILVUS_FILE = "vectors.milvus.db"  # milvus-lite's file when no URI is given
MILVUS_STAMP = "milvus.generation"
MILVUS_TIMEOUT_S = 10  # to connect to a Milvus server before saying it is unreachable
EXACT_UP_TO = 100_000  # chunks; exact search over 100k x 384 floats takes ~10 ms on 2 cores
NPROBE = 48  # IVF lists visited per query: recall@10 >= 0.95 against exact at 200k (scripts/bench.py)
_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_]")  # Milvus collection names take these characters only
TRAIN_PER_LIST = 64  # training vectors per IVF list (faiss asks for at least 39)
MILVUS_INSERT_ROWS = 2000  # rows per insert: 2000 x 384 floats stay under gRPC's 64 MB message limit
MILVUS_TOP_K = 16384  # the largest `limit` a Milvus search accepts


class Added(NamedTuple):
    """One document's new chunks: consecutive ids from `first_id`, and its filter fields."""

    first_id: int
    vectors: np.ndarray
    published: str | None
    source: str


class Page(NamedTuple):
    """Stored chunks, read back from SQLite in pages to rebuild an index."""

    ids: np.ndarray
    vectors: np.ndarray
    published: list[str | None]
    source: list[str]


class Chunks(Protocol):
    """Where an index is rebuilt from: the store."""

    def chunk_count(self) -> int: ...

    def vector_pages(self, every: int = 1) -> Iterator[Page]:
        """Every `every`th stored chunk (1: all), a page at a time."""


class VectorIndex(Protocol):
    def sync(self, generation: int, chunks: Chunks) -> None:
        """Bring the index in step with the store's write `generation`, rebuilding if need be."""

    def apply(self, added: list[Added], removed: list[int], generation: int) -> None:
        """Mirror a committed write."""

    def search(self, query: np.ndarray, k: int, where: "Filter | None",
               allowed: Callable[[], np.ndarray]) -> list[tuple[int, float]]:
        """[(chunk id, inner product)], best first; `allowed()` gives the ids `where` admits."""

    def save(self, generation: int) -> None:
        """Persist, if the index reflects `generation`."""

    def describe(self) -> dict:
        """The backend, its kind of index, how many vectors."""

    def close(self) -> None:
        """Let go of connections (milvus-lite serves one process at a time)."""


class FaissIndex:
    """FAISS in process, loaded lazily and saved atomically with its generation stamp. Not
    thread-safe on its own: the store calls it under its lock."""

    def __init__(self, folder: Path, dim: int):
        self.path = Path(folder) / FAISS_FILE
        self.dim = dim
        self.index: faiss.Index | None = None
        self.generation = -1

    def sync(self, generation: int, chunks: Chunks) -> None:
        if self.index is not None and self.generation == generation:
            return
        if self.path.exists():
            with open(self.path, "rb") as f:  # streamed: a whole-file copy doubled the peak (80 MB at 200k)
                if struct.unpack("<q", f.read(8))[0] == generation:
                    self.index = faiss.read_index(faiss.PyCallbackIOReader(f.read))
                    self.generation = generation
                    return
        self.index = self._build(chunks)
        self.generation = generation
        self.save(generation)

    def _build(self, chunks: Chunks) -> faiss.Index:
        count = chunks.chunk_count()
        if count <= EXACT_UP_TO:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        else:
            lists = int(4 * np.sqrt(count))  # the usual rule of thumb, 4 sqrt(n)
            index = faiss.index_factory(self.dim, f"IVF{lists},SQ8", faiss.METRIC_INNER_PRODUCT)
            every = max(1, count // (lists * TRAIN_PER_LIST))
            index.train(np.concatenate([p.vectors for p in chunks.vector_pages(every)]))
        for page in chunks.vector_pages():
            index.add_with_ids(page.vectors, page.ids)
        return index

    def apply(self, added: list[Added], removed: list[int], generation: int) -> None:
        if self.index is None:
            return  # rebuilt from SQLite when next synced (the store syncs before a search or a write)
        if removed:
            self.index.remove_ids(np.array(removed, dtype=np.int64))
        for first_id, vectors, _, _ in added:
            self.index.add_with_ids(vectors, np.arange(first_id, first_id + len(vectors), dtype=np.int64))
        self.generation = generation
        built_for = (self.index.nlist / 4) ** 2 if self.approximate else 0  # lists = 4 sqrt(n) at build
        if self.approximate != (self.index.ntotal > EXACT_UP_TO) or self.index.ntotal > 4 * built_for > 0:
            self.index = None  # outgrew its kind or its IVF lists: rebuilt from SQLite when next synced

    @property
    def approximate(self) -> bool:
        return isinstance(self.index, faiss.IndexIVF)

    def search(self, query: np.ndarray, k: int, where: "Filter | None",
               allowed: Callable[[], np.ndarray]) -> list[tuple[int, float]]:
        index = self.index
        selector, share = None, 1.0
        if where:
            ids = allowed()
            if not len(ids):
                return []
            selector, share = faiss.IDSelectorBatch(ids), len(ids) / max(index.ntotal, 1)
        if self.approximate:
            # A filter that admits a small share leaves few of them in the usual lists: visit more.
            nprobe = min(index.nlist, int(np.ceil(NPROBE / max(share, 1e-9))))
            params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
        else:
            params = faiss.SearchParameters(sel=selector) if selector else None
        k = min(k, index.ntotal)
        if k == 0:
            return []
        scores, ids = index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def save(self, generation: int) -> None:
        if self.index is None or self.generation != generation:
            return
        def stamped(f: BinaryIO) -> None:  # the generation, then the index streamed, never whole in memory
            f.write(struct.pack("<q", generation))
            faiss.write_index(self.index, faiss.PyCallbackIOWriter(f.write))

        write_atomic(self.path, stamped)

    def describe(self) -> dict:
        kind = "ivf-sq8" if self.approximate else "exact"
        return {"backend": "faiss", "kind": kind, "vectors": None if self.index is None else int(self.index.ntotal)}

    def close(self) -> None:
        self.index = None


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
        clauses = []
        if where and (where.since or where.until):
            clauses.append('published != ""')
        if where and where.since:
            clauses.append(f"published >= {json.dumps(where.since)}")
        if where and where.until:
            clauses.append(f"published <= {json.dumps(where.until)}")
        if where and where.sources:
            clauses.append(f"source in {json.dumps(list(where.sources))}")
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


def open_vector_index(backend: str, folder: Path, dim: int, milvus_uri: str | None = None,
                      milvus_token: str | None = None, milvus_consistency: str = "Session") -> VectorIndex:
    if backend == "faiss":
        return FaissIndex(folder, dim)
    if backend == "milvus":
        return MilvusIndex(folder, dim, milvus_uri, str(Path(folder).resolve()), milvus_token, milvus_consistency)
    raise BadSetting("vector_backend", f"unknown vector backend {backend!r}; choose faiss or milvus")


def write_atomic(path: Path, data: bytes | Callable[[BinaryIO], None]) -> None:
    """Write (bytes, or a function that writes to the file) to a temporary file, fsync, and rename
    over: readers see the old file or the new."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data) if isinstance(data, bytes) else data(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
