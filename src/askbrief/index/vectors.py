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

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NamedTuple, Protocol

import numpy as np

if TYPE_CHECKING:
    from askbrief.records import Filter


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


def write_atomic(path: Path, data: bytes | Callable[[BinaryIO], None]) -> None:
    """Write (bytes, or a function that writes to the file) to a temporary file, fsync, and rename
    over: readers see the old file or the new."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data) if isinstance(data, bytes) else data(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
