"""Answering: a question and its retrieved chunks in, an `Answer` of cited sentences out.

Sentences, not spans: each candidate sentence gets features (similarity, rare-term coverage,
retrieval rank, answer type), a logistic ranker orders them, and a logistic calibrator turns
the best one's features into a confidence. Both are fitted by scripts/fit_reader.py on SQuAD;
their coefficients live in reader_model.json beside this file.
"""

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from askbrief.records import Answer, Citation, Document
from askbrief.retrieve import Hit
from askbrief.store import Store
from askbrief.text import terms

READ_CHUNKS = 5  # sentences come from the top chunks only; SQuAD recall@5 is ~0.95 (README)
MAX_SENTENCES = 3  # an answer is one to three sentences
FOLLOW_RATIO = 0.6  # a further sentence joins when its probability is this share of the best's
MODEL_FILE = Path(__file__).with_name("reader_model.json")

FEATURES = ("cos", "cos_gap", "neighbour_cos", "coverage", "window_coverage", "missing_rare",
            "chunk_rank", "type_match", "log_words")
_YEAR = re.compile(r"\b(1[5-9]|20)\d\d\b")
_MONTH = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\bcentur", re.I)
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion)\b", re.I)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")


@dataclass(frozen=True, slots=True)
class Candidate:
    doc_id: str
    idx: int
    start: int
    end: int
    chunk_rank: int


@dataclass(frozen=True)
class ReaderModel:
    """Two logistic models: a ranker over sentence features, a calibrator over the best one's."""

    ranker_coef: np.ndarray
    ranker_intercept: float
    calibrator_coef: np.ndarray
    calibrator_intercept: float

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> "ReaderModel":
        data = json.loads(path.read_text())
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path} was fitted on features {data['features']}, reader has {FEATURES}")
        return cls(np.array(data["ranker"]["coef"]), data["ranker"]["intercept"],
                   np.array(data["calibrator"]["coef"]), data["calibrator"]["intercept"])


@cache
def load_model() -> ReaderModel:
    return ReaderModel.load()


def idf_weights(store: Store, question_terms: list[str]) -> dict[str, float]:
    """BM25's IDF of each question term over the index's chunks (unseen terms count as rarest)."""
    freqs, total = store.document_frequencies(question_terms)
    return {t: math.log(1 + (total - freqs.get(t, 0) + 0.5) / (freqs.get(t, 0) + 0.5)) for t in question_terms}


def answer_type(question: str) -> re.Pattern | None:
    """What a sentence must contain to answer this kind of question, if the kind is clear."""
    q = question.lower()
    if re.search(r"\bhow (many|much|long|old|far|large|big)\b|\bwhat (percent|percentage|number)\b", q):
        return _NUMBER
    if re.search(r"\bwhen\b|\bwhat (year|date|century|month|day)\b", q):
        return re.compile(f"{_YEAR.pattern}|{_MONTH.pattern}", re.I)
    if re.search(r"\bwho(m|se)?\b|\bwhere\b", q):
        return _NAME
    return None


def candidates(store: Store, hits: list[Hit]) -> tuple[list[Candidate], dict[tuple[str, int], tuple[int, int, np.ndarray]]]:
    """The sentences of the top chunks (each once, with its best chunk rank), and every fetched
    sentence by (doc_id, idx), neighbours included."""
    chunks = store.chunks([h.chunk_id for h in hits[:READ_CHUNKS]])
    seen: dict[tuple[str, int], Candidate] = {}
    fetched: dict[tuple[str, int], tuple[int, int, np.ndarray]] = {}
    for rank, hit in enumerate(hits[:READ_CHUNKS]):
        chunk = chunks[hit.chunk_id]
        rows, vectors = store.sentences(chunk.doc_id, chunk.first - 1, chunk.last + 1)
        for (idx, start, end), vector in zip(rows, vectors):
            fetched[(chunk.doc_id, idx)] = (start, end, vector)
            if chunk.first <= idx <= chunk.last and (chunk.doc_id, idx) not in seen:
                seen[(chunk.doc_id, idx)] = Candidate(chunk.doc_id, idx, start, end, rank)
    return list(seen.values()), fetched


def features(question: str, query_vector: np.ndarray, cands: list[Candidate],
             fetched: dict[tuple[str, int], tuple[int, int, np.ndarray]], docs: dict[str, Document],
             idf: dict[str, float]) -> np.ndarray:
    """(len(cands), len(FEATURES)) float matrix; see FEATURES for the columns."""
    q_terms = set(idf)
    total_idf = sum(idf.values()) or 1.0
    max_idf = max(idf.values(), default=1.0)
    wanted = answer_type(question)
    cos_of = {key: float(vec @ query_vector) for key, (_, _, vec) in fetched.items()}
    best_cos = max((cos_of[(c.doc_id, c.idx)] for c in cands), default=0.0)
    out = np.zeros((len(cands), len(FEATURES)), dtype=np.float64)
    for row, c in enumerate(cands):
        text = docs[c.doc_id].text
        own = set(terms(text[c.start:c.end]))
        window = set(own)
        neighbours = [(c.doc_id, c.idx - 1), (c.doc_id, c.idx + 1)]
        for key in neighbours:
            if key in fetched:
                window |= set(terms(text[fetched[key][0]:fetched[key][1]]))
        missing = [idf[t] for t in q_terms - window]
        cos = cos_of[(c.doc_id, c.idx)]
        sentence = text[c.start:c.end]
        out[row] = (
            cos,
            cos - best_cos,
            max((cos_of[k] for k in neighbours if k in cos_of), default=0.0),
            sum(idf[t] for t in q_terms & own) / total_idf,
            sum(idf[t] for t in q_terms & window) / total_idf,
            max(missing, default=0.0) / max_idf,
            1.0 / (1 + c.chunk_rank),
            0.5 if wanted is None else float(bool(wanted.search(sentence))),
            math.log(1 + len(sentence.split())),
        )
    return out


def calibrator_inputs(logits: np.ndarray, feats: np.ndarray) -> np.ndarray:
    """What the calibrator sees for the best sentence: its logit, its lead over the runner-up,
    and the evidence that something the question asks about is missing."""
    order = np.argsort(-logits)
    top = order[0]
    runner_up = logits[order[1]] if len(order) > 1 else logits[top] - 5.0
    col = {name: i for i, name in enumerate(FEATURES)}
    return np.array([logits[top], logits[top] - runner_up, feats[top, col["missing_rare"]],
                     feats[top, col["coverage"]], feats[top, col["cos"]]])


def sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))


class Reader:
    def __init__(self, store: Store, threshold: float, model: ReaderModel | None = None):
        self.store = store
        self.threshold = threshold
        self.model = model or load_model()

    def score(self, question: str, query_vector: np.ndarray, hits: list[Hit]):
        """Candidates, their features, ranker logits and the answer's confidence."""
        cands, fetched = candidates(self.store, hits)
        docs = self.store.documents({c.doc_id for c in cands})
        idf = idf_weights(self.store, list(dict.fromkeys(terms(question))))
        feats = features(question, query_vector, cands, fetched, docs, idf)
        if not cands:
            return cands, feats, np.zeros(0), 0.0, docs
        logits = feats @ self.model.ranker_coef + self.model.ranker_intercept
        confidence = float(sigmoid(calibrator_inputs(logits, feats) @ self.model.calibrator_coef
                                   + self.model.calibrator_intercept))
        return cands, feats, logits, confidence, docs

    def answer(self, question: str, query_vector: np.ndarray, hits: list[Hit]) -> Answer:
        cands, _, logits, confidence, docs = self.score(question, query_vector, hits)
        order = list(np.argsort(-logits))
        if not cands or confidence < self.threshold:
            closest = [cands[i] for i in order[:2]]
            return compose_abstention(question, closest, docs, confidence)
        chosen = [cands[order[0]]]
        best = sigmoid(logits[order[0]])
        for i in order[1:]:
            if len(chosen) == MAX_SENTENCES:
                break
            if sigmoid(logits[i]) >= FOLLOW_RATIO * best:
                chosen.append(cands[i])
        return compose_answer(question, chosen, docs, confidence)


def cite(n: int, doc: Document, start: int, end: int) -> Citation:
    """The one way a citation is made: its quote is cut from the stored text at its offsets."""
    return Citation(n=n, doc_id=doc.id, title=doc.title, published=doc.published, source=doc.source,
                    start=start, end=end, quote=doc.text[start:end])


def in_reading_order(chosen: list[Candidate]) -> list[Candidate]:
    """Sentences grouped by document (in order of first appearance), in source order within one."""
    first_seen = {c.doc_id: i for i, c in reversed(list(enumerate(chosen)))}
    return sorted(chosen, key=lambda c: (first_seen[c.doc_id], c.idx))


def compose_answer(question: str, chosen: list[Candidate], docs: dict[str, Document], confidence: float) -> Answer:
    citations = [cite(n, docs[c.doc_id], c.start, c.end) for n, c in enumerate(in_reading_order(chosen), 1)]
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    return Answer(question=question, answer=text, abstained=False, confidence=round(confidence, 4),
                  citations=citations, timings_ms={})


def compose_abstention(question: str, closest: list[Candidate], docs: dict[str, Document], confidence: float) -> Answer:
    citations = [cite(n, docs[c.doc_id], c.start, c.end) for n, c in enumerate(closest, 1)]
    text = "The indexed articles do not answer this question."
    if citations:
        text += " The closest passages are cited for you to check."
    return Answer(question=question, answer=text, abstained=True, confidence=round(confidence, 4),
                  citations=citations, timings_ms={})
