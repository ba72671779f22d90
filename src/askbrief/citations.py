"""Citations: a stored document and a span of it in, a `Citation` record out, with a stable id.

The one place a citation is made, so its promise holds everywhere: `quote == text[start:end]`,
cut from the stored text at its offsets. Answers, summaries and quotes all cite through here.
"""

import re

from askbrief.records import Citation, Document

CITATION_HASH = 16  # hex digits of the text's sha256 in a citation id: 64 bits, no collision in practice
# "<hash prefix>:<start>-<end>"; bounded repeats, so a hostile id is matched in linear time.
CITATION_ID = re.compile(r"([0-9a-fA-F]{8,64}):(\d{1,9})-(\d{1,9})")


def citation_id(doc: Document, start: int, end: int) -> str:
    """A sentence's id from what it is, not where it is stored: the same text gives the same id
    after a re-index, an upsert of the same text, or deletes of other documents."""
    return f"{doc.hash[:CITATION_HASH]}:{start}-{end}"


def cite(n: int, doc: Document, start: int, end: int) -> Citation:
    """Citation number `n` of `doc.text[start:end]`."""
    return Citation(n=n, id=citation_id(doc, start, end), doc_id=doc.id, title=doc.title, published=doc.published,
                    source=doc.source, start=start, end=end, quote=doc.text[start:end])


def cited_text(citations: list[Citation]) -> str:
    """The quotes in order, each followed by its [n] marker."""
    return " ".join(f"{c.quote} [{c.n}]" for c in citations)
