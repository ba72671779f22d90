"""Dense retrieval by a chunk's best sentence: how deep the mean-vector search must reach before
re-scoring its chunks by their best sentence finds what scoring every sentence finds.

    python -m scripts.eval_best_sentence ../shared/data/squad2-dev-subset.json [--pools 25 50 100 200] \
        [--distractors ../shared/data/bbc-news-summary.jsonl]

The index is built as askbrief builds it (scripts/squad.py), with the BBC articles beside the
paragraphs when --distractors names them (a deeper pool matters only in a larger index). Rows, dense list only (the keyword
list and fusion are as in production, eval_qa.py measures them):
- "mean": chunks by the cosine of their mean vector (askbrief before issue 22);
- "rescore N": the N nearest chunks by mean vector, re-ranked by their best sentence's cosine
  from the sentence vectors the store keeps (`Store.dense_search(by_sentence=True)`);
- "every sentence": all sentence vectors scored exhaustively, a chunk by its best: the ceiling
  that a sentence-level vector index (PQ codes or not) could at most reach.
Paragraph recall@1/@5 and the median milliseconds of the dense search. JSON in results/.
"""

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from scripts.bbc import as_document, load_bbc  # noqa: E402
from scripts.results import results_file
from scripts.squad import build_engine, load_squad  # noqa: E402


def every_sentence(store) -> tuple[np.ndarray, np.ndarray]:
    """All sentence vectors, and the chunk each belongs to."""
    chunk_of, rows = [], []
    for (chunk_id, doc_id, first, last) in store._rows("SELECT id, doc_id, first, last FROM chunks ORDER BY id"):
        _, vectors = store.sentences(doc_id, first, last)
        rows.append(vectors)
        chunk_of += [chunk_id] * len(vectors)
    return np.vstack(rows), np.array(chunk_of)


def ranked_docs(store, chunk_ids: list[int]) -> list[str]:
    chunks = store.chunks(chunk_ids)
    return list(dict.fromkeys(chunks[c].doc_id for c in chunk_ids))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--pools", type=int, nargs="+", default=[25, 50, 100, 200])
    parser.add_argument("--limit", type=int)
    parser.add_argument("--distractors", type=Path, help="bbc-news-summary.jsonl: its articles join the index")
    args = parser.parse_args()
    documents, questions = load_squad(args.data, args.limit)
    if args.distractors:
        documents += [as_document(row) for row in load_bbc(args.distractors)]
    questions = [q for q in questions if q.answerable]
    with tempfile.TemporaryDirectory() as home:
        engine = build_engine(documents, Path(home))
        store = engine.store()
        vectors = engine.embedder.encode([q.text for q in questions])
        sentences, chunk_of = every_sentence(store)
        rows = {"mean": lambda v: [c for c, _ in store.dense_search(v, 50)]}
        for pool in args.pools:
            rows[f"rescore {pool}"] = lambda v, pool=pool: [c for c, _ in store.dense_search(v, pool, by_sentence=True)]

        def exhaustive(v: np.ndarray) -> list[int]:
            scores = sentences @ v
            best: dict[int, float] = {}
            for at in np.argsort(-scores)[:2000]:
                best.setdefault(int(chunk_of[at]), float(scores[at]))
            return list(best)[:50]

        rows["every sentence"] = exhaustive
        report = {"data": args.data.name, "distractors": bool(args.distractors), "questions": len(questions), "chunks": store.chunk_count(),
                  "sentences": len(sentences), "embedder": engine.embedder.name, "rows": {}}
        print(f"{args.data.name}: {len(questions)} answerable questions, {store.chunk_count()} chunks,"
              f" {len(sentences)} sentences")
        print(f"{'dense list':<16} {'recall@1':>9} {'recall@5':>9} {'ms median':>10}")
        for name, search in rows.items():
            ranks, times = [], []
            for q, v in zip(questions, vectors):
                started = time.perf_counter()
                found = search(v)
                times.append((time.perf_counter() - started) * 1000)
                docs = ranked_docs(store, found)
                ranks.append(docs.index(q.doc_id) if q.doc_id in docs else None)
            row = {"recall@1": sum(r == 0 for r in ranks) / len(ranks),
                   "recall@5": sum(r is not None and r < 5 for r in ranks) / len(ranks),
                   "ms_median": statistics.median(times)}
            report["rows"][name] = row
            print(f"{name:<16} {row['recall@1']:>9.3f} {row['recall@5']:>9.3f} {row['ms_median']:>10.2f}")
    out = results_file(f"best_sentence-{args.data.stem}{'-bbc' if args.distractors else ''}.json")
    out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
