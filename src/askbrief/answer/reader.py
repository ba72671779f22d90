"""Answering: a parsed question and its `Evidence` in, an `Answer` of cited sentences out.

Sentences, not spans, read by their vectors: each candidate sentence gets features (its cosine
to the question under the question-tuned embedder, stored at ingest, so reading costs a dot
product; rare-term coverage, retrieval rank, answer type); a linear ranker orders them and a
logistic calibrator turns the best one's logit into a confidence. Both are fitted by
scripts/fit_reader.py on SQuAD train articles no model trained on; their coefficients live in
models/ranker.json. "What did X say about Y?" is answered from X's quotes when one
is about Y and reads as well as the sentence answer. The one chosen sentence is then read by the
small span model (scorer.py) for the short answer inside it. The reader never touches the store.
"""

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from askbrief.answer.question import Question
from askbrief.answer.span import SentenceScorer, load_scorer
from askbrief.citations import cite, cited_text
from askbrief.errors import IndexIncompatible
from askbrief.index.search import BM25_B, BM25_K1
from askbrief.ingest.copies import first_per_cluster
from askbrief.ingest.quotes import with_marks
from askbrief.ingest.text import SENTENCE_ENDINGS, terms
from askbrief.records import Answer, Document, Evidence, Quote, Span

if TYPE_CHECKING:
    from askbrief.explain.answer import Trace

ANSWER_SENTENCES = 3  # an answer is one to three sentences
# A further sentence joins the best one when its ranker logit is within this many nats of the
# best's (half its softmax weight; 0.7 trades evidence@1 against @3 on SQuAD, README), or within FOLLOW_ADJACENT when it
# directly follows a chosen sentence and so continues it ("…growing," he was quoted as saying).
FOLLOW_GAP = 0.7
FOLLOW_ADJACENT = 3.0
TIE_BREAK = 1e-6  # far below any real score gap: equal sentences (syndicated copies) go to the newer article
MODEL_FILE = Path(__file__).parents[1] / "models" / "ranker.json"
NO_RUNNER_UP = 5.0  # nats: the lead a lone candidate is given over the runner-up it lacks
CLOSEST = 2  # passages cited with a declined answer, for the reader to check
# A quote answers "what did X say about Y" only at this relevance to Y (see quote_relevance): among
# the seed and 60 BBC business articles, Putin's trade quote scores 1.43 for "trade", his others 0.12 at most.
QUOTE_RELEVANCE = 0.5

FEATURES = ("cos", "cos_gap", "cos_rank", "neighbour_cos", "coverage", "coverage_gap", "matched", "bm25",
            "bigrams", "window_coverage", "missing_rare", "chunk_rank", "dense_rank", "keyword_rank", "type_match",
            "log_words")


@dataclass(frozen=True, slots=True)
class Candidate:
    doc_id: str
    idx: int
    start: int
    end: int
    chunk_rank: int
    dense_rank: int | None  # of its chunk in the dense list before fusion
    keyword_rank: int | None


@dataclass(frozen=True)
class ReaderModel:
    """Linear models over sentence features: a ranker (listwise), and a logistic calibrator over
    the best sentence's."""

    ranker_coef: np.ndarray
    ranker_intercept: float
    calibrator_coef: np.ndarray
    calibrator_intercept: float
    threshold: float  # abstain below this confidence unless the settings say otherwise

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> "ReaderModel":
        data = json.loads(path.read_text())
        if tuple(data["features"]) != FEATURES:
            raise IndexIncompatible(f"{path} was fitted on features {data['features']}, the reader computes {FEATURES};"
                                    " refit it with `make fit`")
        if tuple(data["calibrator"]["inputs"]) != CALIBRATOR_INPUTS:
            raise IndexIncompatible(f"{path}'s calibrator reads {data['calibrator']['inputs']}, the reader gives it "
                                    f"{CALIBRATOR_INPUTS}; refit it with `make fit`")
        return cls(np.array(data["ranker"]["coef"]), data["ranker"]["intercept"],
                   np.array(data["calibrator"]["coef"]), data["calibrator"]["intercept"], data["threshold"])


@cache
def load_model() -> ReaderModel:
    return ReaderModel.load()


def idf_weights(counts: dict[str, int], total: int, question_terms: list[str]) -> dict[str, float]:
    """BM25's IDF of each question term over `total` chunks, `counts[t]` of which hold t
    (unseen terms count as rarest)."""
    return {t: math.log(1 + (total - counts.get(t, 0) + 0.5) / (counts.get(t, 0) + 0.5)) for t in question_terms}


def bm25(question_terms: set[str], idf: dict[str, float], sentence_terms: list[str], avg_len: float) -> float:
    """Okapi BM25 of one sentence for the question's terms, sentences as the documents."""
    norm = BM25_K1 * (1 - BM25_B + BM25_B * len(sentence_terms) / avg_len)
    counts = {t: sentence_terms.count(t) for t in question_terms.intersection(sentence_terms)}
    return sum(idf[t] * n * (BM25_K1 + 1) / (n + norm) for t, n in counts.items())


def candidates(evidence: Evidence) -> list[Candidate]:
    """The sentences of the evidence's chunks (each once, with its best chunk rank), one copy
    per syndicated cluster: the best-ranked."""
    chunks = [evidence.chunks[h.chunk_id] for h in evidence.hits]
    kept = set(first_per_cluster([c.doc_id for c in chunks], evidence.clusters))
    seen: dict[tuple[str, int], Candidate] = {}
    for rank, (hit, chunk) in enumerate(zip(evidence.hits, chunks)):
        if chunk.doc_id not in kept:
            continue  # a syndicated copy of an article already being read
        for idx in range(chunk.first, chunk.last + 1):
            stored = evidence.sentences[(chunk.doc_id, idx)]
            seen.setdefault((chunk.doc_id, idx), Candidate(chunk.doc_id, idx, stored.start, stored.end, rank,
                                                           hit.dense_rank, hit.keyword_rank))
    return list(seen.values())


def features(question: Question, query_vector: np.ndarray, cands: list[Candidate], evidence: Evidence,
             trace: "Trace | None" = None) -> np.ndarray:
    """(len(cands), len(FEATURES)) float matrix; see FEATURES for the columns.

    Columns ending in _gap or _rank compare a sentence with the other candidates of the same
    question, which is what a per-question ranking needs.
    """
    out = np.zeros((len(cands), len(FEATURES)), dtype=np.float64)
    if not cands:
        return out
    idf = idf_weights(evidence.term_counts, evidence.chunk_total, list(dict.fromkeys(question.terms)))
    q_terms = set(idf)
    q_list = list(question.terms)
    q_bigrams = set(zip(q_list, q_list[1:]))
    total_idf = sum(idf.values()) or 1.0
    max_idf = max(idf.values(), default=1.0)
    docs = evidence.documents
    cos_of = {key: float(s.vector @ query_vector) for key, s in evidence.sentences.items()}
    texts = {key: docs[key[0]].text[s.start:s.end] for key, s in evidence.sentences.items()}
    tokens = {key: terms(text) for key, text in texts.items()}
    if trace is not None:
        trace.tokens |= tokens
    avg_len = np.mean([len(tokens[(c.doc_id, c.idx)]) for c in cands]) or 1.0
    for row, c in enumerate(cands):
        key = (c.doc_id, c.idx)
        own_list = tokens[key]
        own = set(own_list)
        neighbours = [(c.doc_id, c.idx - 1), (c.doc_id, c.idx + 1)]
        window = own.union(*(tokens[k] for k in neighbours if k in tokens))
        matched = q_terms & own
        out[row] = (
            cos_of[key],
            0.0,  # cos_gap, filled below
            0.0,  # cos_rank
            max((cos_of[k] for k in neighbours if k in cos_of), default=0.0),
            sum(idf[t] for t in matched) / total_idf,
            0.0,  # coverage_gap
            len(matched) / max(len(q_terms), 1),
            bm25(q_terms, idf, own_list, avg_len) / total_idf,
            len(q_bigrams & set(zip(own_list, own_list[1:]))) / max(len(q_bigrams), 1),
            sum(idf[t] for t in q_terms & window) / total_idf,
            max((idf[t] for t in q_terms - window), default=0.0) / max_idf,
            1.0 / (1 + c.chunk_rank),
            0.0 if c.dense_rank is None else 1.0 / (1 + c.dense_rank),
            0.0 if c.keyword_rank is None else 1.0 / (1 + c.keyword_rank),
            0.5 if question.wants is None else float(question.offers_new(texts[key])),
            math.log(1 + len(texts[key].split())),
        )
    col = {name: i for i, name in enumerate(FEATURES)}
    out[:, col["cos_gap"]] = out[:, col["cos"]] - out[:, col["cos"]].max()
    out[:, col["coverage_gap"]] = out[:, col["coverage"]] - out[:, col["coverage"]].max()
    out[:, col["cos_rank"]] = 1.0 / (1 + np.argsort(np.argsort(-out[:, col["cos"]])))
    return out


def gather(question: Question, query_vector: np.ndarray, evidence: Evidence,
           trace: "Trace | None" = None) -> tuple[list[Candidate], np.ndarray]:
    """The candidate sentences and their features."""
    docs = evidence.documents
    every = candidates(evidence)
    # Headlines and bylines are not evidence when real sentences are at hand.
    cands = [c for c in every if docs[c.doc_id].text[c.start:c.end].endswith(SENTENCE_ENDINGS)] or every
    if trace is not None:
        trace.headlines = [c for c in every if c not in cands]
    return cands, features(question, query_vector, cands, evidence, trace)


CALIBRATOR_INPUTS = ("top_logit", "lead", "missing_rare", "coverage", "cos", "model")


def calibrator_inputs(logits: np.ndarray, feats: np.ndarray, model: float, top: int | None = None) -> np.ndarray:
    """What the calibrator sees for the answering sentence (`top`, by default the best): its
    logit, its lead over the best other one, the evidence that something the question asks
    about is missing, and the span model's answer logit for it (`model`)."""
    top = int(np.argmax(logits)) if top is None else top
    others = np.delete(logits, top)
    runner_up = others.max() if len(others) else logits[top] - NO_RUNNER_UP
    col = {name: i for i, name in enumerate(FEATURES)}
    return np.array([logits[top], logits[top] - runner_up, feats[top, col["missing_rare"]],
                     feats[top, col["coverage"]], feats[top, col["cos"]], model])


def newness(published: list[str | None]) -> np.ndarray:
    """0 for the oldest (or undated) of these articles up to 1 for the newest."""
    dates = sorted({p for p in published if p})
    rank = {d: (i + 1) / len(dates) for i, d in enumerate(dates)}
    return np.array([rank.get(p, 0.0) if p else 0.0 for p in published])


def newest_first(logits: np.ndarray, published: list[str | None]) -> np.ndarray:
    """Lower every candidate from an article older than the newest near-best one by FOLLOW_ADJACENT."""
    near_best = logits >= logits.max() - FOLLOW_ADJACENT
    newest = max((p for p, ok in zip(published, near_best) if ok and p), default=None)
    if newest is None:
        return logits
    older = np.array([(p or "") < newest for p in published])
    return logits - FOLLOW_ADJACENT * older


def sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Scored:
    """A question's candidates, their features and ranker logits."""

    cands: list[Candidate]
    feats: np.ndarray
    logits: np.ndarray


@dataclass(frozen=True)
class QuoteReading:
    """What `Reader.from_quotes` weighed (kept for explain mode): each quote's relevance to the
    topic against the bar, the opening sentences read, their scores, and the best one's confidence."""

    quotes: list[tuple[str, Quote]]
    relevance: np.ndarray
    bar: float
    opening: dict[tuple[str, Quote], Candidate]
    scored: Scored
    span_model: float
    confidence: float


class Reader:
    def __init__(self, threshold: float | None = None, model: ReaderModel | None = None,
                 scorer: SentenceScorer | None = None):
        self.model = model or load_model()
        self.scorer = scorer or load_scorer()  # the span model: every answer reads one sentence with it
        self.threshold = self.model.threshold if threshold is None else threshold

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
        if question.prefer_recent:
            logits = newest_first(logits, published)
        if trace is not None:
            trace.raw_logits = raw
        return Scored(cands, feats, logits)

    def logits(self, feats: np.ndarray) -> np.ndarray:
        return feats @ self.model.ranker_coef + self.model.ranker_intercept

    def confidence(self, scored: Scored, model: float, top: int | None = None) -> float:
        """The calibrated probability that candidate `top` (by default the best) answers, given
        the span model's answer logit for it."""
        if not scored.cands:
            return 0.0
        inputs = calibrator_inputs(scored.logits, scored.feats, model, top)
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
        scored = self.score(question, query_vector, evidence, trace)
        best = scored.cands[int(np.argmax(scored.logits))] if scored.cands else None
        model, span = self.read_one(question, best, evidence) if best else (0.0, None)
        confidence = self.confidence(scored, model)
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
        # "What did X say?" asks for a statement, not a phrase inside one: no short answer.
        return answer.model_copy(update={"span": None if question.speaker else span})

    def from_quotes(self, question: Question, query_vector: np.ndarray, evidence: Evidence,
                    topic_vector: np.ndarray, trace: "Trace | None" = None) -> Answer | None:
        """Of the speaker's quotes about the topic (all of them when no topic was asked, the most
        relevant first), the one whose opening sentence the ranker reads best, said as "X said: …"
        with the calibrated confidence in that sentence; None keeps the sentence answer."""
        docs = evidence.documents
        relevance = np.array([quote_relevance(question.topic or question.speaker, topic_vector,
                                              docs[d].text[q.start:q.end], _quote_vectors(evidence, d, q))
                              for d, q in evidence.quotes])
        bar = QUOTE_RELEVANCE if question.topic else relevance.max()
        relevant = [quote for quote, r in zip(evidence.quotes, relevance) if r >= bar]
        opening = {key: c for key in relevant if (c := _opening_sentence(evidence, *key))}
        cands = list({(c.doc_id, c.idx): c for c in opening.values()}.values())
        if not cands:
            return None
        feats = features(question, query_vector, cands, evidence, trace)
        scored = Scored(cands, feats, self.logits(feats))
        best = int(np.argmax(scored.logits))
        model = self.read_one(question, cands[best], evidence)[0]
        confidence = self.confidence(scored, model, best)
        if trace is not None:
            trace.quotes = QuoteReading(evidence.quotes, relevance, bar, opening, scored, model, confidence)
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


def reading_pair(evidence: Evidence, cand: Candidate) -> tuple[str, str]:
    """(the sentence before, the sentence): what the span model reads."""
    doc = evidence.documents[cand.doc_id]
    before = evidence.sentences.get((cand.doc_id, cand.idx - 1))
    return doc.text[before.start:before.end] if before else "", doc.text[cand.start:cand.end]


def quote_relevance(topic: str, topic_vector: np.ndarray, text: str, vectors: list[np.ndarray]) -> float:
    """How much a quote is about the topic: the best cosine of the sentences it lies in, plus the
    share of the topic's content words it uses (a one-word topic, "trade", embeds poorly, so the
    words carry as much weight as the vectors)."""
    wanted = set(terms(topic))
    overlap = len(wanted & set(terms(text))) / len(wanted) if wanted else 0.0
    return max((float(v @ topic_vector) for v in vectors), default=0.0) + overlap


def covering_sentences(evidence: Evidence, doc_id: str, quote: Quote) -> list[int]:
    """The indexes of the read sentences a quote lies in, in order."""
    return sorted(idx for (d, idx), s in evidence.sentences.items()
                  if d == doc_id and s.end > quote.start and s.start < quote.end)


def _quote_vectors(evidence: Evidence, doc_id: str, quote: Quote) -> list[np.ndarray]:
    """The stored vectors of the sentences a quote lies in."""
    return [evidence.sentences[(doc_id, idx)].vector for idx in covering_sentences(evidence, doc_id, quote)]


def _opening_sentence(evidence: Evidence, doc_id: str, quote: Quote) -> Candidate | None:
    """The sentence a quote starts in, as a candidate ranked where its chunk was retrieved."""
    covering = covering_sentences(evidence, doc_id, quote)
    if not covering:
        return None
    idx = covering[0]
    stored = evidence.sentences[(doc_id, idx)]
    rank, hit = next(((r, h) for r, h in enumerate(evidence.hits) if evidence.chunks[h.chunk_id].doc_id == doc_id
                      and evidence.chunks[h.chunk_id].first <= idx <= evidence.chunks[h.chunk_id].last),
                     (len(evidence.hits), None))
    return Candidate(doc_id, idx, stored.start, stored.end, rank, hit and hit.dense_rank, hit and hit.keyword_rank)


def choose(cands: list[Candidate], logits: np.ndarray, why: dict[int, str] | None = None) -> list[Candidate]:
    """The best sentence, plus up to two more that score nearly as well or continue a chosen one.
    `why` (explain mode) hears the rule that decided each candidate, by its index: "best",
    "close" or "follows" (taken), "far", "full" or "apart" (left out)."""
    order = [int(i) for i in np.argsort(-logits)]
    best = logits[order[0]]
    chosen = [cands[order[0]]]
    decided = {order[0]: "best"}
    for place, i in enumerate(order[1:], 1):
        if len(chosen) == ANSWER_SENTENCES or best - logits[i] > FOLLOW_ADJACENT:
            rule = "full" if len(chosen) == ANSWER_SENTENCES else "far"
            decided.update({j: "far" if best - logits[j] > FOLLOW_ADJACENT else rule for j in order[place:]})
            break
        c = cands[i]
        follows = any(o.doc_id == c.doc_id and c.idx == o.idx + 1 for o in chosen)
        if best - logits[i] <= FOLLOW_GAP or follows:
            chosen.append(c)
        decided[i] = "close" if best - logits[i] <= FOLLOW_GAP else "follows" if follows else "apart"
    if why is not None:
        why.update(decided)
    return chosen


def in_reading_order(chosen: list[Candidate]) -> list[Candidate]:
    """Runs of adjacent sentences in source order, the runs in the order of their best sentence,
    so the first citation is the best one unless the sentence just before it was chosen too."""
    runs: list[list[Candidate]] = []
    for c in chosen:  # best first
        for run in runs:
            if run[0].doc_id == c.doc_id and (c.idx == run[0].idx - 1 or c.idx == run[-1].idx + 1):
                run.append(c)
                run.sort(key=lambda x: x.idx)
                break
        else:
            runs.append([c])
    return [c for run in runs for c in run]


def compose_answer(question: str, chosen: list[Candidate], docs: dict[str, Document], confidence: float,
                   copies: int = 0) -> Answer:
    """The cited sentences, preceded by the date they speak for and how many other outlets ran
    the same story (`copies`), e.g. "As of 2005-03-18 (also reported by 2 other sources): …"."""
    citations = [cite(n, docs[c.doc_id], c.start, c.end) for n, c in enumerate(in_reading_order(chosen), 1)]
    text = cited_text(citations)
    dated = [c.published for c in citations if c.published]
    also = f"also reported by {copies} other source{'s' * (copies != 1)}" if copies else ""
    if dated:  # news goes stale: say when the cited articles are from
        text = f"As of {max(dated)}{f' ({also})' if also else ''}: {text}"
    elif also:
        text = f"{also[0].upper()}{also[1:]}: {text}"
    return Answer(question=question, answer=text, abstained=False, confidence=round(confidence, 4),
                  citations=citations, timings_ms={})


def compose_abstention(question: str, closest: list[Candidate], docs: dict[str, Document], confidence: float) -> Answer:
    citations = [cite(n, docs[c.doc_id], c.start, c.end) for n, c in enumerate(closest, 1)]
    text = "The indexed articles do not answer this question."
    if citations:
        text += " The closest passages are cited for you to check."
    return Answer(question=question, answer=text, abstained=True, confidence=round(confidence, 4),
                  citations=citations, timings_ms={})
