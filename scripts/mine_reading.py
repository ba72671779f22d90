"""Mine the shipped engine's near misses for the reading model (issue 37): every training question
asked as a user asks it, its article indexed among hundreds of others, and every sentence the
engine reads kept (its best three sentences, and the quotes path's opening sentences).

    python -m scripts.mine_reading news ../shared/data/bbc-news-summary.jsonl scripts/data/news-read
    python -m scripts.mine_reading squad2 ../shared/train     (and squad2cal: the calibration split)
    python -m scripts.mine_reading squad ../shared/train [--articles 60]

Each set's index is built once under --cache (a stopped run reuses it) and its questions are
appended to mined-<set>.jsonl there, one line a question: {"id", "read": [[doc_id, start, end,
kind, rank], ...], "confidence", "abstained"}; a stopped run goes on from the last line written.
SQuAD 1.1 train: --articles of its articles drawn by the seed (all their paragraphs indexed, all
their questions asked); the articles that scripts/data/heldout-titles.json keeps from every model
are never drawn. All 442 would take ~2 h of these two cores (ingest 16,435 paragraphs, then 87,599 asks).
"""

import argparse
import json
import random
import time
from pathlib import Path

from askbrief import Engine, Settings, make_document
from scripts.squad import load_squad

SEED = 37
TOP = 3  # the reader's best sentences kept a question (it cites at most three)
BATCH = 100
CACHE = Path.home() / ".cache" / "askbrief" / "reading"
HELDOUT = Path(__file__).parent / "data" / "heldout-titles.json"
V11 = "squad-v1.1-train.explorer.json.gz"
V2 = {"squad2": "squad-v2.0-dev-16-articles.json.gz",  # trained on: 1,988 written unanswerables
      "squad2cal": "squad-v2.0-train-10-articles.json.gz"}  # never trained on: the calibration split


def engine_over(home: Path, documents: list) -> Engine:
    """The set's index, built once: `done` is written only after the last document is in."""
    engine = Engine("mine", Settings(home=home))
    if not (home / "done").exists():
        started = time.perf_counter()
        engine.ingest(documents, progress=True)
        (home / "done").write_text(f"{len(documents)} documents in {time.perf_counter() - started:.0f} s\n")
    return engine


def mine(engine: Engine, questions: list[tuple[str, str]], out: Path) -> None:
    """Ask (id, text) questions with explain on; append what the engine read for each."""
    done = {json.loads(line)["id"] for line in out.read_text().splitlines()} if out.exists() else set()
    todo = [q for q in questions if q[0] not in done]
    print(f"mining {out.name}: {len(todo)} of {len(questions)} questions left", flush=True)
    started = time.perf_counter()
    with out.open("a") as sink:
        for at in range(0, len(todo), BATCH):
            batch = todo[at:at + BATCH]
            for (qid, _), answer in zip(batch, engine.ask_many([text for _, text in batch], explain=True)):
                read = [[r.doc_id, r.start, r.end, r.kind, r.rank] for r in answer.explanation.reading
                        if r.kind == "quote" or r.rank <= TOP]
                sink.write(json.dumps({"id": qid, "read": read, "confidence": answer.confidence,
                                       "abstained": answer.abstained}) + "\n")
            sink.flush()
            rate = (at + len(batch)) / (time.perf_counter() - started)
            print(f"  {at + len(batch)}/{len(todo)} ({rate:.1f} questions/s)", flush=True)


def news(bbc: Path, readset: Path, cache: Path) -> None:
    """The reading set's questions (every split), over all its articles in one index."""
    wanted = set(json.loads((readset / "articles.json").read_text())["split"])
    rows = [json.loads(line) for line in bbc.read_text().splitlines()]
    documents = [make_document(r["text"], where=r["id"], id=r["id"], title=r["title"], source="BBC " + r["category"])
                 for r in rows if r["id"] in wanted]
    questions = [(q["id"], q["question"]) for q in map(json.loads, (readset / "questions.jsonl").read_text().splitlines())]
    mine(engine_over(cache / "home-news", documents), questions, cache / "mined-news.jsonl")


def squad(train: Path, cache: Path, name: str, articles: int | None) -> None:
    if name in V2:
        documents, questions = load_squad(train / V2[name])
    else:
        held = json.loads(HELDOUT.read_text())
        kept = {t for key in ("fit", "selection", "squad2") for t in held[key]}
        documents, questions = load_squad(train / V11)
        titles = sorted({d.title for d in documents} - kept)
        random.Random(SEED).shuffle(titles)
        drawn = set(titles[:articles])
        documents = [d for d in documents if d.title in drawn]
        questions = [q for q in questions if q.article in drawn]
    mine(engine_over(cache / f"home-{name}", documents), [(q.id, q.text) for q in questions],
         cache / f"mined-{name}.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", choices=["news", "squad", "squad2", "squad2cal"])
    parser.add_argument("data", type=Path, help="news: bbc-news-summary.jsonl; squad, squad2: ../shared/train")
    parser.add_argument("readset", type=Path, nargs="?", help="news: the reading set's folder")
    parser.add_argument("--articles", type=int, default=60, help="squad: SQuAD 1.1 train articles drawn (of 442)")
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.set == "news":
        news(args.data, args.readset, args.cache)
    else:
        squad(args.data, args.cache, args.set, args.articles)


if __name__ == "__main__":
    main()
