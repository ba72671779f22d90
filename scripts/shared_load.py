"""Many servers on one index: questions per second and CPU per question for one and for two
`askbrief serve` processes over PostgreSQL + a Milvus server, and what a large write does to
the service while it runs. Everything listens on 127.0.0.1 and stops by itself.

    python -m scripts.shared_load ../shared/data/bbc-news-summary.jsonl [--articles 200]
        [--clients 16] [--seconds 30] [--servers 1 2]

1. The first --articles BBC articles are indexed into PostgreSQL (scripts/pgserver.py) and a
   Milvus server started for the run.
2. For each count in --servers: that many `askbrief serve` processes (own homes, no worker),
   --clients threads asking BBC headlines round-robin over them for --seconds; questions/s,
   errors, latency, and the servers' CPU time (user + system, from /proc) per question.
3. During a large write: one server with its worker; /health and /ask timed alone, then while
   the largest document the API accepts (MAX_DOCUMENT_CHARS characters) is posted and written as a job.

JSON in results/shared_load/main.json.
"""

import argparse
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
from askbrief import Engine, Settings  # noqa: E402
from askbrief.ingest.documents import MAX_DOCUMENT_CHARS  # noqa: E402
from scripts.bbc import as_document, load_bbc  # noqa: E402
from scripts.pgserver import PostgresServer  # noqa: E402
from scripts.results import results_file

ASKBRIEF = [sys.executable, "-c", "from askbrief.cli import main; main()"]
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict, home: Path, **extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([*ASKBRIEF, "serve", "--index", "load", "--port", str(port)],
                               env={**env, "ASKBRIEF_HOME": str(home), **extra},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                httpx.post(base + "/ask", json={"question": "warm up"}, timeout=30)
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("a server did not start")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def ask_load(bases: list[str], questions: list[str], clients: int, seconds: float) -> list[tuple[float, int]]:
    calls: list[tuple[float, int]] = []
    until = time.monotonic() + seconds

    def client(i: int) -> None:
        with httpx.Client(timeout=60) as http:
            n = i
            while time.monotonic() < until:
                started = time.perf_counter()
                response = http.post(bases[n % len(bases)] + "/ask", json={"question": questions[n % len(questions)]})
                calls.append(((time.perf_counter() - started) * 1000, response.status_code))
                n += clients

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return calls


def timed(url: str, body: dict | None = None) -> float:
    started = time.perf_counter()
    response = httpx.post(url, json=body, timeout=60) if body else httpx.get(url, timeout=60)
    assert response.status_code == 200, response.text
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="bbc-news-summary.jsonl")
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    from milvus import MilvusServer

    rows = load_bbc(args.data, "all", args.articles // 4)
    questions = [r["title"] for r in rows]
    report: dict = {"date": dt.date.today().isoformat(), "articles": len(rows), "clients": args.clients,
                    "seconds": args.seconds, "cores": os.cpu_count(), "servers": []}
    postgres = PostgresServer().start()
    milvus = MilvusServer()
    work = Path(tempfile.mkdtemp(prefix="askbrief-load-"))
    milvus.set_base_dir(str(work / "milvus"))
    milvus.start()
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "ASKBRIEF_STORE_URL": postgres.url,
               "ASKBRIEF_VECTOR_BACKEND": "milvus", "ASKBRIEF_MILVUS_URI": f"http://127.0.0.1:{milvus.listen_port}"}
        settings = Settings(home=work / "ingest", store_url=postgres.url, vector_backend="milvus",
                            milvus_uri=env["ASKBRIEF_MILVUS_URI"])
        Engine("load", settings).ingest([as_document(r) for r in rows])
        for count in args.servers:
            servers = [start_server(env, work / f"s{count}-{i}", ASKBRIEF_WORKER="false") for i in range(count)]
            before = sum(cpu_s(p.pid) for p, _ in servers)
            calls = ask_load([base for _, base in servers], questions, args.clients, args.seconds)
            used = sum(cpu_s(p.pid) for p, _ in servers) - before
            for process, _ in servers:
                process.terminate()
                process.wait(timeout=30)
            latency = np.array([ms for ms, _ in calls])
            entry = {"servers": count, "questions": len(calls), "questions_per_s": round(len(calls) / args.seconds, 1),
                     "errors": sum(status >= 400 for _, status in calls),
                     "p50_ms": round(float(np.percentile(latency, 50)), 1),
                     "p95_ms": round(float(np.percentile(latency, 95)), 1),
                     "server_cpu_ms_per_question": round(used * 1000 / max(len(calls), 1), 1)}
            print(json.dumps(entry), flush=True)
            report["servers"].append(entry)
        report["during_write"] = during_write(env, work, rows, questions)
        print(json.dumps(report["during_write"]), flush=True)
    finally:
        milvus.stop()
        postgres.stop()
    one = next((e for e in report["servers"] if e["servers"] == 1), None)
    two = next((e for e in report["servers"] if e["servers"] == 2), None)
    if one and two:
        report["two_over_one"] = round(two["questions_per_s"] / one["questions_per_s"], 2)
        print(f"two servers / one: {report['two_over_one']}x questions per second")
    results_file("shared_load/main.json").write_text(json.dumps(report, indent=2) + "\n")


def during_write(env: dict, work: Path, rows: list[dict], questions: list[str]) -> dict:
    """/health and /ask alone, then while the largest accepted document is written by the
    server's own worker (a job: the POST answers 202 at once)."""
    process, base = start_server(env, work / "writer")
    try:
        health_idle = [timed(base + "/health") for _ in range(20)]
        ask_idle = [timed(base + "/ask", {"question": q}) for q in questions[:40]]
        text = "\n\n".join(r["text"] for r in load_bbc_all(rows))[:MAX_DOCUMENT_CHARS - 1000]
        posted = time.perf_counter()
        queued = httpx.post(base + "/documents", json={"id": "largest", "text": text}, timeout=120)
        post_ms = (time.perf_counter() - posted) * 1000
        assert queued.status_code == 202, queued.text
        health_busy, ask_busy = [], []
        n = 0
        while httpx.get(base + queued.headers["location"], timeout=60).json()["state"] in ("queued", "running"):
            health_busy.append(timed(base + "/health"))
            ask_busy.append(timed(base + "/ask", {"question": questions[n % len(questions)]}))
            n += 1
        job = httpx.get(base + queued.headers["location"], timeout=60).json()
        return {"document_chars": len(text), "post_ms": round(post_ms, 1), "job": job["state"],
                "sentences": job["result"][0]["sentences"] if job["result"] else None,
                "write_s": round(time.perf_counter() - posted, 1),
                "health_idle_ms_max": round(max(health_idle), 1), "health_busy_ms_max": round(max(health_busy), 1),
                "health_busy_ms_median": round(float(np.median(health_busy)), 1),
                "ask_idle_ms_p95": round(float(np.percentile(ask_idle, 95)), 1),
                "ask_busy_ms_p95": round(float(np.percentile(ask_busy, 95)), 1),
                "ask_busy_ms_median": round(float(np.median(ask_busy)), 1), "ask_busy_count": len(ask_busy)}
    finally:
        process.terminate()
        process.wait(timeout=30)


def load_bbc_all(rows: list[dict]) -> list[dict]:
    """Enough article text for the largest document: the indexed articles, renamed, repeated."""
    return rows * 20


if __name__ == "__main__":
    main()
