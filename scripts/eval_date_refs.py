"""Evaluate one-day date references ("on 20 April", "on Tuesday", "yesterday") on Timeline17
sentences: askbrief.text.dated.references against dateparser's search_dates (publication date as
base, with and without REQUIRE_PARTS), at the day level per sentence (precision, recall, F1 over
(sentence, day) pairs), the speed of each (sentences per second, median of 3 runs over the labelled
sentences and over 5,000 random bpoil sentences), and each method's most common errors.

    python -m scripts.eval_date_refs ../shared/data/timeline17 [--gold scripts/data/t17-date-refs.jsonl]
    python -m scripts.eval_date_refs ../shared/data/timeline17 --pick OUT.jsonl   # the selection, unlabelled

The gold set (scripts/data/t17-date-refs.jsonl, described in t17-date-refs.md) holds ids and
offsets only; the sentences are read from the data folder.
"""

import argparse
import datetime as dt
import gzip
import json
import random
import re
import statistics
import sys
import time
from pathlib import Path

from askbrief.text.dated import references
from scripts.date_ref_errors import (
    DAY_PERIODS,
    TOP_ERRORS,
    Found,
    common_errors,
    errors_of,
    match_profile,
)
from scripts.results import RESULTS, results_file

GOLD = Path(__file__).resolve().parent / "data" / "t17-date-refs.jsonl"
TOPICS = {"bpoil": 150, "H1N1": 150, "MJ": 100}  # sentences drawn per topic
SEED = 17
SPEED_SENTENCES = 5000
RUNS = 3

# A sentence "with a cue" may name a day: a digit, a month's or a weekday's name, or
# today / tonight / tomorrow / yesterday / last night. Half of each topic's draw has one.
_CUE = re.compile(
    r"\d|\b(?:january|february|march|april|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\b|\b(?-i:May)\b"
    r"|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    r"|\b(?:today|tonight|tomorrow|yesterday|last night)\b", re.I)


def load_topic(data: Path, topic: str) -> list[dict]:
    with gzip.open(data / topic / "articles.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def sentences_of(article: dict) -> list[tuple[int, int, int]]:
    """(line, start, end) of each non-blank line of the article's text (one sentence a line)."""
    rows, start = [], 0
    for i, line in enumerate(article["text"].split("\n")):
        if line.strip():
            rows.append((i, start, start + len(line)))
        start += len(line) + 1
    return rows


def pick(data: Path, seed: int = SEED) -> list[dict]:
    """The gold set's sentences, unlabelled: per topic, half drawn from the sentences with a cue
    and half from all of the topic's sentences (the first half's excluded), with a fixed seed."""
    rng = random.Random(seed)
    chosen = []
    for topic, n in TOPICS.items():
        pool = [(a, *s) for a in load_topic(data, topic) for s in sentences_of(a)]
        cued = [p for p in pool if _CUE.search(p[0]["text"][p[2]:p[3]])]
        first = rng.sample(cued, n // 2)
        taken = {(a["id"], line) for a, line, _, _ in first}
        rest = rng.sample([p for p in pool if (p[0]["id"], p[1]) not in taken], n - n // 2)
        for drawn, group in (("cue", first), ("random", rest)):
            for a, line, start, end in group:
                chosen.append({"topic": topic, "doc_id": a["id"], "line": line, "start": start, "end": end,
                               "published": a["published"][:10], "drawn": drawn, "days": []})
    return chosen


# -- the methods: each maps (sentence, published) to [(start, end, day)] ------------------------


def askbrief_refs(sentence: str, published: str) -> Found:
    return [(r.start, r.end, r.day) for r in references(sentence, published)]


def dateparser_method(require_parts: bool):
    """dateparser's search_dates with the publication date as base, past dates preferred, and
    (require_parts) REQUIRE_PARTS day and month; only the results whose period is a day (or a time
    of one) are kept: "May" alone is a month, "2005" a year. Imported here, so the askbrief row
    runs without dateparser. `find.raw` gives every result with its period, kept or not."""
    from dateparser.search import search_dates

    def raw(sentence: str, published: str) -> list[tuple[str, dt.datetime, str]]:
        settings = {"RELATIVE_BASE": dt.datetime.fromisoformat(published), "PREFER_DATES_FROM": "past"}
        if require_parts:
            settings["REQUIRE_PARTS"] = ["day", "month"]
        return search_dates(sentence, languages=["en"], settings=settings, add_period=True) or []

    def find(sentence: str, published: str) -> Found:
        found, at = [], 0
        for matched, when, period in raw(sentence, published):
            start = sentence.find(matched, at)
            start = start if start >= 0 else sentence.find(matched)
            at = max(at, start + len(matched))
            if period in DAY_PERIODS:
                found.append((start, start + len(matched), when.date().isoformat()))
        return found

    find.raw = raw
    return find


def methods() -> dict:
    """The methods that can run here: askbrief always, dateparser's two settings if it imports."""
    table = {"askbrief": askbrief_refs}
    try:
        import dateparser  # noqa: F401
    except ImportError:
        print("dateparser is not installed: only askbrief's row", file=sys.stderr)
        return table
    table["dateparser (day+month)"] = dateparser_method(True)
    table["dateparser (any)"] = dateparser_method(False)
    return table


def dateparser_version() -> str | None:
    try:
        import dateparser
    except ImportError:
        return None
    return dateparser.__version__


# -- the gold set ------------------------------------------------------------------------------

def load_gold(data: Path, gold_path: Path) -> list[dict]:
    """The labelled sentences with their text, read from the data folder (checked against the
    stored line and offsets)."""
    gold = [json.loads(line) for line in gold_path.open()]
    articles = {}
    for topic in sorted({g["topic"] for g in gold}):
        articles |= {a["id"]: a for a in load_topic(data, topic)}
    for g in gold:
        text = articles[g["doc_id"]]["text"]
        g["sentence"] = text[g["start"]:g["end"]]
        if text.split("\n")[g["line"]] != g["sentence"]:
            sys.exit(f"{g['doc_id']} line {g['line']}: the offsets no longer match the data")
    return gold


def speed_sentences(data: Path, n: int = SPEED_SENTENCES, seed: int = SEED) -> list[tuple[str, str]]:
    """n random bpoil sentences (text, published), for timing only."""
    pool = [(a["text"][s:e], a["published"][:10]) for a in load_topic(data, "bpoil") for _, s, e in sentences_of(a)]
    return random.Random(seed).sample(pool, min(n, len(pool)))


# -- scoring -----------------------------------------------------------------------------------


def score(gold: list[dict], find) -> dict:
    tp = fp = fn = exact = 0
    by_topic: dict[str, list[int]] = {}
    errors = []
    for g in gold:
        found = find(g["sentence"], g["published"])
        days, truth = {d for _, _, d in found}, set(g["days"])
        counts = (len(days & truth), len(days - truth), len(truth - days))
        tp, fp, fn = tp + counts[0], fp + counts[1], fn + counts[2]
        exact += days == truth
        for key in (g["topic"], g["drawn"]):
            by_topic.setdefault(key, [0, 0, 0])
            by_topic[key] = [a + b for a, b in zip(by_topic[key], counts)]
        errors += errors_of(g, found)
    return {"tp": tp, "fp": fp, "fn": fn, **prf(tp, fp, fn), "sentences_exact": exact,
            "by_slice": {k: prf(*v) | dict(zip(("tp", "fp", "fn"), v)) for k, v in by_topic.items()},
            "errors": errors}


def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)}


# -- speed -------------------------------------------------------------------------------------

def timed(find, rows: list[tuple[str, str]], runs: int = RUNS) -> tuple[float, list]:
    """Sentences per second (median of `runs` runs) and the first run's output."""
    times, first = [], None
    for _ in range(runs):
        started = time.perf_counter()
        out = [find(s, p) for s, p in rows]
        times.append(time.perf_counter() - started)
        first = first if first is not None else out
    return len(rows) / statistics.median(times), first


# -- report ------------------------------------------------------------------------------------

def print_table(table: dict) -> None:
    rows = table["methods"]
    print(f"\nDay-level scores over (sentence, day) pairs: {table['sentences']} sentences, "
          f"{table['gold_days']} gold days in {table['sentences_with_day']} sentences")
    speed = f"sent/s ({table['speed_sentences']:,} bpoil)"
    print(f"{'method':<24}{'P':>7}{'R':>7}{'F1':>7}{'TP':>5}{'FP':>5}{'FN':>5}{'exact':>7}"
          f"{'sent/s (gold)':>15}{speed:>23}")
    for name, r in rows.items():
        print(f"{name:<24}{r['precision']:>7.3f}{r['recall']:>7.3f}{r['f1']:>7.3f}{r['tp']:>5}{r['fp']:>5}"
              f"{r['fn']:>5}{r['sentences_exact']:>7}{r['speed_gold']:>15,.0f}{r['speed_bpoil']:>23,.0f}")
    print("(exact: sentences whose set of days is exactly the gold's; speed: median of 3 runs)")
    slices = list(next(iter(rows.values()))["by_slice"])
    print(f"\nF1 by slice\n{'method':<24}" + "".join(f"{s:>10}" for s in slices))
    for name, r in rows.items():
        print(f"{name:<24}" + "".join(f"{r['by_slice'][s]['f1']:>10.3f}" for s in slices))
    print(f"\nMatches on {table['speed_sentences']:,} bpoil sentences (per 1,000; no-day-word: no digit, month,"
          " weekday, today/tomorrow/yesterday or night/morning/...)")
    for name, r in rows.items():
        m = r["bpoil_matches"]
        top = ", ".join(f"{t!r} {n}" for t, n in m["no_day_word_top"][:6])
        print(f"{name:<24}{m['matches_per_1000']:>8} matches, {m['no_day_word_per_1000']:>6} no-day-word: {top}")
        if "raw_by_period" in m:
            dropped = ", ".join(f"{t!r} {n}" for t, n in m["dropped_top"][:6])
            print(f"{'':<24}all results by period {m['raw_by_period']}; dropped (not a day): {dropped}")
    for name, r in rows.items():
        print(f"\n{name}: the {TOP_ERRORS} most common errors ({r['fp']} false days, {r['fn']} missed)")
        for e in r["common_errors"]:
            print(f"  {e['count']:>3}  {e['kind']:<14} {e['pattern']}")
            for x in e["examples"][:3]:
                days = f"{x.get('day', '-')} (gold {x['gold']})" if "gold" in x else x["day"]
                print(f"         {x['doc_id']}/{x['line']}: {x['text']!r} -> {days}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the timeline17 folder (bpoil/, H1N1/, MJ/)")
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--pick", type=Path, metavar="OUT", help="write the selection, unlabelled, and stop")
    parser.add_argument("--speed-sentences", type=int, default=SPEED_SENTENCES)
    args = parser.parse_args()
    if args.pick:
        rows = pick(args.data)
        args.pick.write_text("".join(json.dumps(r) + "\n" for r in rows))
        print(f"{len(rows)} sentences written to {args.pick}")
        return
    gold = load_gold(args.data, args.gold)
    labelled = [(g["sentence"], g["published"]) for g in gold]
    bpoil = speed_sentences(args.data, args.speed_sentences)
    table = {"data": args.data.name, "gold": args.gold.name, "sentences": len(gold),
             "sentences_with_day": sum(bool(g["days"]) for g in gold),
             "gold_days": sum(len(g["days"]) for g in gold), "speed_sentences": len(bpoil), "runs": RUNS,
             "dateparser": dateparser_version(), "date": dt.date.today().isoformat(), "methods": {}}
    for name, find in methods().items():
        print(f"  {name} ...", file=sys.stderr)
        result = score(gold, find)
        result["speed_gold"], _ = timed(find, labelled)
        result["speed_bpoil"], outputs = timed(find, bpoil)
        result["bpoil_matches"] = match_profile(outputs, bpoil, find)
        result["common_errors"] = common_errors(result["errors"])
        table["methods"][name] = result
    print_table(table)
    for r in table["methods"].values():
        r["speed_gold"], r["speed_bpoil"] = round(r["speed_gold"], 1), round(r["speed_bpoil"], 1)
        for e in r["common_errors"]:
            e["examples"] = e["examples"][:5]
    out = results_file("date_refs-main")
    out.write_text(json.dumps(table, indent=2) + "\n")
    print(f"\nwritten to {out.relative_to(RESULTS.parent)}")


if __name__ == "__main__":
    main()
