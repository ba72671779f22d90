"""The engine: one facade over loading, indexing, retrieval, reading and summaries.

The CLI and the API call only this. It validates requests (raising `AskbriefError`s that the
edges translate), opens the index once, and loads the embedder once per process.
"""

import threading
import time
from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path

from askbrief import __version__
from askbrief.answer.quoted import quote_records
from askbrief.answer.reader import Reader, reader_for
from askbrief.encoders.embed import DIM, MODELS, Embedder, load_embedder
from askbrief.errors import BadInput, EmptyIndex
from askbrief.explain.answer import answer_timed
from askbrief.explain.summary import summary_of
from askbrief.fetch.desk import FetchDesk
from askbrief.index.embedder_choice import auto_embedder, embedder_reason, moves_to_multilingual
from askbrief.index.factory import index_languages, open_index, reembed_index, store_exists
from askbrief.index.store import Store
from askbrief.ingest.batches import INGEST_BATCH, ingest_into
from askbrief.ingest.documents import date_range, load_paths
from askbrief.limits import MAX_TOP_K, check_index_name, check_question, check_range
from askbrief.records import (
    Answer,
    Citation,
    Document,
    DocumentPage,
    Feed,
    FeedPoll,
    Filter,
    IngestResult,
    QuoteRecord,
    SearchHit,
    Summary,
    Timeline,
)
from askbrief.retrieve.hybrid import Mode, Retriever
from askbrief.retrieve.question import parse_all
from askbrief.settings import Settings
from askbrief.summary.request import checked_summary, run_summary
from askbrief.summary.summarise import DEFAULT_SENTENCES, load_summary_scorer
from askbrief.summary.timeline import build_timeline, checked_timeline
from askbrief.text.language import detect


class Engine:
    def __init__(self, index: str = "default", settings: Settings | None = None, embedder: str | None = None):
        """`embedder` ("english", "multilingual"): pins the index's (default: the settings', where
        "auto" follows the articles' languages: index/embedder_choice.py)."""
        self.settings, self.name = settings or Settings(), check_index_name(index)
        if embedder is not None and embedder not in MODELS:
            raise BadInput("embedder", f"embedder {embedder!r}: choose one of {', '.join(MODELS)}")
        self.chosen = embedder
        self._languages: set[str | None] = set()  # of the articles this process adds, and a reindexed index's
        self.path = self.settings.home / index
        self._store: Store | None = None
        self._opening = threading.Lock()

    def store(self, create: bool = False) -> Store:
        """The index, opened once (two first requests at once must not open two)."""
        with self._opening:
            if self._store is None:
                self._store = open_index(self.settings, self.name, self.wanted, MODELS.values(), DIM, create,
                                         insist=self.chosen)
                if self.__dict__.get("embedder") and self.embedder.name != self._store.manifest["model"]:
                    self._forget_models()  # loaded (warm()) before a new index chose its model
        return self._store

    def exists(self) -> bool:
        """Whether the index has been created (asking creates nothing)."""
        return self._store is not None or store_exists(self.settings, self.name)

    @cached_property
    def embedder(self) -> Embedder:
        """The model the index's vectors were made with (for a new index, the chosen one)."""
        return load_embedder(self.store().manifest["model"] if self.exists() else self.wanted)

    wanted = property(lambda self: MODELS[self.chosen or auto_embedder(self.settings.embedder, self._languages)],
                      doc="The model a new index gets, or a reindex (or an article in another language) moves one to.")

    def _forget_models(self) -> None:
        _ = [self.__dict__.pop(cached, None) for cached in ("embedder", "reader")]  # loaded for another model

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
        `on_batch` hears how many documents are written after each batch (a job's progress). An
        English index that meets another language is re-embedded multilingual first."""
        documents = list(documents)
        self._languages |= {d.lang for d in documents}
        if self.exists() and moves_to_multilingual(self.store(), self.settings.embedder, self.chosen, self._languages):
            self.reindex(progress)
        store = self.store(create=True)
        _ = store.pin_embedder(self.chosen) if self.chosen else None
        return ingest_into(store, self.embedder, documents, progress, deduplicate, on_batch, batch_size)

    def reindex(self, progress: bool = False) -> tuple[str, str]:
        """Re-embed the index in place with the chosen (or default) embedder, atomically: readers
        see the old vectors or the new; a stopped run resumes. (model before, model now)."""
        self._languages |= index_languages(self.settings, self.name)  # "auto": a multilingual index stays so
        with self._opening:
            if self._store is not None:
                self._store.close()
                self._store = None
            self._forget_models()
        before = reembed_index(self.settings, self.name, self.wanted, DIM, load_embedder(self.wanted).encode, progress)
        _ = self.store().pin_embedder(self.chosen) if self.chosen else None
        return before, self.wanted

    # ---- the web: article URLs and watched feeds (fetch/desk.py) --------------------------

    @cached_property
    def _web(self) -> FetchDesk:
        return FetchDesk(self.store, self.exists, self.ingest, self.settings, self.name)

    def ingest_urls(self, urls: Iterable[str]) -> list[IngestResult]:
        """Fetch article pages (all first: a page that fails stops the ingest before any write)
        and ingest them; a URL already indexed comes back as a copy of the stored document."""
        return self._web.ingest_urls(urls)

    def add_feed(self, url: str) -> Feed:
        """Watch an RSS or Atom feed; its articles arrive with the next poll."""
        return self._web.add_feed(url)

    def feeds(self) -> list[Feed]:
        """The watched feeds; none (and no index created) where the index does not exist yet."""
        return self._web.feeds()

    def remove_feed(self, ref: str | int) -> Feed:
        """Stop watching a feed (by id or URL); the articles it brought stay."""
        return self._web.remove_feed(ref)

    def poll_feeds(self, ref: str | int | None = None) -> list[FeedPoll]:
        """One pass over the watched feeds (or one of them), one pass at a time (`PollInProgress`)."""
        return self._web.poll(ref)

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
        return summary_of(run_summary(store, self.embedder, self.name, wanted, query, max_sentences, since, explain),
                          since)

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
        size, model, languages, pinned = {"documents": 0, "chunks": 0}, self.wanted, frozenset(), self.chosen
        if self.exists():
            size, model, languages = self.store().sizes(), self.store().manifest["model"], self.store().languages()
            pinned = pinned or self.store().pinned_embedder()
        reason = embedder_reason(model, languages, pinned, self.settings.embedder)
        return {"status": "ok", "version": __version__, "model": model, "languages": sorted(languages),
                "embedder_reason": reason, "vector_backend": self.settings.vector_backend, "index": self.name, **size}

