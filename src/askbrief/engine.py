"""The engine: one facade over loading, indexing, retrieval, reading and summaries.

The CLI and the API call only this. It validates requests (raising `AskbriefError`s that the
edges translate), opens the index once, and loads the embedder once per process.
"""

import re
import threading
import time
from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path

import numpy as np

from askbrief import __version__
from askbrief.answer.quoted import quote_records
from askbrief.answer.reader import Reader, reader_for
from askbrief.encoders.embed import DIM, MODELS, Embedder, load_embedder
from askbrief.errors import BadInput, EmptyIndex
from askbrief.explain.answer import answer_timed
from askbrief.explain.summary import explain_summary
from askbrief.fetch.pages import Fetcher, checked_url
from askbrief.index.factory import open_index, reembed_index, store_exists
from askbrief.index.store import Store
from askbrief.ingest.batches import INGEST_BATCH, ingest_into
from askbrief.ingest.documents import date_range, load_paths
from askbrief.limits import (
    MAX_TOP_K,
    check_question,
    check_range,
)
from askbrief.records import (
    Answer,
    Citation,
    Document,
    DocumentPage,
    Evidence,
    Feed,
    FeedPoll,
    Filter,
    IngestResult,
    QuoteRecord,
    SearchHit,
    Summary,
    Timeline,
)
from askbrief.records.trace import Trace
from askbrief.retrieve.hybrid import Mode, Retriever
from askbrief.retrieve.question import Question, parse_all
from askbrief.settings import Settings
from askbrief.summary.request import checked_summary, run_summary
from askbrief.summary.summarise import DEFAULT_SENTENCES, load_summary_scorer
from askbrief.summary.timeline import build_timeline, checked_timeline
from askbrief.text.language import detect

_INDEX_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class Engine:
    def __init__(self, index: str = "default", settings: Settings | None = None, embedder: str | None = None):
        """`embedder` ("english", "multilingual"): a new index's (default: the settings')."""
        if not _INDEX_NAME.fullmatch(index) or ".." in index:
            raise BadInput("index", f"index name {index!r}: use letters, digits, '_', '-' or '.', up to 64")
        self.settings = settings or Settings()
        self.name = index
        if embedder is not None and embedder not in MODELS:
            raise BadInput("embedder", f"embedder {embedder!r}: choose one of {', '.join(MODELS)}")
        self.chosen = embedder
        self.path = self.settings.home / index
        self._store: Store | None = None
        self._opening = threading.Lock()
        self._polling = threading.Lock()

    def store(self, create: bool = False) -> Store:
        """The index, opened once (two first requests at once must not open two)."""
        with self._opening:
            if self._store is None:
                self._store = open_index(self.settings, self.name, self.wanted, MODELS.values(), DIM, create,
                                         insist=self.chosen)
        return self._store

    def exists(self) -> bool:
        """Whether the index has been created (asking creates nothing)."""
        return self._store is not None or store_exists(self.settings, self.name)

    @cached_property
    def embedder(self) -> Embedder:
        """The model the index's vectors were made with (for a new index, the chosen one)."""
        return load_embedder(self.store().manifest["model"] if self.exists() else self.wanted)

    wanted = property(lambda self: MODELS[self.chosen or self.settings.embedder],
                      doc="The model a new index gets, or a reindex moves one to.")

    @cached_property
    def reader(self) -> Reader:
        return reader_for(self.embedder.name, self.settings.abstain_threshold)

    def warm(self) -> None:
        """Load the models now rather than on the first request (a server calls this at start)."""
        _ = (self.store(), self.reader) if self.exists() else None
        self.embedder.encode(["warm up"])
        load_summary_scorer()
        detect("warm up")  # the language model: a second, paid by the first request otherwise

    def _nonempty_store(self) -> Store:
        store = self.store()
        if store.count() == 0:
            raise EmptyIndex(f"index {self.name!r} holds no documents; add some with `askbrief ingest PATH --index {self.name}`")
        return store

    def ingest_paths(self, paths: Iterable[Path], progress: bool = False) -> list[IngestResult]:
        """Load every file (all of them first, so a bad file stops the ingest before any write)."""
        return self.ingest(list(load_paths(paths)), progress=progress)

    def ingest(self, documents: Iterable[Document], progress: bool = False,
               deduplicate: bool = True, on_batch: Callable[[int], None] | None = None,
               batch_size: int = INGEST_BATCH) -> list[IngestResult]:
        """Add documents in batches, a transaction each; exact copies resolve to the stored one.
        Ids must differ within a call. `deduplicate=False` (benchmarks) skips the near-copy check;
        `on_batch` hears how many documents are written after each batch (a job's progress)."""
        return ingest_into(self.store(create=True), self.embedder, documents, progress, deduplicate, on_batch,
                           batch_size)

    def reindex(self, progress: bool = False) -> tuple[str, str]:
        """Re-embed the index in place with the chosen (or default) embedder, atomically: readers
        see the old vectors or the new; a stopped run resumes. (model before, model now)."""
        with self._opening:
            if self._store is not None:
                self._store.close()
                self._store = None
            _ = [self.__dict__.pop(cached, None) for cached in ("embedder", "reader")]  # of the model before
        return reembed_index(self.settings, self.name, self.wanted, DIM, load_embedder(self.wanted).encode,
                             progress), self.wanted

    def ingest_urls(self, urls: Iterable[str]) -> list[IngestResult]:
        """Fetch article pages (all first: a page that fails stops the ingest before any write)
        and ingest them; a URL already indexed comes back as a copy of the stored document."""
        from askbrief.fetch.feeds import ingest_pages

        urls = [checked_url(u, self.settings.allow_private_urls) for u in urls]
        store = self.store(create=True)
        with Fetcher.from_settings(self.settings, store) as fetcher:
            return ingest_pages(urls, store, self.ingest, fetcher)

    # ---- feeds --------------------------------------------------------------------------

    def add_feed(self, url: str) -> Feed:
        """Watch an RSS or Atom feed; its articles arrive with the next poll."""
        return self.store(create=True).add_feed(checked_url(url, self.settings.allow_private_urls))

    def feeds(self) -> list[Feed]:
        """The watched feeds; none (and no index created) where the index does not exist yet."""
        return self.store().feeds() if self.exists() else []

    def remove_feed(self, ref: str | int) -> Feed:
        """Stop watching a feed (by id or URL); the articles it brought stay."""
        from askbrief.fetch.feeds import unwatch

        return unwatch(self.store(), ref)

    def poll_feeds(self, ref: str | int | None = None) -> list[FeedPoll]:
        """One pass over the watched feeds (or one of them), one pass at a time: in this process,
        and with PostgreSQL in all of them (`PollInProgress` when another holds the turn)."""
        from askbrief.fetch.feeds import poll_watched

        if ref is None and not self.feeds():
            return []
        with self._polling:
            return poll_watched(self.store(), self.ingest, self.settings, self.name, ref)

    def delete(self, doc_ids: list[str]) -> None:
        store = self.store()
        store.delete(doc_ids)
        store.save_vectors()

    # ---- reads --------------------------------------------------------------------------

    def ask(self, question: str, top_k: int = 5, since: str | None = None, until: str | None = None,
            sources: Iterable[str] = (), explain: bool = False) -> Answer:
        return self.ask_many([question], top_k, since, until, sources, explain)[0]

    def ask_many(self, questions: list[str], top_k: int = 5, since: str | None = None, until: str | None = None,
                 sources: Iterable[str] = (), explain: bool = False) -> list[Answer]:
        """Answers in order, each read from the `top_k` best chunks; the questions are embedded
        in one batch. `explain`: each answer carries the `Explanation` of its own run."""
        texts = [check_question(q) for q in questions]
        check_range("top_k", top_k, 1, MAX_TOP_K)
        since, until = date_range(since, until)
        parsed = parse_all(self._nonempty_store(), texts, since, until, tuple(sources))
        embedder = self.embedder  # loaded before the clock starts: timings are per question, not per process
        started = time.perf_counter()
        # "What did X say about Y": Y (or X) is embedded in the same batch, to rank X's quotes by it.
        topics = [q.topic or q.speaker for q in parsed if q.speaker]
        vectors = embedder.encode_queries(texts + topics, [q.across for q in parsed])
        embed_ms = (time.perf_counter() - started) * 1000 / max(len(texts), 1)
        topic_vectors = iter(vectors[len(texts):])
        retriever, reader = Retriever(self.store()), self.reader
        return [answer_timed(retriever, reader, q, v, top_k, embed_ms, next(topic_vectors) if q.speaker else None, explain)
                for q, v in zip(parsed, vectors[:len(texts)])]

    def evidence(self, question: Question, vector: np.ndarray, top_k: int = 5, trace: Trace | None = None) -> Evidence:
        """What the reader reads for a parsed question: the top_k chunks, from one snapshot."""
        return Retriever(self.store()).evidence(question, vector, top_k, trace)

    def search(self, query: str, k: int = 10, since: str | None = None, until: str | None = None,
               mode: Mode = "fused") -> list[SearchHit]:
        """Passages for a query, best first, one copy per syndicated cluster; `since`/`until`
        bound the publication date (inclusive); `mode` "dense" or "keyword" reads one list alone."""
        query = check_question(query, field="q")
        check_range("k", k, 1, MAX_TOP_K)
        since, until = date_range(since, until)
        return Retriever(self._nonempty_store()).passages_for(query, self.embedder, k, Filter(since, until), mode)

    def summarize(self, doc_ids: Iterable[str] = (), query: str | None = None,
                  max_sentences: int = DEFAULT_SENTENCES, since: str | None = None, explain: bool = False) -> Summary:
        """One paragraph over the given documents, the documents a query retrieves, or the index.
        An id skipped at ingest as an exact copy reads the stored copy (`Summary.resolved`).
        With `since`, what's new: only articles published on or after it speak, and only with what
        the earlier (or undated) ones among the same documents did not already say. `explain`:
        the summary carries why each sentence was picked and what the salient others lost to."""
        wanted, query, since = checked_summary(doc_ids, query, max_sentences, since)
        store = self._nonempty_store()
        run = run_summary(store, self.embedder, self.name, wanted, query, max_sentences, since, explain)
        if run.trace is None:
            return run.summary
        explanation = explain_summary(run.pool, run.trace, run.summary, run.choice, run.docs, since)
        return run.summary.model_copy(update={"explanation": explanation})

    def timeline(self, query: str, dates: int | None = None, per_date: int = 1, since: str | None = None,
                 until: str | None = None, explain: bool = False) -> Timeline:
        """The story of `query` day by day: `dates` days (askbrief chooses, at most 20, when None),
        `per_date` cited sentences each, from the articles published in since..until."""
        query, since, until = checked_timeline(query, dates, per_date, since, until)
        store, started = self._nonempty_store(), time.perf_counter()
        timeline = build_timeline(store, self.embedder, query, dates, per_date, since, until, explain)
        return timeline.model_copy(update={"timings_ms": {"total": round((time.perf_counter() - started) * 1000, 2)}})

    def quotes(self, speaker: str | None = None, about: str | None = None, limit: int | None = 50) -> list[QuoteRecord]:
        """Stored quotes, of one speaker if named (a part of the name, any case), ranked by
        similarity to `about` when given, else oldest article first. No match is an empty list."""
        return quote_records(self.store(), speaker, about, limit, lambda topic: self.embedder.encode_queries([topic])[0])

    def document(self, doc_id: str) -> Document:
        """The stored document, with the ids of its syndicated and exact copies and its revisions."""
        return self.store().document_view(doc_id)

    def list_documents(self, offset: int = 0, limit: int = 50) -> DocumentPage:
        """One page of the index, oldest published first (undated last), then by id."""
        return self.store().page(offset, limit)

    def citation(self, citation_id: str) -> Citation:
        """Resolve a citation id ("<hash prefix>:<start>-<end>") to its quote in the stored text."""
        return self.store().citation(citation_id)

    def health(self) -> dict:
        """Model, version and index size; an index not built yet counts as empty."""
        size, model = {"documents": 0, "chunks": 0}, self.wanted
        if self.exists():
            size, model = self.store().sizes(), self.store().manifest["model"]
        return {"status": "ok", "version": __version__, "model": model,
                "vector_backend": self.settings.vector_backend, "index": self.name, **size}

