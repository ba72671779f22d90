"""Train askbrief's answerability verifier: a cross-encoder that reads a question against the
passage the reader would cite (its best three sentences, best first, after the article's title)
and says whether the passage answers it, SQuAD 2.0-style: one verdict for the passage, beside a
short-answer head over it.

    python -m scripts.train_verifier ../shared/train [--read 4000] [--checkpoints DIR] [--export]

Its examples are the passages that fool today's reader. The shipped engine indexes the articles
(one document a paragraph), is asked every question with explain mode on, and its best three
sentences become the passage:
- the 1,988 human-written unanswerable questions of `squad-v2.0-dev-16-articles` (each written
  against a paragraph with a plausible wrong answer), and its 2,198 answerable ones, over the same
  paragraphs: the contrast the confidence cannot see today (all of them, read twice);
- SQuAD 1.1 train questions (the first --read answerable ones mined): answering when the passage
  holds the answer's sentence, not when the reader missed it;
- made, from an answering passage: the answer's sentence withheld (its neighbour in its place),
  or the question with an entity, number or date swapped for another of the article's, or negated.
Data (../shared/train, its README): SQuAD 1.1 train (articles drawn by the seed, minus
train_reader's 20 held-out articles and the 10 below) and SQuAD 2.0 dev-16 for training; SQuAD
2.0 train-10 (348 unanswerable) is the calibration split, never trained on: the validation curve
reads 1,200 of its passages and scripts/fit_reader.py fits the calibrator and threshold on it.
The mined candidates are cached beside the checkpoints (mined-*.jsonl), so a stopped run
resumes without asking again; training resumes from its checkpoint (train_reader.run).
"""

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from askbrief import Engine, Settings  # noqa: E402
from askbrief.answer.verifier import PASSAGE_TOKENS, passage  # noqa: E402
from askbrief.text.sentences import split_sentences  # noqa: E402
from scripts import train_reader
from scripts.reading_model import Pair  # noqa: E402
from scripts.squad import contains_answer, load_squad, paragraph_id  # noqa: E402
from scripts.train_reader import _negate, _swap_entity, answer_sentence  # noqa: E402

SEED = 29
TRAIN_V11 = "squad-v1.1-train.explorer.json.gz"
TRAIN_V2 = "squad-v2.0-dev-16-articles.json.gz"
CALIBRATION_V2 = "squad-v2.0-train-10-articles.json.gz"
MINED_TOP = 3  # the reader's best sentences kept per question
VERIFIED = 3  # of those, the ones the verifier reads as one passage
WITHHELD_SHARE = 0.30  # of answerable questions, also asked of their passage without the answer
SWAP_SHARE, NEGATE_SHARE = 0.30, 0.10  # of the rest, also asked with an entity swapped, or negated
V2_REPEATS = 2


def mine(data: Path, titles: set[str] | None, out: Path, questions_wanted: int | None = None) -> None:
    """Ask the shipped engine every question of these articles with explain on; one JSON line a
    question: its reader's best sentences (doc id, start, end), confidence and decline. Appends,
    so a stopped run goes on from the last question written."""
    documents, questions = load_squad(data, titles=titles)
    if questions_wanted:
        questions = questions[:questions_wanted]
        wanted_docs = {q.doc_id for q in questions}
        documents = [d for d in documents if d.id in wanted_docs]
    done = {json.loads(line)["id"] for line in out.read_text().splitlines()} if out.exists() else set()
    todo = [q for q in questions if q.id not in done]
    if not todo:
        return
    print(f"mining {out.name}: {len(todo)} of {len(questions)} questions over {len(documents)} paragraphs", flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as home, out.open("a") as sink:
        engine = Engine("mine", Settings(home=home))
        engine.ingest(documents)
        for at in range(0, len(todo), 200):
            batch = todo[at:at + 200]
            for q, a in zip(batch, engine.ask_many([q.text for q in batch], explain=True)):
                read = sorted((r for r in a.explanation.reading if r.kind == "sentence"), key=lambda r: r.rank)
                top = [(r.doc_id, r.start, r.end) for r in read]
                sink.write(json.dumps({"id": q.id, "top": top[:MINED_TOP], "confidence": a.confidence,
                                       "abstained": a.abstained}) + "\n")
            sink.flush()
            print(f"  {at + len(batch)}/{len(todo)} ({time.perf_counter() - started:.0f} s)", flush=True)



class Article:
    """One SQuAD article's paragraphs as the engine stored them: text and sentence spans by doc id."""

    def __init__(self, data: Path, titles: set[str] | None):
        documents, _ = load_squad(data, titles=titles)
        self.text = {d.id: d.text for d in documents}
        self.title = {d.id: d.title or "" for d in documents}
        self.spans = {d.id: split_sentences(d.text) for d in documents}

    def reading(self, doc_id: str, start: int) -> tuple[str, str, str] | None:
        """(title, the sentence before, the sentence) for the sentence starting at `start`."""
        spans = self.spans[doc_id]
        i = next((i for i, (a, _) in enumerate(spans) if a == start), None)
        if i is None:
            return None
        text = self.text[doc_id]
        before = text[spans[i - 1][0]:spans[i - 1][1]] if i else ""
        return self.title[doc_id], before, text[spans[i][0]:spans[i][1]]


def make_pairs(data: Path, titles: set[str] | None, mined: Path, rng: random.Random,
               made: bool = True) -> list[Pair]:
    """The verifier's examples for one file, one passage a question: the reader's best sentences
    for it (best first, as the engine reads them), answering when they hold the answer. An
    answerable question whose passage holds it may also give made negatives: the passage with
    the answer's sentence withheld (its neighbour in its place), or the question with an entity
    swapped or negated."""
    raw = train_reader.load_articles(data, set())
    store = Article(data, titles)
    found = {r["id"]: r for r in map(json.loads, mined.read_text().splitlines())}
    pairs: list[Pair] = []
    group = 0
    for article in raw:
        if titles is not None and article["title"] not in titles:
            continue
        entities = sorted({m.group(0) for p in article["paragraphs"] for m in train_reader._ENTITY.finditer(p["context"])})
        for p_at, paragraph in enumerate(article["paragraphs"]):
            doc_id = paragraph_id(article["title"], p_at)
            for qa in paragraph["qas"]:
                if qa["id"] not in found:
                    continue
                readings = [(d, a, r) for d, a, _ in found[qa["id"]]["top"][:VERIFIED] if (r := store.reading(d, a))]
                if not readings:
                    continue
                group += 1
                read = [(d, a) for d, a, _ in readings]
                title, sentences = readings[0][2][0], [r[2] for *_, r in readings]
                if qa.get("is_impossible"):
                    pairs.append(Pair(qa["question"], "", passage(sentences), False, None, group, title))
                    continue
                answer = min(qa["answers"], key=lambda a: len(a["text"]))  # dev files: the first may be a sentence
                at = None if qa.get("ambiguous_start") else answer_sentence(store.spans[doc_id], answer)
                s0 = store.spans[doc_id][at][0] if at is not None else None
                where = next((i for i, (d, a) in enumerate(read) if d == doc_id and a == s0), None)
                if where is None:  # the reader's passage misses the answer's sentence: it does not answer
                    golds = tuple(a["text"] for a in qa["answers"])
                    if not contains_answer(passage(sentences), golds):
                        pairs.append(Pair(qa["question"], "", passage(sentences), False, None, group, title))
                    continue
                text = passage(sentences)
                offset = len(passage(sentences[:where])) + (1 if where else 0)
                begin = answer["answer_start"] - s0 + offset
                pairs.append(Pair(qa["question"], "", text, True, (begin, begin + len(answer["text"])), group, title))
                roll = rng.random() if made else 1.0
                if roll < WITHHELD_SHARE:
                    spans = store.spans[doc_id]
                    near = at + 1 if at + 1 < len(spans) else at - 1
                    if near >= 0 and all(d != doc_id or a != spans[near][0] for d, a in read):
                        swapped = sentences[:where] + [store.text[doc_id][slice(*spans[near])]] + sentences[where + 1:]
                        group += 1
                        pairs.append(Pair(qa["question"], "", passage(swapped), False, None, group, title))
                    continue
                roll = (roll - WITHHELD_SHARE) / (1 - WITHHELD_SHARE)
                changed = (_swap_entity(qa["question"], sentences[where], entities, rng) if roll < SWAP_SHARE
                           else _negate(qa["question"]) if roll < SWAP_SHARE + NEGATE_SHARE else None)
                if changed:
                    group += 1
                    pairs.append(Pair(changed, "", text, False, None, group, title))
    return pairs


def v11_titles(train: Path, calibration: set[str]) -> set[str]:
    """SQuAD 1.1 train articles the verifier may read: not train_reader's held-out 20 (the
    reader's fitting data) and not the calibration articles."""
    articles = train_reader.load_articles(train / TRAIN_V11, set())
    training, _ = train_reader.split_articles(articles)
    titles = [a["title"] for a in training if a["title"] not in calibration]
    random.Random(SEED).shuffle(titles)
    return set(titles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train", type=Path, help="../shared/train (the three SQuAD files, see its README)")
    parser.add_argument("--questions", type=int, default=18_000, help="SQuAD 1.1 train questions mined")
    parser.add_argument("--read", type=int, default=4_000, help="of those, the ones trained on (SQuAD 2.0 dev-16 is all read)")
    train_reader.add_run_options(parser, span_weight=0.3, eval_every=300, save_every=50,
                                 checkpoints="train-verifier-passage")
    parser.set_defaults(layers=6, batch=16, validation_pairs=1_200)  # all six: the 3-layer pair model lost
    parser.add_argument("--mine-only", action="store_true", help="mine the reader's candidates, train nothing")
    parser.add_argument("--export", action="store_true", help="write src/askbrief/models/verifier.int8.onnx at the end")
    parser.add_argument("--export-only", action="store_true", help="export the last checkpoint, train no further")
    args = parser.parse_args()
    args.init, args.target = None, train_reader.scorer.MODEL_FILE.with_name("verifier.int8.onnx")
    args.max_tokens = PASSAGE_TOKENS
    args.checkpoints.mkdir(parents=True, exist_ok=True)

    calibration = {a["title"] for a in train_reader.load_articles(args.train / CALIBRATION_V2, set())}
    titles = v11_titles(args.train, calibration)
    mined = {name: args.checkpoints / f"mined-{name}.jsonl" for name in ("v11", "v2", "calibration")}
    mine(args.train / CALIBRATION_V2, None, mined["calibration"])
    mine(args.train / TRAIN_V2, None, mined["v2"])
    mine(args.train / TRAIN_V11, titles, mined["v11"], args.questions)
    if args.mine_only:
        return
    rng = random.Random(SEED)
    v2 = make_pairs(args.train / TRAIN_V2, None, mined["v2"], rng)
    v11 = make_pairs(args.train / TRAIN_V11, titles, mined["v11"], rng)
    last = [p.group for p in v11 if p.answers][:args.read][-1]  # the --read'th answering question's
    v11 = [p for p in v11 if p.group <= last]
    pairs = v11 + v2 * V2_REPEATS
    rng.shuffle(pairs)
    validation = make_pairs(args.train / CALIBRATION_V2, None, mined["calibration"], random.Random(SEED + 1))
    random.Random(SEED + 2).shuffle(validation)
    validation = validation[:args.validation_pairs]
    print(f"{len(pairs)} training pairs ({sum(p.answers for p in pairs)} answering; SQuAD 2.0 dev-16 x{V2_REPEATS}: "
          f"{len(v2)}), {len(validation)} validation pairs from the calibration articles", flush=True)
    train_reader.run(args, pairs, validation)


if __name__ == "__main__":
    main()
