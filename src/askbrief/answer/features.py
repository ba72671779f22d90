"""The reader's features of each candidate sentence: its cosine to the question under the
question-tuned embedder (stored at ingest, so reading costs a dot product), rare-term coverage,
BM25, its neighbours, retrieval ranks, answer type, length."""

import math
from typing import TYPE_CHECKING

import numpy as np

from askbrief.answer.candidates import Candidate
from askbrief.index.search import BM25_B, BM25_K1
from askbrief.records import Evidence
from askbrief.retrieve.question import Question
from askbrief.text.sentences import SENTENCE_ENDINGS, terms

if TYPE_CHECKING:
    from askbrief.records.trace import Trace


FEATURES = ("cos", "cos_gap", "cos_rank", "neighbour_cos", "coverage", "coverage_gap", "matched", "bm25",
            "bigrams", "window_coverage", "missing_rare", "chunk_rank", "dense_rank", "keyword_rank", "type_match",
            "log_words")


def idf_weights(counts: dict[str, int], total: int, question_terms: list[str]) -> dict[str, float]:
    """BM25's IDF of each question term over `total` chunks, `counts[t]` of which hold t
    (unseen terms count as rarest)."""
    return {t: math.log(1 + (total - counts.get(t, 0) + 0.5) / (counts.get(t, 0) + 0.5)) for t in question_terms}


def bm25(question_terms: set[str], idf: dict[str, float], sentence_terms: list[str], avg_len: float) -> float:
    """Okapi BM25 of one sentence for the question's terms, sentences as the documents."""
    norm = BM25_K1 * (1 - BM25_B + BM25_B * len(sentence_terms) / avg_len)
    counts = {t: sentence_terms.count(t) for t in question_terms.intersection(sentence_terms)}
    return sum(idf[t] * n * (BM25_K1 + 1) / (n + norm) for t, n in counts.items())


def candidates(evidence: Evidence, trace: "Trace | None" = None) -> list[Candidate]:
    """The sentences of the evidence's chunks (each once, with its best chunk rank), one copy
    per syndicated cluster: the best-ranked, as retrieval folded them. A trace hears which copies
    were folded into which."""
    chunks = [evidence.chunks[h.chunk_id] for h in evidence.hits]
    if trace is not None:
        trace.folded = evidence.folded
    seen: dict[tuple[str, int], Candidate] = {}
    for rank, (hit, chunk) in enumerate(zip(evidence.hits, chunks)):
        if chunk.doc_id in evidence.folded:
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
    idf = idf_weights(evidence.term_counts, evidence.chunk_total, list(dict.fromkeys(question.terms)))
    if trace is not None:
        trace.idf = idf
    if not cands:
        return out
    q_terms = set(idf)
    q_list = list(question.terms)
    q_bigrams = set(zip(q_list, q_list[1:]))
    total_idf = sum(idf.values()) or 1.0
    max_idf = max(idf.values(), default=1.0)
    docs = evidence.documents
    cos_of = {key: float(s.vector @ query_vector) for key, s in evidence.sentences.items()}
    texts = {key: docs[key[0]].text[s.start:s.end] for key, s in evidence.sentences.items()}
    tokens = {key: terms(text, docs[key[0]].lang) for key, text in texts.items()}  # as its chunk's were
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
    every = candidates(evidence, trace)
    # Headlines and bylines are not evidence when real sentences are at hand.
    cands = [c for c in every if docs[c.doc_id].text[c.start:c.end].endswith(SENTENCE_ENDINGS)] or every
    if trace is not None:
        trace.headlines = [c for c in every if c not in cands]
    return cands, features(question, query_vector, cands, evidence, trace)
