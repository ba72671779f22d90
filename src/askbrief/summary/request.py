"""One summary request run over a store: which articles speak (named, retrieved by a query, or
the newest), what's new since a date against the earlier ones, and the trained summariser over
their sentences. What Engine.summarize runs once it has checked the request."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from askbrief.encoders.embed import DIM, Embedder
from askbrief.records import Document, Summary
from askbrief.summary.sources import SourceChoice, choose_sources
from askbrief.summary.summarise import SummaryTrace, make_pool, summarise

if TYPE_CHECKING:
    from askbrief.index.store import Store


@dataclass
class SummaryRun:
    summary: Summary  # with `resolved`, `since` and `compared_with` set
    pool: object  # the sentences read (summarise.make_pool), for explain mode
    choice: SourceChoice
    docs: dict[str, Document]
    trace: SummaryTrace | None


def run_summary(store: "Store", embedder: Embedder, index: str, wanted: list[str], query: str | None,
                max_sentences: int, since: str | None, explain: bool) -> SummaryRun:
    """`since`: only articles published on or after it speak, and only with what the earlier (or
    undated) ones among the same documents did not already say."""
    query_vector = embedder.encode_queries([query])[0] if query else None
    with store.snapshot():
        docs, choice = choose_sources(store, wanted, query, query_vector, index)
        later = {d: doc for d, doc in docs.items() if not since or (doc.published or "") >= since}
        earlier = [store.sentences(d)[1] for d in docs if d not in later]
        parts = [(doc, *store.sentences(doc.id)) for doc in later.values()]
    titles = embedder.encode([doc.title for doc in later.values()])
    known = (np.vstack(earlier) if earlier else np.zeros((0, DIM), np.float32)) if since else None
    pool = make_pool(parts, titles, embedder.similarity_floor)
    trace = SummaryTrace() if explain else None
    summary = summarise(pool, later, max_sentences, query, query_vector, known, trace)
    summary = summary.model_copy(update={"resolved": choice.resolved, "since": since,
                                         "compared_with": [d for d in docs if d not in later]})
    return SummaryRun(summary, pool, choice, docs, trace)
