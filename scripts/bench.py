"""Speed and memory on the BBC corpus: ingest throughput against a raw SentenceTransformer
encode of the same articles' sentences (torch, batch 64) timed in the same run, then warm
`ask` latency, peak RSS and index size on disk.

    python scripts/bench.py ../shared/data/bbc-news-summary.jsonl [--articles 200] [--questions 100]

A first cut of issue 8: one size per run (the larger sizes and the approximate indexes are not
built yet). JSON under results/bench-<articles>.json.
"""

import argparse
import datetime as dt
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bbc import as_document, load_bbc  # noqa: E402

from askbrief.embed import BATCH, load_embedder  # noqa: E402
from askbrief.engine import Engine  # noqa: E402
from askbrief.settings import Settings  # noqa: E402
from askbrief.text import split_sentences  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "results"


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--questions", type=int, default=100)
    args = parser.parse_args()
    rows = load_bbc(args.data, "all", args.articles // 4)
    docs = [as_document(r) for r in rows]
    embedder = load_embedder()
    embedder.encode(["warm up"])
    sentences = [d.text[a:b] for d in docs for a, b in split_sentences(d.text)]

    started = time.perf_counter()
    embedder.model.encode(sentences, batch_size=BATCH, normalize_embeddings=True, show_progress_bar=False)
    raw_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as home:
        engine = Engine("bench", Settings(home=Path(home)))
        started = time.perf_counter()
        results = engine.ingest(docs)
        ingest_s = time.perf_counter() - started
        chunks = engine.store().chunk_count()
        questions = [r["title"] for r in rows][: args.questions]
        engine.ask(questions[0])  # warm
        latency = []
        for q in questions:
            t = time.perf_counter()
            engine.ask(q)
            latency.append((time.perf_counter() - t) * 1000)
        size = folder_size(Path(home) / "bench")
    report = {
        "date": dt.date.today().isoformat(), "articles": len(docs), "sentences": len(sentences), "chunks": chunks,
        "indexed": sum(r.duplicate_of is None for r in results),
        "raw_encode_s": round(raw_s, 1), "raw_sentences_per_s": round(len(sentences) / raw_s, 1),
        "ingest_s": round(ingest_s, 1), "ingest_articles_per_s": round(len(docs) / ingest_s, 2),
        "ingest_chunks_per_s": round(chunks / ingest_s, 1), "ingest_vs_raw_encode": round(raw_s / ingest_s, 3),
        "ask_ms_median": round(statistics.median(latency), 1), "ask_ms_p95": round(float(np.percentile(latency, 95)), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "index_mb": round(size / 1e6, 2),
    }
    print(json.dumps(report, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"bench-{args.articles}.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
