"""The reader's linear models, fitted by scripts/fit_reader.py (models/ranker.json): a listwise
ranker over the features and a logistic calibrator over the best sentence's; and the rules that
move a ranker score (the newest-first step for "latest", the tie-break between copies)."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from askbrief.answer.features import FEATURES
from askbrief.errors import IndexIncompatible

ANSWER_SENTENCES = 3  # an answer is one to three sentences
# A further sentence joins the best one when its ranker logit is within this many nats of the
# best's (half its softmax weight; 0.7 trades evidence@1 against @3 on SQuAD, README), or within FOLLOW_ADJACENT when it
# directly follows a chosen sentence and so continues it ("…growing," he was quoted as saying).
FOLLOW_GAP = 0.7
FOLLOW_ADJACENT = 3.0
TIE_BREAK = 1e-6  # far below any real score gap: equal sentences (syndicated copies) go to the newer article
NO_RUNNER_UP = 5.0  # nats: the lead a lone candidate is given over the runner-up it lacks
MODEL_FILE = Path(__file__).parents[1] / "models" / "ranker.json"


@dataclass(frozen=True)
class ReaderModel:
    """Linear models over sentence features: a ranker (listwise), and a logistic calibrator over
    the best sentence's."""

    ranker_coef: np.ndarray
    ranker_intercept: float
    calibrator_coef: np.ndarray
    calibrator_intercept: float
    threshold: float  # abstain below this confidence unless the settings say otherwise
    verified: int = 3  # the best candidates the verifier reads, together

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> "ReaderModel":
        data = json.loads(path.read_text())
        if tuple(data["features"]) != FEATURES:
            raise IndexIncompatible(f"{path} was fitted on features {data['features']}, the reader computes {FEATURES};"
                                    " refit it with `make fit`")
        inputs = data["calibrator"]["inputs"]
        if not set(inputs) <= set(CALIBRATOR_INPUTS):
            raise IndexIncompatible(f"{path}'s calibrator reads {inputs}, the reader gives it {CALIBRATOR_INPUTS};"
                                    " refit it with `make fit`")
        # An input the fitted calibrator does not read weighs 0 (a calibrator fitted without the verifier).
        weights = dict(zip(inputs, data["calibrator"]["coef"]))
        verifier = data.get("verifier", {})
        return cls(np.array(data["ranker"]["coef"]), data["ranker"]["intercept"],
                   np.array([weights.get(name, 0.0) for name in CALIBRATOR_INPUTS]), data["calibrator"]["intercept"],
                   data["threshold"], verifier.get("read", 3))

    @property
    def uses_verifier(self) -> bool:
        """Whether the verifier's verdict moves anything: a weight in the calibrator."""
        return bool(self.calibrator_coef[CALIBRATOR_INPUTS.index("verifier")])


@cache
def load_model(path: Path = MODEL_FILE) -> ReaderModel:
    return ReaderModel.load(path)


def model_file_for(embedder: str, kind: str = "") -> Path | None:
    """The ranker fitted on the embedder's own cosines (models/ranker-EMBEDDER.json when
    scripts/fit_reader.py --embedder wrote one), else the English embedder's; a `kind`
    ("crosslingual", "other-languages", written by --crosslingual): that one, None where there is none."""
    named = MODEL_FILE.with_name(f"ranker-{embedder.rsplit('/', 1)[-1]}{'-' * bool(kind)}{kind}.json")
    return named if named.exists() else (None if kind else MODEL_FILE)


CALIBRATOR_INPUTS = ("top_logit", "lead", "missing_rare", "coverage", "cos", "model", "verifier")


def calibrator_inputs(logits: np.ndarray, feats: np.ndarray, model: float, top: int | None = None,
                      verifier: float = 0.0) -> np.ndarray:
    """What the calibrator sees for the answering sentence (`top`, by default the best): its
    logit, its lead over the best other one, the evidence that something the question asks
    about is missing, the span model's answer logit for it (`model`) and the verifier's."""
    top = int(np.argmax(logits)) if top is None else top
    others = np.delete(logits, top)
    runner_up = others.max() if len(others) else logits[top] - NO_RUNNER_UP
    col = {name: i for i, name in enumerate(FEATURES)}
    return np.array([logits[top], logits[top] - runner_up, feats[top, col["missing_rare"]],
                     feats[top, col["coverage"]], feats[top, col["cos"]], model, verifier])


def newness(published: list[str | None]) -> np.ndarray:
    """0 for the oldest (or undated) of these articles up to 1 for the newest."""
    dates = sorted({p for p in published if p})
    rank = {d: (i + 1) / len(dates) for i, d in enumerate(dates)}
    return np.array([rank.get(p, 0.0) if p else 0.0 for p in published])


def newest_near_best(logits: np.ndarray, published: list[str | None]) -> str | None:
    """The newest date among the articles of the candidates within FOLLOW_ADJACENT of the best."""
    near_best = logits >= logits.max() - FOLLOW_ADJACENT
    return max((p for p, ok in zip(published, near_best) if ok and p), default=None)


def newest_first(logits: np.ndarray, published: list[str | None]) -> np.ndarray:
    """Lower every candidate from an article older than the newest near-best one by FOLLOW_ADJACENT."""
    newest = newest_near_best(logits, published)
    if newest is None:
        return logits
    older = np.array([(p or "") < newest for p in published])
    return logits - FOLLOW_ADJACENT * older


def sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))
