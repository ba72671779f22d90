"""Evaluate askbrief's story timelines on Timeline17 with tilse, beside the README's simple
baseline (the T busiest days, K query-sharing sentences each), both scored in one process.

    python -m scripts.eval_timeline ../shared/data/timeline17 [--topics MJ] [--baseline-only] \
        [--home ~/.cache/askbrief/timeline17] [--query TEXT] [--run NAME]

The protocol is news-tls's (the data's README): one task per reference timeline over its topic's
whole collection, T = the reference's distinct dates, K = round(mean sentences per date), at least
1 (Python's round, as news-tls), only articles published first..last date of the reference (a
date listed twice in a reference is one date, its sentences joined). Scores are tilse's F1 with the
original ROUGE-1.5.5 (stemmed, stop words out): align m:1, concat, agreement, and date F1.

Tokens: the references are PTB-tokenised and cased, and the collection's text was detokenised, so
every system sentence is re-tokenised with NLTK's Treebank tokeniser (case kept, like the
references). ROUGE-1.5.5 lowercases and drops punctuation itself; the tokens matter for tilse's
own ROUGE-1 approximation, which picks the m:1 alignment and is case- and token-exact.
"""

import argparse
import datetime as dt
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from nltk.tokenize import TreebankWordTokenizer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from tilse.data.timelines import GroundTruth
from tilse.data.timelines import Timeline as TilseTimeline
from tilse.evaluation.dates import evaluate_dates
from tilse.evaluation.rouge import TimelineRougeEvaluator

from askbrief import BadInput, Engine, Settings, make_document
from scripts.results import RESULTS, results_file

TOPICS = ("bpoil", "H1N1", "MJ")
# Ours: the collection's keywords are only the topic names.
QUERIES = {
    "bpoil": "BP oil spill in the Gulf of Mexico",
    "H1N1": "swine flu H1N1 outbreak",
    "MJ": "Michael Jackson death and trial",
}
METRICS = ("align_r1", "align_r2", "concat_r1", "concat_r2", "agreement_r1", "agreement_r2", "date_f1")
# Gholipour Ghalandari & Ifrim (ACL 2020), Table 4, all 19 Timeline17 timelines: align m:1 R1, R2, date F1.
PUBLISHED = {
    "DATEWISE": (0.120, 0.035, 0.544),
    "Martschat & Markert 2018": (0.105, 0.030, 0.544),
    "PubCount": (0.105, 0.027, 0.481),
}
# The data's README: this baseline, mean of these 9 timelines. Its date F1 (.551) is what T = the
# reference's entries gives (H1N1/bbc 9, bpoil/guardian 104) rather than its distinct dates (7, 102): .542.
README_BASELINE = {"align_r1": 0.101, "align_r2": 0.026, "date_f1": 0.551, "concat_r1": 0.312, "concat_r2": 0.075}
DEFAULT_HOME = Path.home() / ".cache" / "askbrief" / "timeline17"
_WORD = re.compile(r"[a-z0-9]+")
_TREEBANK = TreebankWordTokenizer()


class Task(NamedTuple):
    topic: str
    outlet: str
    reference: dict[dt.date, list[str]]  # date -> its sentences, as published (tokenised)
    dates: int  # T
    per_date: int  # K
    first: dt.date
    last: dt.date


def load_articles(folder: Path, topic: str) -> list[dict]:
    with gzip.open(folder / topic / "articles.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def load_tasks(folder: Path, topic: str) -> list[Task]:
    """One task a reference timeline, T and K as news-tls derives them."""
    tasks = []
    with open(folder / topic / "timelines.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            reference: dict[dt.date, list[str]] = {}
            for day, sentences in row["entries"]:
                reference.setdefault(dt.date.fromisoformat(day), []).extend(sentences)
            per_date = max(1, round(sum(map(len, reference.values())) / len(reference)))
            tasks.append(Task(topic, row["outlet"], reference, len(reference), per_date,
                              min(reference), max(reference)))
    return tasks


def in_span(articles: list[dict], task: Task) -> list[dict]:
    first, last = task.first.isoformat(), task.last.isoformat()
    return [a for a in articles if a["published"] and first <= a["published"] <= last]


def content_words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower())) - ENGLISH_STOP_WORDS


def baseline(articles: list[dict], task: Task, query: str) -> dict[dt.date, list[str]]:
    """The T days with most articles published; each, its K sentences sharing most content
    words with the query (ties: the earlier day, the earlier sentence)."""
    wanted = content_words(query)
    span = in_span(articles, task)
    counts = Counter(a["published"] for a in span)
    days = sorted(counts, key=lambda day: (-counts[day], day))[: task.dates]
    timeline = {}
    for day in days:
        sentences = [s.strip() for a in span if a["published"] == day for s in a["text"].split("\n") if s.strip()]
        ranked = sorted(range(len(sentences)), key=lambda i: -len(wanted & content_words(sentences[i])))
        timeline[dt.date.fromisoformat(day)] = [sentences[i] for i in sorted(ranked[: task.per_date])]
    return timeline


def tokenise(sentence: str) -> str:
    """PTB tokens like the references'; '<' and '>' dropped, as pyrouge writes them into HTML unescaped."""
    return " ".join(_TREEBANK.tokenize(sentence.replace("<", " ").replace(">", " ")))


def score(evaluator: TimelineRougeEvaluator, predicted: dict[dt.date, list[str]], task: Task) -> dict[str, float]:
    """tilse's F1s; an empty timeline scores 0 (tilse divides by its number of dates)."""
    if not predicted:
        return dict.fromkeys(METRICS, 0.0)
    system = TilseTimeline({day: [tokenise(s) for s in sents] for day, sents in predicted.items()})
    truth = GroundTruth([TilseTimeline(task.reference)])
    result = {}
    for name, method in (("align", evaluator.evaluate_align_date_content_costs_many_to_one),
                         ("concat", evaluator.evaluate_concat), ("agreement", evaluator.evaluate_agreement)):
        scores = method(system, truth)
        result[f"{name}_r1"] = scores["rouge_1"]["f_score"]
        result[f"{name}_r2"] = scores["rouge_2"]["f_score"]
    result["date_f1"] = evaluate_dates(system, truth)["f_score"]
    return {k: round(float(v), 4) for k, v in result.items()}


def as_documents(articles: list[dict], where: Path) -> tuple[list, list[str]]:
    """askbrief's documents, and the ids of the articles it refuses (MJ holds one 233,287-character
    crawl of a family-history page, over askbrief's 200,000; the baseline still counts it)."""
    documents, refused = [], []
    for n, a in enumerate(articles, 1):
        try:
            documents.append(make_document(a["text"], where=f"{where}:{n}", id=a["id"], title=a["title"],
                                           published=a["published"], source=a["source"]))
        except BadInput as e:
            print(f"not indexed: {e}", file=sys.stderr)
            refused.append(a["id"])
    return documents, refused


def topic_engine(topic: str, articles: list[dict], home: Path, folder: Path) -> tuple[Engine, list[str]]:
    """The topic's index, built on first use only (slow: ~90 sentences a second on 2 cores),
    and the ids of the articles left out of it."""
    engine = Engine(index=f"t17-{topic}", settings=Settings(home=home))
    documents, refused = as_documents(articles, folder / topic / "articles.jsonl.gz")
    if not engine.exists():
        print(f"building index t17-{topic} in {home} ({len(documents)} articles)", file=sys.stderr)
        engine.ingest(documents, progress=True)
    return engine, refused


def askbrief_timeline(engine: Engine, task: Task, query: str) -> tuple[dict[dt.date, list[str]], float]:
    """askbrief's timeline for the task and the call's wall time in seconds."""
    started = time.perf_counter()
    timeline = engine.timeline(query, dates=task.dates, per_date=task.per_date,
                               since=task.first.isoformat(), until=task.last.isoformat())
    seconds = time.perf_counter() - started
    entries = {dt.date.fromisoformat(e.date): [s.text for s in e.sentences] for e in timeline.entries if e.sentences}
    return entries, seconds


def evaluate_topic(args, topic: str, evaluator: TimelineRougeEvaluator, seconds: list[float]) -> list[dict]:
    articles = load_articles(args.data, topic)
    query = args.query or QUERIES[topic]
    engine, refused = (None, []) if args.baseline_only else topic_engine(topic, articles, args.home, args.data)
    if engine is not None and not hasattr(engine, "timeline"):
        print("askbrief has no Engine.timeline yet: the baseline only", file=sys.stderr)
        engine = None
    rows = []
    for task in load_tasks(args.data, topic):
        row = {"topic": topic, "outlet": task.outlet, "query": query, "T": task.dates, "K": task.per_date,
               "first": task.first.isoformat(), "last": task.last.isoformat(), "articles": len(in_span(articles, task)),
               "baseline": score(evaluator, baseline(articles, task, query), task)}
        if engine is not None:
            predicted, took = askbrief_timeline(engine, task, query)
            seconds.append(took)
            row["askbrief"] = score(evaluator, predicted, task)
            row["askbrief_dates"] = len(predicted)
            row["askbrief_not_indexed"] = refused
        print(f"  {topic}/{task.outlet}: T={task.dates} K={task.per_date} done", file=sys.stderr)
        rows.append(row)
    return rows


def mean(rows: list[dict], system: str) -> dict[str, float] | None:
    if not rows or any(system not in r for r in rows):
        return None
    return {m: round(statistics.mean(r[system][m] for r in rows), 4) for m in METRICS}


def print_table(result: dict) -> None:
    print(f"\n{'timeline':<22} {'T':>4} {'K':>2} {'system':<9}" + "".join(f"{m:>13}" for m in METRICS))
    for row in result["timelines"]:
        for system in ("askbrief", "baseline"):
            if system in row:
                name = f"{row['topic']}/{row['outlet']}"
                print(f"{name:<22} {row['T']:>4} {row['K']:>2} {system:<9}"
                      + "".join(f"{row[system][m]:>13.3f}" for m in METRICS))
    for system in ("askbrief", "baseline"):
        if result["mean"].get(system):
            means = result["mean"][system]
            print(f"{'mean':<22} {'':>4} {'':>2} {system:<9}" + "".join(f"{means[m]:>13.3f}" for m in METRICS))
    readme = "".join(f"{README_BASELINE[m]:>13.3f}" if m in README_BASELINE else f"{'-':>13}" for m in METRICS)
    print(f"{'README (these 9)':<22} {'':>4} {'':>2} {'baseline':<9}" + readme)
    print("\npublished, all of Timeline17 (align m:1 R1 / R2 / date F1):")
    for method, (r1, r2, f1) in PUBLISHED.items():
        print(f"  {method:<26} {r1:.3f} / {r2:.3f} / {f1:.3f}")
    timing = result.get("askbrief_timeline_s")
    if timing:
        print(f"\naskbrief timeline call: median {timing['median']} s over {timing['calls']} calls")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the timeline17 folder (one subfolder a topic)")
    parser.add_argument("--topics", nargs="+", choices=TOPICS, default=list(TOPICS))
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="where the topics' indexes are kept")
    parser.add_argument("--query", help="one query for every topic chosen (default: QUERIES)")
    parser.add_argument("--baseline-only", action="store_true", help="score the baseline alone; builds no index")
    parser.add_argument("--run", default="main", help="results/eval_timeline/RUN.json")
    args = parser.parse_args()
    evaluator = TimelineRougeEvaluator(measures=["rouge_1", "rouge_2"], rouge_computation="original")
    seconds: list[float] = []
    rows = [row for topic in args.topics for row in evaluate_topic(args, topic, evaluator, seconds)]
    result = {
        "date": dt.date.today().isoformat(), "data": args.data.name, "topics": args.topics,
        "timelines": rows, "mean": {s: mean(rows, s) for s in ("askbrief", "baseline")},
        "readme_baseline": README_BASELINE,
        "published": {k: dict(zip(("align_r1", "align_r2", "date_f1"), v)) for k, v in PUBLISHED.items()},
    }
    if seconds:
        result["askbrief_timeline_s"] = {"calls": len(seconds), "median": round(statistics.median(seconds), 3)}
    print_table(result)
    out = results_file(f"eval_timeline-{args.run}")
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out.relative_to(RESULTS.parent)}")


if __name__ == "__main__":
    main()
