"""The answerability verifier: does this sentence answer this question?

A 3-layer MiniLM cross-encoder (scripts/train_verifier.py, model card models/VERIFIER.md) that
reads the question against the article's title, the sentence before and the candidate sentence,
trained on the sentences today's reader would cite for 2,336 human-written unanswerable SQuAD 2.0
questions and on the reader's near misses. The reader asks it about its best few sentences: its
verdict on the chosen one goes to the calibrator, and it may lift a close runner-up to first.
Run by onnxruntime like the span model (the same encoding, plus the title).
"""

from functools import cache
from pathlib import Path

import numpy as np

from askbrief.answer.candidates import Candidate, reading_pair
from askbrief.answer.span import SentenceScorer
from askbrief.records import Evidence

VERIFIER_FILE = Path(__file__).parents[1] / "models" / "verifier.int8.onnx"


class Verifier:
    def __init__(self, path: Path = VERIFIER_FILE):
        self.model = SentenceScorer(path, rebuild="make train-verifier")

    def verdicts(self, question: str, cands: list[Candidate], evidence: Evidence) -> np.ndarray:
        """The verifier's logit for each candidate: above 0, it reads the sentence as answering."""
        if not cands:
            return np.zeros(0, dtype=np.float32)
        pairs = [reading_pair(evidence, c) for c in cands]
        return self.model.score(question, pairs, [evidence.documents[c.doc_id].title or "" for c in cands])[0]


@cache
def load_verifier() -> Verifier:
    """One verifier per process."""
    return Verifier()
