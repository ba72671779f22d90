"""Fit the summariser's sentence model on BBC News Summary and write src/askbrief/summary_model.json.

    python scripts/fit_summariser.py ../shared/data/bbc-news-summary.jsonl

A logistic regression over summarise.FEATURES learns which sentences people put in the
reference summaries, from the odd-numbered articles; it reports its AUC on the even-numbered
ones, which scripts/eval_summary.py then evaluates on.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).parent))
from bbc import as_document, load_bbc, sentence_rows  # noqa: E402

from askbrief.embed import load_embedder  # noqa: E402
from askbrief.summarise import FEATURES, MODEL_FILE, features, make_pool  # noqa: E402


def labelled(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    embedder = load_embedder()
    X, y = [], []
    for row in rows:
        doc = as_document(row)
        sentences = sentence_rows(doc)
        vectors = embedder.encode([doc.text[a:b] for _, a, b in sentences] + [doc.title])
        pool = make_pool([(doc, sentences, vectors[:-1])], vectors[-1:])
        X.append(features(pool))
        y += [text in row["reference_summary"] for text in pool.texts]
    return np.vstack(X), np.array(y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--limit", type=int, help="at most N articles a category per split")
    args = parser.parse_args()
    X, y = labelled(load_bbc(args.data, "train", args.limit))
    model = LogisticRegression(C=1.0, max_iter=2000).fit(X, y)
    X_test, y_test = labelled(load_bbc(args.data, "test", args.limit))
    auc = roc_auc_score(y_test, model.decision_function(X_test))
    print(f"fitted on {len(y)} sentences; held-out AUC {auc:.3f} on {len(y_test)} sentences")
    print(dict(zip(FEATURES, model.coef_[0].round(3))))
    MODEL_FILE.write_text(json.dumps({
        "note": "fitted by scripts/fit_summariser.py on the odd-numbered BBC News Summary articles",
        "features": list(FEATURES), "coef": model.coef_[0].round(5).tolist(),
        "intercept": round(float(model.intercept_[0]), 5), "heldout_auc": round(auc, 4)}, indent=2) + "\n")
    print(f"written to {MODEL_FILE}")


if __name__ == "__main__":
    main()
