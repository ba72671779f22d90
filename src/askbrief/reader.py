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
# A further sentence joins the best one when its ranker logit is within this many nats of the
# best's (half its softmax weight; 0.7 trades evidence@1 against @3 on SQuAD, README), or within FOLLOW_ADJACENT when it
# directly follows a chosen sentence and so continues it ("…growing," he was quoted as saying).
FOLLOW_GAP = 0.7
FOLLOW_ADJACENT = 3.0
TIE_BREAK = 1e-6  # far below any real score gap: equal sentences (syndicated copies) go to the newer article
MODEL_FILE = Path(__file__).with_name("reader_model.json")
SENTENCE_ENDINGS = ('.', '!', '?', '"', "'", "”", "’", ")")  # a line without one is a headline or a byline

FEATURES = ("cos", "cos_gap", "cos_rank", "neighbour_cos", "coverage", "coverage_gap", "matched", "bm25",
            "bigrams", "window_coverage", "missing_rare", "chunk_rank", "dense_rank", "keyword_rank", "type_match",
            "log_words")
BM25_K1, BM25_B = 1.2, 0.75  # Robertson & Zaragoza (2009), the usual defaults
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
    dense_rank: int | None  # of its chunk in the dense list before fusion
    keyword_rank: int | None


@dataclass(frozen=True)
class ReaderModel:
    """Two logistic models: a ranker over sentence features, a calibrator over the best one's."""

    ranker_coef: np.ndarray
    ranker_intercept: float
    calibrator_coef: np.ndarray
    calibrator_intercept: float
    threshold: float  # abstain below this confidence unless the settings say otherwise

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> "ReaderModel":
        data = json.loads(path.read_text())
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path} was fitted on features {data['features']}, reader has {FEATURES}")
        return cls(np.array(data["ranker"]["coef"]), data["ranker"]["intercept"],
                   np.array(data["calibrator"]["coef"]), data["calibrator"]["intercept"], data["threshold"])


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


def offers_new(wanted: re.Pattern, sentence: str, question: str) -> bool:
    """Whether the sentence holds something of the wanted type that the question does not
    already say: the answer to "Who met Putin?" is a name other than Putin."""
    asked = question.lower()
    return any(m.group(0).lower() not in asked for m in wanted.finditer(sentence))


def candidates(store: Store, hits: list[Hit]) -> tuple[list[Candidate], dict[tuple[str, int], tuple[int, int, np.ndarray]]]:
    """The sentences of the top chunks (each once, with its best chunk rank), and every fetched
    sentence by (doc_id, idx), neighbours included."""
    chunks = store.chunks([h.chunk_id for h in hits[:READ_CHUNKS]])
    clusters = store.clusters_of(c.doc_id for c in chunks.values())
    reader_of: dict[str, str] = {}  # cluster -> the one copy read: the best-ranked
    seen: dict[tuple[str, int], Candidate] = {}
    fetched: dict[tuple[str, int], tuple[int, int, np.ndarray]] = {}
    for rank, hit in enumerate(hits[:READ_CHUNKS]):
        chunk = chunks[hit.chunk_id]
        if reader_of.setdefault(clusters[chunk.doc_id], chunk.doc_id) != chunk.doc_id:
            continue  # a syndicated copy of an article already being read
        rows, vectors = store.sentences(chunk.doc_id, chunk.first - 1, chunk.last + 1)
        for (idx, start, end), vector in zip(rows, vectors):
            fetched[(chunk.doc_id, idx)] = (start, end, vector)
            if chunk.first <= idx <= chunk.last and (chunk.doc_id, idx) not in seen:
                seen[(chunk.doc_id, idx)] = Candidate(chunk.doc_id, idx, start, end, rank, hit.dense_rank, hit.keyword_rank)
    return list(seen.values()), fetched


def features(question: str, query_vector: np.ndarray, cands: list[Candidate],
             fetched: dict[tuple[str, int], tuple[int, int, np.ndarray]], docs: dict[str, Document],
             idf: dict[str, float]) -> np.ndarray:
    """(len(cands), len(FEATURES)) float matrix; see FEATURES for the columns.

    Columns ending in _gap or _rank compare a sentence with the other candidates of the same
    question, which is what a per-question ranking needs.
    """
    out = np.zeros((len(cands), len(FEATURES)), dtype=np.float64)
    if not cands:
        return out
    q_terms = set(idf)
    q_list = terms(question)
    q_bigrams = set(zip(q_list, q_list[1:]))
    total_idf = sum(idf.values()) or 1.0
    max_idf = max(idf.values(), default=1.0)
    wanted = answer_type(question)
    cos_of = {key: float(vec @ query_vector) for key, (_, _, vec) in fetched.items()}
    texts = {key: docs[key[0]].text[start:end] for key, (start, end, _) in fetched.items()}
    tokens = {key: terms(text) for key, text in texts.items()}
    avg_len = np.mean([len(tokens[(c.doc_id, c.idx)]) for c in cands]) or 1.0
    for row, c in enumerate(cands):
        key = (c.doc_id, c.idx)
        own_list = tokens[key]
        own = set(own_list)
        neighbours = [(c.doc_id, c.idx - 1), (c.doc_id, c.idx + 1)]
        window = own.union(*(tokens[k] for k in neighbours if k in tokens))
        tf = {t: own_list.count(t) for t in q_terms & own}
        norm = BM25_K1 * (1 - BM25_B + BM25_B * len(own_list) / avg_len)
        bm25 = sum(idf[t] * n * (BM25_K1 + 1) / (n + norm) for t, n in tf.items())
        out[row] = (
            cos_of[key],
            0.0,  # cos_gap, filled below
            0.0,  # cos_rank
            max((cos_of[k] for k in neighbours if k in cos_of), default=0.0),
            sum(idf[t] for t in tf) / total_idf,
            0.0,  # coverage_gap
            len(tf) / max(len(q_terms), 1),
            bm25 / total_idf,
            len(q_bigrams & set(zip(own_list, own_list[1:]))) / max(len(q_bigrams), 1),
            sum(idf[t] for t in q_terms & window) / total_idf,
            max((idf[t] for t in q_terms - window), default=0.0) / max_idf,
            1.0 / (1 + c.chunk_rank),
            0.0 if c.dense_rank is None else 1.0 / (1 + c.dense_rank),
            0.0 if c.keyword_rank is None else 1.0 / (1 + c.keyword_rank),
            0.5 if wanted is None else float(offers_new(wanted, texts[key], question)),
            math.log(1 + len(texts[key].split())),
        )
    col = {name: i for i, name in enumerate(FEATURES)}
    out[:, col["cos_gap"]] = out[:, col["cos"]] - out[:, col["cos"]].max()
    out[:, col["coverage_gap"]] = out[:, col["coverage"]] - out[:, col["coverage"]].max()
    out[:, col["cos_rank"]] = 1.0 / (1 + np.argsort(np.argsort(-out[:, col["cos"]])))
    return out


def gather(store: Store, question: str, query_vector: np.ndarray, hits: list[Hit]):
    """The candidate sentences of the top chunks, their feature matrix, and their documents."""
    cands, fetched = candidates(store, hits)
    docs = store.documents({c.doc_id for c in cands})
    # Headlines and bylines are not evidence when real sentences are at hand.
    cands = [c for c in cands if docs[c.doc_id].text[c.start:c.end].endswith(SENTENCE_ENDINGS)] or cands
    idf = idf_weights(store, list(dict.fromkeys(terms(question))))
    return cands, features(question, query_vector, cands, fetched, docs, idf), docs


def calibrator_inputs(logits: np.ndarray, feats: np.ndarray) -> np.ndarray:
    """What the calibrator sees for the best sentence: its logit, its lead over the runner-up,
    and the evidence that something the question asks about is missing."""
    order = np.argsort(-logits)
    top = order[0]
    runner_up = logits[order[1]] if len(order) > 1 else logits[top] - 5.0
    col = {name: i for i, name in enumerate(FEATURES)}
    return np.array([logits[top], logits[top] - runner_up, feats[top, col["missing_rare"]],
                     feats[top, col["coverage"]], feats[top, col["cos"]]])


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


class Reader:
    def __init__(self, store: Store, threshold: float | None = None, model: ReaderModel | None = None):
        self.store = store
        self.model = model or load_model()
        self.threshold = self.model.threshold if threshold is None else threshold

    def score(self, question: str, query_vector: np.ndarray, hits: list[Hit], prefer_recent: bool = False):
        """Candidates, their features, ranker logits, the answer's confidence, and their documents.

        With `prefer_recent` ("the latest on…") the newest article among those that answer nearly
        as well as the best (within FOLLOW_ADJACENT nats) leads: older ones step back by that gap."""
        cands, feats, docs = gather(self.store, question, query_vector, hits)
        if not cands:
            return cands, feats, np.zeros(0), 0.0, docs
        logits = feats @ self.model.ranker_coef + self.model.ranker_intercept
        published = [docs[c.doc_id].published for c in cands]
        logits = logits + TIE_BREAK * newness(published)
        if prefer_recent:
            logits = newest_first(logits, published)
        confidence = float(sigmoid(calibrator_inputs(logits, feats) @ self.model.calibrator_coef
                                   + self.model.calibrator_intercept))
        return cands, feats, logits, confidence, docs

    def answer(self, question: str, query_vector: np.ndarray, hits: list[Hit], prefer_recent: bool = False) -> Answer:
        cands, _, logits, confidence, docs = self.score(question, query_vector, hits, prefer_recent)
        order = list(np.argsort(-logits))
        if not cands or confidence < self.threshold:
            closest = [cands[i] for i in order[:2]]
            return compose_abstention(question, closest, docs, confidence)
        chosen = choose(cands, logits)
        copies = len(self.store.also_reported_by(chosen[0].doc_id))
        return compose_answer(question, chosen, docs, confidence, copies)


def choose(cands: list[Candidate], logits: np.ndarray) -> list[Candidate]:
    """The best sentence, plus up to two more that score nearly as well or continue a chosen one."""
    order = [int(i) for i in np.argsort(-logits)]
    best = logits[order[0]]
    chosen = [cands[order[0]]]
    for i in order[1:]:
        if len(chosen) == MAX_SENTENCES or best - logits[i] > FOLLOW_ADJACENT:
            break
        c = cands[i]
        follows = any(o.doc_id == c.doc_id and c.idx == o.idx + 1 for o in chosen)
        if best - logits[i] <= FOLLOW_GAP or follows:
            chosen.append(c)
    return chosen


CITATION_HASH = 16  # hex digits of the text's sha256 in a citation id: 64 bits, no collision in practice


def citation_id(doc: Document, start: int, end: int) -> str:
    """A sentence's id from what it is, not where it is stored: the same text gives the same id
    after a re-index, an upsert of the same text, or deletes of other documents."""
    return f"{doc.hash[:CITATION_HASH]}:{start}-{end}"


def cite(n: int, doc: Document, start: int, end: int) -> Citation:
    """The one way a citation is made: its quote is cut from the stored text at its offsets."""
    return Citation(n=n, id=citation_id(doc, start, end), doc_id=doc.id, title=doc.title, published=doc.published,
                    source=doc.source, start=start, end=end, quote=doc.text[start:end])


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
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
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
