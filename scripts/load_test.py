"""A bounded load test on loopback: N clients for T seconds of mixed ask/search/summarize against
a local askbrief server that this script starts on 127.0.0.1 (never any other address).

    python -m scripts.load_test ../shared/data/bbc-news-summary.jsonl [--articles 200] [--clients 8] [--seconds 30]
"""

import argparse
import datetime as dt
import json
import random
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import uvicorn

from askbrief import Engine, Settings  # noqa: E402
from askbrief.serve.api import create_app  # noqa: E402
from scripts.bbc import as_document, load_bbc  # noqa: E402
from scripts.results import results_file

MIX = (("ask", 0.6), ("search", 0.25), ("summarize", 0.15))  # what a newsroom page mostly does


def start_server(engine: Engine) -> tuple[uvicorn.Server, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def client_loop(base: str, rows: list[dict], until: float, seed: int, out: list) -> None:
    rng = random.Random(seed)
    kinds, weights = zip(*MIX)
    with httpx.Client(base_url=base, timeout=60) as client:
        while time.monotonic() < until:
            row = rng.choice(rows)
            kind = rng.choices(kinds, weights)[0]
            started = time.perf_counter()
            if kind == "ask":
                response = client.post("/ask", json={"question": row["title"]})
            elif kind == "search":
                response = client.get("/search", params={"q": row["title"], "k": 10})
            else:
                response = client.post("/summarize", json={"doc_ids": [row["id"]], "max_sentences": 3})
            out.append((kind, (time.perf_counter() - started) * 1000, response.status_code))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="bbc-news-summary.jsonl")
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    rows = load_bbc(args.data, "all", args.articles // 4)
    with tempfile.TemporaryDirectory() as home:
        engine = Engine("load", Settings(home=Path(home)))
        results = engine.ingest([as_document(r) for r in rows])
        indexed = {r.id for r in results if r.duplicate_of is None}
        rows = [r for r in rows if r["id"] in indexed]  # BBC repeats a few articles: ask about stored ones
        engine.warm()
        server, base = start_server(engine)
        calls: list = []
        until = time.monotonic() + args.seconds
        threads = [threading.Thread(target=client_loop, args=(base, rows, until, i, calls)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        server.should_exit = True
    latency = np.array([ms for _, ms, _ in calls])
    report = {
        "date": dt.date.today().isoformat(), "articles": len(rows), "clients": args.clients, "seconds": args.seconds,
        "requests": len(calls), "throughput_rps": round(len(calls) / args.seconds, 1),
        "errors": sum(status >= 400 for _, _, status in calls),
        "p50_ms": round(float(np.percentile(latency, 50)), 1), "p95_ms": round(float(np.percentile(latency, 95)), 1),
        "p99_ms": round(float(np.percentile(latency, 99)), 1),
        "by_kind_p50_ms": {k: round(float(np.median([ms for kind, ms, _ in calls if kind == k])), 1)
                           for k, _ in MIX if any(kind == k for kind, _, _ in calls)},
    }
    print(json.dumps(report, indent=2))
    results_file("load_test/main.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
