"""Graph and frequency ranks of the sentences of one article: the lexical half of what the
summary scorer reads (TextRank, PageRank on term cosines, LexRank, Luhn's frequencies)."""

import numpy as np

from askbrief.text.sentences import terms

DAMPING = 0.85  # PageRank's, as TextRank uses it (Mihalcea & Tarau 2004)
PAGERANK_STEPS = 50  # power iterations: at damping 0.85 the error shrinks 0.85^50 ~ 3e-4 of its start


def page_rank(sim: np.ndarray) -> np.ndarray:
    """PageRank over a sentence-similarity matrix (diagonal ignored), scaled so the best is 1."""
    sim = np.maximum(sim, 0.0)
    np.fill_diagonal(sim, 0.0)
    n = len(sim)
    out_weight = sim.sum(axis=1, keepdims=True)
    transition = np.divide(sim, out_weight, out=np.zeros_like(sim), where=out_weight > 0)
    rank = np.full(n, 1.0 / max(n, 1))
    for _ in range(PAGERANK_STEPS):
        rank = (1 - DAMPING) / max(n, 1) + DAMPING * transition.T @ rank
    return rank / (rank.max() or 1.0)


def incidence(bags: list[list[str]]) -> np.ndarray:
    """(sentences, vocabulary) counts of each term."""
    vocab: dict[str, int] = {}
    for bag in bags:
        for w in bag:
            vocab.setdefault(w, len(vocab))
    counts = np.zeros((len(bags), len(vocab)))
    for row, bag in enumerate(bags):
        for w in bag:
            counts[row, vocab[w]] += 1.0
    return counts


def lex_rank(texts: list[str]) -> np.ndarray:
    """TextRank over one document: PageRank on word-overlap similarity (shared stemmed content
    words over the sum of log lengths), scaled so the best sentence scores 1."""
    return graph_ranks(incidence([terms(t) for t in texts]))[:, 0]


def graph_ranks(counts: np.ndarray) -> np.ndarray:
    """(sentences, 2): TextRank (word overlap over the sum of log lengths, Mihalcea & Tarau 2004)
    and PageRank on the cosine of term counts."""
    present = (counts > 0).astype(float)
    sizes = np.log(np.maximum(present.sum(axis=1), 2.0))
    unit_counts = counts / np.maximum(np.linalg.norm(counts, axis=1, keepdims=True), 1e-9)
    return np.column_stack([page_rank((present @ present.T) / (sizes[:, None] + sizes[None, :])),
                            page_rank(unit_counts @ unit_counts.T)])


def lexical_ranks(bags: list[list[str]]) -> np.ndarray:
    """(sentences, 5): the two graph_ranks, PageRank on tf-idf cosine (LexRank, Erkan & Radev
    2004), and each sentence's mean and summed document frequency of its terms (Luhn 1958: a
    sentence full of the article's frequent words is about what the article is about), scaled by
    the most frequent."""
    counts = incidence(bags)
    present = (counts > 0).astype(float)
    idf = np.log((1.0 + len(bags)) / (1.0 + present.sum(axis=0))) + 1.0
    tfidf = counts * idf
    tfidf /= np.maximum(np.linalg.norm(tfidf, axis=1, keepdims=True), 1e-9)
    frequency = counts.sum(axis=0) / max(counts.sum(axis=0).max(initial=0.0), 1.0)
    summed = counts @ frequency
    return np.column_stack([graph_ranks(counts), page_rank(tfidf @ tfidf.T),
                            summed / np.maximum(counts.sum(axis=1), 1.0), summed / max(summed.max(initial=0.0), 1e-9)])
