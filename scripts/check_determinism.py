"""The same answer every run (issue 38): two fresh processes over one index, and one and two
onnxruntime threads, must print byte-identical answers (JSON with explanations, timings left out).

    python -m scripts.check_determinism ../shared/data/bbc-news-summary.jsonl [--questions scripts/data/news-dev.jsonl]

Indexes the set's articles once in a temporary home, then runs `askbrief ask --batch --json
--explain` three times (threads 2, 2 again, 1) and prints how many answers differ and the first
difference. Exit status 1 when any do.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from scripts.squad import load_news_dev

ROOT = Path(__file__).resolve().parents[1]
ASKBRIEF = str(Path(sys.executable).with_name("askbrief"))  # the console script beside this Python


def ask_all(home: Path, questions: Path, threads: int) -> list[dict]:
    env = {**os.environ, "ASKBRIEF_HOME": str(home), "ASKBRIEF_ONNX_THREADS": str(threads)}
    out = subprocess.run([ASKBRIEF, "ask", "--batch", str(questions), "--json", "--explain",
                          "--index", "det"], env=env, capture_output=True, text=True, check=True).stdout
    return [without_timings(json.loads(line)) for line in out.splitlines() if line.strip()]


def without_timings(record):
    if isinstance(record, dict):
        return {k: without_timings(v) for k, v in record.items() if k not in ("timings_ms", "ms")}
    if isinstance(record, list):
        return [without_timings(v) for v in record]
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bbc", type=Path)
    parser.add_argument("--questions", type=Path, default=ROOT / "scripts" / "data" / "news-dev.jsonl")
    args = parser.parse_args()
    documents, questions = load_news_dev(args.questions, args.bbc)
    with tempfile.TemporaryDirectory() as work:
        home = Path(work)
        articles = home / "articles.jsonl"
        articles.write_text("".join(json.dumps({"id": d.id, "title": d.title, "text": d.text, "source": d.source}) + "\n"
                                    for d in documents))
        asked = home / "questions.txt"
        asked.write_text("".join(q.text + "\n" for q in questions))
        env = {**os.environ, "ASKBRIEF_HOME": str(home)}
        subprocess.run([ASKBRIEF, "ingest", str(ROOT / "seeds"), str(articles),
                        "--index", "det", "--quiet"], env=env, check=True, stdout=subprocess.DEVNULL)
        runs = {"2 threads": ask_all(home, asked, 2), "2 threads, again": ask_all(home, asked, 2),
                "1 thread": ask_all(home, asked, 1)}
    first = runs["2 threads"]
    differing = 0
    for name, answers in list(runs.items())[1:]:
        diff = [i for i, (a, b) in enumerate(zip(first, answers)) if json.dumps(a, sort_keys=True) != json.dumps(b, sort_keys=True)]
        differing += len(diff)
        print(f"{name} against the first run: {len(answers)} answers, {len(diff)} differ")
        for i in diff[:3]:
            a, b = json.dumps(first[i], sort_keys=True), json.dumps(answers[i], sort_keys=True)
            at = next(k for k, (x, y) in enumerate(zip(a, b)) if x != y)
            print(f"  question {i}: ...{a[max(0, at - 80):at + 80]}...\n  against  ...{b[max(0, at - 80):at + 80]}...")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
