"""Summaries: documents (and optionally a query) in, one cited paragraph of verbatim sentences out.

Each sentence is scored by its centrality (cosine to the centroid of all candidate sentences),
a lead-position prior and, when asked, its similarity to the query; MMR then picks sentences
that are central but not redundant. Output keeps each article's sentences in source order.
"""

from dataclasses import dataclass

import numpy as np

from askbrief.records import Document, Summary
from askbrief.reader import cite

DEFAULT_SENTENCES = 4
POSITION_WEIGHT = 0.15  # news puts the gist first (the LEAD baseline); tuned on BBC News
QUERY_WEIGHT = 1.0  # relevance to the query counts as much as centrality
MMR_LAMBDA = 0.7  # Carbonell & Goldstein (1998): weight of relevance against novelty
REDUNDANT = 0.85  # never two sentences with embedding cosine at or above this
MIN_WORDS = 5  # shorter pieces are headlines, datelines and captions


@dataclass(frozen=True, slots=True)
class Pool:
    """Every candidate sentence of the documents being summarised."""

    doc_ids: list[str]
    idx: np.ndarray  # sentence index within its document
    spans: list[tuple[int, int]]
    vectors: np.ndarray


def salience(pool: Pool, query_vector: np.ndarray | None = None) -> np.ndarray:
    centroid = pool.vectors.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    score = pool.vectors @ centroid + POSITION_WEIGHT / np.sqrt(1.0 + pool.idx)
    if query_vector is not None:
        score = score + QUERY_WEIGHT * (pool.vectors @ query_vector)
    return score


def select(vectors: np.ndarray, scores: np.ndarray, n: int) -> list[int]:
    """MMR: up to n row indexes, each the best trade of score against similarity to those chosen."""
    chosen: list[int] = []
    max_sim = np.full(len(scores), -1.0)
    available = np.ones(len(scores), dtype=bool)
    while len(chosen) < n and available.any():
        mmr = np.where(available, MMR_LAMBDA * scores - (1 - MMR_LAMBDA) * np.maximum(max_sim, 0), -np.inf)
        pick = int(np.argmax(mmr))
        chosen.append(pick)
        sims = vectors @ vectors[pick]
        max_sim = np.maximum(max_sim, sims)
        available &= sims < REDUNDANT
    return chosen


def summarise(pool: Pool, docs: dict[str, Document], n: int, query: str | None = None,
              query_vector: np.ndarray | None = None) -> Summary:
    picks = select(pool.vectors, salience(pool, query_vector), n) if len(pool.doc_ids) else []
    doc_order = {d: i for i, d in enumerate(sorted(docs, key=lambda d: (docs[d].published or "9999", d)))}
    picks.sort(key=lambda i: (doc_order[pool.doc_ids[i]], pool.idx[i]))
    citations = [cite(k, docs[pool.doc_ids[i]], *pool.spans[i]) for k, i in enumerate(picks, 1)]
    return Summary(summary=" ".join(f"{c.quote} [{c.n}]" for c in citations), citations=citations,
                   doc_ids=sorted(docs, key=doc_order.get), query=query)


def make_pool(parts: list[tuple[Document, list[tuple[int, int, int]], np.ndarray]]) -> Pool:
    """Gather summarisable sentences: long enough, and not the headline repeated in the body."""
    doc_ids, idx, spans, vectors = [], [], [], []
    for doc, rows, vecs in parts:
        for (i, start, end), vec in zip(rows, vecs):
            sentence = doc.text[start:end]
            if len(sentence.split()) < MIN_WORDS or sentence.strip() == doc.title.strip():
                continue
            doc_ids.append(doc.id)
            idx.append(i)
            spans.append((start, end))
            vectors.append(vec)
    dim = parts[0][2].shape[1] if parts else 0
    return Pool(doc_ids, np.array(idx, dtype=np.float64), spans,
                np.array(vectors, dtype=np.float32).reshape(len(vectors), dim))
