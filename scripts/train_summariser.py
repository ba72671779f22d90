"""Train askbrief's summary scorer on BBC News Summary (odd-numbered articles only) and export it
int8 ONNX into the package.

    python -m scripts.train_summariser ../shared/data/bbc-news-summary.jsonl [--epochs 40] [--export]

Each sentence is read in the context of its article (summarise.model_inputs: its position, the
headline, its neighbours' centrality, lexical and MiniLM centralities within the article). A small
network scores it, trained with two losses that match the metric: a pointwise one (is the sentence
in the reference) and a listwise one (each article's softmax over its sentences against the share
of ROUGE-2 each sentence alone earns against the reference, Cao et al. 2007's ListNet). Articles whose number ends in 9 are held out
for choosing the epoch; the even-numbered ones are never read here (scripts/eval_summary.py tests
on them). The prepared inputs are cached under --cache, so a stopped run resumes from there.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from askbrief.summary import summarise  # noqa: E402
from scripts.bbc import as_document, load_bbc, sentence_rows  # noqa: E402

SEED = 13
HIDDEN = 64  # units; 32 and 128 were within 0.002 ROUGE-2 of it on the validation articles
DROPOUT = 0.2


def is_validation(article_id: str) -> bool:
    return int(article_id.rsplit("-", 1)[1]) % 10 == 9  # a fifth of the odd-numbered articles


def prepare(data: Path, cache: Path) -> list[dict]:
    """Per article: model inputs, in-reference labels and each sentence's own ROUGE-2 F1."""
    path = cache / "bbc-train.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as stored:  # each key read once: a read is a copy
            ids, bounds, x, label, gain = (stored[k] for k in ("ids", "bounds", "x", "label", "gain"))
        if x.shape[1] == summarise.N_INPUTS:  # else the inputs changed since: prepare anew
            return [{"id": str(i), "x": x[a:b], "label": label[a:b], "gain": gain[a:b]} for i, (a, b) in zip(ids, bounds)]
    from rouge_score import rouge_scorer

    from askbrief.encoders.embed import load_embedder

    rouge = rouge_scorer.RougeScorer(["rouge2"], use_stemmer=True)
    embedder = load_embedder()
    articles, started = [], time.perf_counter()
    rows = load_bbc(data, "train")
    for n, row in enumerate(rows, 1):
        doc = as_document(row)
        sentences = sentence_rows(doc)
        vectors = embedder.encode([doc.text[a:b] for _, a, b in sentences] + [doc.title])
        pool = summarise.make_pool([(doc, sentences, vectors[:-1])], vectors[-1:])
        reference = row["reference_summary"]
        articles.append({"id": row["id"], "x": summarise.model_inputs(pool),
                         "label": np.array([t in reference for t in pool.texts], dtype=np.float32),
                         "gain": np.array([rouge.score(reference, t)["rouge2"].fmeasure for t in pool.texts],
                                          dtype=np.float32)})
        if n % 100 == 0:
            print(f"  prepared {n}/{len(rows)} articles ({time.perf_counter() - started:.0f} s)", flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    sizes = np.cumsum([0] + [len(a["x"]) for a in articles])
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, ids=np.array([a["id"] for a in articles]), bounds=np.column_stack([sizes[:-1], sizes[1:]]),
             x=np.vstack([a["x"] for a in articles]), label=np.concatenate([a["label"] for a in articles]),
             gain=np.concatenate([a["gain"] for a in articles]))
    tmp.replace(path)
    return articles


def build_model(n_inputs: int, mean: np.ndarray, std: np.ndarray):
    import torch

    class Scorer(torch.nn.Module):
        """Standardises its inputs itself, so the runtime feeds raw model_inputs."""

        def __init__(self):
            super().__init__()
            self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
            self.register_buffer("scale", torch.tensor(1.0 / std, dtype=torch.float32))
            self.net = torch.nn.Sequential(torch.nn.Linear(n_inputs, HIDDEN), torch.nn.GELU(),
                                           torch.nn.Dropout(DROPOUT), torch.nn.Linear(HIDDEN, 1))

        def forward(self, inputs):
            return self.net((inputs - self.mean) * self.scale).squeeze(-1)

    return Scorer()


def loss_of(model, article: dict, pointwise_weight: float):
    import torch

    logits = model(torch.from_numpy(article["x"]))
    gain = torch.from_numpy(article["gain"])
    target = gain / gain.sum() if gain.sum() > 0 else torch.full_like(gain, 1.0 / len(gain))
    listwise = -(target * torch.log_softmax(logits, dim=0)).sum()
    pointwise = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(article["label"]))
    return listwise + pointwise_weight * pointwise


def validate(score, articles: list[dict]) -> dict:
    """Mean share of ROUGE-2 gain reached by the top 3 and by the top |reference| sentences, and
    the AUC of in-reference sentences: quick stand-ins for eval_summary's ROUGE, read per epoch."""
    from sklearn.metrics import roc_auc_score

    top3, topref, labels, scores = [], [], [], []
    for a in articles:
        s = score(a["x"])
        k = max(1, int(a["label"].sum()))
        order = np.argsort(-s)
        top3.append(a["label"][order[:3]].mean())
        topref.append(a["label"][order[:k]].mean())
        labels.append(a["label"])
        scores.append(s)
    return {"precision@3": round(float(np.mean(top3)), 4), "precision@ref": round(float(np.mean(topref)), 4),
            "auc": round(float(roc_auc_score(np.concatenate(labels), np.concatenate(scores))), 4)}


def train(args) -> None:
    import torch

    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    articles = prepare(args.data, args.cache)
    fit = [a for a in articles if not is_validation(a["id"])]
    held = [a for a in articles if is_validation(a["id"])]
    stacked = np.vstack([a["x"] for a in fit])
    model = build_model(stacked.shape[1], stacked.mean(axis=0), stacked.std(axis=0) + 1e-6)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    print(f"{len(fit)} articles ({len(stacked)} sentences) to fit, {len(held)} held out; {stacked.shape[1]} inputs")

    def score(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()

    best, best_state, started = None, None, time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        total = 0.0
        for i in rng.permutation(len(fit)):
            optimizer.zero_grad()
            loss = loss_of(model, fit[i], args.pointwise_weight)
            loss.backward()
            optimizer.step()
            total += loss.item()
        model.eval()
        figures = validate(score, held)
        print(f"epoch {epoch:3d} loss {total / len(fit):.4f} validation {figures}", flush=True)
        key = figures["precision@3"] + figures["precision@ref"]
        if best is None or key > best:
            best, best_state = key, {k: v.clone() for k, v in model.state_dict().items()}
            best_epoch = epoch
    model.load_state_dict(best_state)
    print(f"kept epoch {best_epoch}; trained in {time.perf_counter() - started:.0f} s")
    if args.export:
        export(model, stacked.shape[1])
        exported = summarise.SummaryScorer()
        print(f"int8 on the held-out articles: {validate(exported.score, held)}")


def export(model, n_inputs: int) -> None:
    """int8 ONNX (torch's exporter, onnxruntime's per-channel quantiser), as the reader."""
    import tempfile

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model.eval()
    target = summarise.MODEL_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        float_path = Path(work) / "summariser.onnx"
        torch.onnx.export(model, (torch.zeros(3, n_inputs),), str(float_path), dynamo=False, opset_version=17,
                          input_names=["inputs"], output_names=["scores"],
                          dynamic_axes={"inputs": {0: "sentences"}, "scores": {0: "sentences"}})
        quantize_dynamic(str(float_path), str(target), per_channel=True, weight_type=QuantType.QInt8)
    print(f"exported {target} ({target.stat().st_size / 1e3:.0f} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="../shared/data/bbc-news-summary.jsonl (only its odd-numbered articles are read)")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-2)
    parser.add_argument("--pointwise-weight", type=float, default=20.0, help="of the in-reference loss beside the listwise one")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "askbrief" / "train-summariser")
    parser.add_argument("--export", action="store_true", help="write src/askbrief/models/summariser.int8.onnx")
    train(parser.parse_args())


if __name__ == "__main__":
    main()
