"""Which articles a summary reads: the ones named, the ones a query retrieves (those about it
as much as the best one), or the newest of the index; one copy per syndicated cluster, the
earliest published. Explain mode words the `SourceChoice` this returns; nothing here writes prose."""

from dataclasses import dataclass, field

import numpy as np

from askbrief.errors import DocumentNotFound
from askbrief.index.store import Store
from askbrief.records import Document
from askbrief.retrieve.hybrid import Retriever
from askbrief.retrieve.question import as_query
from askbrief.text.copies import first_per_cluster, folds

QUERY_CHUNKS = 20  # chunks retrieved to pick the documents of a query-focused summary
# ...of which the articles whose most query-like sentence is within this cosine of the best
# article's take part. On the Wikinews fixtures, a story's own articles sat within 0.10 of each
# other and the first off-topic one 0.29 below ("Puerto Rico governor": 0.73/0.67/0.63, then a
# US Supreme Court fraud case at 0.44, which "--since" had let into the summary).
TOPIC_MARGIN = 0.15
WHOLE_INDEX = 200  # a summary of "everything" reads at most this many newest documents


@dataclass
class SourceChoice:
    """What decided a summary's articles: how they were chosen ("named", "query" or "index"),
    the exact copies resolved, each retrieved article's relevance to the query, and the
    syndicated copies folded into the first-published one."""

    how: str
    named: list[str] = field(default_factory=list)
    resolved: dict[str, str] = field(default_factory=dict)  # an exact copy's id -> the stored id read
    relevance: dict[str, float] = field(default_factory=dict)  # query mode: the best sentence cosine
    best: float = 0.0
    read: set[str] = field(default_factory=set)
    folded: dict[str, str] = field(default_factory=dict)  # copy -> the first-published document kept


def choose_sources(store: Store, wanted: list[str], query: str | None, query_vector: np.ndarray | None,
                   index: str) -> tuple[dict[str, Document], SourceChoice]:
    """The documents a summary reads, oldest first, one copy per syndicated cluster, inside the
    caller's snapshot, and what chose them."""
    if wanted:
        found = store.resolve(wanted)
        missing = [d for d in wanted if d not in found]
        if missing:
            raise DocumentNotFound.by_id(missing[0], index)
        choice = SourceChoice("named", named=wanted, resolved={d: s for d, s in found.items() if d != s})
        docs = store.documents(found[d] for d in wanted)
    elif query:
        hits = Retriever(store).search(as_query(query), query_vector, k=QUERY_CHUNKS)
        found = dict.fromkeys(c.doc_id for c in store.chunks([h.chunk_id for h in hits]).values())
        relevance = {d: float((store.sentences(d)[1] @ query_vector).max(initial=-1.0)) for d in found}
        best = max(relevance.values(), default=0.0)
        docs = store.documents(d for d in found if relevance[d] >= best - TOPIC_MARGIN)
        choice = SourceChoice("query", relevance=relevance, best=best, read=set(docs))
    else:
        docs = store.documents(store.list_ids()[-WHOLE_INDEX:])
        choice = SourceChoice("index", read=set(docs))
    by_date = [d.id for d in sorted(docs.values(), key=lambda d: (d.published or "9999", d.id))]  # the earliest speaks
    clusters = store.clusters_of(docs)
    choice.folded = folds(by_date, clusters)
    return {d: docs[d] for d in first_per_cluster(by_date, clusters)}, choice
