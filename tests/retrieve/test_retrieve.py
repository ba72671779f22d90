from askbrief.retrieve.hybrid import fuse


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
