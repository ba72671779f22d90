"""Known answers on tiny inputs, each beside a plain reference version of the same rule (as bm25s
tests its fast paths against a plain one): the BM25 feature, sentence choice, reading order,
recency, MMR selection and lexical centrality."""

import math
import random

import numpy as np
import pytest

from askbrief.answer.candidates import Candidate
from askbrief.answer.compose import choose, in_reading_order
from askbrief.answer.features import bm25, idf_weights
from askbrief.answer.ranker import FOLLOW_ADJACENT
from askbrief.index.search import BM25_B, BM25_K1
from askbrief.retrieve.hybrid import RECENCY_HALF_LIFE, fuse, recency_weights
from askbrief.summary.summarise import DAMPING, MMR_LAMBDA, REDUNDANT, lex_rank, select
from askbrief.text.sentences import terms


def plain_bm25(query: list[str], idf: dict[str, float], sentence: list[str], avg_len: float) -> float:
    total = 0.0
    for term in set(query):
        tf = sentence.count(term)
        if tf:
            total += idf[term] * tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * len(sentence) / avg_len))
    return total


def test_bm25_matches_the_formula_and_a_hand_computed_value():
    idf = idf_weights({"oil": 1, "price": 3}, 10, ["oil", "price", "gold"])
    assert idf["oil"] == pytest.approx(math.log(1 + 9.5 / 1.5))
    assert idf["gold"] == pytest.approx(math.log(1 + 10.5 / 0.5))  # unseen: rarest
    sentence = ["oil", "price", "oil", "rose"]
    # oil: tf 2, price: tf 1, len 4 = avg, so the length norm is k1
    expected = idf["oil"] * 2 * 2.2 / (2 + 1.2) + idf["price"] * 1 * 2.2 / (1 + 1.2)
    assert bm25({"oil", "price", "gold"}, idf, sentence, 4.0) == pytest.approx(expected)
    rng = random.Random(1)
    vocab = ["oil", "price", "gold", "rose", "fell", "market"]
    for _ in range(50):
        words = [rng.choice(vocab) for _ in range(rng.randint(1, 12))]
        query = rng.sample(vocab, 3)
        weights = idf_weights({w: rng.randint(0, 9) for w in vocab}, 10, query)
        avg = rng.uniform(2, 10)
        assert bm25(set(query), weights, words, avg) == pytest.approx(plain_bm25(query, weights, words, avg))


def cand(doc: str, idx: int) -> Candidate:
    return Candidate(doc, idx, idx * 10, idx * 10 + 9, 0, None, None)


def plain_choose(cands, logits, gap=0.7, adjacent=FOLLOW_ADJACENT, limit=3):
    order = sorted(range(len(cands)), key=lambda i: -logits[i])
    chosen = [cands[order[0]]]
    for i in order[1:]:
        behind = logits[order[0]] - logits[i]
        if len(chosen) == limit or behind > adjacent:
            break
        if behind <= gap or any(o.doc_id == cands[i].doc_id and cands[i].idx == o.idx + 1 for o in chosen):
            chosen.append(cands[i])
    return chosen


def test_sentence_choice_takes_near_ties_and_continuations_only():
    cands = [cand("a", 0), cand("a", 1), cand("b", 4), cand("b", 9)]
    # a/0 best; b/4 is 0.5 behind (a near tie); a/1 is 2.0 behind but continues a/0; b/9 is 4 behind
    logits = np.array([5.0, 3.0, 4.5, 1.0])
    assert choose(cands, logits) == [cand("a", 0), cand("b", 4), cand("a", 1)]
    assert choose(cands, np.array([5.0, 1.0, 1.5, 0.0])) == [cand("a", 0)]  # nothing near enough
    rng = random.Random(2)
    for _ in range(200):
        many = [cand(rng.choice("ab"), rng.randrange(6)) for _ in range(6)]
        many = list(dict.fromkeys(many))
        scores = np.array([rng.uniform(0, 6) for _ in many])
        assert choose(many, scores) == plain_choose(many, list(scores))


def test_reading_order_keeps_runs_in_source_order_and_runs_by_their_best():
    best_first = [cand("a", 5), cand("b", 2), cand("a", 4), cand("a", 6)]
    assert in_reading_order(best_first) == [cand("a", 4), cand("a", 5), cand("a", 6), cand("b", 2)]
    assert in_reading_order([cand("b", 2), cand("a", 9)]) == [cand("b", 2), cand("a", 9)]


def test_recency_halves_each_half_life_and_undated_counts_as_old():
    newest = "2020-03-31"
    month_before = "2020-03-01"  # 30 days
    weights = recency_weights([newest, month_before, None])
    assert weights[0] == 1.0 and weights[1] == pytest.approx(0.5 ** (30 / RECENCY_HALF_LIFE))
    assert weights[2] == pytest.approx(2.0 ** -10)
    assert recency_weights([None, None]).tolist() == [1.0, 1.0]
    # counted from a given clock (the newest of the best hits): a newer article is age 0, not younger
    clocked = recency_weights(["2020-05-01", newest, month_before], clock=newest)
    assert clocked[0] == clocked[1] == 1.0 and clocked[2] == pytest.approx(0.5 ** (30 / RECENCY_HALF_LIFE))


def test_fusion_is_the_weighted_reciprocal_rank_sum():
    hits = fuse([1, 2, 3], [3, 4], k=10, rrf_k=60, keyword_weight=2.0)
    score = {h.chunk_id: h.score for h in hits}
    assert score[3] == pytest.approx(1 / 63 + 2 / 61) and score[4] == pytest.approx(2 / 62)
    assert [h.chunk_id for h in hits] == [3, 4, 1, 2]
    assert (hits[0].dense_rank, hits[0].keyword_rank) == (2, 0)


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


def test_a_why_question_keeps_a_short_answer_only_when_it_reads_as_a_reason():
    from askbrief.retrieve.question import is_clause, kind_of_answer, parse

    assert parse("Why did the dollar fall?").asks_reason and parse("What caused the delays?").asks_reason
    assert not parse("Who won the 2022 World Cup?").asks_reason
    assert is_clause("because the euro hit record levels") and is_clause("on the back of weak jobs data")
    assert not is_clause("the euro")
    why = parse("Why did the dollar fall?")
    assert kind_of_answer(why.wants) == "a reason"
    assert why.offers_new("The dollar fell after weak US jobs data.")
    assert why.offers_new("The falls were partly the result of big budget deficits.")
    assert not why.offers_new("The dollar fell as much as 2% against the euro.")


def test_the_verifier_reads_its_passage_best_sentence_first_and_cuts_the_last_sentence_not_the_first():
    from askbrief.answer.span import encode_pair, tokenizer
    from askbrief.answer.verifier import PASSAGE_TOKENS, passage

    first = "Putin told Jaishankar that trade between Russia and India is growing."
    later = [" The talks in Moscow lasted two days and covered oil, defence and technology. " * 16, "Nothing else."]
    text = passage([first + "  ", *later])
    assert text.startswith(first + " The talks")
    encoded = encode_pair(tokenizer(), "What did Putin say about trade? " * 40, "", text, "Putin meets Jaishankar",
                          PASSAGE_TOKENS)
    assert len(encoded.ids) == PASSAGE_TOKENS
    kept = max(o[1] for o, inside in zip(encoded.offsets, encoded.in_sentence) if inside) - encoded.sentence_at
    assert len(first) < kept < len(text)  # the first sentence whole, the passage's end cut
