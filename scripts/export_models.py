"""Export the embedder shipped in the package: all-MiniLM-L6-v2 from its PyPI wheel, int8 ONNX
(matrix products and word embeddings), into src/askbrief/models/embedder.int8.onnx.

    python scripts/export_models.py [--force]

A build step, run once when the model or the exporter changes (`make export-models`); ingest and
serve only read the file. The comparison with torch is scripts/compare_embedders.py.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from askbrief.embed import MODEL_FILE, export_int8  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="export again over the shipped file")
    args = parser.parse_args()
    if args.force:
        MODEL_FILE.unlink(missing_ok=True)
    started = time.perf_counter()
    path = export_int8(MODEL_FILE)
    print(f"{path} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
