"""Run a battery of hostile requests against a live local `askbrief serve` and print one table:
probe, requests, worst status, worst time, and the server's RSS before and after.

    python -m scripts.hostile [--articles 50] [--timeout 30] [--store postgres]

Loopback only, bounded: each probe sends a fixed number of requests. The server is started here
on a fresh index (the seed plus news articles from tests/data, API key set) and stopped at the
end; if a probe leaves it unresponsive it is restarted, and the table says so. Results are also
written to results/hostile/main.json (results/hostile/postgres.json with --store postgres).
"""

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from scripts.measure import milvus_server, postgres_server
from scripts.results import results_file
from scripts.wikinews import NEWS

ROOT = Path(__file__).resolve().parents[1]
KEY = "hostile-battery-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
MB = 1024 * 1024


class Server:
    """`askbrief serve` in a child process on a free loopback port."""

    def __init__(self, home: Path):
        self.home = home
        self.restarts = 0
        self.start()

    def start(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, "ASKBRIEF_HOME": str(self.home), "ASKBRIEF_API_KEY": KEY}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from askbrief.cli import main; main()", "serve", "--port", str(self.port),
             "--index", "battery"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/health", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        raise SystemExit("the server did not start")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def healthy(self, timeout: float) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=timeout).status_code == 200
        except httpx.TransportError:
            return False

    def restart(self) -> None:
        self.process.kill()
        self.process.wait()
        self.restarts += 1
        self.start()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def timed(call) -> tuple[str, float, float]:
    """(status, seconds, job seconds) of one request: a timeout or a dropped connection is its own
    status; a write the server queued counts its request apart from the wait for its job."""
    started = time.perf_counter()
    job_s = 0.0
    try:
        response = call()
        status, job_s = str(response.status_code), getattr(response, "job_s", 0.0)
    except httpx.TimeoutException:
        status = "timeout"
    except httpx.TransportError as e:
        status = f"dropped ({type(e).__name__})"
    return status, time.perf_counter() - started - job_s, job_s


def followed(client: httpx.Client, response: httpx.Response):
    """A write the server queued (202): wait for its job, and answer as the write itself would
    have: 201 when the job is done, 422 when it failed; `job_s` is the wait."""
    if response.status_code != 202:
        return response
    started = time.perf_counter()
    while (job := client.get(response.headers["location"], headers=AUTH).json())["state"] in ("queued", "running"):
        time.sleep(0.1)
    out = httpx.Response(201 if job["state"] == "done" else 422, json=job)
    out.job_s = time.perf_counter() - started
    return out


def chunked_upload(size: int):
    """A multipart upload of `size` bytes of words, streamed (its length unannounced)."""
    yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n'
    yield from (b"word " * (MB // 5) for _ in range(size // MB))
    yield b"\r\n--b--\r\n"


def probes() -> dict:
    """Each probe: a function of a client giving its requests, each a zero-argument call."""
    report = "\n\n".join(json.loads(line)["text"] for line in NEWS.read_text().splitlines())[:195_000]
    nested = "[" * 100_000 + "]" * 100_000
    ask = lambda c, q, **kw: (lambda: c.post("/ask", json={"question": q, **kw}))  # noqa: E731
    add = lambda c, body: (lambda: followed(c, c.post("/documents", json=body, headers=AUTH)))  # noqa: E731
    delete = lambda c, doc_id: (lambda: c.delete(f"/documents/{doc_id}", headers=AUTH))  # noqa: E731
    upload = lambda c, name, data: (lambda: c.post("/documents", files={"file": (name, data)}, headers=AUTH))  # noqa: E731
    return {
        "1 chunked multipart upload, 24 MB": lambda c: [lambda: c.post(
            "/documents", content=chunked_upload(24 * MB), headers={**AUTH, "Content-Type": "multipart/form-data; boundary=b"})],
        "1 declared Content-Length, 24 MB": lambda c: [lambda: c.post(
            "/documents", content=b"x" * (24 * MB), headers={**AUTH, "Content-Type": "application/json"})],
        "2 capitalised words, no cue (36 KB)": lambda c: [
            add(c, {"id": "bomb-36k", "text": "Aa " * 12000 + "end."}), delete(c, "bomb-36k")],
        "2 capitalised words, no cue (200 KB)": lambda c: [
            add(c, {"id": "bomb-200k", "text": "Aa " * 66000 + "end."}), delete(c, "bomb-200k")],
        "3 one id twice in a batch, then search and ask": lambda c: [
            add(c, [{"id": "twin", "text": "A harbour strike in Rotterdam began today."},
                    {"id": "twin", "text": "A drought in southern Spain worsened."}]),
            lambda: c.get("/search", params={"q": "harbour strike"}), ask(c, "Where was the strike?")],
        "4 impossible dates in questions": lambda c: [ask(c, q) for q in (
            "What happened since 2023-13-45?", "What happened after 2005-02-30?", "What happened in 0000?",
            "What happened in March 0000?")],
        "4 an article dated 9999-12-31, then 'this week'": lambda c: [
            add(c, {"id": "end-of-time", "published": "9999-12-31", "text": "The time capsule was opened at noon."}),
            ask(c, "What happened this week?"), ask(c, "What happened last month?"), delete(c, "end-of-time")],
        "5 summarize 10,000 doc_ids": lambda c: [
            lambda: c.post("/summarize", json={"doc_ids": [f"id-{i}" for i in range(10_000)]})],
        "5 summarize the largest document (195 KB)": lambda c: [
            add(c, {"id": "long-report", "text": report}),
            lambda: c.post("/summarize", json={"doc_ids": ["long-report"], "max_sentences": 20}),
            delete(c, "long-report")],
        "5 summarize the whole index": lambda c: [lambda: c.post("/summarize", json={"max_sentences": 20})],
        "6 nested JSON: upload .json, .jsonl, body": lambda c: [
            upload(c, "deep.json", nested.encode()), upload(c, "deep.jsonl", nested.encode()),
            lambda: c.post("/documents", content=nested, headers={**AUTH, "Content-Type": "application/json"})],
        "8 ids: slash, traversal, bidi, zero-width, look-alike": lambda c: [
            add(c, {"id": i, "text": "A short article about a village fete."})
            for i in ("a/b", "../up", "right\u202eleft", "zero\u200bwidth", "p\u0430ypal")],
        "8 one sentence of 10 MB": lambda c: [add(c, {"id": "one-sentence", "text": "a" * (10 * MB - 100)})],
        "8 documents past the limits (300 KB; 4,000 sentences)": lambda c: [
            add(c, {"id": "too-long", "text": "word " * 60_000}), add(c, {"id": "too-many", "text": "Go. " * 4_000})],
        "9 bad since / until": lambda c: [ask(c, "What happened?", since="2023-13-45"),
                                          lambda: c.get("/search", params={"q": "court", "until": "soon"})],
        "writes without the key": lambda c: [lambda: c.post("/documents", json={"text": "Unkeyed."}),
                                             lambda: c.delete("/documents/anything")],
        "query syntax: FTS5 and SQL": lambda c: [(lambda q=q: c.get("/search", params={"q": q})) for q in (
            '" OR 1=1 --', "NEAR(a b)", "*", "a AND NOT b", "'; DROP TABLE documents; --")],
        "path traversal in ids": lambda c: [lambda: c.get("/documents/..%2F..%2Fetc%2Fpasswd"),
                                            lambda: c.get("/documents/%00")],
    }


def watch_health(url: str, stop: threading.Event, worst: list[float]) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        while not stop.is_set():
            _, seconds, _ = timed(lambda: client.get("/health"))
            worst.append(seconds)
            time.sleep(0.02)


def fingerprint(url: str, ids: list[str]) -> dict[str, str]:
    out = {}
    for doc_id in ids:
        response = httpx.get(f"{url}/documents/{doc_id}", headers=AUTH, timeout=60)
        out[doc_id] = hashlib.sha256(response.content).hexdigest() if response.status_code == 200 else str(response.status_code)
    return out


def start(home: Path, articles: int) -> tuple[Server, list[str]]:
    """A fresh index (the seed and `articles` news articles) under `home`, served; the ids in it."""
    rows = [json.loads(line) for line in NEWS.read_text().splitlines()][:articles]
    source = home / "news.jsonl"
    source.write_text("".join(json.dumps({k: r[k] for k in ("id", "title", "published", "source", "text")}) + "\n"
                              for r in rows))
    env = {**os.environ, "ASKBRIEF_HOME": str(home)}
    subprocess.run([sys.executable, "-c", "from askbrief.cli import main; main()", "ingest", str(ROOT / "seeds"),
                    str(source), "--index", "battery", "--quiet"], env=env, check=True, stdout=subprocess.DEVNULL)
    server = Server(home)
    httpx.post(f"{server.url}/ask", json={"question": "What did Putin say about trade?"}, timeout=60)  # warm
    return server, ["000_94717b999ff50f1a"] + [r["id"] for r in rows]


def probe(server: Server, name: str, requests, timeout: float) -> dict:
    """One probe's requests in turn while another client polls /health: its table row."""
    stop = threading.Event()
    worst_health: list[float] = []
    watcher = threading.Thread(target=watch_health, args=(server.url, stop, worst_health), daemon=True)
    watcher.start()
    with httpx.Client(base_url=server.url, timeout=timeout) as client:
        results = [timed(call) for call in requests(client)]
    deadline = time.monotonic() + timeout
    while not worst_health and time.monotonic() < deadline:  # a quick probe still gets one poll
        time.sleep(0.01)
    stop.set()
    watcher.join(timeout=timeout + 5)
    restarted = not server.healthy(timeout)
    if restarted:
        server.restart()
    statuses = [s for s, _, _ in results]
    worst = max(statuses, key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0))
    return {"probe": name, "requests": len(results), "worst_status": worst,
            "worst_s": round(max(t for _, t, _ in results), 2), "job_worst_s": round(max(j for _, _, j in results), 2),
            "health_worst_ms": round(1000 * max(worst_health, default=float("nan")), 1),
            "health_ms": [round(1000 * t, 1) for t in worst_health], "restarted": restarted}


def run(articles: int, timeout: float) -> dict:
    home = Path(tempfile.mkdtemp(prefix="askbrief-hostile-"))
    server, ids = start(home, articles)
    before = fingerprint(server.url, ids)
    rss_before = server.rss_mb()
    table = [probe(server, name, requests, timeout) for name, requests in probes().items()]
    health = [t / 1000 for row in table for t in row.pop("health_ms")]
    after = fingerprint(server.url, ids)
    rss_after = server.rss_mb()
    server.stop()
    shutil.rmtree(home, ignore_errors=True)
    return {"date": dt.date.today().isoformat(), "articles": len(ids), "rss_before_mb": round(rss_before),
            "rss_after_mb": round(rss_after), "restarts": server.restarts,
            "health_median_ms": round(1000 * sorted(health)[len(health) // 2], 1) if health else None,
            "health_worst_ms": round(1000 * max(health), 1) if health else None,
            "documents_unchanged": before == after, "probes": table}


def print_table(result: dict) -> None:
    print(f"{'probe':<52} {'req':>3} {'worst status':>13} {'worst s':>8} {'job s':>6} {'/health worst ms':>17}")
    for row in result["probes"]:
        note = "  (server restarted)" if row["restarted"] else ""
        print(f"{row['probe']:<52} {row['requests']:>3} {row['worst_status']:>13} {row['worst_s']:>8.2f} "
              f"{row['job_worst_s']:>6.1f} {row['health_worst_ms']:>17.1f}{note}")
    print(f"server RSS before {result['rss_before_mb']} MB, after {result['rss_after_mb']} MB "
          f"({result['rss_after_mb'] / result['rss_before_mb']:.2f}x); restarts {result['restarts']}; "
          f"/health median {result['health_median_ms']} ms, worst {result['health_worst_ms']} ms; "
          f"the {result['articles']} articles unchanged: {result['documents_unchanged']}")


@contextlib.contextmanager
def shared_store(store: str):
    """For `--store postgres`: PostgreSQL and a Milvus server on 127.0.0.1 (scripts/measure.py's),
    named to the server and the ingest through the environment they inherit."""
    if store != "postgres":
        yield
        return
    milvus_home = Path(tempfile.mkdtemp(prefix="askbrief-milvus-"))
    with postgres_server(store) as url, milvus_server("milvus-server", milvus_home) as milvus:
        os.environ.update({"ASKBRIEF_STORE_URL": url, "ASKBRIEF_VECTOR_BACKEND": "milvus",
                           "ASKBRIEF_MILVUS_URI": f"http://127.0.0.1:{milvus.listen_port}"})
        yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=50, help="news articles indexed beside the seed")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a request may take before it counts as a timeout")
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite",
                        help="postgres: a throw-away PostgreSQL and Milvus server for the run (scripts/pgserver.py, `milvus`)")
    args = parser.parse_args()
    with shared_store(args.store):
        result = run(args.articles, args.timeout)
    print_table(result)
    out = results_file("hostile/main.json" if args.store == "sqlite" else f"hostile-{args.store}.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
