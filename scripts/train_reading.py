"""Train askbrief's reading model (issue 37): one cross-encoder that reads a question with a
candidate sentence (the sentence before it and the article's title as context) and gives both
whether the sentence answers and the short answer's span: the span model and the verdict in one.

    python -m scripts.train_reading ../shared/train ../shared/data/bbc-news-summary.jsonl \
        scripts/data/news-read [--export]

Its examples are the sentences the shipped engine read (scripts/mine_reading.py, run first):
- the news reading set's training split: the gold sentence answers (its short answer located in
  it); every other sentence read for an answerable question is a near miss unless it holds the
  answer's words too (then it is left out: no second reader said whether it answers); every
  sentence read for an unanswerable one is a negative, and so is the sentence its writer named as
  the trap;
- SQuAD 2.0 dev-16's 4,186 questions (1,988 written unanswerable) the same way;
- SQuAD 1.1 train: the mined articles' questions (scripts/mine_reading.py squad --articles 60).
Validation, every --eval-every steps, on what it never trains on: the news set's calibration
split and SQuAD 2.0 train-10, each question's sentences as the engine read them. The figure that
decides is the AUROC of a question's best sentence score, answerable (its gold sentence read)
against unanswerable; it stops when that has not improved for --patience evaluations, and the
best checkpoint is the one --export writes (int8, models/reading.int8.onnx).
Checkpoints every --save-every steps resume a stopped run at its step.
"""

import argparse
import json
import os
import random
import time
from pathlib import Path

import numpy as np

from scripts import reading_model, train_reader
from scripts.mine_reading import HELDOUT, V2, V11
from scripts.reading_data import examples, load_mined, news_set, squad_set
from scripts.reading_model import Encoder, Pair, batches, build_model, learn

SEED = 37
SQUAD_GROUPS = 10**6  # validation groups from this number on are SQuAD's
CHECKPOINTS = Path.home() / ".cache" / "askbrief" / "train-reading"
MODEL_FILE = train_reader.scorer.MODEL_FILE.with_name("reading.int8.onnx")


def training_pairs(args) -> list[Pair]:
    texts, by_split = news_set(args.bbc, args.readset)
    news, _ = examples(texts, by_split["train"], load_mined("news"), add_gold=True)
    v2_texts, v2 = squad_set(args.train / V2["squad2"])
    squad2, _ = examples(v2_texts, v2, load_mined("squad2"), add_gold=True, group0=SQUAD_GROUPS)
    mined = load_mined("squad")
    pairs = news * args.news_repeats + squad2
    if mined and args.squad_questions != 0:
        held = json.loads(HELDOUT.read_text())
        v11_texts, v11 = squad_set(args.train / V11, {t for k in ("fit", "selection", "squad2") for t in held[k]})
        order = {qid: i for i, qid in enumerate(mined)}  # the miner's seeded order
        v11 = sorted((q for q in v11 if q["id"] in order), key=lambda q: order[q["id"]])[:args.squad_questions]
        squad, _ = examples(v11_texts, v11, mined, add_gold=True, group0=2 * 10**6)
        pairs += squad
    print(f"training pairs: news {len(news)} x{args.news_repeats} ({sum(p.answers for p in news)} answering), "
          f"SQuAD 2.0 dev-16 {len(squad2)}, SQuAD 1.1 {len(pairs) - len(news) * args.news_repeats - len(squad2)}",
          flush=True)
    random.Random(SEED).shuffle(pairs)
    return pairs


def validation_pairs(args) -> list[Pair]:
    """Every calibration question of the news set, and SQuAD 2.0 train-10's 348 written
    unanswerables with as many of its answerable questions (drawn by the seed), as the engine read
    them; answerable ones whose gold the engine missed are left out (they measure retrieval)."""
    texts, by_split = news_set(args.bbc, args.readset)
    news, news_answerable = examples(texts, by_split["calibration"], load_mined("news"), add_gold=False)
    cal_texts, cal = squad_set(args.train / V2["squad2cal"])
    answerable = [q for q in cal if q["answers"]]
    random.Random(SEED).shuffle(answerable)
    unanswerable = [q for q in cal if not q["answers"]]
    squad, squad_answerable = examples(cal_texts, unanswerable + answerable[:len(unanswerable)], load_mined("squad2cal"),
                                       add_gold=False, group0=SQUAD_GROUPS)
    groups: dict[int, list[Pair]] = {}
    for p in news + squad:
        groups.setdefault(p.group, []).append(p)
    missed = (news_answerable | squad_answerable) - {p.group for p in news + squad if p.answers}
    return [p for g, ps in sorted(groups.items()) if g not in missed for p in ps]


def validate(model, pairs: list[Pair], encoder: Encoder) -> dict:
    """AUROC of a question's best sentence score (answerable, its gold read, against unanswerable),
    accuracy@1 of the gold among what was read, and the short answer's token F1 on the gold."""
    import torch

    model.eval()
    encoded = [encoder.encode(p) for p in pairs]
    scores, f1 = [], []
    with torch.no_grad():
        for batch in batches(encoded, 64):
            answer, start, end = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
            scores += answer.tolist()
            s = start.masked_fill(~batch["in_sentence"], -1e4).argmax(-1).tolist()
            e = end.masked_fill(~batch["in_sentence"], -1e4).argmax(-1).tolist()
            for i, has in enumerate(batch["has_span"].tolist()):
                if has:
                    gold = (int(batch["start"][i]), int(batch["end"][i]))
                    f1.append(reading_model.token_f1((s[i], max(e[i], s[i])), gold))
    model.train()
    groups: dict[int, list[tuple[float, bool]]] = {}
    for p, score in zip(pairs, scores):
        groups.setdefault(p.group, []).append((score, p.answers))
    def auroc(keep) -> float:
        kept = [g for k, g in groups.items() if keep(k)]
        best = np.array([max(s for s, _ in g) for g in kept])
        return round(reading_model.auc(best, np.array([any(a for _, a in g) for g in kept])), 4)

    at1 = [max(g)[1] for g in groups.values() if any(a for _, a in g)]
    return {"auroc": auroc(lambda k: True), "auroc_news": auroc(lambda k: k < SQUAD_GROUPS),
            "auroc_squad2": auroc(lambda k: k >= SQUAD_GROUPS), "accuracy@1": round(float(np.mean(at1)), 4),
            "span_f1": round(float(np.mean(f1)), 4) if f1 else None, "questions": len(groups)}


def by_length(pairs: list[Pair], encoder: Encoder, size: int, rng: random.Random) -> list[list[dict]]:
    """Batches of similar lengths (less padding), in a random order."""
    encoded = [encoder.encode(p) for p in pairs]
    out = []
    for at in range(0, len(encoded), size * 50):
        window = sorted(encoded[at:at + size * 50], key=lambda r: len(r["ids"]))
        out += [window[i:i + size] for i in range(0, len(window), size)]
    rng.shuffle(out)
    return out


def train(args) -> None:
    import torch

    torch.manual_seed(SEED)
    encoder = Encoder(args.max_tokens)
    pairs, validation = training_pairs(args), validation_pairs(args)
    print(f"{len(validation)} validation pairs, {len({p.group for p in validation})} questions", flush=True)
    model = build_model(args.layers)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = 200
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
    state = {"step": 0, "curve": [], "best": -1.0, "since_best": 0}
    checkpoint = args.checkpoints / "checkpoint.pt"
    if checkpoint.exists():
        saved = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        state = saved["state"]
        print(f"resumed at step {state['step']}; curve so far {state['curve']}", flush=True)
    if args.export_only:
        return export_best(model, args)
    def resumable() -> dict:
        return {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "state": state}

    model.train()
    started, first_step = time.perf_counter(), state["step"]
    per_epoch = -(-len(pairs) // args.batch)
    while state["since_best"] < args.patience and state["step"] < args.max_steps:
        epoch, offset = divmod(state["step"], per_epoch)
        plan = by_length(pairs, encoder, args.batch, random.Random(SEED + epoch))
        for rows in plan[offset:]:
            loss = learn(model, optimizer, scheduler, next(batches(rows, len(rows))), args.span_weight)
            state["step"] += 1
            if state["step"] % args.log_every == 0:
                rate = (state["step"] - first_step) * args.batch / (time.perf_counter() - started)
                print(f"step {state['step']} (epoch {epoch + 1}) loss {loss.item():.4f} ({rate:.1f} pairs/s)", flush=True)
            if state["step"] % args.eval_every == 0:
                figures = {"step": state["step"], "seconds": round(time.perf_counter() - started), **validate(model, validation, encoder)}
                state["curve"].append(figures)
                improved = figures["auroc"] > state["best"]
                state["best"], state["since_best"] = max(state["best"], figures["auroc"]), 0 if improved else state["since_best"] + 1
                if improved:
                    save(args.checkpoints / "best.pt", {"model": model.state_dict(), "figures": figures})
                print(f"validation {figures}{' (best)' if improved else ''}", flush=True)
                (args.checkpoints / "curve.json").write_text(json.dumps(state["curve"], indent=2) + "\n")
            if state["step"] % args.save_every == 0:
                save(checkpoint, resumable())
            if state["since_best"] >= args.patience or state["step"] >= args.max_steps:
                break
    save(checkpoint, resumable())
    print(f"stopped at step {state['step']}: AUROC best {state['best']}, {state['since_best']} evaluations "
          f"without a gain; {time.perf_counter() - started:.0f} s this run", flush=True)
    if args.export:
        export_best(model, args)


def save(path: Path, content: dict) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(content, path.with_suffix(".tmp"))
    os.replace(path.with_suffix(".tmp"), path)


def export_best(model, args) -> None:
    import torch

    best = torch.load(args.checkpoints / "best.pt", weights_only=False)
    model.load_state_dict(best["model"])
    print(f"exporting the best checkpoint: {best['figures']}")
    train_reader.export(model, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train", type=Path, help="../shared/train (the SQuAD files, see its README)")
    parser.add_argument("bbc", type=Path, help="../shared/data/bbc-news-summary.jsonl, the reading set's articles")
    parser.add_argument("readset", type=Path, help="the news reading set's folder (scripts/data/news-read)")
    parser.add_argument("--squad-questions", type=int, help="of the mined SQuAD 1.1 train questions, the first N (default all)")
    parser.add_argument("--news-repeats", type=int, default=1, help="the news pairs, this many times an epoch")
    parser.add_argument("--patience", type=int, default=3, help="evaluations without a better AUROC before stopping")
    parser.add_argument("--max-steps", type=int, default=20_000)
    parser.add_argument("--max-tokens", type=int, default=train_reader.scorer.MAX_TOKENS)
    parser.add_argument("--layers", type=int, default=3, help="MiniLM's first N layers (the span model's depth)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument("--span-weight", type=float, default=0.5, help="the short-answer loss's weight")
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--eval-every", type=int, default=400)
    parser.add_argument("--save-every", type=int, default=50)
    parser.add_argument("--checkpoints", type=Path, default=CHECKPOINTS)
    parser.add_argument("--export", action="store_true", help="write the best checkpoint int8 to models/reading.int8.onnx")
    parser.add_argument("--export-only", action="store_true", help="export the best checkpoint, train no further")
    args = parser.parse_args()
    args.target = MODEL_FILE
    train(args)


if __name__ == "__main__":
    main()
