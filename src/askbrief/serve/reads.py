"""The API's reads: answers, summaries, search, quotes, documents and citations."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from askbrief.engine import Engine
from askbrief.limits import MAX_QUESTION, MAX_TOP_K
from askbrief.records import Answer, Citation, Document, DocumentPage, QuoteRecord, SearchHit, Summary
from askbrief.serve.http import PAGE, record
from askbrief.serve.requests import AskRequest, SummarizeRequest


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

    @router.get("/search", response_model=list[SearchHit])
    def search(q: Annotated[str, Query(min_length=1, max_length=MAX_QUESTION)],
               k: Annotated[int, Query(ge=1, le=MAX_TOP_K)] = 10,
               since: Annotated[str | None, Query(max_length=40)] = None,
               until: Annotated[str | None, Query(max_length=40)] = None) -> list[SearchHit]:
        return engine.search(q, k, since, until)

    @router.get("/quotes", response_model=list[QuoteRecord])
    def quotes(speaker: Annotated[str | None, Query(max_length=200)] = None,
               about: Annotated[str | None, Query(max_length=MAX_QUESTION)] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[QuoteRecord]:
        """Who said what: a speaker's quotes (part of the name, any case), ranked by a topic if given."""
        return engine.quotes(speaker, about, limit)

    @router.get("/documents", response_model=DocumentPage)
    def list_documents(offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
                       limit: Annotated[int, Query(ge=1, le=500)] = PAGE) -> DocumentPage:
        return engine.list_documents(offset, limit)

    @router.get("/documents/{doc_id}", response_model=Document)
    def document(doc_id: str) -> Document:
        return engine.document(doc_id)

    @router.get("/citations/{citation_id}", response_model=Citation)
    def citation(citation_id: str) -> Citation:
        """A citation by its stable id: the quote, cut from the stored text at its offsets."""
        return engine.citation(citation_id)

    return router
