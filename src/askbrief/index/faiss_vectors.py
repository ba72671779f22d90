"""The default vector index, FAISS in process: exact inner product up to EXACT_UP_TO chunks;
above, IVF with 8-bit scalar quantisation (a quarter of the memory, recall@10 in docs/speed.md),
saved beside the database with the write generation it reflects."""

import struct
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import faiss
import numpy as np

from askbrief.index.vectors import Added, Chunks, write_atomic

if TYPE_CHECKING:
    from askbrief.records import Filter

FAISS_FILE = "vectors.faiss"
EXACT_UP_TO = 100_000  # chunks; exact search over 100k x 384 floats takes ~10 ms on 2 cores
NPROBE = 48  # IVF lists visited per query: recall@10 >= 0.95 against exact at 200k (scripts/bench.py)
TRAIN_PER_LIST = 64  # training vectors per IVF list (faiss asks for at least 39)


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

