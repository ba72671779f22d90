"""Train askbrief's reader: a cross-encoder over (question, sentence) pairs with two heads, one
that says whether the sentence answers and one that marks the short answer inside it.

    python -m scripts.train_reader ../shared/train/squad-v1.1-train.explorer.json.gz \
        [--layers 3] [--pairs 60000] [--checkpoints DIR] [--export]

`make train-reader` runs it twice: both heads on 60,000 pairs, then a span phase from those
weights (--init) on 16,000 pairs it has not read, half of them answering, the span loss at full
weight; that one exports (models/READER.md has both commands and their figures).
Starts from the bundled all-MiniLM-L6-v2 weights (optionally its first --layers layers). The
sentence is read with the one before it as context ("…he said" answers through "he"), but the
span head marks only the sentence. Examples, all from SQuAD 1.1 train (CC BY-SA 4.0):
- positive: the sentence holding the answer (questions whose answer start had to be guessed
  are dropped, see the data's README);
- negatives: the paragraph's other sentences most like the question, and the most alike
  sentence of another paragraph of the same article;
- unanswerable, labelled negative everywhere, made the way SQuAD 2.0's were written: a named
  entity of the question swapped for another of the same article, or the question negated.
A few articles are held out for validation (never ../shared/data, which stays the test). The
seed fixes the split, the examples and their order; a checkpoint every --save-every steps lets
a stopped run resume where it was. --export writes the int8 ONNX model into the package.
"""

import argparse
import gzip
import json
import math
import os
import random
import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from askbrief.answer import span as scorer  # noqa: E402
from askbrief.text.sentences import split_sentences, terms  # noqa: E402
from scripts.reading_model import (
    Encoder,
    Pair,
    batches,
    build_model,
    evaluate,
    learn,
    save_checkpoint,
)

SEED = 13
VALIDATION_ARTICLES = 20  # of 442, held out by title
CONTEXT_CHARS = scorer.CONTEXT_CHARS
PARAGRAPH_NEGATIVES = 2
ARTICLE_NEGATIVES = 1
SWAP_SHARE = 0.35  # of questions that also give an entity-swapped unanswerable copy
NEGATE_SHARE = 0.10
OUT = scorer.MODEL_FILE.parent
_ENTITY = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*\b|\b\d{3,4}\b")
_AUX = re.compile(r"^(.*?\b(?:did|does|do|was|were|is|are|can|could|has|have|had|will|would)\b)(.*)$", re.I)


def load_articles(path: Path, ambiguous: set[str]) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        data = json.load(f)["data"]
    for article in data:
        for paragraph in article["paragraphs"]:
            paragraph["qas"] = [qa for qa in paragraph["qas"] if qa["id"] not in ambiguous]
    return data


def split_articles(articles: list[dict]) -> tuple[list[dict], list[dict]]:
    order = list(range(len(articles)))
    random.Random(SEED).shuffle(order)
    held = set(order[:VALIDATION_ARTICLES])
    return [a for i, a in enumerate(articles) if i not in held], [a for i, a in enumerate(articles) if i in held]


def _context(text: str, spans: list[tuple[int, int]], i: int) -> str:
    return text[spans[i - 1][0]:spans[i - 1][1]][-CONTEXT_CHARS:] if i > 0 else ""


def _overlap(question_terms: set[str], sentence: str) -> float:
    own = set(terms(sentence))
    return len(question_terms & own) / (len(own) ** 0.5 or 1.0)


def _swap_entity(question: str, sentence: str, pool: list[str], rng: random.Random) -> str | None:
    """The question with one of its entities that the sentence also names replaced by another
    entity of the article that the sentence does not name: it now asks for something absent."""
    found = [m for m in _ENTITY.finditer(question) if m.start() > 0 and m.group(0) in sentence]
    others = [e for e in pool if e not in sentence and e not in question]
    if not found or not others:
        return None
    m = rng.choice(found)
    return question[:m.start()] + rng.choice(others) + question[m.end():]


def _negate(question: str) -> str | None:
    m = _AUX.match(question)
    return f"{m.group(1)} not{m.group(2)}" if m else None


def answer_sentence(spans: list[tuple[int, int]], answer: dict) -> int | None:
    """The sentence holding a SQuAD answer whole; None for an answer across sentences, which
    marks no single one."""
    start = answer["answer_start"]
    at = next((i for i, (a, b) in enumerate(spans) if a <= start < b), None)
    return None if at is None or start + len(answer["text"]) > spans[at][1] else at


def make_pairs(articles: list[dict], rng: random.Random) -> list[Pair]:
    pairs: list[Pair] = []
    group = 0
    for article in articles:
        paragraphs = []
        for p in article["paragraphs"]:
            spans = split_sentences(p["context"])
            paragraphs.append((p, spans))
        entities = sorted({m.group(0) for p, _ in paragraphs for m in _ENTITY.finditer(p["context"])})
        for pi, (p, spans) in enumerate(paragraphs):
            text = p["context"]
            for qa in p["qas"]:
                answer = qa["answers"][0]
                start, end = answer["answer_start"], answer["answer_start"] + len(answer["text"])
                at = answer_sentence(spans, answer)
                if at is None:
                    continue
                group += 1
                question, (s0, s1) = qa["question"], spans[at]
                sentence = text[s0:s1]
                pairs.append(Pair(question, _context(text, spans, at), sentence, True, (start - s0, end - s0), group))
                q_terms = set(terms(question))
                others = sorted((i for i in range(len(spans)) if i != at),
                                key=lambda i: -_overlap(q_terms, text[spans[i][0]:spans[i][1]]))
                for i in others[:PARAGRAPH_NEGATIVES]:
                    pairs.append(Pair(question, _context(text, spans, i), text[spans[i][0]:spans[i][1]], False, None, group))
                elsewhere = [(oj, i) for oj, (op, ospans) in enumerate(paragraphs) if oj != pi for i in range(len(ospans))]
                if elsewhere:
                    sample = rng.sample(elsewhere, min(40, len(elsewhere)))
                    best = sorted(sample, key=lambda x: -_overlap(
                        q_terms, paragraphs[x[0]][0]["context"][slice(*paragraphs[x[0]][1][x[1]])]))[:ARTICLE_NEGATIVES]
                    for oj, i in best:
                        op, ospans = paragraphs[oj]
                        pairs.append(Pair(question, _context(op["context"], ospans, i),
                                          op["context"][ospans[i][0]:ospans[i][1]], False, None, group))
                roll = rng.random()
                unanswerable = (_swap_entity(question, sentence, entities, rng) if roll < SWAP_SHARE
                                else _negate(question) if roll < SWAP_SHARE + NEGATE_SHARE else None)
                if unanswerable:
                    group += 1
                    pairs.append(Pair(unanswerable, _context(text, spans, at), sentence, False, None, group))
    return pairs


def train(args) -> None:
    import torch

    torch.manual_seed(SEED)
    ambiguous = {line.split("\t")[0] for line in args.ambiguous.read_text().splitlines()[1:]} if args.ambiguous else set()
    articles = load_articles(args.data, ambiguous)
    training, held = split_articles(articles)
    rng = random.Random(SEED)
    pairs = make_pairs(training, rng)
    rng.shuffle(pairs)
    pairs = pairs[args.skip:]
    if args.positive_share:  # a span phase: more pairs that carry a short answer, negatives kept in proportion
        positives = [p for p in pairs if p.answers]
        negatives = [p for p in pairs if not p.answers]
        wanted = round(args.pairs * args.positive_share)
        pairs = positives[:wanted] + negatives[:args.pairs - wanted]
        random.Random(SEED + 2).shuffle(pairs)
    pairs = pairs[:args.pairs]
    validation = make_pairs(held, random.Random(SEED + 1))[:args.validation_pairs]
    print(f"{len(pairs)} training pairs ({sum(p.answers for p in pairs)} positive), "
          f"{len(validation)} validation pairs from {len(held)} held-out articles", flush=True)
    run(args, pairs, validation)


def run(args, pairs: list[Pair], validation: list[Pair]) -> None:
    """One epoch over `pairs` from the bundled MiniLM (or --init), checkpointed and resumable,
    the validation figures every --eval-every steps; --export writes the model at the end."""
    import torch

    encoder = Encoder(getattr(args, "max_tokens", scorer.MAX_TOKENS))
    model = build_model(args.layers)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    steps = math.ceil(len(pairs) / args.batch)
    warmup = max(1, steps // 20)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    step, curve = 0, []
    checkpoint = args.checkpoints / "checkpoint.pt"
    if args.init and not checkpoint.exists():  # a second phase starts from the first one's weights
        model.load_state_dict(torch.load(args.init / "checkpoint.pt", weights_only=False)["model"])
        print(f"started from the weights in {args.init}", flush=True)
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, curve = state["step"], state["curve"]
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed at step {step} of {steps}", flush=True)
    if args.export_only:
        return export(model, args)
    model.train()
    started, first = time.perf_counter(), step * args.batch
    for at in range(first, len(pairs), args.batch):
        batch = next(batches([encoder.encode(p) for p in pairs[at:at + args.batch]], args.batch))
        loss = learn(model, optimizer, scheduler, batch, args.span_weight)
        step += 1
        if step % args.log_every == 0:
            rate = (at + args.batch - first) / (time.perf_counter() - started)
            print(f"step {step}/{steps} loss {loss.item():.4f} ({rate:.1f} pairs/s)", flush=True)
        if step % args.eval_every == 0 or step == steps:
            figures = {"step": step, **evaluate(model, validation, encoder)}
            curve.append(figures)
            print(f"validation {figures}", flush=True)
        if step % args.save_every == 0 or step == steps:
            save_checkpoint(args.checkpoints, model, optimizer, scheduler, step, curve)
    print(f"trained {steps} steps in {time.perf_counter() - started:.0f} s this run", flush=True)
    (args.checkpoints / "curve.json").write_text(json.dumps(curve, indent=2) + "\n")
    if args.export:
        export(model, args)


def export(model, args) -> None:
    """int8 ONNX (torch's exporter, onnxruntime's per-channel quantiser), as the embedder, to
    `args.target` (the span model's file unless the caller names another)."""
    import tempfile

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model.eval()
    OUT.mkdir(parents=True, exist_ok=True)
    ids = torch.ones(2, 16, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0
    with tempfile.TemporaryDirectory() as work:
        float_path = Path(work) / "reader.onnx"
        torch.onnx.export(model, (ids, mask, torch.zeros_like(ids)), str(float_path), dynamo=False, opset_version=17,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["answers", "start", "end"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                                        "token_type_ids": {0: "batch", 1: "tokens"}, "answers": {0: "batch"},
                                        "start": {0: "batch", 1: "tokens"}, "end": {0: "batch", 1: "tokens"}})
        target = getattr(args, "target", None) or scorer.MODEL_FILE
        quantize_dynamic(str(float_path), str(target), per_channel=True, weight_type=QuantType.QInt8)
    print(f"exported {target} ({target.stat().st_size / 1e6:.1f} MB)")


def add_run_options(parser: argparse.ArgumentParser, span_weight: float, eval_every: int, save_every: int,
                    checkpoints: str) -> None:
    """The options `run` reads, shared with scripts/train_verifier.py (each with its own defaults)."""
    parser.add_argument("--layers", type=int, default=3, help="keep MiniLM's first N layers (3 is ~1.8x faster than 6)")
    parser.add_argument("--validation-pairs", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--span-weight", type=float, default=span_weight, help="the short-answer loss's weight")
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--eval-every", type=int, default=eval_every)
    parser.add_argument("--save-every", type=int, default=save_every)
    parser.add_argument("--checkpoints", type=Path, default=Path.home() / ".cache" / "askbrief" / checkpoints)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="SQuAD 1.1 train, ../shared/train/squad-v1.1-train.explorer.json.gz")
    parser.add_argument("--ambiguous", type=Path, help="the companion .tsv of guessed answer starts (dropped); "
                        "default: beside the data")
    parser.add_argument("--pairs", type=int, default=60_000, help="training pairs (one epoch; 60,000 is ~1 h here)")
    add_run_options(parser, span_weight=0.1, eval_every=400, save_every=200, checkpoints="train-reader")
    parser.add_argument("--init", type=Path, help="a phase 2: start from the weights of this checkpoint folder")
    parser.add_argument("--skip", type=int, default=0, help="skip the first N shuffled pairs (those phase 1 read)")
    parser.add_argument("--positive-share", type=float, help="draw pairs so that this share answers (a span phase)")
    parser.add_argument("--export", action="store_true", help="write src/askbrief/models/reader.int8.onnx at the end")
    parser.add_argument("--export-only", action="store_true", help="export the last checkpoint, train no further")
    args = parser.parse_args()
    if args.ambiguous is None:
        guess = args.data.with_name("squad-v1.1-train.explorer.ambiguous-starts.tsv")
        args.ambiguous = guess if guess.exists() else None
    train(args)


if __name__ == "__main__":
    main()
