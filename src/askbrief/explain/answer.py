"""Explain mode for answers: the stages recorded a `Trace` (askbrief.records.trace) as they ran
when explain was asked; `explain_answer` turns it into the `Explanation` record. Every text in an
explanation is indexed text, cut at its offsets. `answer_timed` runs one question through
retrieval and reading, timing each stage, and explains it when asked."""

import time

import numpy as np

from askbrief.answer.ranker import ReaderModel
from askbrief.answer.reader import Reader, english_reading
from askbrief.explain.reading import Context, quote_entries, sentence_entries, tokens_of
from askbrief.explain.retrieval import question_explained, retrieval_explained
from askbrief.explain.words import MENTIONED, by_weight, quoted, words_of_terms
from askbrief.records import Answer, ConfidenceExplained, Evidence, Explanation
from askbrief.records.trace import Trace
from askbrief.retrieve.hybrid import Retriever
from askbrief.retrieve.question import Question, kind_of_answer


def confidence_explained(question: Question, evidence: Evidence, trace: Trace, ctx: Context) -> ConfidenceExplained:
    scored = trace.scored
    answered = trace.path != "declined"
    confidence = trace.confidence
    if scored is None or not scored.cands:
        reason = "no passage was found to read: nothing in the index matches the question's words or meaning"
        if trace.excluded:
            reason += f" within its filters ({', '.join(f'{n} chunks kept out by {k}' for k, n in trace.excluded.items())})"
        return ConfidenceExplained(confidence=0.0, threshold=trace.threshold, answered=False, span_model=0.0, reason=reason)
    read = set().union(*(tokens_of(evidence, c.doc_id, c.idx, trace.tokens) for c in scored.cands))
    missing = [ctx.said.get(t, t) for t in ctx.by_weight if t not in read]
    logits = np.sort(scored.logits)[::-1]
    lead = logits[0] - logits[1] if len(logits) > 1 else None
    top = int(np.argmax(scored.logits))
    verdict = trace.quotes.verifier if trace.path == "quotes" and trace.quotes else trace.verdict
    if trace.path == "quotes":
        reason = (f"the quote's opening sentence scores {confidence:.2f}, at least {trace.threshold:.2f}: answered"
                  f" from {question.speaker}'s own words")
    elif answered:
        reason = f"the best sentence scores {confidence:.2f}, at least {trace.threshold:.2f}: answered"
    else:
        reason = f"the best sentence scores {confidence:.2f}, below {trace.threshold:.2f}: "
        if missing and not question.across:  # across languages no keyword can be there
            reason += f"the closest passages do not mention {quoted(missing[:MENTIONED], 'or')}"
        elif verdict is not None and verdict <= 0:
            reason += "the passages share the question's words, but the verifier does not read them as answering"
        else:
            reason += "the passages share the question's words, but none reads clearly as the answer"
        if lead is not None and lead < 1.0:
            reason += f"; the best leads the next by only {lead:.2f}"
    reason += "; " + verifier_words(trace, verdict)
    best = evidence.documents[scored.cands[top].doc_id]
    if not english_reading(question, best):
        reason += (f"; the question reads as {question.lang} and the article as {best.lang}: the span model learnt"
                   " English, so it marks no short answer here")
    if trace.ranker == "across languages":
        reason += ("; an English question over articles in other languages: no keyword can match, so the ranker"
                   " fitted for that read them, by meaning and place alone")
    elif trace.ranker == "other languages":
        reason += f"; a question in {question.lang}: the ranker fitted without the English span model read them"
    return ConfidenceExplained(confidence=round(confidence, 4), threshold=trace.threshold, answered=answered,
                               span_model=round(trace.span_model, 3),
                               verifier=None if verdict is None else round(verdict, 3), reason=reason)


def verifier_words(trace: Trace, verdict: float | None) -> str:
    """What the verifier read and said, and what the span model said of the best sentence."""
    if verdict is None:
        said = ""
    elif trace.path == "quotes":
        said = f"the verifier {'reads' if verdict > 0 else 'doubts'} the quote's opening sentence answers (logit {verdict:+.1f})"
    else:
        n = len(trace.verified)
        said = (f"the verifier read the {n} best sentence{'s' * (n != 1)} together and "
                f"{'reads them as answering' if verdict > 0 else 'doubts they answer'} (logit {verdict:+.1f})")
    span = f"the span model {'reads' if trace.span_model > 0 else 'doubts'} the best (logit {trace.span_model:+.1f})"
    return f"{said}; {span}" if said else span


def explain_answer(question: Question, evidence: Evidence, trace: Trace, answer: Answer,
                   model: ReaderModel) -> Explanation:
    """The explanation of one answer, from the trace of the run that made it."""
    n_cands = len(trace.scored.cands) if trace.scored else 0
    said = words_of_terms(question.text, question.lang)
    idf = trace.idf
    ctx = Context(said, idf, kind_of_answer(question.wants), n_cands, by_weight(question, idf, said))
    reading = sentence_entries(evidence, trace, answer, model, ctx)
    reading += quote_entries(question, evidence, trace, answer, model, ctx)
    order = None
    best = next((s for s in reading if s.kind == "sentence" and s.rank == 1), None)
    if trace.path == "sentences" and best and best.cited and best.cited > 1:
        order = (f"[1] comes just before the best-scored sentence [{best.cited}] in the same article, so it is cited"
                 " first: cited sentences keep their article's reading order")
    return Explanation(question=question_explained(question, evidence, trace), retrieval=retrieval_explained(evidence, trace),
                       reading=reading, headlines=len(trace.headlines), path=trace.path, order=order,
                       confidence=confidence_explained(question, evidence, trace, ctx))


def answer_timed(retriever: Retriever, reader: Reader, question: Question, vector: np.ndarray, top_k: int,
                 embed_ms: float, topic_vector: np.ndarray | None = None, explain: bool = False) -> Answer:
    """One parsed question retrieved and read, with each stage's time, and with its explanation
    when asked (the trace is kept only then: recording costs the plain path nothing)."""
    timings = {"embed": embed_ms}
    trace = Trace() if explain else None
    t0 = time.perf_counter()
    evidence = retriever.evidence(question, vector, top_k, trace)
    t1 = time.perf_counter()
    answer = reader.answer(question, vector, evidence, topic_vector, trace)
    t2 = time.perf_counter()
    timings |= {"retrieve": (t1 - t0) * 1000, "read": (t2 - t1) * 1000}
    update: dict = {}
    if trace is not None:
        update["explanation"] = explain_answer(question, evidence, trace, answer, reader.model)
        timings["explain"] = (time.perf_counter() - t2) * 1000
    timings["total"] = sum(timings.values())
    return answer.model_copy(update={**update, "timings_ms": {k: round(v, 2) for k, v in timings.items()}})
