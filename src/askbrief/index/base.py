"""The store's hook protocol: what each database brings (SQLite, PostgreSQL), on which the
shared parts (writes, reads, search, ledgers, re-embedding) are written once, in SQL both speak."""

import datetime as dt
import threading
from collections.abc import Iterable
from contextlib import AbstractContextManager

from askbrief.index.schema import batches, marks
from askbrief.index.vectors import VectorIndex
from askbrief.records import Filter
from askbrief.text.copies import Clusters


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class StoreBase:
    """The hooks. A database provides `_rows` (one statement, its rows), `_many`,
    `_transaction()` (a write: all of it or none, writers one at a time), `snapshot()`, the
    keyword index (`_index_terms`, `_unindex_terms`, `keyword_search`, `_term_counts`),
    `sizes()`, `poll_lock()` and `close()`. Thread-safe: writes and the vector index's state hold one lock."""

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

    def snapshot(self) -> AbstractContextManager["StoreBase"]:
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

    # (term, chunks holding it) for the terms in {marks}: each database's own statistics table
    TERM_COUNTS_SQL: str

    def _term_counts(self, terms: list[str]) -> dict[str, int]:
        """How many chunks hold each term (absent terms are left out), from the keyword index's own
        statistics (SQLite's fts5vocab, PostgreSQL's kept term_stats), never a count(*)."""
        unique = list(dict.fromkeys(terms))
        return {t: n for part in batches(unique) for t, n in self._rows(self.TERM_COUNTS_SQL.format(marks=marks(part)), part)}

    def sizes(self) -> dict[str, int]:
        raise NotImplementedError

    def poll_lock(self) -> AbstractContextManager[bool]:
        """Held while this process polls feeds; yields False when another process polls now."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _value(self, sql: str, params: Iterable = ()):
        """The first column of the first row, or None."""
        rows = self._rows(sql, params)
        return rows[0][0] if rows else None

    def _generation(self) -> int:
        return int(self._value("SELECT value FROM meta WHERE key = 'generation'"))
