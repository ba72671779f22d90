"""What one request may ask, and the checks that say so in words (BadInput naming the field):
shared by the engine, the API's and the MCP server's schemas, and the job queue."""

import re

from askbrief.errors import BadInput
from askbrief.records import Document

MAX_QUESTION = 1000  # characters; longer is a document, not a question
MAX_SUMMARY_SENTENCES = 20  # in a summary; more is no longer a paragraph
MAX_TOP_K = 50  # chunks read for an answer, or passages a search returns
MAX_SUMMARY_DOCS = 50  # documents named in one summary request; more is a digest, not a paragraph
MAX_TIMELINE_DATES = 200  # days on one timeline (Timeline17's longest reference has 104)
MAX_PER_DATE = 10  # sentences a day on a timeline
MAX_QUOTES_RANKED = 500  # a speaker's quotes ranked by topic per request, newest first: each is embedded


def check_distinct_ids(documents: list[Document]) -> None:
    """Two documents of one ingest under the same id would replace each other mid-write."""
    first: dict[str, int] = {}
    for i, doc in enumerate(documents):
        if doc.id in first:
            raise BadInput("id", f"documents {first[doc.id]} and {i} of this ingest share the id {doc.id!r};"
                           " give each its own id, or send the newer text alone to replace the older")
        first[doc.id] = i


INDEX_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_index_name(index: str) -> str:
    """An index's name: a folder under the home (and a schema in PostgreSQL), so nothing that walks."""
    if not INDEX_NAME.fullmatch(index) or ".." in index:
        raise BadInput("index", f"index name {index!r}: use letters, digits, '_', '-' or '.', up to 64")
    return index


def check_question(text: object, field: str = "question") -> str:
    if not isinstance(text, str) or not text.strip():
        raise BadInput(field, f"{field} is empty; ask something, e.g. \"What did Putin say about trade?\"")
    if len(text) > MAX_QUESTION:
        raise BadInput(field, f"{field} is {len(text)} characters; keep it under {MAX_QUESTION}")
    return text.strip()


def check_range(field: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int) or not low <= value <= high:
        raise BadInput(field, f"{field} must be a whole number from {low} to {high}, got {value!r}")
