"""Tune askbrief's embedder for questions: a question should land nearest the sentence that
answers it, so that one cosine both retrieves and reads.

    python -m scripts.train_embedder ../shared/train/squad-v1.1-train.explorer.json.gz \
        [--checkpoints DIR] [--batch 128] [--epochs 1] [--export]

Starts from the bundled all-MiniLM-L6-v2 weights and trains them with sentence-transformers' own
trainer: MultipleNegativesRankingLoss (cross-entropy over 20 x cosine) with the other rows of a
batch as negatives plus one hard negative per question, and a batch sampler that keeps a
sentence from appearing twice in one batch (SQuAD often asks several questions of one sentence:
those would be false negatives). Rows, all from SQuAD 1.1 train (CC BY-SA 4.0):
- anchor: the question;
- positive: the sentence holding its answer, as askbrief's own splitter cuts the paragraph
  (questions whose answer start had to be guessed are dropped, see the data's README);
- negative: the paragraph's other sentence sharing the most words with the question (one not
  containing the answer text), or else the article's.
The articles of scripts/data/heldout-titles.json are never read. The seed fixes the rows and
their order; the trainer writes a checkpoint every --save-every steps and a stopped run resumes
from the newest one. --export writes the tuned model as int8 ONNX into the package.
"""

import argparse
import json
import os
import random
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from askbrief.text.sentences import split_sentences, terms  # noqa: E402
from scripts.train_reader import answer_sentence  # noqa: E402
from scripts.train_reader import load_articles as load_without  # noqa: E402

SEED = 13
HELDOUT = ROOT / "scripts" / "data" / "heldout-titles.json"
CHECKPOINTS = Path.home() / ".cache" / "askbrief" / "train-embedder"
MAX_TOKENS = 96  # a SQuAD sentence is ~30 word pieces; the longest few are cut
CURVE_QUESTIONS = 400  # questions of the 'fit' held-out articles, for the training curve


def heldout_titles(path: Path = HELDOUT) -> set[str]:
    groups = json.loads(path.read_text())
    return {title for key, titles in groups.items() if not key.startswith("_") for title in titles}


def load_articles(path: Path) -> list[dict]:
    """SQuAD articles with the questions whose answer start was guessed dropped."""
    ambiguous_file = path.with_name("squad-v1.1-train.explorer.ambiguous-starts.tsv")
    ambiguous = set()
    if ambiguous_file.exists():
        ambiguous = {line.split("\t")[0] for line in ambiguous_file.read_text().splitlines()[1:]}
    return load_without(path, ambiguous)


def _overlap(question_terms: set[str], sentence: str) -> int:
    return len(question_terms & set(terms(sentence)))


def answer_rows(article: dict) -> list[tuple[str, str, str, str]]:
    """(question, answer sentence, hard negative, question id) for each question of the article
    whose answer lies inside one sentence."""
    paragraphs = [(p, [p["context"][a:b] for a, b in split_sentences(p["context"])], split_sentences(p["context"]))
                  for p in article["paragraphs"]]
    article_sentences = [s for _, sentences, _ in paragraphs for s in sentences]
    rows = []
    for p, sentences, spans in paragraphs:
        for qa in p["qas"]:
            answer = qa["answers"][0]
            at = answer_sentence(spans, answer)
            if at is None:
                continue
            q_terms = set(terms(qa["question"]))
            others = [s for i, s in enumerate(sentences) if i != at and answer["text"] not in s]
            if not others:  # a one-sentence paragraph: the article's closest other sentence
                others = [s for s in article_sentences if s != sentences[at] and answer["text"] not in s]
            if not others:
                continue
            negative = max(others, key=lambda s: _overlap(q_terms, s))  # first on a tie: deterministic
            rows.append((qa["question"], sentences[at], negative, qa["id"]))
    return rows


def training_rows(articles: list[dict], held: set[str]) -> dict[str, list[str]]:
    rows = [row for article in articles if article["title"] not in held for row in answer_rows(article)]
    random.Random(SEED).shuffle(rows)
    return {"anchor": [r[0] for r in rows], "positive": [r[1] for r in rows], "negative": [r[2] for r in rows]}


def curve_evaluator(articles: list[dict], titles: list[str]):
    """Sentence retrieval over the held-out 'fit' articles (every sentence of them the corpus),
    logged as training goes: a curve to watch, never used to pick a checkpoint."""
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    corpus, queries, relevant = {}, {}, {}
    wanted = set(titles)
    for article in articles:
        if article["title"] not in wanted:
            continue
        for question, sentence, _, qid in answer_rows(article):
            queries[qid] = question
            relevant[qid] = {sentence}
        for p in article["paragraphs"]:
            for a, b in split_sentences(p["context"]):
                corpus[p["context"][a:b]] = p["context"][a:b]
    chosen = sorted(queries)
    random.Random(SEED).shuffle(chosen)
    chosen = chosen[:CURVE_QUESTIONS]
    return InformationRetrievalEvaluator(
        {q: queries[q] for q in chosen}, corpus, {q: relevant[q] for q in chosen}, name="heldout-fit",
        mrr_at_k=[10], ndcg_at_k=[10], accuracy_at_k=[1, 5], precision_recall_at_k=[5], map_at_k=[100],
        show_progress_bar=False, batch_size=64)


def last_checkpoint(folder: Path) -> str | None:
    found = sorted(folder.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    return str(found[-1]) if found else None


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad", type=Path, help="SQuAD 1.1 train (.json.gz)")
    parser.add_argument("--checkpoints", type=Path, default=CHECKPOINTS)
    parser.add_argument("--batch", type=int, default=128, help="questions a step (in-batch negatives)")
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--warmup", type=float, default=0.05, help="share of steps warming up, then linear decay")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--save-every", type=int, default=10, help="steps between checkpoints")
    parser.add_argument("--eval-every", type=int, default=50, help="steps between points of the curve")
    parser.add_argument("--limit", type=int, help="train on the first N rows only (a smoke run)")
    parser.add_argument("--export", action="store_true", help="write the final model int8 into the package")
    return parser.parse_args()


def main() -> None:
    args = options()
    import torch
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.base.training_args import BatchSamplers
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from askbrief.encoders.embed import _model_path

    torch.manual_seed(SEED)
    articles = load_articles(args.squad)
    held = heldout_titles()
    columns = training_rows(articles, held)
    if args.limit:
        columns = {k: v[:args.limit] for k, v in columns.items()}
    print(f"{len(columns['anchor'])} training rows from {sum(a['title'] not in held for a in articles)} articles "
          f"({len(held)} held out)", flush=True)

    model = SentenceTransformer(str(_model_path()), device="cpu")
    model.max_seq_length = MAX_TOKENS
    final = args.checkpoints / "final"
    if not final.exists():
        training = SentenceTransformerTrainingArguments(
            output_dir=str(args.checkpoints), num_train_epochs=args.epochs, per_device_train_batch_size=args.batch,
            learning_rate=args.lr, warmup_steps=args.warmup, lr_scheduler_type="linear", weight_decay=0.01,
            batch_sampler=BatchSamplers.NO_DUPLICATES, seed=SEED, data_seed=SEED,
            save_strategy="steps", save_steps=args.save_every, save_total_limit=2,
            eval_strategy="steps", eval_steps=args.eval_every, per_device_eval_batch_size=64,
            logging_steps=5, report_to="none", dataloader_num_workers=0, use_cpu=True, disable_tqdm=True)
        trainer = SentenceTransformerTrainer(
            model=model, args=training, train_dataset=Dataset.from_dict(columns),
            loss=MultipleNegativesRankingLoss(model, scale=20.0),
            evaluator=curve_evaluator(articles, json.loads(HELDOUT.read_text())["fit"]))
        resume = last_checkpoint(args.checkpoints)
        print(f"resuming from {resume}" if resume else "starting from the bundled weights", flush=True)
        started = time.perf_counter()
        trainer.train(resume_from_checkpoint=resume)
        print(f"trained in {time.perf_counter() - started:.0f} s this run", flush=True)
        model.save(str(final))
        (args.checkpoints / "log_history.json").write_text(json.dumps(trainer.state.log_history, indent=1))
    if args.export:
        from askbrief.encoders.embed import MODEL_FILE, export_int8

        fresh = export_int8(MODEL_FILE.with_name("embedder.new.onnx"), source=final)
        os.replace(fresh, MODEL_FILE)  # the shipped model is the old one or the new, never half of one
        print(f"{MODEL_FILE} ({MODEL_FILE.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
