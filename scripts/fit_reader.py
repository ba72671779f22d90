"""Fit the reader's ranker and confidence calibrator on SQuAD 1.1 train articles no model of
askbrief trained on, report them cross-validated by article, and write the coefficients to
src/askbrief/models/ranker.json.

    python -m scripts.fit_reader ../shared/train/squad-v1.1-train.explorer.json.gz \
        --squad2 ../shared/train/squad-v2.0-train-10-articles.json.gz

The articles are the 20 that scripts/train_reader.py holds out for validation (its split, its
seed; scripts/data/heldout-titles.json lists them as 'fit', and scripts/train_embedder.py leaves
them out too). Nothing in ../shared/data is read, so eval_qa.py's figures there are out of sample. The
mix looks like use:
- answerable: a question asked of an index that holds its paragraph;
- in topic, unanswerable: a question whose paragraph was left out of the index while the rest
  of its article is in (SQuAD 2.0's way: asked of the article's other paragraphs), and questions
  with an entity swapped for another of the article's (the trainer's own swap);
- off corpus: questions on articles the index does not hold at all;
- with --squad2: the 348 human-written unanswerable questions of SQuAD 2.0's first 10 train
  articles, asked of an index of those articles (the verifier's calibration split: it never
  trained on them). Only their unanswerable questions: the embedder was tuned on SQuAD 1.1 train,
  which holds these articles' answerable questions, so those would flatter the cosine.
The ranker (a linear listwise model over FEATURES: softmax over one question's candidates,
fitted by L-BFGS) learns which candidate sentence holds the answer from the answerable questions.
The verifier reads the fitted ranker's best VERIFIED sentences together, as the reader will
(one verdict a question; the folds of the cross-validation reuse the full fit's order). The calibrator
(logistic regression over the best sentence's logit, its lead, its coverage, its cosine, the span
model's and the verifier's answer logits for it) learns P(the first cited sentence is right) on
the whole mix; the threshold is the best balanced accuracy that still answers at least
MIN_ANSWERED of the answerable questions.
"""

import argparse
import json
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression

# The reader's trainer: it computes the reader's own features, so it imports the reader's internals.
from askbrief import make_document  # noqa: E402
from askbrief.answer.candidates import Candidate, reading_pair  # noqa: E402
from askbrief.answer.features import FEATURES, gather  # noqa: E402
from askbrief.answer.ranker import CALIBRATOR_INPUTS, MODEL_FILE, calibrator_inputs  # noqa: E402
from askbrief.answer.span import load_scorer  # noqa: E402
from askbrief.answer.verifier import VERIFIER_FILE, load_verifier  # noqa: E402
from askbrief.records import Evidence  # noqa: E402
from askbrief.retrieve.hybrid import Retriever
from askbrief.retrieve.question import parse  # noqa: E402
from askbrief.text.sentences import split_sentences  # noqa: E402
from scripts.answerability import best_threshold, summarise
from scripts.squad import Question, build_engine, contains_answer, load_squad, paragraph_id  # noqa: E402
from scripts.train_reader import _ENTITY, SEED, _swap_entity, load_articles, split_articles  # noqa: E402

C = 1.0  # the calibrator's inverse L2 strength: 5 inputs, ~2,000 rows
RANKER_L2 = 0.1  # the ranker's L2 penalty; CV accuracy is flat from 0.01 to 1
OFF_CORPUS_EVERY = 5  # every 5th held-out article is left out of the index: its questions are off corpus
WITHHELD_EVERY = 4  # every 4th paragraph of an indexed article is left out: its questions are in topic, unanswerable
PER_ARTICLE = 60  # questions of each kind drawn from an article, to keep the fit to minutes
SWAP_SHARE = 0.3  # of answerable questions that also give an entity-swapped (unanswerable) copy
VERIFIED = 3  # the ranker's best sentences the verifier reads
# What a question shares with a sentence word for word: nothing across languages.
KEYWORD_FEATURES = ("coverage", "coverage_gap", "matched", "bm25", "bigrams", "window_coverage", "missing_rare",
                    "keyword_rank")


@dataclass
class Sample:
    """One question's candidates as the reader sees them."""

    group: str  # the article the question was written on: the unit of cross-validation
    kind: str  # "answerable", "in_topic" (unanswerable) or "off_corpus"
    answerable: bool
    feats: np.ndarray
    labels: np.ndarray  # candidate sentence holds a gold answer
    model: np.ndarray  # the span model's answer logit of each candidate (the calibrator reads the top one's)
    text: str = ""
    cands: list[Candidate] | None = None
    evidence: Evidence | None = None
    verdict: float = 0.0  # the verifier's logit for the ranker's best VERIFIED sentences (0: none read)


def held_out_mix(data: Path) -> tuple[list, list[tuple[Question, str]]]:
    """The index's documents and the (question, kind) mix, from the trainer's held-out articles."""
    _, held = split_articles(load_articles(data, set()))
    rng = random.Random(SEED)
    documents, asked = [], []
    for n, article in enumerate(held):
        title = article["title"]
        entities = sorted({m.group(0) for p in article["paragraphs"] for m in _ENTITY.finditer(p["context"])})
        kinds: dict[str, list[Question]] = {"answerable": [], "in_topic": [], "off_corpus": []}
        for p, paragraph in enumerate(article["paragraphs"]):
            doc_id, text = paragraph_id(title, p), paragraph["context"]
            off_corpus, withheld = n % OFF_CORPUS_EVERY == OFF_CORPUS_EVERY - 1, p % WITHHELD_EVERY == WITHHELD_EVERY - 1
            if not (off_corpus or withheld):
                documents.append(make_document(text, where=doc_id, id=doc_id, title=title))
            for qa in paragraph["qas"]:
                answers = tuple(a["text"] for a in qa["answers"])
                if off_corpus or withheld:
                    kinds["off_corpus" if off_corpus else "in_topic"].append(Question(qa["id"], qa["question"], doc_id, title, ()))
                    continue
                kinds["answerable"].append(Question(qa["id"], qa["question"], doc_id, title, answers))
                start = qa["answers"][0]["answer_start"]
                sentence = next((text[a:b] for a, b in split_sentences(text) if a <= start < b), "")
                swapped = _swap_entity(qa["question"], sentence, entities, rng) if rng.random() < SWAP_SHARE else None
                if swapped:
                    kinds["in_topic"].append(Question(qa["id"] + "-swap", swapped, doc_id, title, ()))
        for kind, questions in kinds.items():
            asked += [(q, kind) for q in rng.sample(questions, min(PER_ARTICLE, len(questions)))]
    return documents, asked


def squad2_mix(data: Path) -> tuple[list, list[tuple[Question, str]]]:
    """SQuAD 2.0's human-written unanswerable questions, asked of an index of their articles."""
    documents, questions = load_squad(data)
    return documents, [(q, "in_topic_real") for q in questions if not q.answerable]


def collect(engine, asked: list[tuple[Question, str]], across: bool = False) -> list[Sample]:
    """`across`: the questions embedded as English questions asked of other languages' articles
    (MultilingualEmbedder.across), as the ranker for those will see them."""
    vectors = engine.embedder.encode_queries([q.text for q, _ in asked], [across] * len(asked))
    scorer = load_scorer()
    samples = []
    for (q, kind), v in zip(asked, vectors):
        question = parse(q.text)
        evidence = Retriever(engine.store()).evidence(question, v, 5)
        cands, feats = gather(question, v, evidence)
        docs = evidence.documents
        if not cands:
            continue
        labels = np.array([contains_answer(docs[c.doc_id].text[c.start:c.end], q.answers) for c in cands])
        model, _ = scorer.score(q.text, [reading_pair(evidence, c) for c in cands])
        samples.append(Sample(q.article, kind, q.answerable, feats, labels, model, q.text, cands, evidence))
    return samples


def add_verdicts(samples: list[Sample], ranker: "Ranker") -> None:
    """The verifier's verdict on each sample's VERIFIED best sentences under `ranker`, read
    together as the reader reads them. Without a verifier file every verdict stays 0 (the
    calibrator then gives it no weight and the reader never loads it)."""
    if not VERIFIER_FILE.exists():
        return
    verifier = load_verifier()
    for s in samples:
        best = np.argsort(-ranker.logits(s))[:VERIFIED]
        s.verdict = verifier.verdict(s.text, [s.cands[int(i)] for i in best], s.evidence)


@dataclass(frozen=True)
class Ranker:
    coef_: np.ndarray
    intercept_: np.ndarray  # kept at 0: a listwise model ranks, the calibrator sets the scale

    def logits(self, s: "Sample") -> np.ndarray:
        return s.feats @ self.coef_[0] + self.intercept_[0]


def fit_ranker(samples: list[Sample]) -> Ranker:
    """Maximise the log-probability of the candidates that hold the answer under a softmax over
    each question's candidates (only questions with at least one such candidate)."""
    rows = [s for s in samples if s.answerable and s.labels.any()]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = RANKER_L2 * w @ w, 2 * RANKER_L2 * w
        for s in rows:
            z = s.feats @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            y = s.labels / s.labels.sum()
            value -= float(y @ np.log(p + 1e-12))
            grad -= s.feats.T @ (y - p)
        return value, grad

    w = minimize(loss, np.zeros(len(FEATURES)), jac=True, method="L-BFGS-B").x
    return Ranker(w.reshape(1, -1), np.zeros(1))


def calibration_rows(ranker: Ranker, samples: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
    X, y = [], []
    for s in samples:
        logits = ranker.logits(s)
        top = int(np.argmax(logits))
        X.append(calibrator_inputs(logits, s.feats, float(s.model[top]), top, s.verdict))
        y.append(s.answerable and bool(s.labels[top]))
    return np.array(X), np.array(y, dtype=float)


@dataclass(frozen=True)
class Fitted:
    ranker: Ranker
    calibrator: LogisticRegression
    threshold: float

    def confidences(self, samples: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
        X, right = calibration_rows(self.ranker, samples)
        return self.calibrator.predict_proba(X)[:, 1], right


def fit(samples: list[Sample]) -> Fitted:
    """The ranker (on the answerable questions of SQuAD 1.1 articles), the calibrator, and the
    abstention threshold."""
    ranker = fit_ranker([s for s in samples if s.kind != "in_topic_real"])
    X, y = calibration_rows(ranker, samples)
    calibrator = LogisticRegression(C=C, max_iter=2000).fit(X, y)
    answerable = np.array([s.answerable for s in samples])
    return Fitted(ranker, calibrator, best_threshold(calibrator.predict_proba(X)[:, 1], answerable))


def cross_validate(samples: list[Sample]) -> dict:
    """Hold out each article in turn (everything fitted on the others, the threshold too) and
    pool the held-out predictions' figures per kind, and over the whole mix."""
    held: dict[str, list] = {"answerable": [], "in_topic": [], "in_topic_real": [], "off_corpus": [], "mix": []}
    for article in sorted({s.group for s in samples}):
        test = [s for s in samples if s.group == article]
        fitted = fit([s for s in samples if s.group != article])
        for s, c, r in zip(test, *fitted.confidences(test)):
            held[s.kind].append((s, r, c, fitted.threshold))
            held["mix"].append((s, r, c, fitted.threshold))
    return {name: summarise(rows) for name, rows in held.items() if rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="SQuAD 1.1 train, ../shared/train/squad-v1.1-train.explorer.json.gz")
    parser.add_argument("--squad2", type=Path, help="SQuAD 2.0 train's first 10 articles (their unanswerable questions"
                        " join the calibration), ../shared/train/squad-v2.0-train-10-articles.json.gz")
    parser.add_argument("--embedder", choices=["english", "multilingual"], default="english",
                        help="fit on this embedder's cosines; multilingual writes models/ranker-<its model>.json")
    parser.add_argument("--crosslingual", action="store_true", help="also fit, on the same questions, the ranker"
                        " for questions asked across languages: no keyword feature and no span model (neither"
                        " reads across languages); written beside the other as ranker-<model>-crosslingual.json")
    args = parser.parse_args()
    documents, asked = held_out_mix(args.data)
    runs = [False, True] if args.crosslingual else [False]
    with tempfile.TemporaryDirectory() as home:
        engine = build_engine(documents, Path(home), "held-out", args.embedder)
        documents2, asked2 = squad2_mix(args.squad2) if args.squad2 else ([], [])
        engine2 = build_engine(documents2, Path(home), "squad2", args.embedder) if args.squad2 else None
        samples = {across: collect(engine, asked, across) + (collect(engine2, asked2, across) if engine2 else [])
                   for across in runs}
    name = "ranker" if args.embedder == "english" else f"ranker-{engine.embedder.name.rsplit('/', 1)[-1]}"
    add_verdicts(samples[False], fit_ranker([s for s in samples[False] if s.kind != "in_topic_real"]))
    write_model(samples[False], MODEL_FILE.with_name(f"{name}.json"), args, engine.embedder.name)
    if args.crosslingual:  # a question in another language: its own keywords, but no span model (English)
        for s in samples[False]:  # nor the verifier (English)
            s.model[:], s.verdict = 0.0, 0.0
        write_model(samples[False], MODEL_FILE.with_name(f"{name}-other-languages.json"), args, engine.embedder.name,
                    "; for questions not in English: without the span model")
        for s in samples[True]:
            s.feats[:, [FEATURES.index(f) for f in KEYWORD_FEATURES]] = 0.0
            s.model[:], s.verdict = 0.0, 0.0
        write_model(samples[True], MODEL_FILE.with_name(f"{name}-crosslingual.json"), args, engine.embedder.name,
                    "; across languages: questions embedded as asked across languages, without the keyword"
                    " features and the span model")


def write_model(samples: list[Sample], out: Path, args, embedder: str, note: str = "") -> None:
    print(f"{out.name}: questions "
          + ", ".join(f"{k} {sum(s.kind == k for s in samples)}" for k in ("answerable", "in_topic", "in_topic_real",
                                                                             "off_corpus")))
    cv = cross_validate(samples)
    print(json.dumps({"cross_validated_by_article": cv}, indent=2))
    fitted = fit(samples)
    model = {
        "note": "fitted by scripts/fit_reader.py on the 20 SQuAD 1.1 train articles no model of askbrief trained on"
                + (" and the unanswerable questions of SQuAD 2.0's first 10 train articles" if args.squad2 else "")
                + note,
        "features": list(FEATURES),
        "ranker": {"coef": fitted.ranker.coef_[0].round(5).tolist(), "intercept": 0.0},
        "calibrator": {"inputs": list(CALIBRATOR_INPUTS),
                       "coef": fitted.calibrator.coef_[0].round(5).tolist(),
                       "intercept": round(float(fitted.calibrator.intercept_[0]), 5)},
        "threshold": fitted.threshold,
        "verifier": {"read": VERIFIED},
        "cross_validated_by_article": cv,
    }
    model["embedder"] = embedder
    out.write_text(json.dumps(model, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
