"""Fit the reader's ranker and confidence calibrator on SQuAD, report them cross-validated by
article, and write the coefficients to src/askbrief/reader_model.json.

    python scripts/fit_reader.py ../shared/data/squad2-dev-subset.json ../shared/data/squad1-dev-xquad-subset.json

The ranker (logistic regression over FEATURES) learns which candidate sentence holds the answer,
from the answerable questions of both files. The calibrator (logistic regression over the best
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
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).parent))
from eval_qa import expected_calibration_error  # noqa: E402
from squad import build_engine, contains_answer, load_squad  # noqa: E402

from askbrief.reader import FEATURES, MODEL_FILE, calibrator_inputs  # noqa: E402
from askbrief.retrieve import Retriever  # noqa: E402

C = 1.0  # inverse L2 strength; the models have 9 and 5 inputs and thousands of rows
THRESHOLD = 0.5


@dataclass
class Sample:
    """One question's candidates as the reader sees them."""

    group: str  # file and article: the unit of cross-validation
    squad2: bool
    answerable: bool
    feats: np.ndarray
    labels: np.ndarray  # candidate sentence holds a gold answer


def collect(path: Path, home: Path) -> list[Sample]:
    documents, questions = load_squad(path)
    engine = build_engine(documents, home, path.stem)
    vectors = engine.embedder.encode([q.text for q in questions])
    retriever = Retriever(engine.store())
    samples = []
    for q, v in zip(questions, vectors):
        hits = retriever.search(q.text, v, k=5)
        cands, feats, _, _, docs = engine.reader.score(q.text, v, hits)
        if not cands:
            continue
        labels = np.array([contains_answer(docs[c.doc_id].text[c.start:c.end], q.answers) for c in cands])
        samples.append(Sample(f"{path.stem}/{q.article}", "squad2" in path.stem, q.answerable, feats, labels))
    return samples


def fit_ranker(samples: list[Sample]) -> LogisticRegression:
    rows = [s for s in samples if s.answerable]
    X = np.vstack([s.feats for s in rows])
    y = np.concatenate([s.labels for s in rows])
    return LogisticRegression(C=C, max_iter=2000).fit(X, y)


def calibration_rows(ranker: LogisticRegression, samples: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
    X, y = [], []
    for s in samples:
        logits = s.feats @ ranker.coef_[0] + ranker.intercept_[0]
        X.append(calibrator_inputs(logits, s.feats))
        y.append(s.answerable and bool(s.labels[int(np.argmax(logits))]))
    return np.array(X), np.array(y, dtype=float)


def fit(samples: list[Sample]) -> tuple[LogisticRegression, LogisticRegression]:
    ranker = fit_ranker(samples)
    X, y = calibration_rows(ranker, [s for s in samples if s.squad2])
    return ranker, LogisticRegression(C=C, max_iter=2000).fit(X, y)


def score(ranker, calibrator, samples: list[Sample]) -> dict:
    X, right = calibration_rows(ranker, samples)
    confidence = calibrator.predict_proba(X)[:, 1]
    answerable = np.array([s.answerable for s in samples])
    answered = confidence >= THRESHOLD
    result = {"questions": len(samples),
              "accuracy@1": float(right[answerable].mean()) if answerable.any() else None,
              "ece": expected_calibration_error(confidence, right)}
    if (~answerable).any():
        result["answered_when_answerable"] = float(answered[answerable].mean())
        result["declined_when_unanswerable"] = float((~answered[~answerable]).mean())
        result["balanced_accuracy"] = (result["answered_when_answerable"] + result["declined_when_unanswerable"]) / 2
    return result


def cross_validate(samples: list[Sample]) -> dict:
    """Hold out each SQuAD 2.0 article in turn (fit on the rest, SQuAD 1.1 included), and the
    SQuAD 1.1 articles in three folds; pool the held-out predictions' figures per file."""
    squad2_groups = sorted({s.group for s in samples if s.squad2})
    squad1_groups = sorted({s.group for s in samples if not s.squad2})
    folds = [[g] for g in squad2_groups] + [squad1_groups[i::3] for i in range(3)]
    held: dict[str, list] = {"squad2": [], "squad1": []}
    for fold in folds:
        train = [s for s in samples if s.group not in fold]
        test = [s for s in samples if s.group in fold]
        ranker, calibrator = fit(train)
        X, right = calibration_rows(ranker, test)
        held["squad2" if test[0].squad2 else "squad1"] += [
            (s, r, c) for s, r, c in zip(test, right, calibrator.predict_proba(X)[:, 1])]
    out = {}
    for name, rows in held.items():
        right = np.array([r for _, r, _ in rows])
        conf = np.array([c for _, _, c in rows])
        answerable = np.array([s.answerable for s, _, _ in rows])
        entry = {"questions": len(rows), "accuracy@1": float(right[answerable].mean()),
                 "ece": expected_calibration_error(conf, right)}
        if (~answerable).any():
            answered = conf >= THRESHOLD
            entry["answered_when_answerable"] = float(answered[answerable].mean())
            entry["declined_when_unanswerable"] = float((~answered[~answerable]).mean())
            entry["balanced_accuracy"] = (entry["answered_when_answerable"] + entry["declined_when_unanswerable"]) / 2
        out[name] = entry
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad2", type=Path)
    parser.add_argument("squad1", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        samples = collect(args.squad2, Path(home)) + collect(args.squad1, Path(home))
    cv = cross_validate(samples)
    print(json.dumps({"cross_validated_by_article": cv}, indent=2))
    ranker, calibrator = fit(samples)
    model = {
        "note": "fitted by scripts/fit_reader.py on the SQuAD 2.0 and 1.1 subsets in ../shared/data",
        "features": list(FEATURES),
        "ranker": {"coef": ranker.coef_[0].round(5).tolist(), "intercept": round(float(ranker.intercept_[0]), 5)},
        "calibrator": {"inputs": ["top_logit", "lead", "missing_rare", "coverage", "cos"],
                       "coef": calibrator.coef_[0].round(5).tolist(),
                       "intercept": round(float(calibrator.intercept_[0]), 5)},
        "cross_validated_by_article": cv,
    }
    MODEL_FILE.write_text(json.dumps(model, indent=2) + "\n")
    print(f"written to {MODEL_FILE}")


if __name__ == "__main__":
    main()
