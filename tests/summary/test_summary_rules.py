"""Known answers on tiny inputs for summaries, each beside a plain reference loop: MMR selection
and lexical centrality (TextRank)."""

import math

import numpy as np

from askbrief.summary.ranks import DAMPING, lex_rank
from askbrief.summary.summarise import MMR_LAMBDA, REDUNDANT, select
from askbrief.text.sentences import terms


def plain_mmr(vectors: np.ndarray, scores: np.ndarray, n: int) -> list[int]:
    low, high = scores.min(), scores.max()
    salient = [(s - low) / (high - low) if high > low else 1.0 for s in scores]
    chosen: list[int] = []
    while len(chosen) < n:
        best, best_value = None, -math.inf
        for i in range(len(scores)):
            sims = [float(vectors[i] @ vectors[j]) for j in chosen]
            if i in chosen or any(s >= REDUNDANT for s in sims):
                continue
            value = MMR_LAMBDA * salient[i] - (1 - MMR_LAMBDA) * max([0.0, *sims])  # opposite counts as unrelated
            if value > best_value:
                best, best_value = i, value
        if best is None:
            break
        chosen.append(best)
    return chosen


def unit(rows) -> np.ndarray:
    v = np.array(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_mmr_skips_a_near_copy_and_matches_the_plain_loop():
    vectors = unit([[1, 0, 0], [0.99, 0.1, 0], [0, 1, 0], [0, 0, 1]])
    scores = np.array([3.0, 2.9, 1.0, 0.5])
    assert select(vectors, scores, 3) == [0, 2, 3]  # row 1 is a near copy of row 0
    rng = np.random.default_rng(3)
    for _ in range(30):
        v = unit(rng.normal(size=(12, 8)))
        s = rng.normal(size=12)
        assert select(v, s, 5) == plain_mmr(v, s, 5)


def plain_textrank(texts: list[str], steps: int = 200) -> list[float]:
    bags = [set(terms(t)) for t in texts]
    n = len(bags)
    weight = {(i, j): len(bags[i] & bags[j]) / (math.log(max(len(bags[i]), 2)) + math.log(max(len(bags[j]), 2)))
              for i in range(n) for j in range(n) if i != j}
    out = {i: sum(weight[i, j] for j in range(n) if j != i) for i in range(n)}
    rank = [1 / n] * n
    for _ in range(steps):
        rank = [(1 - DAMPING) / n + DAMPING * sum(rank[j] * weight[j, i] / out[j] for j in range(n)
                                                   if j != i and out[j] > 0) for i in range(n)]
    top = max(rank)
    return [r / top for r in rank]


def test_lexical_centrality_is_textrank():
    texts = ["Oil prices rose sharply in London.", "Traders said oil prices rose on supply fears.",
             "The football match ended in a draw.", "Supply fears lifted prices of crude oil."]
    ranks = lex_rank(texts)
    assert ranks.argmax() in (1, 3) and ranks.argmin() == 2  # the off-topic sentence is least central
    assert np.allclose(ranks, plain_textrank(texts), atol=1e-3)

