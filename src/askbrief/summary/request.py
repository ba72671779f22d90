"""One summary request run over a store: which articles speak (named, retrieved by a query, or
the newest), what's new since a date against the earlier ones, and the trained summariser over
their sentences. What Engine.summarize runs once it has checked the request."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from askbrief.encoders.embed import DIM, Embedder
from askbrief.errors import BadInput
from askbrief.ingest.documents import parse_date
from askbrief.limits import MAX_SUMMARY_DOCS, MAX_SUMMARY_SENTENCES, check_question, check_range
from askbrief.records import Document, Summary
from askbrief.summary.sources import SourceChoice, choose_sources
from askbrief.summary.summarise import SummaryTrace, make_pool, summarise

if TYPE_CHECKING:
    from askbrief.index.store import Store


def checked_summary(doc_ids: Iterable[str], query: str | None, max_sentences: int,
                    since: str | None) -> tuple[list[str], str | None, str | None]:
    """The request's documents (each once), query and date, or a BadInput naming what is wrong."""
    check_range("max_sentences", max_sentences, 1, MAX_SUMMARY_SENTENCES)
    since = parse_date(since, "since", "since")
    wanted = list(dict.fromkeys(doc_ids))
    if len(wanted) > MAX_SUMMARY_DOCS:
        raise BadInput("doc_ids", f"{len(wanted)} documents named; a summary reads at most {MAX_SUMMARY_DOCS}"
                       " (or name none and give a query)")
    return wanted, check_question(query, field="query") if query is not None else None, since


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
