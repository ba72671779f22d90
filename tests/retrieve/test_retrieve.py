"""Retrieval: fused rankings, recency, reading questions, and what a "latest" question reads."""

import pytest

from askbrief.retrieve.hybrid import RECENCY_HALF_LIFE, fuse, recency_weights


def test_fusion_sums_weighted_reciprocal_ranks():
    hits = fuse([1, 2, 3], [3, 4], k=10, rrf_k=60, keyword_weight=2.0)
    scores = {h.chunk_id: h.score for h in hits}
    assert scores[3] == 1 / 63 + 2 / 61
    assert scores[1] == 1 / 61 and scores[4] == 2 / 62
    assert [h.chunk_id for h in hits] == [3, 4, 1, 2]
    assert (hits[0].dense_rank, hits[0].keyword_rank) == (2, 0)


def test_fusion_handles_an_empty_list_and_cuts_at_k():
    assert [h.chunk_id for h in fuse([5, 6, 7], [], k=2)] == [5, 6]
    assert fuse([], [], k=3) == []


def test_a_latest_question_reads_each_chunk_and_document_once(news_engine, monkeypatch):
    """The recency ranking reads the candidates' chunks and documents; the evidence reuses them
    (issue 38: they were read twice) and holds exactly what a plain read would."""
    from askbrief.retrieve.hybrid import Retriever
    from askbrief.retrieve.question import parse_all

    store = news_engine.store()
    question = parse_all(store, ["What is the latest on the measles outbreak in Samoa?"], None, None, ())[0]
    assert question.prefer_recent
    vector = news_engine.embedder.encode_queries([question.text])[0]
    reads = {"chunks": [], "documents": []}
    for name in reads:
        real = getattr(store, name)
        monkeypatch.setattr(store, name, lambda ids, _real=real, _name=name: reads[_name].append(list(ids)) or _real(reads[_name][-1]))
    evidence = Retriever(store).evidence(question, vector, 5)
    chunk_ids = [cid for call in reads["chunks"] for cid in call]
    doc_ids = [d for call in reads["documents"] for d in call]
    assert len(reads["chunks"]) == 1 and len(chunk_ids) == len(set(chunk_ids))
    assert len(doc_ids) == len(set(doc_ids))
    assert set(evidence.chunks) == {h.chunk_id for h in evidence.hits}
    assert set(evidence.documents) >= {c.doc_id for c in evidence.chunks.values()}
    monkeypatch.undo()
    again = Retriever(store).evidence(question, vector, 5)
    assert (again.hits, again.chunks, list(again.documents), list(again.sentences)) == \
        (evidence.hits, evidence.chunks, list(evidence.documents), list(evidence.sentences))


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

