"""Known answers on tiny inputs for the reading stage, each beside a plain reference version of
the same rule (as bm25s tests its fast paths against a plain one): the BM25 feature, sentence
choice, reading order, and the verifier's passage."""

import math
import random

import numpy as np
import pytest

from askbrief.answer.candidates import Candidate
from askbrief.answer.compose import choose, in_reading_order
from askbrief.answer.features import bm25, idf_weights
from askbrief.answer.ranker import FOLLOW_ADJACENT
from askbrief.index.search import BM25_B, BM25_K1


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

