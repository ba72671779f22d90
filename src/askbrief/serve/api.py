"""The HTTP API: FastAPI over the same engine as the CLI (DESIGN.md lists the endpoints).

Request bodies are pydantic models that reject unknown fields; an `AskbriefError` becomes a
4xx whose JSON body names the field, in FastAPI's own validation-error shape. Writes need the
API key when one is set (ASKBRIEF_API_KEY), compared in constant time.
"""

import hmac
import json
import logging
import threading
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as FastPath
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.datastructures import Headers
from starlette.routing import Route

from askbrief import __version__
from askbrief.engine import MAX_QUESTION, MAX_SUMMARY_DOCS, MAX_SUMMARY_SENTENCES, MAX_TOP_K, Engine
from askbrief.errors import AskbriefError, BadInput, BadSetting, CitationReplaced, PollInProgress
from askbrief.ingest.documents import MAX_ID, load_bytes, make_document
from askbrief.records import (
    Answer,
    Citation,
    Document,
    DocumentPage,
    Feed,
    IngestResult,
    Job,
    QuoteRecord,
    SearchHit,
    Summary,
)
from askbrief.serve import jobs
from askbrief.serve.mcp import create_server

PAGE_FILE = Path(__file__).with_name("static") / "index.html"
MAX_BODY = 10 * 1024 * 1024  # bytes in one request: a large batch of articles, never a data dump
PAGE = 50  # documents listed per page by default
MAX_FORM_FIELDS = 10  # an upload has one file; a form of thousands of fields is an attack
log = logging.getLogger("askbrief.serve.api")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AskRequest(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"question": "What did Putin say about trade?"}]})
    question: str = Field(min_length=1, max_length=MAX_QUESTION)
    top_k: int = Field(5, ge=1, le=MAX_TOP_K)
    since: str | None = None
    until: str | None = None
    sources: list[Annotated[str, Field(max_length=2000)]] = Field([], max_length=100)
    explain: bool = Field(False, description="Add `explanation`: why this answer, stage by stage")


class SummarizeRequest(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"query": "trade between Russia and India"}]})
    doc_ids: list[Annotated[str, Field(max_length=MAX_ID)]] = Field([], max_length=MAX_SUMMARY_DOCS)
    query: str | None = Field(None, min_length=1, max_length=MAX_QUESTION)
    max_sentences: int = Field(4, ge=1, le=MAX_SUMMARY_SENTENCES)
    since: str | None = Field(None, max_length=40, description="What's new since this date (YYYY-MM-DD)")
    explain: bool = Field(False, description="Add `explanation`: why each sentence was picked, what was left out")


class DocumentIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "tass-2023-12-27", "title": "Putin meets Jaishankar", "published": "2023-12-27",
         "source": "TASS", "text": "Russian President Vladimir Putin met India's foreign minister…"}]})
    text: str = Field(min_length=1)
    id: str | None = Field(None, max_length=MAX_ID)
    title: str | None = None
    published: str | None = None
    source: str | None = None


_documents_in = TypeAdapter(DocumentIn | list[DocumentIn])


class UrlIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"url": "https://en.wikinews.org/wiki/Main_Page"}]})
    url: str = Field(min_length=1, max_length=2000)


def create_app(engine: Engine, poll_every_s: float | None = None) -> FastAPI:
    """The app over one engine, polling its feeds every `poll_every_s` in a background thread
    when given; refuses settings that would leave the service open (BadSetting)."""
    settings = engine.settings
    check_access_settings(settings)

    assistants = create_server(engine)  # the MCP tools, over streamable HTTP at /mcp
    mcp_http = assistants.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True,
                                              transport_security=_mcp_security(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        stop = threading.Event()
        if settings.worker:  # queued writes (POST /documents over async_ingest_bytes), off the request threads
            threading.Thread(target=jobs.run_worker, args=(engine, stop), daemon=True, name="askbrief-worker").start()
        if poll_every_s:
            threading.Thread(target=_poll_forever, args=(engine, poll_every_s, stop), daemon=True,
                             name="askbrief-feeds").start()
        async with assistants.session_manager.run():  # the MCP endpoint's task group
            yield
        stop.set()  # a poll under way finishes its transaction; the daemon thread ends with the process

    app = FastAPI(title="askbrief", version=__version__, lifespan=lifespan,
                  description="Answers and summaries over news articles, every sentence cited.")
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])

    def has_key(request: Request) -> bool:
        given = request.headers.get("authorization", "")
        return not settings.api_key or hmac.compare_digest(given.encode(), f"Bearer {settings.api_key}".encode())

    def require_key(request: Request) -> None:
        if not has_key(request):
            raise Unauthorised()

    def require_key_for_reads(request: Request) -> None:
        if settings.protect_reads:
            require_key(request)

    write = [Depends(require_key)]
    read = [Depends(require_key_for_reads)]
    # MCP over streamable HTTP: stateless (any of many servers answers any call), JSON answers, the
    # Host and Origin headers checked against DNS rebinding, and the key rules of the REST reads
    # (its tools only read) applied before the SDK sees the request.
    key_value = f"Bearer {settings.api_key}".encode() if settings.api_key else None
    app.router.routes.append(Route("/mcp", endpoint=KeyGate(mcp_http.routes[0].endpoint, key_value if settings.protect_reads else None)))

    @app.middleware("http")
    async def log_request(request: Request, call_next):
        """One JSON log line a request, with a request id the caller may set (X-Request-ID)."""
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Request-ID"] = request_id
        log.info(json.dumps({"request_id": request_id, "method": request.method, "path": request.url.path,
                             "status": response.status_code, "ms": round((time.perf_counter() - started) * 1000, 1)}))
        return response

    @app.exception_handler(AskbriefError)
    def askbrief_error(request: Request, exc: AskbriefError) -> JSONResponse:
        field = exc.field if isinstance(exc, BadInput) else "index"
        response = _error(exc.status, field, str(exc), type(exc).__name__)
        if isinstance(exc, CitationReplaced):  # 410: say what replaced it
            response = JSONResponse(status_code=410, content={**json.loads(response.body), "replaced_by": exc.replaced_by,
                                                              "revision": exc.revision})
        return response

    @app.exception_handler(Unauthorised)
    def unauthorised(request: Request, exc: Exception) -> JSONResponse:
        response = _error(401, "authorization", "a valid `Authorization: Bearer <ASKBRIEF_API_KEY>` header is required")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    # The records are built and checked by the engine: they leave as pydantic serialises them,
    # without FastAPI validating them again field by field (an explanation has hundreds of fields:
    # 6 ms a question, issue 23). The schema still documents them.
    @app.post("/ask", response_model=Answer, dependencies=read)
    def ask(request: AskRequest) -> Response:
        return _record(engine.ask(request.question, request.top_k, request.since, request.until, request.sources,
                                  request.explain))

    @app.post("/summarize", response_model=Summary, dependencies=read)
    def summarize(request: SummarizeRequest) -> Response:
        return _record(engine.summarize(request.doc_ids, request.query, request.max_sentences, request.since,
                                        request.explain))

    @app.get("/search", response_model=list[SearchHit], dependencies=read)
    def search(q: Annotated[str, Query(min_length=1, max_length=MAX_QUESTION)],
               k: Annotated[int, Query(ge=1, le=MAX_TOP_K)] = 10,
               since: Annotated[str | None, Query(max_length=40)] = None,
               until: Annotated[str | None, Query(max_length=40)] = None) -> list[SearchHit]:
        return engine.search(q, k, since, until)

    @app.get("/quotes", response_model=list[QuoteRecord], dependencies=read)
    def quotes(speaker: Annotated[str | None, Query(max_length=200)] = None,
               about: Annotated[str | None, Query(max_length=MAX_QUESTION)] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[QuoteRecord]:
        """Who said what: a speaker's quotes (part of the name, any case), ranked by a topic if given."""
        return engine.quotes(speaker, about, limit)

    @app.post("/documents", response_model=IngestResult | list[IngestResult], dependencies=write,
              responses={202: {"model": Job, "description": "Queued: a body over ASKBRIEF_ASYNC_INGEST_BYTES"}},
              openapi_extra={"requestBody": {"content": {
                  "application/json": {"schema": _documents_in.json_schema()},
                  "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                      "file": {"type": "string", "format": "binary"}}}}}}})
    async def add_documents(request: Request) -> IngestResult | list[IngestResult]:
        """A JSON document, a JSON list of them, or an uploaded file (.txt .md .html .json .jsonl)."""
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_BODY)
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise BadInput("file", "send the article as a multipart field named 'file'")
            data, name = await upload.read(), upload.filename or "upload.txt"
            documents = await run_in_threadpool(load_bytes, data, name=name, source=upload.filename or "")  # HTML parsing is slow
            if len(data) > settings.async_ingest_bytes:
                return await queued(documents)
            return await run_in_threadpool(engine.ingest, documents)
        try:
            body = await run_in_threadpool(_documents_in.validate_json, await request.body())  # BodyLimit capped it
        except ValidationError as e:
            return JSONResponse(status_code=422, content={"detail": [
                {"loc": ["body", *map(str, err["loc"])], "msg": err["msg"], "type": err["type"]} for err in e.errors()]})
        items = body if isinstance(body, list) else [body]
        documents = [make_document(d.text, where=f"body[{i}]", id=d.id, title=d.title, published=d.published,
                                   source=d.source) for i, d in enumerate(items)]
        if int(request.headers.get("content-length") or 0) > settings.async_ingest_bytes:
            return await queued(documents)
        results = await run_in_threadpool(engine.ingest, documents)
        return results if isinstance(body, list) else results[0]

    async def queued(documents) -> JSONResponse:
        """202 with the job: a worker embeds and writes it; GET /jobs/{id} follows it."""
        job = await run_in_threadpool(jobs.queue, engine, documents)
        return JSONResponse(status_code=202, content=job.model_dump(mode="json"), headers={"Location": f"/jobs/{job.id}"})

    @app.get("/jobs/{job_id}", response_model=Job, dependencies=read)
    def get_job(job_id: Annotated[int, FastPath(ge=1, le=2**62)]) -> Job:
        """A queued write: queued, running (done of total documents), done (what was added or
        skipped) or failed (why)."""
        return jobs.job(engine, job_id)

    @app.post("/documents/url", response_model=IngestResult, dependencies=write)
    def add_url(request: UrlIn) -> IngestResult:
        """Fetch an article page and index it (loopback and private addresses are refused)."""
        return engine.ingest_urls([request.url])[0]

    @app.post("/feeds", response_model=Feed, status_code=201, dependencies=write)
    def add_feed(request: UrlIn) -> Feed:
        """Watch an RSS or Atom feed; the server's poller (`serve --poll-feeds`) or `askbrief
        feeds poll` fetches it."""
        return engine.add_feed(request.url)

    @app.get("/feeds", response_model=list[Feed], dependencies=read)
    def list_feeds() -> list[Feed]:
        """The watched feeds, each with its last poll, counts and last error."""
        return engine.feeds()

    @app.delete("/feeds/{feed_id}", status_code=204, dependencies=write)
    def remove_feed(feed_id: Annotated[int, FastPath(ge=1, le=2**62)]) -> Response:
        """Stop watching a feed; the articles it brought stay."""
        engine.remove_feed(feed_id)
        return Response(status_code=204)

    @app.get("/documents", response_model=DocumentPage, dependencies=read)
    def list_documents(offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
                       limit: Annotated[int, Query(ge=1, le=500)] = PAGE) -> DocumentPage:
        return engine.list_documents(offset, limit)

    @app.get("/documents/{doc_id}", response_model=Document, dependencies=read)
    def document(doc_id: str) -> Document:
        return engine.document(doc_id)

    @app.get("/citations/{citation_id}", response_model=Citation, dependencies=read)
    def citation(citation_id: str) -> Citation:
        """A citation by its stable id: the quote, cut from the stored text at its offsets."""
        return engine.citation(citation_id)

    @app.delete("/documents/{doc_id}", status_code=204, dependencies=write)
    def delete_document(doc_id: str) -> Response:
        engine.delete([doc_id])
        return Response(status_code=204)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        """The question page: no build step, one file of HTML, CSS and JavaScript."""
        return HTMLResponse(PAGE_FILE.read_text(encoding="utf-8"))

    @app.get("/health")
    async def health(request: Request) -> dict:
        """Model, version and index size; only {"status": "ok"} to a caller without the key
        when reads are protected."""
        if settings.protect_reads and not has_key(request):
            return {"status": "ok"}
        return engine.health()

    return app


def _poll_forever(engine: Engine, every_s: float, stop: threading.Event) -> None:
    """Poll the feeds now and then every `every_s` until `stop`; one JSON log line a feed."""
    while not stop.is_set():
        try:
            for p in engine.poll_feeds():
                log.info(json.dumps({"feed": p.feed.url, "status": p.status, "added": len(p.added),
                                     "skipped": len(p.skipped), "error": p.error}))
        except PollInProgress:
            log.info(json.dumps({"feed_poll": "skipped", "why": "another process polls now"}))
        except Exception as e:  # noqa: BLE001 - the poller must outlive any one bad pass
            log.warning(json.dumps({"feed_poll": "failed", "error": f"{type(e).__name__}: {e}"}))
        stop.wait(every_s)


class KeyGate:
    """An ASGI app in front of another that answers 401 (the API's JSON error) unless the
    request carries `key` as its Authorization header; `key` None lets everything through."""

    def __init__(self, app, key: bytes | None):
        self.app, self.key = app, key

    async def __call__(self, scope, receive, send):
        if self.key is not None and not hmac.compare_digest(Headers(scope=scope).get("authorization", "").encode(), self.key):
            response = _error(401, "authorization", "a valid `Authorization: Bearer <ASKBRIEF_API_KEY>` header is required")
            response.headers["WWW-Authenticate"] = "Bearer"
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _mcp_security(settings):
    """MCP's DNS-rebinding guard: loopback names and ASKBRIEF_MCP_ALLOWED_HOSTS as Host, loopback
    pages and ASKBRIEF_CORS_ORIGINS as Origin (a request without an Origin is no browser's)."""
    from mcp.server.transport_security import TransportSecuritySettings

    loopback = ["127.0.0.1", "localhost", "[::1]"]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[h for name in loopback for h in (name, f"{name}:*")] + list(settings.mcp_allowed_hosts),
        allowed_origins=[f"http://{name}:*" for name in loopback] + [f"http://{name}" for name in loopback]
        + list(settings.cors_origins))


def _too_large(size: int | None = None) -> str:
    said = f"is {size} bytes" if size is not None else "is over the limit"
    return f"request body {said}; the limit is {MAX_BODY} bytes: send fewer documents at once"


class BodyLimit:
    """ASGI middleware that reads the whole body before the app sees it, and answers 413 the
    moment it passes `limit` bytes, however it arrives: a declared Content-Length is refused
    before reading; a chunked or multipart body is counted as it streams (Starlette's
    max_part_size does not cap file parts). At most `limit` bytes are ever held."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            return await _error(413, "body", _too_large(int(length)))(scope, receive, send)
        messages, received = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.limit:
                return await _error(413, "body", _too_large())(scope, receive, send)
            if not message.get("more_body", False):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _record(record: BaseModel) -> Response:
    return Response(record.model_dump_json(), media_type="application/json")


def check_access_settings(settings) -> None:
    """Settings that would silently leave the service open are refused, with what to set instead."""
    if settings.api_key is not None and not settings.api_key.strip():
        raise BadSetting("api_key", "ASKBRIEF_API_KEY is set but empty, which would leave writes open;"
                         " give it a secret value, or unset it to run without a key on a trusted machine")
    if settings.protect_reads and not settings.api_key:
        raise BadSetting("protect_reads", "ASKBRIEF_PROTECT_READS=true needs ASKBRIEF_API_KEY: without a key"
                         " nothing can be protected; set the key, or unset ASKBRIEF_PROTECT_READS")


class Unauthorised(Exception):
    """A protected endpoint was called without the right API key."""


def _error(status: int, field: str, message: str, kind: str = "invalid") -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": [{"loc": ["body", field], "msg": message, "type": kind}]})
