"""The HTTP API: FastAPI over the same engine as the CLI (DESIGN.md lists the endpoints).

Request bodies are pydantic models that reject unknown fields; an `AskbriefError` becomes a
4xx whose JSON body names the field, in FastAPI's own validation-error shape. Writes need the
API key when one is set (ASKBRIEF_API_KEY), compared in constant time.
"""

import json
import logging
import threading
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from askbrief import __version__
from askbrief.engine import Engine
from askbrief.errors import AskbriefError, BadInput, CitationReplaced, PollInProgress
from askbrief.serve import jobs
from askbrief.serve.http import (
    MAX_BODY,
    Access,
    BodyLimit,
    KeyGate,
    Unauthorised,
    check_access_settings,
    error,
    mcp_security,
    unauthorised_response,
)
from askbrief.serve.mcp import create_server
from askbrief.serve.reads import read_routes
from askbrief.serve.writes import feed_routes, write_routes

PAGE_FILE = Path(__file__).with_name("static") / "index.html"
log = logging.getLogger("askbrief.serve.api")


def create_app(engine: Engine, poll_every_s: float | None = None) -> FastAPI:
    """The app over one engine, polling its feeds every `poll_every_s` in a background thread
    when given; refuses settings that would leave the service open (BadSetting)."""
    settings = engine.settings
    check_access_settings(settings)
    access = Access(settings)
    assistants = create_server(engine)  # the MCP tools, over streamable HTTP at /mcp

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
    _mount_mcp(app, assistants, settings)
    _log_and_translate_errors(app)
    app.include_router(read_routes(engine, access.read))
    app.include_router(write_routes(engine, access.write, access.read))
    app.include_router(feed_routes(engine, access.write, access.read))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        """The question page: no build step, one file of HTML, CSS and JavaScript."""
        return HTMLResponse(PAGE_FILE.read_text(encoding="utf-8"))

    @app.get("/health")
    async def health(request: Request) -> dict:
        """Model, version and index size; only {"status": "ok"} to a caller without the key
        when reads are protected."""
        if settings.protect_reads and not access.has_key(request):
            return {"status": "ok"}
        return engine.health()

    return app


def _mount_mcp(app: FastAPI, assistants, settings) -> None:
    """MCP over streamable HTTP at /mcp: stateless (any of many servers answers any call), JSON
    answers, the Host and Origin headers checked against DNS rebinding, and the key rules of the
    REST reads (its tools only read) applied before the SDK sees the request."""
    mcp_http = assistants.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True,
                                              transport_security=mcp_security(settings))
    key = f"Bearer {settings.api_key}".encode() if settings.api_key and settings.protect_reads else None
    app.router.routes.append(Route("/mcp", endpoint=KeyGate(mcp_http.routes[0].endpoint, key)))


def _log_and_translate_errors(app: FastAPI) -> None:
    """One JSON log line a request; an `AskbriefError` as a 4xx naming the field; 401 without the key."""

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
        response = error(exc.status, field, str(exc), type(exc).__name__)
        if isinstance(exc, CitationReplaced):  # 410: say what replaced it
            response = JSONResponse(status_code=410, content={**json.loads(response.body), "replaced_by": exc.replaced_by,
                                                              "revision": exc.revision})
        return response

    @app.exception_handler(Unauthorised)
    def unauthorised(request: Request, exc: Exception) -> JSONResponse:
        return unauthorised_response()


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
