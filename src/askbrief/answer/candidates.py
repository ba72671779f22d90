"""What the reader weighs: candidate sentences, their scores, and a quote reading."""

from dataclasses import dataclass

import numpy as np

from askbrief.records import Evidence, Quote


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
class Scored:
    """A question's candidates, their features and ranker logits."""

    cands: list[Candidate]
    feats: np.ndarray
    logits: np.ndarray


@dataclass(frozen=True)
class QuoteReading:
    """What `Reader.from_quotes` weighed (kept for explain mode): each quote's relevance to the
    topic against the bar, the opening sentences read, their scores, and the best one's verdict and confidence."""

    quotes: list[tuple[str, Quote]]
    relevance: np.ndarray
    bar: float
    opening: dict[tuple[str, Quote], Candidate]
    scored: Scored
    span_model: float
    confidence: float
    verifier: float | None = None  # the verifier's logit for the best opening sentence, when it reads


def reading_pair(evidence: Evidence, cand: Candidate) -> tuple[str, str]:
    """(the sentence before, the sentence): what the span model reads."""
    doc = evidence.documents[cand.doc_id]
    before = evidence.sentences.get((cand.doc_id, cand.idx - 1))
    return doc.text[before.start:before.end] if before else "", doc.text[cand.start:cand.end]
