"""The answerability verifier: do the sentences the reader would cite answer this question?

A MiniLM cross-encoder (scripts/train_verifier.py; not shipped while it does not beat the
calibrator's own signals held out: docs/reader.md has both attempts' figures) that reads the
question against the best candidate's article title and the ranker's best few sentences as one
passage, and gives one verdict, SQuAD 2.0-style (a null answer over the whole passage, not a
score per sentence). It learns from the passages today's reader would cite for SQuAD 2.0 dev-16's
1,988 human-written unanswerable questions, against the same reader's passages for answerable
ones; train-10's 348 calibrate it. Its verdict goes to the calibrator. Run by onnxruntime like
the span model.
"""

from functools import cache
from pathlib import Path

from askbrief.answer.candidates import Candidate
from askbrief.answer.span import SentenceScorer
from askbrief.records import Evidence

VERIFIER_FILE = Path(__file__).parents[1] / "models" / "verifier.int8.onnx"
PASSAGE_TOKENS = 256  # question + title + the read sentences, in word pieces; the last sentence's end is cut first


def passage(sentences: list[str]) -> str:
    """The sentences as the verifier reads them, best first (the same in training)."""
    return " ".join(s.strip() for s in sentences)


class Verifier:
    def __init__(self, path: Path = VERIFIER_FILE):
        self.model = SentenceScorer(path, rebuild="make train-verifier", max_tokens=PASSAGE_TOKENS)

    def verdict(self, question: str, cands: list[Candidate], evidence: Evidence) -> float:
        """The verifier's logit for these candidates read together (best first): above 0, it
        reads them as answering."""
        if not cands:
            return 0.0
        docs = evidence.documents
        text = passage([docs[c.doc_id].text[c.start:c.end] for c in cands])
        return float(self.model.score(question, [("", text)], [docs[cands[0].doc_id].title or ""])[0][0])


@cache
def load_verifier() -> Verifier:
    """One verifier per process."""
    return Verifier()
