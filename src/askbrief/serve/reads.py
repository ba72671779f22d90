"""The API's reads: answers, summaries, search, quotes, documents and citations."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from askbrief.engine import Engine
from askbrief.records import Answer, Citation, Document, DocumentPage, QuoteRecord, SearchHit, Summary, Timeline
from askbrief.serve.http import record
from askbrief.serve.requests import (
    AskRequest,
    DocumentsQuery,
    QuotesQuery,
    SearchQuery,
    SummarizeRequest,
    TimelineQuery,
    TimelineRequest,
)


def read_routes(engine: Engine, read: list) -> APIRouter:
    """The read endpoints over one engine, each behind the `read` dependencies (the key when reads are protected)."""
    router = APIRouter(dependencies=read)

    # The records are built and checked by the engine: they leave as pydantic serialises them,
    # without FastAPI validating them again field by field (an explanation has hundreds of fields:
    # 6 ms a question, docs/explain.md). The schema still documents them.
    @router.post("/ask", response_model=Answer)
    def ask(request: AskRequest) -> Response:
        return record(engine.ask(request.question, request.top_k, request.since, request.until, request.sources,
                                 request.explain))

    @router.post("/summarize", response_model=Summary)
    def summarize(request: SummarizeRequest) -> Response:
        return record(engine.summarize(request.doc_ids, request.query, request.max_sentences, request.since,
                                       request.explain))

    @router.post("/timeline", response_model=Timeline)
    def timeline(request: TimelineRequest) -> Response:
        """The story of a query day by day, each day's sentences cited."""
        return record(engine.timeline(request.query, request.dates, request.per_date, request.since, request.until,
                                      request.explain))

    @router.get("/timeline", response_model=Timeline)
    def timeline_get(query: Annotated[TimelineQuery, Query()]) -> Response:
        return timeline(TimelineRequest(**query.model_dump()))

    @router.get("/search", response_model=list[SearchHit])
    def search(query: Annotated[SearchQuery, Query()]) -> list[SearchHit]:
        return engine.search(query.q, query.k, query.since, query.until)

    @router.get("/quotes", response_model=list[QuoteRecord])
    def quotes(query: Annotated[QuotesQuery, Query()]) -> list[QuoteRecord]:
        """Who said what: a speaker's quotes (part of the name, any case), ranked by a topic if given."""
        return engine.quotes(query.speaker, query.about, query.limit)

    @router.get("/documents", response_model=DocumentPage)
    def list_documents(query: Annotated[DocumentsQuery, Query()]) -> DocumentPage:
        return engine.list_documents(query.offset, query.limit)

    @router.get("/documents/{doc_id}", response_model=Document)
    def document(doc_id: str) -> Document:
        return engine.document(doc_id)

    @router.get("/citations/{citation_id}", response_model=Citation)
    def citation(citation_id: str) -> Citation:
        """A citation by its stable id: the quote, cut from the stored text at its offsets."""
        return engine.citation(citation_id)

    return router
