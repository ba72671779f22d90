"""Answering: a parsed question and its `Evidence` in, an `Answer` of cited sentences out.

Sentences, not spans, read by their vectors: each candidate sentence gets features (its cosine
to the question under the question-tuned embedder, stored at ingest, so reading costs a dot
product; rare-term coverage, retrieval rank, answer type); a linear ranker orders them and a
logistic calibrator turns the best one's logit into a confidence. Both are fitted by
scripts/fit_reader.py on SQuAD train articles no model trained on; their coefficients live in
models/ranker.json. "What did X say about Y?" is answered from X's quotes when one
is about Y and reads as well as the sentence answer. The one chosen sentence is then read by the
small span model (span.py) for the short answer inside it. The reader never touches the store.
"""


import numpy as np

from askbrief.answer.candidates import Candidate, QuoteReading, Scored, reading_pair
from askbrief.answer.compose import choose, compose_abstention, compose_answer
from askbrief.answer.features import features, gather
from askbrief.answer.quoted import QUOTE_RELEVANCE, opening_sentence, quote_relevance, quote_vectors
from askbrief.answer.ranker import (
    TIE_BREAK,
    ReaderModel,
    calibrator_inputs,
    load_model,
    model_file_for,
    newest_first,
    newest_near_best,
    newness,
    sigmoid,
)
from askbrief.answer.span import SentenceScorer, load_scorer
from askbrief.answer.verifier import Verifier, load_verifier
from askbrief.citations import cite
from askbrief.records import Answer, Evidence, Span
from askbrief.records.trace import Trace
from askbrief.retrieve.question import Question, is_clause
from askbrief.text.language import ENGLISH
from askbrief.text.quotes import with_marks

CLOSEST = 2  # passages cited with a declined answer, for the reader to check


class Reader:
    def __init__(self, threshold: float | None = None, model: ReaderModel | None = None,
                 scorer: SentenceScorer | None = None, verifier: Verifier | None = None,
                 crosslingual: ReaderModel | None = None, other_languages: ReaderModel | None = None):
        """Rankers for two more kinds of question, where fitted: `crosslingual`, without keyword
        features and span model, for an English question over articles none of which is English
        (embedded less the mean English question, as it was fitted); `other_languages`, without
        the span model (it learnt English), for a question in another language."""
        self.model = model or load_model()
        self.scorer = scorer or load_scorer()  # the span model: every answer reads one sentence with it
        # Reads the best few sentences (do they answer?) where the fitted models give its verdict a weight.
        self.verifier = verifier or (load_verifier() if self.model.uses_verifier else None)
        self.threshold = self.model.threshold if threshold is None else threshold
        self.crosslingual = crosslingual and Reader(threshold, crosslingual, self.scorer, self.verifier)
        self.other_languages = other_languages and Reader(threshold, other_languages, self.scorer, self.verifier)

    def score(self, question: Question, query_vector: np.ndarray, evidence: Evidence,
              trace: "Trace | None" = None) -> Scored:
        """Candidates, their features and ranker logits.

        When the question asks for the latest, the newest article among those that answer nearly
        as well as the best (within FOLLOW_ADJACENT nats) leads: older ones step back by that gap."""
        cands, feats = gather(question, query_vector, evidence, trace)
        if not cands:
            return Scored(cands, feats, np.zeros(0))
        raw = self.logits(feats)
        published = [evidence.documents[c.doc_id].published for c in cands]
        logits = raw + TIE_BREAK * newness(published)
        if trace is not None:
            trace.raw_logits = raw
            trace.newest = newest_near_best(logits, published) if question.prefer_recent else None
        if question.prefer_recent:
            logits = newest_first(logits, published)
        return Scored(cands, feats, logits)

    def logits(self, feats: np.ndarray) -> np.ndarray:
        return feats @ self.model.ranker_coef + self.model.ranker_intercept

    def verify(self, question: Question, scored: Scored, evidence: Evidence,
               trace: "Trace | None" = None) -> float | None:
        """The verifier's verdict on the ranker's best few sentences read together (None where
        the fitted calibrator gives it no weight, so it is not loaded)."""
        if not scored.cands or self.verifier is None:
            return None
        read = [scored.cands[i] for i in np.argsort(-scored.logits)[:self.model.verified]]
        verdict = self.verifier.verdict(question.text, read, evidence)
        if trace is not None:
            trace.verified, trace.verdict = read, verdict
        return verdict

    def confidence(self, scored: Scored, model: float, top: int | None = None, verifier: float = 0.0) -> float:
        """The calibrated probability that candidate `top` (by default the best) answers, given
        the span model's and the verifier's answer logits for it."""
        if not scored.cands:
            return 0.0
        inputs = calibrator_inputs(scored.logits, scored.feats, model, top, verifier)
        return float(sigmoid(inputs @ self.model.calibrator_coef + self.model.calibrator_intercept))

    def read_one(self, question: Question, cand: Candidate, evidence: Evidence) -> tuple[float, Span | None]:
        """The span model on one sentence (with the sentence before it): its answer logit, and
        the short answer inside it when it reads the sentence as answering (logit above 0)."""
        logits, spans = self.scorer.score(question.text, [reading_pair(evidence, cand)])
        span, doc = spans[0], evidence.documents[cand.doc_id]
        if span is None or logits[0] <= 0 or not 0 <= span[0] < span[1]:
            return float(logits[0]), None
        start, end = cand.start + span[0], min(cand.start + span[1], cand.end)
        text = doc.text[start:end]
        stripped = text.strip()
        start += len(text) - len(text.lstrip())
        short = Span(doc_id=doc.id, start=start, end=start + len(stripped), text=stripped) if stripped else None
        return float(logits[0]), short

    def answer(self, question: Question, query_vector: np.ndarray, evidence: Evidence,
               topic_vector: np.ndarray | None = None, trace: "Trace | None" = None) -> Answer:
        """The cited answer, or a decline citing the closest passages. For "what did X say about
        Y" (`topic_vector`: Y's, or X's when no Y), one of X's quotes when one is about Y and reads
        as well as the threshold asks. A `trace` (explain mode) keeps what each step decided."""
        special = self.crosslingual if question.across else self.other_languages if question.lang != ENGLISH else None
        if special:
            if trace is not None:
                trace.ranker = "across languages" if question.across else "other languages"
            return special.answer(question, query_vector, evidence, topic_vector, trace)
        scored = self.score(question, query_vector, evidence, trace)
        verdict = self.verify(question, scored, evidence, trace)
        top = int(np.argmax(scored.logits)) if scored.cands else None
        best = scored.cands[top] if scored.cands else None
        model, span = self.read_one(question, best, evidence) if best else (0.0, None)
        confidence = self.confidence(scored, model, top, verdict or 0.0)
        if trace is not None:
            trace.scored, trace.span_model, trace.confidence, trace.threshold = scored, model, confidence, self.threshold
        if not scored.cands or confidence < self.threshold:
            closest = [scored.cands[i] for i in np.argsort(-scored.logits)[:CLOSEST]]
            if trace is not None:
                trace.path, trace.chosen = "declined", closest
            return compose_abstention(question.text, closest, evidence.documents, confidence)
        if question.speaker and evidence.quotes and topic_vector is not None:
            quoted = self.from_quotes(question, query_vector, evidence, topic_vector, trace)
            if quoted:
                return quoted
        chosen = choose(scored.cands, scored.logits, trace.choices if trace is not None else None)
        if trace is not None:
            trace.path, trace.chosen = "sentences", chosen
        answer = compose_answer(question.text, chosen, evidence.documents, confidence,
                                evidence.copies.get(chosen[0].doc_id, 0))
        # "What did X say?" asks for a statement, not a phrase inside one, and "why?" for a reason:
        # no short answer unless it reads as one.
        if question.speaker or (span and question.asks_reason and not is_clause(span.text)):
            span = None
        # The span model learnt English (SQuAD 1.1): it marks no phrase in other languages.
        if not english_reading(question, evidence.documents[chosen[0].doc_id]):
            span = None
        return answer.model_copy(update={"span": span})

    def from_quotes(self, question: Question, query_vector: np.ndarray, evidence: Evidence,
                    topic_vector: np.ndarray, trace: "Trace | None" = None) -> Answer | None:
        """Of the speaker's quotes about the topic (all of them when no topic was asked, the most
        relevant first), the one whose opening sentence the ranker reads best, said as "X said: …"
        with the calibrated confidence in that sentence; None keeps the sentence answer."""
        docs = evidence.documents
        relevance = np.array([quote_relevance(question.topic or question.speaker, topic_vector,
                                              docs[d].text[q.start:q.end], quote_vectors(evidence, d, q))
                              for d, q in evidence.quotes])
        bar = QUOTE_RELEVANCE if question.topic else relevance.max()
        relevant = [quote for quote, r in zip(evidence.quotes, relevance) if r >= bar]
        opening = {key: c for key in relevant if (c := opening_sentence(evidence, *key))}
        cands = list({(c.doc_id, c.idx): c for c in opening.values()}.values())
        if not cands:
            return None
        feats = features(question, query_vector, cands, evidence, trace)
        scored = Scored(cands, feats, self.logits(feats))
        best = int(np.argmax(scored.logits))
        model = self.read_one(question, cands[best], evidence)[0]
        verdict = self.verifier.verdict(question.text, [cands[best]], evidence) if self.verifier else None
        confidence = self.confidence(scored, model, best, verdict or 0.0)
        if trace is not None:
            trace.quotes = QuoteReading(evidence.quotes, relevance, bar, opening, scored, model, confidence, verdict)
        if confidence < self.threshold:
            return None
        doc_id, quote = next(key for key, c in opening.items() if c == cands[best])
        doc = docs[doc_id]
        citation = cite(1, doc, *with_marks(doc.text, quote.start, quote.end))
        if trace is not None:
            trace.path, trace.chosen, trace.confidence = "quotes", [cands[best]], confidence
        when = f"As of {doc.published}, " if doc.published else ""
        return Answer(question=question.text, answer=f"{when}{quote.speaker} said: {citation.quote} [1]",
                      abstained=False, confidence=round(confidence, 4), citations=[citation], timings_ms={})


def english_reading(question: Question, document) -> bool:
    """Whether the English-trained span model reads this pair: an English question of an English
    (or, stored before languages, unknown) article."""
    return question.lang == ENGLISH and document.lang in (ENGLISH, None)


def reader_for(embedder: str, threshold: float | None = None) -> Reader:
    """The reader with the rankers fitted on this embedder's cosines (ranker.model_file_for)."""
    cross, other = (model_file_for(embedder, kind) for kind in ("crosslingual", "other-languages"))
    return Reader(threshold, load_model(model_file_for(embedder)), crosslingual=load_model(cross) if cross else None,
                  other_languages=load_model(other) if other else None)
