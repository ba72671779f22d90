"""Evaluate askbrief's answers on a SQuAD-format file: retrieval, evidence, abstention,
calibration, faithfulness and latency in one table (printed, and JSON under results/).

    python -m scripts.eval_qa ../shared/data/squad2-dev-subset.json [--limit N] \
        [--off-corpus ../shared/data/squad1-dev-xquad-subset.json]
    python -m scripts.eval_qa scripts/data/news-dev.jsonl --bbc ../shared/data/bbc-news-summary.jsonl

`--errors FILE` asks with explain mode on (latency is then measured without the explanation's own
time) and writes, one JSON line each, every wrong answer (the first citation lacks the gold
answer), wrongly declined one and wrongly answered unanswerable one, with its explanation and
where the gold paragraph stood: not retrieved, retrieved but not read, or read and passed over.
"""

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from scripts.results import RESULTS, results_file
from scripts.squad import Question, ask_in, build_engine, contains_answer, load_news_dev, load_squad, token_f1  # noqa: E402


def doc_ranking(engine, question: str, mode: str) -> list[str]:
    """Paragraph ids in the order their first chunk appears in the top 50."""
    return list(dict.fromkeys(h.doc_id for h in engine.search(question, k=50, mode=mode)))


def retrieval_metrics(ranks: list[int | None]) -> dict:
    """recall@1/5/20 and MRR@10 from the 0-based rank of the gold paragraph (None: not found)."""
    n = len(ranks)
    return {
        "recall@1": sum(r is not None and r < 1 for r in ranks) / n,
        "recall@5": sum(r is not None and r < 5 for r in ranks) / n,
        "recall@20": sum(r is not None and r < 20 for r in ranks) / n,
        "mrr@10": sum(1 / (r + 1) for r in ranks if r is not None and r < 10) / n,
    }


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Weighted mean gap between confidence and accuracy over equal-width confidence bins."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    return float(sum(abs(confidence[which == b].mean() - correct[which == b].mean()) * (which == b).mean()
                     for b in range(bins) if (which == b).any()))


def evaluate(path: Path, limit: int | None, bbc: Path | None = None, off_corpus: Path | None = None,
             errors: Path | None = None, titles: set[str] | None = None, asked_in: Path | None = None,
             embedder: str | None = None, verdicts: bool = False) -> dict:
    documents, questions = load_news_dev(path, bbc, limit) if bbc else load_squad(path, limit, titles)
    if asked_in:
        questions = ask_in(questions, asked_in)
    foreign = load_squad(off_corpus, limit)[1] if off_corpus else []
    with tempfile.TemporaryDirectory() as home:
        started = time.perf_counter()
        engine = build_engine(documents, Path(home), embedder=embedder)
        ingest_s = time.perf_counter() - started
        table = {"embedder": engine.embedder.name}
        for mode in ("dense", "keyword", "fused"):
            ranks = []
            for q in questions:
                ranking = doc_ranking(engine, q.text, mode)
                ranks.append(ranking.index(q.doc_id) if q.doc_id in ranking else None)
            table[f"retrieval_{mode}"] = retrieval_metrics(ranks)
        engine.ask(questions[0].text)  # warm the reader before timing
        answers = engine.ask_many([q.text for q in questions], explain=errors is not None or verdicts)
        table.update(answer_metrics(engine, questions, answers))
        if errors:
            table["errors"] = write_errors(errors, questions, answers)
        if foreign:
            table.update(off_corpus_metrics(engine.ask_many([q.text for q in foreign])))
    table["questions"] = len(questions)
    table["answerable"] = sum(q.answerable for q in questions)
    table["paragraphs"] = len(documents)
    table["ingest_s"] = round(ingest_s, 1)
    return table


BOOTSTRAP = 1000  # resamples of the questions for the 95% intervals


def auroc(scores: np.ndarray, positive: np.ndarray) -> float:
    """P(a random positive outscores a random negative), ties counting half."""
    pos, neg = scores[positive], scores[~positive]
    if not len(pos) or not len(neg):
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="stable")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(1, len(order) + 1)
    both = np.concatenate([pos, neg])
    for value in np.unique(both):  # average ranks over ties
        tied = both == value
        ranks[tied] = ranks[tied].mean()
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def separation(confidence: np.ndarray, answerable: np.ndarray, abstained: np.ndarray, seed: int = 7) -> dict:
    """How well the confidence tells answerable questions from unanswerable ones (AUROC) and how
    well the declines do (balanced accuracy), each with a 95% bootstrap interval over questions."""
    def both(idx):
        a, d = answerable[idx], abstained[idx]
        balanced = ((~d)[a].mean() + d[~a].mean()) / 2 if a.any() and (~a).any() else float("nan")
        return auroc(confidence[idx], a), balanced
    point = both(np.arange(len(confidence)))
    rng = np.random.default_rng(seed)
    draws = np.array([both(rng.integers(0, len(confidence), len(confidence))) for _ in range(BOOTSTRAP)])
    low, high = np.nanpercentile(draws, 2.5, axis=0), np.nanpercentile(draws, 97.5, axis=0)
    return {"auroc": point[0], "auroc_95": [float(low[0]), float(high[0])],
            "balanced_accuracy_95": [float(low[1]), float(high[1])]}


def answer_metrics(engine, questions: list[Question], answers) -> dict:
    answerable = [(q, a) for q, a in zip(questions, answers) if q.answerable]
    unanswerable = [(q, a) for q, a in zip(questions, answers) if not q.answerable]
    at1 = [bool(a.citations) and contains_answer(a.citations[0].quote, q.answers) for q, a in answerable]
    at3 = [any(contains_answer(c.quote, q.answers) for c in a.citations[:3]) for q, a in answerable]
    answered = sum(not a.abstained for _, a in answerable) / max(len(answerable), 1)
    declined = sum(a.abstained for _, a in unanswerable) / len(unanswerable) if unanswerable else None
    right = np.array([q.answerable and bool(a.citations) and contains_answer(a.citations[0].quote, q.answers)
                      for q, a in zip(questions, answers)], dtype=float)
    confidence = np.array([a.confidence for a in answers])
    texts = {}
    faithful = total = 0
    for a in answers:
        for c in a.citations:
            text = texts.setdefault(c.doc_id, engine.document(c.doc_id).text)
            faithful += text[c.start:c.end] == c.quote
            total += 1
        if a.span:  # the short answer is quoted too
            text = texts.setdefault(a.span.doc_id, engine.document(a.span.doc_id).text)
            faithful += text[a.span.start:a.span.end] == a.span.text
            total += 1
    latency = [a.timings_ms["total"] - a.timings_ms.get("explain", 0.0) for a in answers]
    # The short answer, judged where the first cited sentence holds a gold one (no span scores 0).
    cited_right = [(q, a) for (q, a), hit in zip(answerable, at1) if hit]
    spans = [token_f1(a.span.text, q.answers) if a.span else 0.0 for q, a in cited_right]
    kinds = np.array([q.answerable for q in questions])
    separated = (separation(confidence, kinds, np.array([a.abstained for a in answers]))
                 if kinds.any() and (~kinds).any() else {})
    alone = [a.explanation.confidence.verifier if a.explanation else None for a in answers]
    if separated and all(v is not None for v in alone):  # explain mode on, the verifier read every question
        by_verdict = separation(np.array(alone), kinds, np.array([v <= 0 for v in alone]))
        separated["auroc_verifier_alone"], separated["auroc_verifier_alone_95"] = by_verdict["auroc"], by_verdict["auroc_95"]
    return {
        **separated,
        "evidence_accuracy@1": sum(at1) / max(len(at1), 1),
        "evidence_accuracy@3": sum(at3) / max(len(at3), 1),
        "answered_when_answerable": answered,
        "declined_when_unanswerable": declined,
        "abstention_balanced_accuracy": (answered + declined) / 2 if declined is not None else None,
        "ece": expected_calibration_error(confidence, right),
        "citation_faithfulness": faithful / max(total, 1),
        "short_answer_f1": sum(spans) / max(len(spans), 1),
        "short_answer_shown": sum(a.span is not None for _, a in cited_right) / max(len(cited_right), 1),
        "latency_ms_median": statistics.median(latency),
        "latency_ms_p95": float(np.percentile(latency, 95)),
    }


def gold_place(question: Question, answer) -> str:
    """Where the gold paragraph stood in the answer's explanation."""
    listed = [c for c in answer.explanation.retrieval.chunks if c.doc_id == question.doc_id]
    if not listed:
        return "not retrieved"
    if not any(c.read for c in listed):
        return "retrieved, not read"
    cited = {c.doc_id for c in answer.citations}
    return "read and cited" if question.doc_id in cited else "read, passed over"


def error_shape(kind: str, question: Question, answer) -> str:
    """What the explanation says went wrong, in a few words to count by."""
    x = answer.explanation
    if kind == "wrong evidence":
        gold = [s for s in x.reading if s.kind == "sentence" and contains_answer(s.text, question.answers)]
        if not gold:
            return "no sentence read holds the answer"
        best = next(s for s in x.reading if s.kind == "sentence" and s.rank == 1)
        push = best.effects[0].feature if best.effects else "nothing"
        return f"the answer's sentence ranked {min(gold[0].rank, 4)}{'+' * (gold[0].rank >= 4)}; the best pushed most by {push}"
    if kind == "wrongly declined":
        return "closest passages lack a question term" if "do not mention" in x.confidence.reason else "terms all present"
    return "span model reads it as answering" if x.confidence.span_model > 0 else "span model doubts it"


def write_errors(path: Path, questions: list[Question], answers) -> dict:
    """One JSON line per error, with its explanation; returns the counts by kind and gold place,
    and by what the explanation says went wrong."""
    places: dict[str, int] = {}
    shapes: dict[str, int] = {}
    with path.open("w", encoding="utf-8") as out:
        for q, a in zip(questions, answers):
            right = bool(a.citations) and contains_answer(a.citations[0].quote, q.answers)
            if q.answerable and a.abstained:
                kind = "wrongly declined"
            elif q.answerable and not right:
                kind = "wrong evidence"
            elif not q.answerable and not a.abstained:
                kind = "wrongly answered"
            else:
                continue
            place = gold_place(q, a)
            shape = error_shape(kind, q, a)
            key = f"{kind}: gold {place}" if q.answerable else kind
            places[key] = places.get(key, 0) + 1
            shapes[f"{kind}: {shape}"] = shapes.get(f"{kind}: {shape}", 0) + 1
            out.write(json.dumps({"kind": kind, "gold": place if q.answerable else None, "shape": shape, "question": q.text,
                                  "gold_answers": q.answers, "gold_doc_id": q.doc_id,
                                  "answer": a.model_dump()}, ensure_ascii=False) + "\n")
    ordered = lambda counts: dict(sorted(counts.items(), key=lambda item: -item[1]))  # noqa: E731
    return {"by_gold_place": ordered(places), "by_shape": ordered(shapes)}


def off_corpus_metrics(answers) -> dict:
    """Questions on articles the index does not hold: each should be declined, at low confidence."""
    confidence = np.array([a.confidence for a in answers])
    return {"off_corpus_questions": len(answers),
            "declined_off_corpus": sum(a.abstained for a in answers) / len(answers),
            "ece_off_corpus": expected_calibration_error(confidence, np.zeros(len(answers)))}


def print_table(name: str, table: dict) -> None:
    print(f"\n{name}: {table['paragraphs']} paragraphs, {table['questions']} questions "
          f"({table['answerable']} answerable), ingest {table['ingest_s']} s")
    print(f"{'retrieval':<10} {'recall@1':>9} {'recall@5':>9} {'recall@20':>9} {'MRR@10':>8}")
    for mode in ("dense", "keyword", "fused"):
        r = table[f"retrieval_{mode}"]
        print(f"{mode:<10} {r['recall@1']:>9.3f} {r['recall@5']:>9.3f} {r['recall@20']:>9.3f} {r['mrr@10']:>8.3f}")
    if "auroc" in table:
        low, high = table["auroc_95"]
        print(f"{'auroc (confidence)':<30} {table['auroc']:.3f} [{low:.3f}, {high:.3f}]")
        low, high = table["balanced_accuracy_95"]
        print(f"{'balanced accuracy 95%':<30}       [{low:.3f}, {high:.3f}]")
    if "auroc_verifier_alone" in table:
        low, high = table["auroc_verifier_alone_95"]
        print(f"{'auroc (the verifier alone)':<30} {table['auroc_verifier_alone']:.3f} [{low:.3f}, {high:.3f}]")
    for key in ("evidence_accuracy@1", "evidence_accuracy@3", "answered_when_answerable", "declined_when_unanswerable",
                "abstention_balanced_accuracy", "ece", "citation_faithfulness", "short_answer_f1",
                "short_answer_shown", "latency_ms_median", "latency_ms_p95",
                "declined_off_corpus", "ece_off_corpus"):
        if key not in table:
            continue
        value = table[key]
        print(f"{key:<30} {'n/a' if value is None else f'{value:.3f}'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="a SQuAD-format JSON file")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--bbc", type=Path, help="with the news development set: the BBC file its articles come from")
    parser.add_argument("--off-corpus", type=Path, help="another SQuAD file whose questions are also asked of this "
                        "index: none is answered there, each should be declined")
    parser.add_argument("--titles", nargs="+", help="only these articles of a SQuAD file (e.g. the 13 SQuAD 1.1 articles"
                        " no SQuAD 2.0 training file shares)")
    parser.add_argument("--ask-in", type=Path, help="XQuAD: ask the questions of this parallel file (another "
                        "language) of the data file's paragraphs, e.g. xquad.en.json over xquad.de.json")
    parser.add_argument("--embedder", choices=["english", "multilingual"], help="the index's embedder (default: "
                        "ASKBRIEF_EMBEDDER, english)")
    parser.add_argument("--name", help="the results file's name (results/eval_qa/NAME.json); default: the data's")
    parser.add_argument("--verdicts", action="store_true", help="ask in explain mode and also report how well the"
                        " verifier's verdict alone separates answerable from unanswerable questions")
    parser.add_argument("--errors", type=Path, help="write every wrong or wrongly declined answer, with its "
                        "explanation, here (JSON lines)")
    args = parser.parse_args()
    table = evaluate(args.data, args.limit, args.bbc, args.off_corpus, args.errors, set(args.titles or []) or None,
                     args.ask_in, args.embedder, args.verdicts)
    table["asked_in"] = args.ask_in.name if args.ask_in else None
    table["data"] = args.data.name
    table["date"] = dt.date.today().isoformat()
    print_table(args.data.name, table)
    if args.errors:
        print(f"\n{sum(table['errors']['by_gold_place'].values())} errors, explained in {args.errors}:")
        for part, counts in table["errors"].items():
            print(f"  {part.replace('_', ' ')}:")
            for key, n in counts.items():
                print(f"  {n:>6}  {key}")
    out = results_file(f"eval_qa-{args.name or args.data.stem}.json")
    out.write_text(json.dumps(table, indent=2) + "\n")
    print(f"\nwritten to {out.relative_to(RESULTS.parent)}")


if __name__ == "__main__":
    main()
