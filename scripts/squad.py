"""SQuAD data for the evaluations: one document per paragraph, questions with gold answers.

Shared by eval_qa.py and fit_reader.py; reads the file given on the command line (the data
stays in ../shared/data).
"""

import gzip
import json
import re
import string
from dataclasses import dataclass
from pathlib import Path

from askbrief import Document, Engine, Settings, make_document


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    doc_id: str  # the gold paragraph
    article: str
    answers: tuple[str, ...]  # empty when unanswerable

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def paragraph_id(title: str, p: int) -> str:
    """A document id for paragraph p of an article: titles hold commas and brackets, ids may not."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"{title}-{p}")


def load_squad(path: Path, limit: int | None = None, titles: set[str] | None = None) -> tuple[list[Document], list[Question]]:
    """A SQuAD file (.json, or .json.gz as ../shared/train keeps them), only the articles named
    in `titles` when given."""
    opened = gzip.open(path, "rt", encoding="utf-8") if str(path).endswith(".gz") else open(path, encoding="utf-8")
    with opened as f:
        data = json.load(f)["data"]
    documents, questions = [], []
    for article in data:
        if titles is not None and article["title"] not in titles:
            continue
        for p, paragraph in enumerate(article["paragraphs"]):
            doc_id = paragraph_id(article["title"], p)
            documents.append(make_document(paragraph["context"], where=doc_id, id=doc_id, title=article["title"]))
            for qa in paragraph["qas"]:
                answers = () if qa.get("is_impossible") else tuple(a["text"] for a in qa["answers"])
                questions.append(Question(qa["id"], qa["question"], doc_id, article["title"], answers))
    return documents, questions[:limit] if limit else questions


def ask_in(questions: list[Question], path: Path) -> list[Question]:
    """The same questions asked in another language: XQuAD's files are parallel, one question id
    in each, so each question's text comes from `path` and its gold paragraph and answers stay."""
    with open(path, encoding="utf-8") as f:
        texts = {qa["id"]: qa["question"] for a in json.load(f)["data"] for p in a["paragraphs"] for qa in p["qas"]}
    return [Question(q.id, texts[q.id], q.doc_id, q.article, q.answers) for q in questions]


def load_news_dev(path: Path, bbc: Path, limit: int | None = None) -> tuple[list[Document], list[Question]]:
    """askbrief's news development set (scripts/data/news-dev.jsonl, questions written by reading
    BBC articles) and the articles it was written on, read from the BBC file given. An
    unanswerable question names the article it is in topic with; its answers are empty."""
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    wanted = {r["doc_id"] for r in rows}
    documents = []
    for line in Path(bbc).read_text().splitlines():
        article = json.loads(line)
        if article["id"] in wanted:
            documents.append(make_document(article["text"], where=article["id"], id=article["id"], title=article["title"],
                                           source="BBC " + article["category"]))
    questions = [Question(r["id"], r["question"], r["doc_id"], r["doc_id"], (r["answer"],) if r["answer"] else ())
                 for r in rows]
    return documents, questions[:limit] if limit else questions


def normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\u0e00-\u0e7f]")  # Chinese, Japanese, Thai


def contains_answer(sentence: str, answers: tuple[str, ...]) -> bool:
    """The gold answer whole in the sentence: between word boundaries, or anywhere in scripts
    written without spaces."""
    padded = f" {normalise(sentence)} "
    return any((normalise(a) in padded) if _UNSPACED.search(a) else (f" {normalise(a)} " in padded)
               for a in answers if normalise(a))


def token_f1(guess: str, answers: tuple[str, ...]) -> float:
    """SQuAD's answer F1: word overlap of the normalised guess with the best gold answer."""
    def f1(a: list[str], b: list[str]) -> float:
        common = sum(min(a.count(w), b.count(w)) for w in set(a))
        return 0.0 if common == 0 else 2 * common / (len(a) + len(b))

    words = normalise(guess).split()
    return max((f1(words, normalise(a).split()) for a in answers), default=0.0)


def build_engine(documents: list[Document], home: Path, name: str = "squad", embedder: str | None = None) -> Engine:
    engine = Engine(name, Settings(home=home), embedder=embedder)
    engine.ingest(documents)
    return engine
