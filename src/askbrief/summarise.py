"""Summaries: documents (and optionally a query) in, one cited paragraph of verbatim sentences out.

Each sentence gets features (centrality in its pool, lead position, similarity to its headline,
length, quotes, figures); a logistic model fitted on BBC News reference summaries
(scripts/fit_summariser.py, coefficients in summary_model.json) scores them, a query adds its
similarity, and MMR picks salient sentences that do not repeat each other. Output keeps each
article's sentences in source order, articles by date.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from askbrief.citations import cite, cited_text
from askbrief.errors import IndexIncompatible
from askbrief.records import Document, Summary
from askbrief.text import SENTENCE_ENDINGS, terms

DEFAULT_SENTENCES = 4
QUERY_WEIGHT = 4.0  # in logit units per unit of cosine: the query outweighs generic salience
MMR_LAMBDA = 0.85  # Carbonell & Goldstein (1998): salience against novelty; 0.7-1.0 differ by <0.01 ROUGE-2 on BBC
REDUNDANT = 0.85  # never two sentences with embedding cosine at or above this
MIN_WORDS = 5  # shorter pieces are datelines and captions
# Sentences of one document read by a summary: the most central (cosine to the document's mean)
# when it has more. Bounds lex_rank's sentences x sentences matrix (a 6,000-sentence document took
# 18 s and 2.2 GB, issue 16); BBC articles have ~20, so the benchmark reads every one.
POOL_PER_DOCUMENT = 200
MODEL_FILE = Path(__file__).with_name("summary_model.json")
FEATURES = ("centrality", "doc_centrality", "lex_rank", "position", "first", "title_sim", "log_words", "quote",
            "digits")
DAMPING = 0.85  # PageRank's, as TextRank uses it (Mihalcea & Tarau 2004)
PAGERANK_STEPS = 50  # power iterations: at damping 0.85 the error shrinks 0.85^50 ~ 3e-4 of its start


@dataclass(frozen=True, slots=True)
class Pool:
    """Every candidate sentence of the documents being summarised."""

    doc_ids: list[str]
    idx: np.ndarray  # sentence index within its document
    position: np.ndarray  # 0 for a document's first summarisable sentence, 1 for the next…
    spans: list[tuple[int, int]]
    vectors: np.ndarray
    title_vectors: np.ndarray  # the headline's vector of each sentence's document
    texts: list[str]


@cache
def load_model() -> tuple[np.ndarray, float]:
    data = json.loads(MODEL_FILE.read_text())
    if tuple(data["features"]) != FEATURES:
        raise IndexIncompatible(f"{MODEL_FILE} was fitted on {data['features']}, the summariser computes {FEATURES};"
                                " refit it with `make fit`")
    return np.array(data["coef"]), float(data["intercept"])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v) or 1.0)


def lex_rank(texts: list[str]) -> np.ndarray:
    """TextRank over one document: PageRank on word-overlap similarity (shared stemmed content
    words over the sum of log lengths), scaled so the best sentence scores 1."""
    bags = [set(terms(t)) for t in texts]
    vocab = {w: i for i, w in enumerate(set().union(*bags))} if bags else {}
    incidence = np.zeros((len(bags), len(vocab)))
    for row, bag in enumerate(bags):
        incidence[row, [vocab[w] for w in bag]] = 1.0
    sizes = np.log(np.maximum(incidence.sum(axis=1), 2.0))
    sim = (incidence @ incidence.T) / (sizes[:, None] + sizes[None, :])
    np.fill_diagonal(sim, 0.0)
    out_weight = sim.sum(axis=1, keepdims=True)
    transition = np.divide(sim, out_weight, out=np.zeros_like(sim), where=out_weight > 0)
    rank = np.full(len(bags), 1.0 / max(len(bags), 1))
    for _ in range(PAGERANK_STEPS):
        rank = (1 - DAMPING) / len(bags) + DAMPING * transition.T @ rank
    return rank / (rank.max() or 1.0)


def features(pool: Pool) -> np.ndarray:
    """(sentences, len(FEATURES)) matrix; see FEATURES."""
    centroid = _unit(pool.vectors.mean(axis=0))
    ids = np.array(pool.doc_ids)
    doc_centrality = np.zeros(len(ids))
    lexical = np.zeros(len(ids))
    for doc_id in set(pool.doc_ids):
        mask = ids == doc_id
        doc_centrality[mask] = pool.vectors[mask] @ _unit(pool.vectors[mask].mean(axis=0))
        lexical[mask] = lex_rank([t for t, m in zip(pool.texts, mask) if m])
    return np.column_stack([
        pool.vectors @ centroid,
        doc_centrality,
        lexical,
        1.0 / np.sqrt(1.0 + pool.position),
        (pool.position == 0).astype(float),
        np.einsum("ij,ij->i", pool.vectors, pool.title_vectors),
        np.log1p([len(t.split()) for t in pool.texts]),
        np.array([any(q in t for q in '"“”') for t in pool.texts], dtype=float),
        np.array([any(ch.isdigit() for ch in t) for t in pool.texts], dtype=float),
    ])


def salience(pool: Pool, query_vector: np.ndarray | None = None) -> np.ndarray:
    """The fitted model's logit for each sentence being summary-worthy, plus query relevance."""
    coef, intercept = load_model()
    score = features(pool) @ coef + intercept
    if query_vector is not None:
        score = score + QUERY_WEIGHT * (pool.vectors @ query_vector)
    return score


def select(vectors: np.ndarray, scores: np.ndarray, n: int) -> list[int]:
    """MMR: up to n rows, each the best trade of salience (scores scaled to 0..1 within the pool,
    so the trade does not depend on the model's scale) against similarity to those already
    chosen (a negative cosine counts as 0, unrelated); nothing at or above REDUNDANT cosine to a
    chosen one."""
    spread = scores.max() - scores.min() if len(scores) else 0.0
    salient = (scores - scores.min()) / spread if spread > 0 else np.ones(len(scores))
    chosen: list[int] = []
    max_sim = np.zeros(len(scores))
    available = np.ones(len(scores), dtype=bool)
    while len(chosen) < n and available.any():
        mmr = np.where(available, MMR_LAMBDA * salient - (1 - MMR_LAMBDA) * max_sim, -np.inf)
        pick = int(np.argmax(mmr))
        chosen.append(pick)
        sims = vectors @ vectors[pick]
        max_sim = np.maximum(max_sim, sims)
        available &= sims < REDUNDANT
    return chosen


def prefer_earliest(picks: list[int], pool: Pool, doc_order: dict[str, int]) -> list[int]:
    """A fact that several articles tell (a near-copy, cosine >= REDUNDANT) is cited to the
    article published first."""
    out: list[int] = []
    for i in picks:
        twins = np.flatnonzero(pool.vectors @ pool.vectors[i] >= REDUNDANT)
        earliest = int(min(twins, key=lambda j: (doc_order[pool.doc_ids[j]], pool.idx[j])))
        if earliest not in out:
            out.append(earliest)
    return out


def summarise(pool: Pool, docs: dict[str, Document], n: int, query: str | None = None,
              query_vector: np.ndarray | None = None) -> Summary:
    doc_order = {d: i for i, d in enumerate(sorted(docs, key=lambda d: (docs[d].published or "9999", d)))}
    picks = select(pool.vectors, salience(pool, query_vector), n) if pool.doc_ids else []
    picks = prefer_earliest(picks, pool, doc_order)
    picks.sort(key=lambda i: (doc_order[pool.doc_ids[i]], pool.idx[i]))
    citations = [cite(k, docs[pool.doc_ids[i]], *pool.spans[i]) for k, i in enumerate(picks, 1)]
    return Summary(summary=cited_text(citations), citations=citations,
                   doc_ids=sorted(docs, key=doc_order.get), query=query)


def make_pool(parts: list[tuple[Document, list[tuple[int, int, int]], np.ndarray]], titles: np.ndarray) -> Pool:
    """Gather summarisable sentences (long enough, ending like a sentence, so not a headline);
    `titles` holds each part's headline vector, in the order of `parts`."""
    doc_ids, idx, position, spans, vectors, title_vectors, texts = [], [], [], [], [], [], []
    for (doc, rows, vecs), title in zip(parts, titles):
        usable = [(i, start, end, vec) for (i, start, end), vec in zip(rows, vecs)
                  if len(doc.text[start:end].split()) >= MIN_WORDS and doc.text[start:end].endswith(SENTENCE_ENDINGS)]
        read = set(range(len(usable)))
        if len(usable) > POOL_PER_DOCUMENT:
            own = np.array([u[3] for u in usable])
            read = set(np.argsort(-(own @ _unit(own.mean(axis=0))))[:POOL_PER_DOCUMENT].tolist())
        for kept, (i, start, end, vec) in enumerate(usable):
            if kept not in read:
                continue
            doc_ids.append(doc.id)
            idx.append(i)
            position.append(kept)  # its place among the document's summarisable sentences
            spans.append((start, end))
            vectors.append(vec)
            title_vectors.append(title)
            texts.append(doc.text[start:end])
    dim = titles.shape[1] if len(titles) else 0
    return Pool(doc_ids, np.array(idx), np.array(position, dtype=float), spans,
                np.array(vectors, dtype=np.float32).reshape(len(vectors), dim),
                np.array(title_vectors, dtype=np.float32).reshape(len(vectors), dim), texts)
