"""Fit the reader's ranker and confidence calibrator on SQuAD, report them cross-validated by
article, and write the coefficients to src/askbrief/ranker.json.

    python scripts/fit_reader.py ../shared/data/squad2-dev-subset.json ../shared/data/squad1-dev-xquad-subset.json

The ranker (a linear listwise model over FEATURES: softmax over one question's candidates,
fitted by L-BFGS) learns which candidate sentence holds the answer, from the answerable
questions of both files. The calibrator (logistic regression over the best
sentence's logit, its lead and its coverage) learns P(the first cited sentence is right) on the
SQuAD 2.0 file, whose unanswerable questions teach it when to abstain.
"""

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).parent))
from eval_qa import expected_calibration_error  # noqa: E402
from squad import build_engine, contains_answer, load_squad  # noqa: E402

# The reader's trainer: it computes the reader's own features, so it imports the reader's internals.
from askbrief.question import parse  # noqa: E402
from askbrief.reader import FEATURES, MODEL_FILE, calibrator_inputs, gather  # noqa: E402

C = 1.0  # the calibrator's inverse L2 strength: 5 inputs, ~950 rows
RANKER_L2 = 0.1  # the ranker's L2 penalty; CV accuracy is flat from 0.01 to 1


@dataclass
class Sample:
    """One question's candidates as the reader sees them."""

    group: str  # the article the question was written on: the unit of cross-validation
    kind: str  # "squad2", "squad1", or "foreign": a SQuAD 1.1 question asked of the SQuAD 2.0 index
    answerable: bool
    feats: np.ndarray
    labels: np.ndarray  # candidate sentence holds a gold answer


def collect(engine, questions: list, kind: str) -> list[Sample]:
    vectors = engine.embedder.encode([q.text for q in questions])
    samples = []
    for q, v in zip(questions, vectors):
        question = parse(q.text)
        evidence = engine.evidence(question, v, 5)
        cands, feats = gather(question, v, evidence)
        docs = evidence.documents
        if not cands:
            continue
        answers = q.answers if kind != "foreign" else ()
        labels = np.array([contains_answer(docs[c.doc_id].text[c.start:c.end], answers) for c in cands])
        samples.append(Sample(q.article, kind, bool(answers), feats, labels))
    return samples


def collect_all(squad2: Path, squad1: Path, home: Path) -> list[Sample]:
    docs2, questions2 = load_squad(squad2)
    docs1, questions1 = load_squad(squad1)
    engine2 = build_engine(docs2, home, "squad2")
    engine1 = build_engine(docs1, home, "squad1")
    return (collect(engine2, questions2, "squad2") + collect(engine1, questions1, "squad1")
            + collect(engine2, questions1, "foreign"))


@dataclass(frozen=True)
class Ranker:
    coef_: np.ndarray
    intercept_: np.ndarray  # kept at 0: a listwise model ranks, the calibrator sets the scale


def fit_ranker(samples: list[Sample]) -> Ranker:
    """Maximise the log-probability of the candidates that hold the answer under a softmax over
    each question's candidates (only questions with at least one such candidate)."""
    rows = [s for s in samples if s.answerable and s.labels.any()]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = RANKER_L2 * w @ w, 2 * RANKER_L2 * w
        for s in rows:
            z = s.feats @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            y = s.labels / s.labels.sum()
            value -= float(y @ np.log(p + 1e-12))
            grad -= s.feats.T @ (y - p)
        return value, grad

    w = minimize(loss, np.zeros(len(FEATURES)), jac=True, method="L-BFGS-B").x
    return Ranker(w.reshape(1, -1), np.zeros(1))


def calibration_rows(ranker: LogisticRegression, samples: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
    X, y = [], []
    for s in samples:
        logits = s.feats @ ranker.coef_[0] + ranker.intercept_[0]
        X.append(calibrator_inputs(logits, s.feats))
        y.append(s.answerable and bool(s.labels[int(np.argmax(logits))]))
    return np.array(X), np.array(y, dtype=float)


def fit(samples: list[Sample]) -> tuple[Ranker, LogisticRegression, float]:
    """The ranker, the calibrator, and the abstention threshold that suits them."""
    ranker = fit_ranker(samples)
    rows = [s for s in samples if s.kind != "squad1"]
    X, y = calibration_rows(ranker, rows)
    calibrator = LogisticRegression(C=C, max_iter=2000).fit(X, y)
    answerable = np.array([s.answerable for s in rows])
    return ranker, calibrator, best_threshold(calibrator.predict_proba(X)[:, 1], answerable)


def cross_validate(samples: list[Sample]) -> dict:
    """Hold out each SQuAD 2.0 article in turn (fit on the rest, SQuAD 1.1 included), and the
    SQuAD 1.1 articles in three folds; pool the held-out predictions' figures per file. The
    abstention threshold, too, is chosen on the training folds only."""
    squad2_groups = sorted({s.group for s in samples if s.kind == "squad2"})
    squad1_groups = sorted({s.group for s in samples if s.kind == "squad1"})
    folds = [[g] for g in squad2_groups] + [squad1_groups[i::3] for i in range(3)]
    held: dict[str, list] = {"squad2": [], "squad1": [], "foreign": []}
    for fold in folds:
        train = [s for s in samples if s.group not in fold]
        test = [s for s in samples if s.group in fold]
        ranker, calibrator, threshold = fit(train)
        X, right = calibration_rows(ranker, test)
        for s, r, c in zip(test, right, calibrator.predict_proba(X)[:, 1]):
            held[s.kind].append((s, r, c, threshold))
    return {name: summarise(rows) for name, rows in held.items()}


def best_threshold(confidence: np.ndarray, answerable: np.ndarray) -> float:
    """The confidence cut that best separates answerable from unanswerable (balanced accuracy)."""
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    scores = [((confidence >= t)[answerable].mean() + (confidence < t)[~answerable].mean()) / 2 for t in grid]
    return float(grid[int(np.argmax(scores))])


def summarise(rows: list) -> dict:
    """Held-out figures from (sample, right, confidence, threshold) rows."""
    right = np.array([r for _, r, _, _ in rows])
    conf = np.array([c for _, _, c, _ in rows])
    cut = np.array([t for _, _, _, t in rows])
    answerable = np.array([s.answerable for s, _, _, _ in rows])
    out = {"questions": len(rows), "ece": expected_calibration_error(conf, right)}
    if answerable.any():
        out["accuracy@1"] = float(right[answerable].mean())
        out["answered_when_answerable"] = float((conf >= cut)[answerable].mean())
    if (~answerable).any():
        out["declined_when_unanswerable"] = float((conf < cut)[~answerable].mean())
    if answerable.any() and (~answerable).any():
        out["auc_answerable"] = float(roc_auc_score(answerable, conf))
        out["balanced_accuracy"] = (out["answered_when_answerable"] + out["declined_when_unanswerable"]) / 2
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad2", type=Path)
    parser.add_argument("squad1", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        samples = collect_all(args.squad2, args.squad1, Path(home))
    cv = cross_validate(samples)
    print(json.dumps({"cross_validated_by_article": cv}, indent=2))
    ranker, calibrator, threshold = fit(samples)
    model = {
        "note": "fitted by scripts/fit_reader.py on the SQuAD 2.0 and 1.1 subsets in ../shared/data",
        "features": list(FEATURES),
        "ranker": {"coef": ranker.coef_[0].round(5).tolist(), "intercept": round(float(ranker.intercept_[0]), 5)},
        "calibrator": {"inputs": ["top_logit", "lead", "missing_rare", "coverage", "cos"],
                       "coef": calibrator.coef_[0].round(5).tolist(),
                       "intercept": round(float(calibrator.intercept_[0]), 5)},
        "threshold": threshold,
        "cross_validated_by_article": cv,
    }
    MODEL_FILE.write_text(json.dumps(model, indent=2) + "\n")
    print(f"written to {MODEL_FILE}")


if __name__ == "__main__":
    main()
