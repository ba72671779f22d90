"""The shipped int8 ONNX embedder against the float32 weights it was exported from, on 1,000 real
BBC sentences.

    python -m scripts.compare_embedders ../shared/data/bbc-news-summary.jsonl \
        [--source ~/.cache/askbrief/train-embedder/final] [--sentences 1000]

The source is the tuned model's training output (scripts/train_embedder.py; not shipped, it is
the float32 model before quantisation). Speed (median of three full passes, and one short query)
and agreement: the cosine between each sentence's int8 vector and its float32 vector. Needs the
`train` extra (torch). JSON in results/embedders/main.json.
"""

import argparse
import datetime as dt
import json
import statistics
import time
from pathlib import Path

import numpy as np

from askbrief.encoders.embed import MODEL_FILE, load_embedder  # noqa: E402
from askbrief.text.sentences import split_sentences  # noqa: E402
from scripts.bbc import as_document, load_bbc  # noqa: E402
from scripts.results import results_file


def timed(encode, texts: list[str], runs: int) -> tuple[float, np.ndarray]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        vectors = encode(texts)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--source", type=Path, default=Path.home() / ".cache/askbrief/train-embedder/final",
                        help="the float32 sentence-transformers folder the shipped file was exported from")
    parser.add_argument("--sentences", type=int, default=1000)
    args = parser.parse_args()
    from sentence_transformers import SentenceTransformer

    docs = [as_document(r) for r in load_bbc(args.data, "all", 60)]
    sentences = [d.text[a:b] for d in docs for a, b in split_sentences(d.text)][: args.sentences]
    query = ["What did the chancellor say about interest rates?"]
    report = {"date": dt.date.today().isoformat(), "sentences": len(sentences), "source": str(args.source)}
    vectors = {}
    float32 = SentenceTransformer(str(args.source), device="cpu")
    encoders = {"float32": lambda texts: float32.encode(texts, batch_size=64, normalize_embeddings=True),
                "onnx-int8": load_embedder().encode}
    for name, encode in encoders.items():
        encode(sentences[:64])  # warm
        seconds, vectors[name] = timed(encode, sentences, 3)
        query_s, _ = timed(encode, query, 50)
        report[name] = {"sentences_per_s": round(len(sentences) / seconds, 1), "query_ms": round(query_s * 1000, 2)}
    report["model_file_mb"] = round(MODEL_FILE.stat().st_size / 1e6, 1)
    cosine = np.sum(vectors["float32"] * vectors["onnx-int8"], axis=1)
    report["speedup"] = round(report["onnx-int8"]["sentences_per_s"] / report["float32"]["sentences_per_s"], 2)
    report["cosine_to_float32"] = {"mean": round(float(cosine.mean()), 4), "p1": round(float(np.percentile(cosine, 1)), 4),
                                 "min": round(float(cosine.min()), 4)}
    print(json.dumps(report, indent=2))
    results_file("embedders/main.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
