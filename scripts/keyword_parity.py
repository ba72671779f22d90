"""Keyword retrieval alone, SQLite's FTS5 against PostgreSQL's BM25, on SQuAD files: how often
the gold paragraph is the first (recall@1) or among the first five (recall@5) keyword hits.

    python -m scripts.keyword_parity ../shared/data/squad2-dev-subset.json ../shared/data/squad1-dev-xquad-subset.json

Starts a throw-away PostgreSQL (scripts/pgserver.py) and a Milvus server (the `milvus` test
package) on 127.0.0.1 for the run.
"""

import argparse
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
from askbrief import Engine, Settings  # noqa: E402
from askbrief.retrieve.question import as_query  # noqa: E402
from scripts.pgserver import PostgresServer  # noqa: E402
from scripts.squad import load_squad  # noqa: E402


def recall(engine: Engine, questions: list, k: int) -> float:
    store, hits = engine.store(), 0
    for q in questions:
        ids = [c for c, _ in store.keyword_search(list(as_query(q.text).terms), k)]
        hits += q.doc_id in {chunk.doc_id for chunk in store.chunks(ids).values()}
    return hits / len(questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad", type=Path, nargs="+", help="SQuAD JSON files")
    args = parser.parse_args()
    from milvus import MilvusServer

    postgres, milvus = PostgresServer().start(), MilvusServer()
    milvus.set_base_dir(tempfile.mkdtemp(prefix="askbrief-milvus-"))
    milvus.start()
    try:
        for n, path in enumerate(args.squad):
            documents, questions = load_squad(path)
            questions = [q for q in questions if q.answerable]
            sqlite = Engine("parity", Settings(home=Path(tempfile.mkdtemp())))
            shared = Engine(f"parity{n}", Settings(home=Path(tempfile.mkdtemp()), store_url=postgres.url,
                                                   vector_backend="milvus", milvus_uri=f"http://127.0.0.1:{milvus.listen_port}"))
            for engine in (sqlite, shared):
                engine.ingest(documents)
            print(f"{path.name}: {len(questions)} questions; keyword recall@1 / @5:"
                  f" FTS5 {recall(sqlite, questions, 1):.3f} / {recall(sqlite, questions, 5):.3f},"
                  f" PostgreSQL {recall(shared, questions, 1):.3f} / {recall(shared, questions, 5):.3f}")
    finally:
        milvus.stop()
        postgres.stop()


if __name__ == "__main__":
    main()
