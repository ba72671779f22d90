"""Figures of answering and declining, for fitting the reader's calibrator: the confidence cut that
separates answerable from unanswerable questions best while still answering most answerable
ones, and the held-out figures of a fit (ECE, accuracy@1, answered/declined, AUROC)."""

import numpy as np
from sklearn.metrics import roc_auc_score

from scripts.eval_qa import expected_calibration_error

MIN_ANSWERED = 0.80  # of answerable questions the threshold must still answer


def best_threshold(confidence: np.ndarray, answerable: np.ndarray) -> float:
    """The confidence cut that best separates answerable from unanswerable (balanced accuracy)
    among those that still answer MIN_ANSWERED of the answerable questions."""
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    answered = np.array([(confidence >= t)[answerable].mean() for t in grid])
    scores = np.array([((confidence >= t)[answerable].mean() + (confidence < t)[~answerable].mean()) / 2 for t in grid])
    scores[answered < MIN_ANSWERED] = -1.0
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
