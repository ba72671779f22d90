"""Syndicated copies: a document's text in, the cluster of near-identical articles it joins out.

The same wire story arrives from many outlets with a new headline or a line of boilerplate.
MinHash signatures of 5-word shingles with LSH (datasketch) find such copies in constant time per
article; exact duplicates never get here (the store rejects them by hash first).
"""

from collections.abc import Callable, Iterable
from functools import cache

import numpy as np
from datasketch import MinHash, MinHashLSH

from askbrief.records import Document, IngestResult
from askbrief.text.sentences import words

NUM_PERM = 128  # datasketch's default: Jaccard estimates within about ±0.09 (1/sqrt(128))
SHINGLE = 5  # words per shingle: long enough that two different stories rarely share one
THRESHOLD = 0.4  # estimated shingle Jaccard: edited copies of BBC articles measured 0.47-0.96, distinct stories <= 0.03
SCHEME = "affine32"  # datasketch's hashing scheme, stated so stored signatures stay readable


def signature(text: str) -> np.ndarray:
    """The MinHash of a text's word shingles, NUM_PERM uint32 values."""
    tokens = words(text)
    shingles = {" ".join(tokens[i:i + SHINGLE]) for i in range(max(len(tokens) - SHINGLE + 1, 1))}
    sketch = MinHash(num_perm=NUM_PERM, permutations=_permutations(), scheme=SCHEME)
    sketch.update_batch([s.encode() for s in shingles])
    return sketch.hashvalues.astype(np.uint32)


@cache
def _permutations():
    """datasketch draws its permutations anew for every MinHash (a third of ingest's non-model
    time); they depend only on the seed, so draw them once."""
    return MinHash(num_perm=NUM_PERM, scheme=SCHEME).permutations


def _sketch(values: np.ndarray) -> MinHash:
    return MinHash(num_perm=NUM_PERM, hashvalues=values, permutations=_permutations(), scheme=SCHEME)


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """MinHash's Jaccard estimate: the share of equal values."""
    return float(np.count_nonzero(a == b)) / len(a)


class Clusters:
    """An in-memory LSH over every stored signature, with each document's cluster label."""

    def __init__(self, rows: list[tuple[str, bytes, str]]):
        self.lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
        self.cluster: dict[str, str] = {}
        self.sketches: dict[str, MinHash] = {}
        for doc_id, blob, cluster in rows:
            self.add(doc_id, np.frombuffer(blob, dtype=np.uint32), cluster)

    def find(self, values: np.ndarray, pending: list[tuple[str, np.ndarray, str]] = ()) -> str | None:
        """The cluster of the most similar document at or above THRESHOLD, if any: a stored one,
        or one of `pending` ((doc_id, signature, cluster) written earlier in the same transaction)."""
        scored = [(_jaccard(values, self.sketches[d].hashvalues), self.cluster[d]) for d in self.lsh.query(_sketch(values))]
        scored += [(_jaccard(values, v), c) for _, v, c in pending]
        best = max((s for s in scored if s[0] >= THRESHOLD), default=None)
        return best[1] if best else None

    def add(self, doc_id: str, values: np.ndarray, cluster: str) -> None:
        sketch = _sketch(values)
        self.lsh.insert(doc_id, sketch)
        self.sketches[doc_id] = sketch
        self.cluster[doc_id] = cluster

    def remove(self, doc_id: str) -> None:
        if doc_id in self.cluster:
            self.lsh.remove(doc_id)
            del self.sketches[doc_id], self.cluster[doc_id]


def first_per_cluster(doc_ids: Iterable[str], clusters: dict[str, str]) -> list[str]:
    """One copy per syndicated cluster: of ids in the caller's order of preference (answers and
    search: best-ranked first; summaries: earliest published first), the first of each cluster."""
    kept: dict[str, str] = {}
    for doc_id in doc_ids:
        kept.setdefault(clusters.get(doc_id, doc_id), doc_id)
    return list(kept.values())


def folds(doc_ids: Iterable[str], clusters: dict[str, str]) -> dict[str, str]:
    """The copies `first_per_cluster` passes over -> the document kept in their place."""
    doc_ids = list(doc_ids)
    kept = {clusters.get(d, d): d for d in reversed(first_per_cluster(doc_ids, clusters))}
    return {d: kept[clusters.get(d, d)] for d in dict.fromkeys(doc_ids) if kept[clusters.get(d, d)] != d}


def exact_copies(batch: list[Document], holder_of: Callable[[str], str | None],
                 ) -> tuple[list[Document], list[IngestResult | None]]:
    """The documents of a batch to store, and for each one of the batch its result if it is an
    exact copy (None if not): of a stored text (`holder_of` its hash), or of an earlier document
    of the batch (the first of equal texts is stored, the rest are copies of it)."""
    holders = {d.hash: holder_of(d.hash) for d in batch}
    fresh, known = [], []
    for doc in batch:
        earlier = holders[doc.hash]
        known.append(IngestResult(id=doc.id, sentences=0, chunks=0, duplicate_of=earlier) if earlier else None)
        if not earlier:
            holders[doc.hash] = doc.id
            fresh.append(doc)
    return fresh, known
