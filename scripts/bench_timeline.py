"""What a story timeline costs: one call over a whole Timeline17 topic, and what finding the days
sentences name adds to ingest.

    python -m scripts.bench_timeline ../shared/data/timeline17 [--topic bpoil] [--home DIR] [--rounds 5]

The topic's index is the one scripts/eval_timeline.py builds (built here if missing). Timeline
calls are timed in process, the first one apart (it loads the models): the median of `rounds`
calls for askbrief's own choice of days and for the largest reference's T and K. Ingest: the
same articles are prepared (split, embedded, quotes and days found: `ingest.prepare`) in turns
with the day finding on and off, so both arms share the machine's noise; and the day finding
alone, per sentence. Medians and ratios go to results/bench/timeline.json.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

from askbrief import Engine, Settings
from askbrief.encoders.embed import load_embedder
from askbrief.ingest import prepare as preparing
from askbrief.text.dated import sentence_days
from askbrief.text.sentences import split_sentences
from scripts.eval_timeline import DEFAULT_HOME, QUERIES, as_documents, load_articles, topic_engine
from scripts.results import results_file


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def timeline_seconds(engine: Engine, query: str, rounds: int, **kwargs) -> dict:
    first = timed(lambda: engine.timeline(query, **kwargs))
    runs = [timed(lambda: engine.timeline(query, **kwargs)) for _ in range(rounds)]
    return {"first_s": round(first, 3), "median_s": round(statistics.median(runs), 3), "runs_s": [round(r, 3) for r in runs]}


def ingest_seconds(documents: list, rounds: int) -> dict:
    """prepare() on the same batch with the days found and without, in turns."""
    embedder = load_embedder(Engine("x", Settings()).wanted)
    found = preparing.days_of
    arms: dict[str, list[float]] = {"with days": [], "without days": []}
    for _ in range(rounds):
        for arm in arms:
            preparing.days_of = found if arm == "with days" else (lambda doc, spans: [])
            arms[arm].append(timed(lambda: preparing.prepare(documents, embedder)))
    preparing.days_of = found
    spans = [split_sentences(d.text) for d in documents]
    alone = [timed(lambda: [sentence_days(d.text, d.published, s) for d, s in zip(documents, spans)]) for _ in range(rounds)]
    sentences = sum(map(len, spans))
    out = {arm: round(statistics.median(runs), 3) for arm, runs in arms.items()}
    return {**out, "ratio": round(out["with days"] / out["without days"], 3), "sentences": sentences,
            "days_alone_us_per_sentence": round(1e6 * statistics.median(alone) / sentences, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="the timeline17 folder")
    parser.add_argument("--topic", default="bpoil")
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ingest-articles", type=int, default=100)
    args = parser.parse_args()
    articles = load_articles(args.data, args.topic)
    engine, _ = topic_engine(args.topic, articles, args.home, args.data)
    references = [json.loads(line) for line in (args.data / args.topic / "timelines.jsonl").read_text().splitlines()]
    largest = max(references, key=lambda r: len(r["entries"]))
    dates = len({d for d, _ in largest["entries"]})
    per_date = max(1, round(sum(len(s) for _, s in largest["entries"]) / len(largest["entries"])))
    result = {
        "topic": args.topic, "articles": engine.store().count(), "chunks": engine.store().chunk_count(),
        "auto": timeline_seconds(engine, QUERIES[args.topic], args.rounds),
        f"T={dates} K={per_date}": timeline_seconds(engine, QUERIES[args.topic], args.rounds, dates=dates, per_date=per_date),
        "ingest": ingest_seconds(as_documents(articles[:args.ingest_articles], args.data)[0], args.rounds),
    }
    print(json.dumps(result, indent=2))
    results_file("bench-timeline").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
