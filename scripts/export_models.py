"""Export the embedder shipped in the package: the question-tuned all-MiniLM-L6-v2 (the float32
output of scripts/train_embedder.py), int8 ONNX (matrix products and word embeddings), into
src/askbrief/models/embedder.int8.onnx.

    python -m scripts.export_models [--source ~/.cache/askbrief/train-embedder/final] [--force]

A build step, run once when the model or the exporter changes (`make export-models`); ingest and
serve only read the file. The comparison with the float32 source is scripts/compare_embedders.py.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from askbrief.encoders.embed import MODEL_FILE, export_int8  # noqa: E402

TRAINED = Path.home() / ".cache" / "askbrief" / "train-embedder" / "final"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=TRAINED, help="the tuned sentence-transformers folder")
    parser.add_argument("--force", action="store_true", help="export again over the shipped file")
    args = parser.parse_args()
    if MODEL_FILE.exists() and not args.force:
        print(f"{MODEL_FILE} is there; --force exports it again")
        return
    if not args.source.exists():
        sys.exit(f"error: {args.source} not found: train it first (`make train-embedder`), or name it with --source")
    started = time.perf_counter()
    fresh = export_int8(MODEL_FILE.with_name("embedder.new.onnx"), source=args.source)
    os.replace(fresh, MODEL_FILE)  # the shipped model is the old one or the new, never half of one
    print(f"{MODEL_FILE} ({MODEL_FILE.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
