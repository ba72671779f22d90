"""The FAISS accelerator: chunk vectors in, nearest chunk ids out, kept in step with SQLite.

It is derived state. Its file is stamped with the store's write generation; when the stamp and
the database disagree (a crash between commit and save, a deleted file) it is rebuilt from the
vectors SQLite holds.
"""

import os
import struct
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

FILE = "vectors.faiss"


class Accelerator:
    """An exact inner-product FAISS index over chunk ids, loaded lazily. Not thread-safe on its
    own: the store calls it under its lock."""

    def __init__(self, folder: Path, dim: int):
        self.path = Path(folder) / FILE
        self.dim = dim
        self.index: faiss.Index | None = None
        self.generation = -1

    def get(self, generation: int, rows: Callable[[], list[tuple[int, bytes]]]) -> faiss.Index:
        """The index for this write generation: in memory, from its file, or rebuilt from `rows()`
        ((chunk id, float32 vector bytes) pairs) and saved."""
        if self.index is not None and self.generation == generation:
            return self.index
        if self.path.exists():
            data = self.path.read_bytes()
            (stored,) = struct.unpack("<q", data[:8])
            if stored == generation:
                self.index, self.generation = faiss.deserialize_index(np.frombuffer(data[8:], dtype=np.uint8)), generation
                return self.index
        self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        pairs = rows()
        if pairs:
            vectors = np.frombuffer(b"".join(v for _, v in pairs), dtype=np.float32).reshape(len(pairs), self.dim)
            self.index.add_with_ids(vectors, np.array([i for i, _ in pairs], dtype=np.int64))
        self.generation = generation
        self.save(generation)
        return self.index

    def apply(self, added: list[tuple[int, np.ndarray]], removed: list[int], generation: int) -> None:
        """Mirror a committed write: (first id, vectors) runs added, ids removed."""
        if self.index is None:
            return  # built from SQLite on first search
        if removed:
            self.index.remove_ids(np.array(removed, dtype=np.int64))
        for first_id, vectors in added:
            self.index.add_with_ids(vectors, np.arange(first_id, first_id + len(vectors), dtype=np.int64))
        self.generation = generation

    def save(self, generation: int) -> None:
        """Write the index atomically, stamped with its generation, if it reflects `generation`."""
        if self.index is None or self.generation != generation:
            return
        write_atomic(self.path, struct.pack("<q", generation) + faiss.serialize_index(self.index).tobytes())


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file, fsync, and rename over: readers see the old file or the new."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
