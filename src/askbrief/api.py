"""The HTTP API: FastAPI over the same engine as the CLI (DESIGN.md lists the endpoints).

Request bodies are pydantic models that reject unknown fields; an `AskbriefError` becomes a
4xx whose JSON body names the field, in FastAPI's own validation-error shape.
"""

from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from askbrief import __version__
from askbrief.engine import MAX_QUESTION, MAX_SENTENCES, MAX_TOP_K, Engine
from askbrief.errors import AskbriefError, BadInput
from askbrief.records import Answer, Document, SearchHit, Summary


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"question": "What did Putin say about trade?"}]})
    question: str = Field(min_length=1, max_length=MAX_QUESTION)
    top_k: int = Field(5, ge=1, le=MAX_TOP_K)
    since: str | None = None
    until: str | None = None
    sources: list[str] = []


class SummarizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"query": "trade between Russia and India"}]})
    doc_ids: list[str] = []
    query: str | None = Field(None, min_length=1, max_length=MAX_QUESTION)
    max_sentences: int = Field(4, ge=1, le=MAX_SENTENCES)


def create_app(engine: Engine) -> FastAPI:
    app = FastAPI(title="askbrief", version=__version__,
                  description="Answers and summaries over news articles, every sentence cited.")

    @app.exception_handler(AskbriefError)
    def askbrief_error(request: Request, exc: AskbriefError) -> JSONResponse:
        field = exc.field if isinstance(exc, BadInput) else "index"
        return JSONResponse(status_code=exc.status, content={
            "detail": [{"loc": ["body", field], "msg": str(exc), "type": type(exc).__name__}]})

    @app.post("/ask", response_model=Answer)
    def ask(request: AskRequest) -> Answer:
        return engine.ask(request.question, request.top_k, request.since, request.until, request.sources)

    @app.post("/summarize", response_model=Summary)
    def summarize(request: SummarizeRequest) -> Summary:
        return engine.summarize(request.doc_ids, request.query, request.max_sentences)

    @app.get("/search", response_model=list[SearchHit])
    def search(q: Annotated[str, Query(min_length=1, max_length=MAX_QUESTION)],
               k: Annotated[int, Query(ge=1, le=MAX_TOP_K)] = 10) -> list[SearchHit]:
        return engine.search(q, k)

    @app.get("/documents/{doc_id}", response_model=Document)
    def document(doc_id: str) -> Document:
        return engine.document(doc_id)

    @app.get("/health")
    def health() -> dict:
        return engine.health()

    return app
