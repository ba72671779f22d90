"""The reading model's examples (issue 37): the sentences the shipped engine read for each question
(scripts/mine_reading.py's caches), labelled from the news reading set's gold and traps or from
SQuAD's answers, as the `Pair`s that scripts/train_reading.py trains and validates on."""

import json
import re
from dataclasses import replace
from pathlib import Path

from askbrief import make_document
from askbrief.answer.span import CONTEXT_CHARS
from askbrief.text.sentences import split_sentences
from scripts.mine_reading import CACHE
from scripts.reading_model import Pair
from scripts.squad import contains_answer, load_squad


class Texts:
    """Documents as the engine stored them: text, title and sentence spans by id."""

    def __init__(self, documents):
        self.text = {d.id: d.text for d in documents}
        self.title = {d.id: d.title or "" for d in documents}
        self.spans = {d.id: split_sentences(d.text) for d in documents}

    def pair(self, question: str, doc_id: str, start: int, group: int) -> Pair | None:
        """The sentence starting at `start`, read with the one before it and the title (a negative
        until the caller says otherwise)."""
        spans = self.spans[doc_id]
        i = next((i for i, (a, _) in enumerate(spans) if a == start), None)
        if i is None:
            return None
        text = self.text[doc_id]
        before = text[spans[i - 1][0]:spans[i - 1][1]][-CONTEXT_CHARS:] if i else ""
        return Pair(question, before, text[spans[i][0]:spans[i][1]], False, None, group, self.title[doc_id])


def located(sentence: str, answer: str) -> tuple[int, int] | None:
    """The answer's char offsets in the sentence, white space read loosely (the set's answers were
    copied from text shown with its white space folded)."""
    m = re.search(r"\s+".join(map(re.escape, answer.split())), sentence)
    return (m.start(), m.end()) if m else None


def examples(texts: Texts, questions: list[dict], mined: dict, add_gold: bool,
             group0: int = 0) -> tuple[list[Pair], set[int]]:
    """Pairs for questions {id, question, doc_id, gold (sentence start or None), answers (strings),
    trap (sentence start or None)}: what the engine read for each, labelled; `add_gold` puts the
    gold sentence (and the writer's trap) in where the engine missed it (training); validation reads
    only what the engine read. Also the groups of the answerable questions."""
    pairs, answerable, group = [], set(), group0
    for q in questions:
        if q["id"] not in mined:
            continue
        group += 1
        if q["answers"]:
            answerable.add(group)
        read = {(d, a) for d, a, *_ in mined[q["id"]]["read"] if d in texts.text}
        gold = (q["doc_id"], q["gold"]) if q["gold"] is not None else None
        gold_text = texts.pair("", *gold, group).sentence.strip() if gold else None
        if add_gold:
            read |= {x for x in (gold, (q["doc_id"], q.get("trap"))) if x and x[1] is not None}
        for doc_id, start in sorted(read):
            pair = texts.pair(q["question"], doc_id, start, group)
            if pair is None:
                continue
            if gold and pair.sentence.strip() == gold_text:  # the gold, or its syndicated copy
                span = next(filter(None, (located(pair.sentence, a) for a in q["answers"])), None)
                pairs.append(replace(pair, answers=True, span=span))
            elif q["answers"] and contains_answer(pair.sentence, tuple(q["answers"])):
                continue  # holds the answer's words: no second reader said whether it answers
            else:
                pairs.append(pair)
    return pairs, answerable


def load_mined(name: str) -> dict:
    path = CACHE / f"mined-{name}.jsonl"
    return {r["id"]: r for r in map(json.loads, path.read_text().splitlines())} if path.exists() else {}


def news_set(bbc: Path, readset: Path) -> tuple[Texts, dict[str, list[dict]]]:
    """The reading set's questions by split, in the shape `examples` reads."""
    split = json.loads((readset / "articles.json").read_text())["split"]
    rows = [json.loads(line) for line in bbc.read_text().splitlines()]
    texts = Texts([make_document(r["text"], where=r["id"], id=r["id"], title=r["title"]) for r in rows if r["id"] in split])
    by_split: dict[str, list[dict]] = {}
    for q in map(json.loads, (readset / "questions.jsonl").read_text().splitlines()):
        by_split.setdefault(split[q["doc_id"]], []).append({
            "id": q["id"], "question": q["question"], "doc_id": q["doc_id"], "gold": q.get("sentence_start"),
            "answers": [q["answer"]] if q.get("answer") else [], "trap": q.get("trap_start")})
    return texts, by_split


def squad_set(path: Path, titles_out: set[str] = frozenset()) -> tuple[Texts, list[dict]]:
    """A SQuAD file's questions (its gold: the gold paragraph's first sentence holding an answer)."""
    documents, questions = load_squad(path)
    texts = Texts([d for d in documents if d.title not in titles_out])
    rows = []
    for q in questions:
        if q.article in titles_out:
            continue
        gold = next((a for a, b in texts.spans[q.doc_id] if contains_answer(texts.text[q.doc_id][a:b], q.answers)),
                    None) if q.answers else None
        rows.append({"id": q.id, "question": q.text, "doc_id": q.doc_id, "gold": gold, "answers": list(q.answers)})
    return texts, rows
