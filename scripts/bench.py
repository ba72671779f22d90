"""Speed and memory on the BBC corpus, at about 2k, 20k and 200k chunks, in one run.

    python -m scripts.bench ../shared/data/bbc-news-summary.jsonl [--sizes 2000 20000 200000]
        [--questions 100] [--backend faiss|milvus|milvus-server] [--store sqlite|postgres] [--beside-sqlite]

1. Ingest throughput: the first articles (to about the first size) go through `Engine.ingest`
   with the configured embedder, then the same articles' sentences through a raw torch
   `SentenceTransformer.encode` (batch 64); three rounds in the same run, and the ratio of the
   medians is the figure.
2. Growth: the corpus is indexed again and again under distinct ids and hashes with duplicate
   and near-copy detection off. Copies reuse the vectors of the first pass (a text-keyed memo),
   so the larger sizes cost splitting, keyword terms and SQLite writes, not the model again;
   their build times are reported but are not throughput figures.
3. At each size, in a fresh process (as a restarted server): open time, then POST /ask for each
   question through the FastAPI app, warm; median and p95 latency and where the time goes; peak
   RSS of that process; the index's size on disk; and, where FAISS went approximate, recall@10
   of its search against exact search over the same vectors. Copies make exact ties, so a hit
   counts when its exact score reaches the 10th best exact score (ties are interchangeable).

`--backend milvus` uses embedded milvus-lite; `--backend milvus-server` starts a standalone Milvus
server (the `milvus` test dependency) on 127.0.0.1 for the run and talks to it over gRPC, as a
newsroom's cluster would be used; its own memory is reported beside the serving process's.

`--store postgres` keeps documents and keywords in a PostgreSQL server started for the run
(scripts/pgserver.py, Debian's postgresql) beside the Milvus server (it needs `--backend
milvus-server`); `--beside-sqlite` then measures SQLite + FAISS too, in the same run, one after the
other, and prints the ratios. Each size also times keyword retrieval alone (the store's
`keyword_search` for each question's terms, 50 candidates, as the retriever asks).

JSON under results/bench/main.json (results/bench/BACKEND.json, results/bench/postgres-BACKEND.json
for the others; results/bench/multilingual.json with ASKBRIEF_EMBEDDER=multilingual).
"""

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import json
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from askbrief.encoders.embed import BATCH  # noqa: E402
from askbrief.engine import INGEST_BATCH, Engine  # noqa: E402
from askbrief.retrieve.hybrid import CANDIDATES  # noqa: E402
from askbrief.retrieve.question import as_query  # noqa: E402
from askbrief.settings import Settings  # noqa: E402
from askbrief.text.sentences import split_sentences  # noqa: E402
from scripts.bbc import as_document, load_bbc  # noqa: E402
from scripts.measure import (
    folder_size,
    index_bytes,
    milvus_server,
    peak_rss_mb,
    postgres_server,
    print_ratios,
    print_table,
    process_rss_mb,
    torch_model,
)
from scripts.results import results_file


class MemoEmbedder:
    """Remembers every text it encodes; reuses them only once `reuse` is set (after the timed pass)."""

    def __init__(self, embedder):
        self.embedder, self.memo, self.reuse = embedder, {}, False

    @property
    def name(self) -> str:
        return self.embedder.name

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.embedder.encode_queries(texts)

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if not (self.reuse and t in self.memo)))
        if missing:
            self.memo.update(zip(missing, self.embedder.encode(missing)))
        return np.array([self.memo[t] for t in texts], dtype=np.float32).reshape(len(texts), -1)


def copies(rows: list[dict]):
    """The corpus, then copies of it under new ids and hashes, endlessly."""
    for copy in range(10**6):
        for row in rows:
            doc = as_document(row)
            yield doc if copy == 0 else doc.model_copy(update={"id": f"{doc.id}~{copy}", "hash": f"{doc.hash}~{copy}"})


def ingest_until(docs, engine: Engine, target: int, taken: list) -> None:
    """Ingest documents from `docs`, a batch at a time, until the index holds `target` chunks.
    (One ingest call per batch: an ingest reads all its documents before it writes any.)"""
    while engine.store(create=True).chunk_count() < target:
        batch = [next(docs) for _ in range(INGEST_BATCH)]
        taken += batch
        engine.ingest(batch, deduplicate=False)


def serve(home: str, backend: dict, questions: list[str]) -> dict:
    """A fresh process: open the index, answer over HTTP (in-process ASGI), measure."""
    from fastapi.testclient import TestClient

    from askbrief.serve.api import create_app

    engine = Engine("bench", Settings(home=Path(home), **backend))
    started = time.perf_counter()
    engine.warm()
    engine.ask(questions[0])
    open_s = time.perf_counter() - started
    client = TestClient(create_app(engine))
    latency, parts, keyword = [], {"embed": [], "retrieve": [], "read": []}, []
    for question in questions:  # keyword retrieval alone, warm
        t = time.perf_counter()
        engine.store().keyword_search(list(as_query(question).terms), CANDIDATES)
        keyword.append((time.perf_counter() - t) * 1000)
    for question in questions:
        t = time.perf_counter()
        response = client.post("/ask", json={"question": question})
        latency.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.text
        for part in parts:
            parts[part].append(response.json()["timings_ms"][part])
    report = {
        "open_s": round(open_s, 2),
        "ask_ms_median": round(statistics.median(latency), 1),
        "ask_ms_p95": round(float(np.percentile(latency, 95)), 1),
        "ask_ms_median_parts": {k: round(statistics.median(v), 1) for k, v in parts.items()},
        "keyword_ms_median": round(statistics.median(keyword), 2),
        "keyword_ms_p95": round(float(np.percentile(keyword, 95)), 2),
        "serve_peak_rss_mb": peak_rss_mb(),
        "vector_index": engine.store().vector_index(),
        "torch_imported": "torch" in sys.modules,
    }
    if backend["vector_backend"] == "faiss" and report["vector_index"]["kind"] != "exact":
        report.update(approximate_recall(engine, questions))
    return report


def approximate_recall(engine: Engine, questions: list[str], k: int = 10) -> dict:
    """Recall@k of the IVF search against exact search over the same stored vectors."""
    import faiss

    store = engine.store()
    index = store._vectors.index
    ids, vectors = [], []
    for page in store.vector_pages():
        ids.append(page.ids)
        vectors.append(page.vectors)
    ids, vectors = np.concatenate(ids), np.concatenate(vectors)
    row_of = {int(i): r for r, i in enumerate(ids)}
    queries = engine.embedder.encode(questions)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    exact_scores, _ = exact.search(queries, k)
    hit_ids = [[i for i, _ in store._vectors.search(q, k, None, lambda: None)] for q in queries]
    recalls, strict = [], []
    _, exact_rows = exact.search(queries, k)
    for q, hits, scores, rows in zip(queries, hit_ids, exact_scores, exact_rows):
        true_scores = vectors[[row_of[i] for i in hits]] @ q
        recalls.append(np.sum(true_scores >= scores[-1] - 1e-5) / k)
        strict.append(len(set(hits) & {int(ids[r]) for r in rows}) / k)
    bytes_per_vector = len(faiss.serialize_index(index)) / index.ntotal
    return {"recall_at_10": round(float(np.mean(recalls)), 4), "recall_at_10_ids_only": round(float(np.mean(strict)), 4),
            "index_bytes_per_vector": round(bytes_per_vector, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000, 200000])
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--backend", choices=["faiss", "milvus", "milvus-server"], default="faiss")
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--beside-sqlite", action="store_true", help="also measure SQLite + FAISS in this run")
    parser.add_argument("--keep", type=Path, help="build the index home here and keep it (default: a temporary one)")
    args = parser.parse_args()
    if args.store == "postgres" and args.backend != "milvus-server":
        parser.error("--store postgres shares its vectors through a Milvus server: add --backend milvus-server")
    rows = load_bbc(args.data)
    questions = [r["title"] for r in rows[:: max(1, len(rows) // args.questions)]][: args.questions]
    runs = [(args.store, args.backend)] + ([("sqlite", "faiss")] if args.beside_sqlite else [])
    reports = [measure(rows, questions, store, backend, args.sizes, args.keep) for store, backend in runs]
    for report in reports:
        name = "bench/main.json" if report["backend"] == "faiss" and report["store"] == "sqlite" else (
            f"bench-{report['backend']}.json" if report["store"] == "sqlite" else f"bench-postgres-{report['backend']}.json")
        if "multilingual" in report["embedder"]:  # ASKBRIEF_EMBEDDER=multilingual
            name = name.replace("bench", "bench-multilingual", 1)
        if len(reports) > 1:
            name = name.replace(".json", "-beside.json") if report is reports[0] else "bench/sqlite-faiss-beside-postgres.json"
        results_file(name).write_text(json.dumps(report, indent=2) + "\n")
        print_table(report)
    if len(reports) > 1:
        print_ratios(*reports)


def measure(rows: list[dict], questions: list[str], store_kind: str, backend_kind: str, sizes: list[int],
            keep: Path | None) -> dict:
    spawn = multiprocessing.get_context("spawn")
    report = {"date": dt.date.today().isoformat(), "backend": backend_kind, "store": store_kind,
              "questions": len(questions), "sizes": []}
    with (contextlib.nullcontext(str(keep)) if keep else tempfile.TemporaryDirectory()) as home, \
            milvus_server(backend_kind, Path(home)) as server, postgres_server(store_kind) as postgres:
        backend = {"vector_backend": "faiss" if backend_kind == "faiss" else "milvus",
                   "milvus_uri": server and f"http://127.0.0.1:{server.listen_port}", "store_url": postgres}
        settings = Settings(home=Path(home), **backend)  # ASKBRIEF_EMBEDDER picks the embedder
        report["embedder"] = Engine("bench", settings).embedder.name
        if backend_kind != "faiss":
            report["milvus_consistency"] = settings.milvus_consistency  # ASKBRIEF_MILVUS_CONSISTENCY
        docs, first = copies(rows), []
        memo = MemoEmbedder(Engine("bench", settings).embedder)
        memo.encode(["warm up"])
        # The throughput figure: three timed ingests of the same first articles (two into
        # throwaway indexes, the last into the index that grows), each beside a raw torch encode.
        ingest_s, raw_s = [], []
        for rep in range(3):
            engine = Engine("bench" if rep == 2 else f"throughput-{rep}", settings)
            engine.__dict__["embedder"] = memo  # the engine's cached_property, replaced
            started = time.perf_counter()
            if rep == 0:
                ingest_until(docs, engine, sizes[0], first)
            else:
                engine.ingest(first, deduplicate=False)
            ingest_s.append(time.perf_counter() - started)
            raw_s.append(raw_encode(first))
            if rep < 2:
                drop(engine)
        memo.reuse = True
        built = ingest_s[-1]
        for number, size in enumerate(sizes):
            started = time.perf_counter()
            ingest_until(docs, engine, size, [])
            built += time.perf_counter() - started
            store = engine.store()
            entry = {"chunks": store.chunk_count(), "articles": store.count(), "build_s": round(built, 1)}
            if number == 0:
                entry.update(throughput(first, ingest_s, raw_s, entry["chunks"]))
            engine.store().close()  # milvus-lite serves one process at a time
            engine._store = None
            with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
                entry.update(pool.submit(serve, home, backend, questions).result())
            if server:
                entry["milvus_server_rss_mb"] = process_rss_mb(server.server_proc.pid)
            entry["index_mb"] = round(index_bytes(Path(home), postgres) / 1e6, 1)
            if server:
                entry["milvus_server_disk_mb"] = round(folder_size(Path(home) / "milvus-server") / 1e6, 1)
            entry["build_peak_rss_mb"] = peak_rss_mb()
            print(json.dumps(entry), flush=True)
            report["sizes"].append(entry)
    return report


def drop(engine: Engine) -> None:
    """Remove a throwaway index, from its folder or from PostgreSQL and Milvus."""
    store = engine.store()
    if engine.settings.store_url:
        store.drop()
    store.close()
    shutil.rmtree(engine.path, ignore_errors=True)


def raw_encode(docs: list) -> float:
    """Seconds for a plain SentenceTransformer.encode (torch, batch 64) of the articles' sentences."""
    model = torch_model()
    sentences = [d.text[a:b] for d in docs for a, b in split_sentences(d.text)]
    started = time.perf_counter()
    model.encode(sentences, batch_size=BATCH, normalize_embeddings=True, show_progress_bar=False)
    return time.perf_counter() - started


def throughput(docs: list, ingest_s: list[float], raw_s: list[float], chunks: int) -> dict:
    """Medians of the three timed ingests and raw encodes, and their ratio."""
    ingest, raw = statistics.median(ingest_s), statistics.median(raw_s)
    return {"ingest_s": round(ingest, 1), "ingest_articles_per_s": round(len(docs) / ingest, 1),
            "ingest_chunks_per_s": round(chunks / ingest, 1),
            "sentences": sum(len(split_sentences(d.text)) for d in docs), "raw_torch_encode_s": round(raw, 1),
            "ingest_vs_raw_encode": round(raw / ingest, 2),
            "ratio_per_run": [round(r / i, 2) for r, i in zip(raw_s, ingest_s)]}


if __name__ == "__main__":
    main()
