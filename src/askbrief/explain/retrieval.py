"""The question as read and the passages retrieved, from the trace, in words."""


from askbrief.answer.quoted import covering_sentences
from askbrief.answer.ranker import FOLLOW_ADJACENT
from askbrief.explain.words import quoted, words_of_terms
from askbrief.records import ChunkExplained, Evidence, QuestionExplained, RetrievalExplained, TermExplained
from askbrief.records.trace import Trace
from askbrief.retrieve.question import Question, kind_of_answer


def question_explained(question: Question, evidence: Evidence, trace: Trace) -> QuestionExplained:
    unique = list(dict.fromkeys(question.terms))
    idf = trace.idf
    said = words_of_terms(question.text, question.lang)
    searched = set(trace.searched)
    recent, span = list(question.recent_words), list(question.span_words)
    where = question.where
    bounds = f"{where.since or 'any date'} to {where.until or 'the newest'}"
    if question.dates_from == "options":
        dates = f"{bounds}, as given (the question's own time words are not read when dates are given)"
    elif question.dates_from == "question":
        dates = f"{bounds}: {quoted(span)} read against {question.resolved_against}, the newest indexed article's date"
    else:
        dates = "none asked"
    if question.prefer_recent:
        dates += (f"; {quoted(recent)} asks for the latest: newer articles rank up (an article a month older"
                  f" counts half), and among sentences within {FOLLOW_ADJACENT:g} of the best the newest article's sentences come first")
    return QuestionExplained(
        terms=[TermExplained(term=t, word=said.get(t, t), weight=round(idf[t], 3), chunks=evidence.term_counts.get(t, 0),
                             searched=t in searched) for t in unique],
        time_words=list(question.time_words), since=where.since, until=where.until, dates=dates,
        resolved_against=question.resolved_against, prefer_recent=question.prefer_recent, speaker=question.speaker,
        topic=question.topic, answer_type=kind_of_answer(question.wants), sources=list(where.sources))


def retrieval_explained(evidence: Evidence, trace: Trace) -> RetrievalExplained:
    dense = {cid: (r, s) for r, (cid, s) in enumerate(trace.dense, 1)}
    keyword = {cid: (r, s) for r, (cid, s) in enumerate(trace.keyword, 1)}
    read = {h.chunk_id for h in evidence.hits}
    folded = trace.folded
    listed = []
    for rank, hit in enumerate(trace.fused, 1):
        chunk = evidence.chunks[hit.chunk_id]
        doc = evidence.documents[chunk.doc_id]
        d_rank, d_score = dense.get(hit.chunk_id, (None, None))
        k_rank, k_score = keyword.get(hit.chunk_id, (None, None))
        listed.append(ChunkExplained(
            doc_id=doc.id, title=doc.title, published=doc.published, start=chunk.start, end=chunk.end,
            found_by="retrieval", fused_rank=rank, fused_score=round(hit.score, 6), dense_rank=d_rank,
            dense_score=None if d_score is None else round(d_score, 4), keyword_rank=k_rank,
            keyword_score=None if k_score is None else round(k_score, 4),
            recency_weight=None if hit.recency is None else round(hit.recency, 4),
            read=hit.chunk_id in read, folded_into=folded.get(doc.id) if hit.chunk_id in read else None))
    if trace.quotes:
        for (doc_id, quote), cand in trace.quotes.opening.items():
            covering = covering_sentences(evidence, doc_id, quote)
            doc = evidence.documents[doc_id]
            listed.append(ChunkExplained(
                doc_id=doc_id, title=doc.title, published=doc.published,
                start=evidence.sentences[(doc_id, covering[0])].start, end=evidence.sentences[(doc_id, covering[-1])].end,
                found_by="the speaker's quotes", fused_rank=None, fused_score=None, dense_rank=None, dense_score=None,
                keyword_rank=None, keyword_score=None, recency_weight=None, read=True, folded_into=None))
    return RetrievalExplained(dense_candidates=len(trace.dense), keyword_candidates=len(trace.keyword),
                              read=len(evidence.hits), chunks=listed, excluded=trace.excluded, folded=folded)
