"""What explain mode costs /ask: before it existed, with it off, and with it on, in one run.

    python -m scripts.bench_explain ../shared/data/bbc-news-summary.jsonl [--sizes 2000 200000]
        [--before REV] [--questions 100] [--rounds 3]

The BBC corpus is indexed (copied to each size, as scripts/bench.py does), then two server
processes open it, as restarted servers would (one thread a model call, as `askbrief serve`): one runs this tree's askbrief, the other the
askbrief of commit REV (default: the commit before explain mode, checked out in a temporary git
worktree). Each question is asked in turn of "before", "off" (this tree, explain false) and
"on" (explain true), the order rotating from question to question, for several rounds; each
process times its own POST /ask through the FastAPI app (in process, as bench.py does), so the
arms share the machine's noise. Medians and their ratios are printed and written to
results/bench/explain.json.
"""

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from askbrief.engine import Engine  # noqa: E402
from askbrief.settings import Settings  # noqa: E402
from scripts.bbc import load_bbc  # noqa: E402
from scripts.bench import MemoEmbedder, copies, ingest_until  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
from scripts.results import results_file

BEFORE = "31cbd59"  # the last commit before explain mode
# The server side: reads {"question", "explain"} lines, answers each with {"ms", "chunks"}.
WORKER = """
import json, sys, time
from pathlib import Path
import askbrief
from fastapi.testclient import TestClient
from askbrief.serve.api import create_app
from askbrief.engine import Engine
from askbrief.settings import Settings
engine = Engine("bench", Settings(home=Path(sys.argv[1])))
engine.warm()
client = TestClient(create_app(engine))
print(json.dumps({"askbrief": askbrief.__file__}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    body = {"question": request["question"]}
    if request["explain"] is not None:
        body["explain"] = request["explain"]
    started = time.perf_counter()
    response = client.post("/ask", json=body)
    ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.text
    print(json.dumps({"ms": ms, "explained": response.json().get("explanation") is not None}), flush=True)
"""


class Server:
    """One askbrief process over the index, from the given source tree."""

    def __init__(self, home: Path, src: Path):
        # One thread a model call, as `askbrief serve` runs (and so the idle process's ONNX
        # threads do not spin on the cores the other is using).
        env = {**os.environ, "PYTHONPATH": str(src), "HF_HUB_OFFLINE": "1", "ASKBRIEF_ONNX_THREADS": "1"}
        self.process = subprocess.Popen([sys.executable, "-c", WORKER, str(home)], env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.loaded_from = json.loads(self.process.stdout.readline())["askbrief"]

    def ask(self, question: str, explain: bool | None) -> dict:
        self.process.stdin.write(json.dumps({"question": question, "explain": explain}) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def measure(home: Path, before_src: Path, questions: list[str], rounds: int) -> dict:
    before, after = Server(home, before_src), Server(home, ROOT / "src")
    assert before.loaded_from.startswith(str(before_src)) and after.loaded_from.startswith(str(ROOT / "src"))
    arms = {"before": (before, None), "off": (after, False), "on": (after, True)}
    for question in questions[:5]:  # warm each arm
        for server, explain in arms.values():
            server.ask(question, explain)
    times: dict[str, list[float]] = {name: [] for name in arms}
    names = list(arms)
    turn = 0
    for _ in range(rounds):
        for question in questions:
            for name in names[turn % 3:] + names[:turn % 3]:
                server, explain = arms[name]
                reply = server.ask(question, explain)
                assert reply["explained"] == bool(explain), name
                times[name].append(reply["ms"])
            turn += 1
    before.close()
    after.close()
    medians = {name: statistics.median(t) for name, t in times.items()}
    return {"asks_per_arm": len(times["off"]), **{f"{name}_ms_median": round(m, 2) for name, m in medians.items()},
            "off_over_before": round(medians["off"] / medians["before"], 3),
            "on_minus_off_ms": round(medians["on"] - medians["off"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 200000])
    parser.add_argument("--before", default=BEFORE, help="the commit to compare with (default: before explain mode)")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = load_bbc(args.data)
    questions = [r["title"] for r in rows[:: max(1, len(rows) // args.questions)]][: args.questions]
    report = {"date": dt.date.today().isoformat(), "before": args.before, "rounds": args.rounds,
              "questions": len(questions), "sizes": []}
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.before],
                       check=True, capture_output=True)
        try:
            home = Path(tmp) / "home"
            engine = Engine("bench", Settings(home=home))
            memo = MemoEmbedder(engine.embedder)
            memo.reuse = True
            engine.__dict__["embedder"] = memo
            docs = copies(rows)
            for size in args.sizes:
                ingest_until(docs, engine, size, [])
                entry = {"chunks": engine.store().chunk_count()}
                engine.store().close()
                engine._store = None
                entry.update(measure(home, tree / "src", questions, args.rounds))
                print(json.dumps(entry), flush=True)
                report["sizes"].append(entry)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)
            shutil.rmtree(tree, ignore_errors=True)
    print(f"\n/ask median ms, {report['rounds']} interleaved rounds of {report['questions']} questions (before = {args.before})")
    print("chunks    before   off      on       off/before  on-off ms")
    for e in report["sizes"]:
        print(f"{e['chunks']:<9} {e['before_ms_median']:<8} {e['off_ms_median']:<8} {e['on_ms_median']:<8}"
              f" {e['off_over_before']:<11} {e['on_minus_off_ms']:+.2f}")
    results_file("bench/explain.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
