"""The engine: one facade over loading, indexing, retrieval, reading and summaries.

The CLI and the API call only this. It validates requests (raising `AskbriefError`s that the
edges translate), opens the index once, and loads the embedder once per process.
"""

import datetime as dt
import re
import time
from collections.abc import Iterable, Iterator
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from askbrief import __version__
from askbrief.dates import scope
from askbrief.documents import load_paths, parse_date
from askbrief.embed import DIM, MODEL_NAME, Embedder, load_embedder
from askbrief.errors import BadInput, DocumentNotFound, EmptyIndex
from askbrief.reader import Reader, cite
from askbrief.records import Answer, Citation, Document, IngestResult, QuoteRecord, SearchHit, Summary
from askbrief.retrieve import Retriever
from askbrief.settings import Settings
from askbrief.store import Filter, Prepared, Store

if TYPE_CHECKING:
    from askbrief.highlight import SpanReader
from askbrief.summarise import DEFAULT_SENTENCES, make_pool, summarise
from askbrief.syndication import signature
from askbrief.quotes import extract as extract_quotes
from askbrief.quotes import speaker_question, with_marks
from askbrief.text import make_chunks, split_sentences, terms

MAX_QUESTION = 1000  # characters; longer is a document, not a question
MAX_SENTENCES = 20  # in a summary; more is no longer a paragraph
MAX_TOP_K = 50
# A quote answers "what did X say about Y" only at this relevance to Y (see _relevance): on the seed
# the trade quote scores 1.29 for "trade", the best quote for "football" 0.12.
QUOTE_RELEVANCE = 0.5
INGEST_BATCH = 64  # documents embedded and written per transaction
QUERY_CHUNKS = 20  # chunks retrieved to pick the documents of a query-focused summary
WHOLE_INDEX = 200  # a summary of "everything" reads at most this many newest documents
_CITATION_ID = re.compile(r"([0-9a-fA-F]{8,64}):(\d{1,9})-(\d{1,9})")
_INDEX_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class Engine:
    def __init__(self, index: str = "default", settings: Settings | None = None):
        if not _INDEX_NAME.fullmatch(index) or ".." in index:
            raise BadInput("index", f"index name {index!r}: use letters, digits, '_', '-' or '.', up to 64")
        self.settings = settings or Settings()
        self.name = index
        self.path = self.settings.home / index
        self._store: Store | None = None

    # ---- lazily opened parts --------------------------------------------------------------

    def store(self, create: bool = False) -> Store:
        if self._store is None:
            self._store = Store(self.path, MODEL_NAME, DIM, create=create, vector_backend=self.settings.vector_backend,
                                milvus_uri=self.settings.milvus_uri, milvus_token=self.settings.milvus_token)
        return self._store

    @cached_property
    def embedder(self) -> Embedder:
        return load_embedder(self.settings.embedder, self.settings.model_cache or self.settings.home / ".models")

    @cached_property
    def reader(self) -> Reader:
        return Reader(self.store(), self.settings.abstain_threshold)

    @cached_property
    def span_reader(self) -> "SpanReader | None":
        if self.settings.reader_model is None:
            return None
        from askbrief.highlight import SpanReader

        return SpanReader(self.settings.reader_model)

    def warm(self) -> None:
        """Load the models now rather than on the first request (a server calls this at start)."""
        self.embedder.encode(["warm up"])
        if self.path.exists():
            _ = self.reader, self.span_reader

    def _nonempty_store(self) -> Store:
        store = self.store()
        if store.count() == 0:
            raise EmptyIndex(f"index {self.name!r} holds no documents; add some with `askbrief ingest PATH --index {self.name}`")
        return store

    # ---- writes -------------------------------------------------------------------------

    def ingest_paths(self, paths: Iterable[Path], progress: bool = False) -> list[IngestResult]:
        """Load every file (all of them first, so a bad file stops the ingest before any write)."""
        return self.ingest(list(load_paths(paths)), progress=progress)

    def ingest(self, documents: Iterable[Document], progress: bool = False,
               deduplicate: bool = True) -> list[IngestResult]:
        """Add documents in batches, each batch one transaction; exact duplicates are reported.
        `deduplicate=False` (benchmarks that index copies) skips the exact and near-copy checks;
        copies still need distinct ids and hashes."""
        store = self.store(create=True)
        results: list[IngestResult] = []
        seen: dict[str, str] = {}
        bar = tqdm(desc="ingest", unit="doc", disable=not progress)
        try:
            for batch in _batched(iter(documents), INGEST_BATCH):
                fresh, known = [], []
                for doc in batch:
                    earlier = deduplicate and (seen.get(doc.hash) or store.doc_id_for_hash(doc.hash))
                    known.append(earlier and IngestResult(id=doc.id, sentences=0, chunks=0, duplicate_of=earlier))
                    if not earlier:
                        seen[doc.hash] = doc.id
                        fresh.append(doc)
                added = iter(store.add(self._prepare(fresh), syndication=deduplicate))
                results += [r or next(added) for r in known]  # in input order
                bar.update(len(batch))
        finally:
            bar.close()
            store.save_vectors()
        return results

    def _prepare(self, documents: list[Document]) -> list[Prepared]:
        """Split and embed a batch with one encode call, so the model sees full batches.

        Only sentences go through the model; a chunk's vector is the normalised mean of its
        sentences' vectors. Encoding chunks as well cost 60% of ingest for -0.8/+0.3 points of
        fused recall@5 on SQuAD 2.0/1.1 (README, "Speed")."""
        splits = [split_sentences(d.text) for d in documents]
        chunks = [make_chunks(s) for s in splits]
        sentence_texts = [d.text[a:b] for d, spans in zip(documents, splits) for a, b in spans]
        sentence_vectors = self.embedder.encode(sentence_texts)
        chunk_vectors = chunk_vectors_from(sentence_vectors, [len(s) for s in splits], chunks)
        prepared, s_at, c_at = [], 0, 0
        for doc, spans, cs in zip(documents, splits, chunks):
            prepared.append(Prepared(
                document=doc, sentences=spans, chunks=cs,
                sentence_vectors=sentence_vectors[s_at:s_at + len(spans)],
                chunk_vectors=chunk_vectors[c_at:c_at + len(cs)],
                chunk_terms=[" ".join(terms(doc.text[spans[f][0]:spans[l][1]])) for f, l in cs],
                signature=signature(doc.text), quotes=extract_quotes(doc.text)))
            s_at += len(spans)
            c_at += len(cs)
        return prepared

    def delete(self, doc_ids: list[str]) -> None:
        store = self.store()
        store.delete(doc_ids)
        store.save_vectors()

    # ---- reads --------------------------------------------------------------------------

    def ask(self, question: str, top_k: int = 5, since: str | None = None, until: str | None = None,
            sources: Iterable[str] = ()) -> Answer:
        return self.ask_many([question], top_k, since, until, sources)[0]

    def ask_many(self, questions: list[str], top_k: int = 5, since: str | None = None, until: str | None = None,
                 sources: Iterable[str] = ()) -> list[Answer]:
        """Answers in order; the questions are embedded in one batch."""
        questions = [_check_question(q) for q in questions]
        _check_range("top_k", top_k, 1, MAX_TOP_K)
        since, until = parse_date(since, "since"), parse_date(until, "until")
        if since and until and since > until:
            raise BadInput("since", f"since {since} is after until {until}; swap them")
        newest = self._nonempty_store().newest_published()
        embedder = self.embedder  # loaded before the clock starts: timings are per question, not per process
        started = time.perf_counter()
        vectors = embedder.encode(questions)
        embed_ms = (time.perf_counter() - started) * 1000 / max(len(questions), 1)
        newest_date = dt.date.fromisoformat(newest) if newest else None
        return [self._answer(q, v, top_k, self._scope(q, since, until, sources, newest_date), embed_ms)
                for q, v in zip(questions, vectors)]

    @staticmethod
    def _scope(question: str, since: str | None, until: str | None, sources: Iterable[str],
               newest: dt.date | None) -> tuple[Filter, bool]:
        """The filter for one question: explicit dates win over dates read from its words."""
        asked = scope(question, newest)
        if not (since or until):
            since, until = asked.since, asked.until
        return Filter(since, until, tuple(sources)), asked.prefer_recent

    def _answer(self, question: str, vector: np.ndarray, top_k: int, scoped: tuple[Filter, bool],
                embed_ms: float) -> Answer:
        where, prefer_recent = scoped
        t0 = time.perf_counter()
        hits = Retriever(self.store()).search(question, vector, k=max(top_k, 5), where=where, prefer_recent=prefer_recent)
        t1 = time.perf_counter()
        answer = self.reader.answer(question, vector, hits[:top_k], prefer_recent)
        t2 = time.perf_counter()
        timings = {"embed": embed_ms, "retrieve": (t1 - t0) * 1000, "read": (t2 - t1) * 1000}
        if not answer.abstained and (asked := speaker_question(question)):
            answer = self._from_quotes(answer, *asked) or answer
        if self.span_reader is not None and not answer.abstained:
            answer = answer.model_copy(update={"span": self.span_reader.span(question, answer.citations[0])})
            timings["span"] = (time.perf_counter() - t2) * 1000
        timings["total"] = sum(timings.values())
        return answer.model_copy(update={"timings_ms": {k: round(v, 2) for k, v in timings.items()}})

    def search(self, query: str, k: int = 10, since: str | None = None, until: str | None = None) -> list[SearchHit]:
        query = _check_question(query, field="q")
        _check_range("k", k, 1, MAX_TOP_K)
        store = self._nonempty_store()
        where = Filter(parse_date(since, "since"), parse_date(until, "until"))
        hits = Retriever(store).search(query, self.embedder.encode([query])[0], k=k * 2, where=where)
        chunks = store.chunks([h.chunk_id for h in hits])
        docs = store.documents(c.doc_id for c in chunks.values())
        clusters = store.clusters_of(docs)
        first_copy = {}  # cluster -> the best-ranked copy; the others' chunks are left out
        hits = [h for h in hits if first_copy.setdefault(clusters[chunks[h.chunk_id].doc_id],
                                                          chunks[h.chunk_id].doc_id) == chunks[h.chunk_id].doc_id][:k]
        return [SearchHit(doc_id=c.doc_id, title=docs[c.doc_id].title, published=docs[c.doc_id].published,
                          start=c.start, end=c.end, text=docs[c.doc_id].text[c.start:c.end], score=round(h.score, 6))
                for h in hits for c in [chunks[h.chunk_id]]]

    def summarize(self, doc_ids: Iterable[str] = (), query: str | None = None,
                  max_sentences: int = DEFAULT_SENTENCES) -> Summary:
        """One paragraph over the given documents, the documents a query retrieves, or the index."""
        _check_range("max_sentences", max_sentences, 1, MAX_SENTENCES)
        store = self._nonempty_store()
        doc_ids = list(dict.fromkeys(doc_ids))
        query = _check_question(query, field="query") if query is not None else None
        query_vector = self.embedder.encode([query])[0] if query else None
        if doc_ids:
            docs = {d: store.document(d) for d in doc_ids}
        elif query:
            hits = Retriever(store).search(query, query_vector, k=QUERY_CHUNKS)
            docs = store.documents(c.doc_id for c in store.chunks([h.chunk_id for h in hits]).values())
        else:
            docs = store.documents(store.list_ids()[-WHOLE_INDEX:])
        docs = _one_per_cluster(docs, store.clusters_of(docs))
        titles = self.embedder.encode([doc.title for doc in docs.values()])
        pool = make_pool([(doc, *store.sentences(doc.id)) for doc in docs.values()], titles)
        return summarise(pool, docs, max_sentences, query, query_vector)

    def _from_quotes(self, answer: Answer, speaker: str, topic: str | None) -> Answer | None:
        """For "what did X say about Y": X's own words most relevant to Y, if one is relevant
        enough, said as "X said: …"; None leaves the sentence answer as it was."""
        found = self.quotes(speaker, limit=None)
        if not found:
            return None
        relevance = self._relevance(topic or speaker, [q.quote for q in found])  # one encode for all of them
        best = found[int(np.argmax(relevance))]
        if topic and relevance.max() < QUOTE_RELEVANCE:
            return None
        doc = self.store().document(best.doc_id)
        citation = cite(1, doc, *with_marks(doc.text, best.start, best.end))
        when = f"As of {doc.published}, " if doc.published else ""
        text = f"{when}{best.speaker} said: {citation.quote} [1]"
        return answer.model_copy(update={"answer": text, "citations": [citation]})

    def quotes(self, speaker: str | None = None, about: str | None = None, limit: int | None = 50) -> list[QuoteRecord]:
        """Stored quotes, of one speaker if named (a part of the name, any case), ranked by
        similarity to `about` when given, else oldest article first. No match is an empty list."""
        store = self.store()
        found = store.quotes(speaker.strip() if speaker and speaker.strip() else None)
        docs = store.documents({d for d, _ in found})
        records = [QuoteRecord(speaker=q.speaker, quote=docs[d].text[q.start:q.end], cue=q.cue, doc_id=d,
                               start=q.start, end=q.end, speaker_start=q.speaker_start, speaker_end=q.speaker_end,
                               published=docs[d].published) for d, q in found]
        if about and about.strip() and records:
            relevance = self._relevance(about.strip(), [r.quote for r in records])
            records = [records[i] for i in np.argsort(-relevance, kind="stable")]
        return records[:limit]

    def _relevance(self, topic: str, texts: list[str]) -> np.ndarray:
        """Cosine to the topic plus the share of the topic's content words the text uses: a
        one-word topic ("trade") embeds poorly, so the words carry as much weight as the vector."""
        vectors = self.embedder.encode([topic] + texts)
        wanted = set(terms(topic))
        overlap = [len(wanted & set(terms(t))) / len(wanted) if wanted else 0.0 for t in texts]
        return vectors[1:] @ vectors[0] + np.array(overlap)

    def document(self, doc_id: str) -> Document:
        """The stored document, with the ids of its syndicated copies."""
        store = self.store()
        return store.document(doc_id).model_copy(update={"also_reported_by": store.also_reported_by(doc_id)})

    def citation(self, citation_id: str) -> Citation:
        """Resolve a citation id ("<hash prefix>:<start>-<end>") to its quote in the stored text."""
        match = _CITATION_ID.fullmatch(citation_id.strip())
        if not match:
            raise BadInput("citation", f"citation id {citation_id!r}: expected HASH:START-END, as in an answer's citations")
        prefix, start, end = match.group(1).lower(), int(match.group(2)), int(match.group(3))
        doc_id = self.store().id_for_hash_prefix(prefix)
        if doc_id is None:
            raise DocumentNotFound(f"no document in {self.name!r} has the text that citation {citation_id} quotes")
        doc = self.store().document(doc_id)
        if not start < end <= len(doc.text):
            raise BadInput("citation", f"citation {citation_id} points past the end of {doc_id} ({len(doc.text)} characters)")
        return cite(0, doc, start, end)

    def health(self) -> dict:
        """Model, version and index size; an index not built yet counts as empty."""
        size = {"documents": 0, "chunks": 0}
        if (self.path / "manifest.json").exists():
            size = {"documents": self.store().count(), "chunks": self.store().chunk_count()}
        return {"status": "ok", "version": __version__, "model": MODEL_NAME, "embedder": self.settings.embedder,
                "vector_backend": self.settings.vector_backend, "index": self.name, **size}


def _one_per_cluster(docs: dict[str, Document], clusters: dict[str, str]) -> dict[str, Document]:
    """Of syndicated copies, keep the earliest published (then the smallest id)."""
    keep: dict[str, Document] = {}
    for doc in sorted(docs.values(), key=lambda d: (d.published or "9999", d.id)):
        keep.setdefault(clusters[doc.id], doc)
    return {d.id: d for d in keep.values()}


def _check_question(text: object, field: str = "question") -> str:
    if not isinstance(text, str) or not text.strip():
        raise BadInput(field, f"{field} is empty; ask something, e.g. \"What did Putin say about trade?\"")
    if len(text) > MAX_QUESTION:
        raise BadInput(field, f"{field} is {len(text)} characters; keep it under {MAX_QUESTION}")
    return text.strip()


def _check_range(field: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int) or not low <= value <= high:
        raise BadInput(field, f"{field} must be a whole number from {low} to {high}, got {value!r}")


def chunk_vectors_from(sentence_vectors: np.ndarray, sentence_counts: list[int],
                       chunks: list[list[tuple[int, int]]]) -> np.ndarray:
    """Unit chunk vectors: the mean of each chunk's sentence vectors (first..last of its document)."""
    rows, at = [], 0
    for count, runs in zip(sentence_counts, chunks):
        rows += [sentence_vectors[at + first: at + last + 1].sum(axis=0) for first, last in runs]
        at += count
    if not rows:
        return np.zeros((0, sentence_vectors.shape[1]), dtype=np.float32)
    vectors = np.array(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _batched(items: Iterator, size: int) -> Iterator[list]:
    while batch := list(islice(items, size)):
        yield batch
