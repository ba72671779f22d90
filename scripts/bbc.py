"""BBC News Summary for the evaluations: rows, a fixed train/test split, article sentences.

The summariser's model is fitted on the odd-numbered articles of each category and evaluated
on the even-numbered ones, so no reported figure is measured on what it learnt from.
"""

import json
from collections import defaultdict
from pathlib import Path

from askbrief import Document, make_document
from askbrief.text.sentences import split_sentences  # the splitter itself is what the sentence rows need


def load_bbc(path: Path, split: str = "all", limit: int | None = None) -> list[dict]:
    """Rows of the file; split "train" (odd ids), "test" (even ids) or "all"; at most `limit` a category."""
    rows, taken = [], defaultdict(int)
    for line in Path(path).open():
        row = json.loads(line)
        number = int(row["id"].rsplit("-", 1)[1])
        if split != "all" and (number % 2 == 1) != (split == "train"):
            continue
        if limit and taken[row["category"]] >= limit:
            continue
        taken[row["category"]] += 1
        rows.append(row)
    return rows


def as_document(row: dict) -> Document:
    return make_document(row["text"], where=row["id"], id=row["id"], title=row["title"])


def sentence_rows(doc: Document) -> list[tuple[int, int, int]]:
    """(idx, start, end) of every sentence, as the index stores them."""
    return [(i, a, b) for i, (a, b) in enumerate(split_sentences(doc.text))]
