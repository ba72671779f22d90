"""The API's writes: documents (JSON, lists, uploads; large bodies queued as jobs), article
URLs, feeds, deletes; and the job and feed reads beside them."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as FastPath
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from askbrief.engine import Engine
from askbrief.errors import BadInput
from askbrief.ingest.documents import load_bytes, make_document
from askbrief.records import (
    Feed,
    IngestResult,
    Job,
)
from askbrief.serve import jobs
from askbrief.serve.http import MAX_BODY, MAX_FORM_FIELDS
from askbrief.serve.requests import UrlIn, documents_in


def write_routes(engine: Engine, write: list, read: list) -> APIRouter:
    """Writing documents over one engine, behind the `write` dependencies (the key when one is set),
    and following a queued write."""
    router = APIRouter()
    settings = engine.settings

    @router.post("/documents", response_model=IngestResult | list[IngestResult], dependencies=write,
              responses={202: {"model": Job, "description": "Queued: a body over ASKBRIEF_ASYNC_INGEST_BYTES"}},
              openapi_extra={"requestBody": {"content": {
                  "application/json": {"schema": documents_in.json_schema()},
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
            body = await run_in_threadpool(documents_in.validate_json, await request.body())  # BodyLimit capped it
        except ValidationError as e:
            return JSONResponse(status_code=422, content={"detail": [
                {"loc": ["body", *map(str, err["loc"])], "msg": err["msg"], "type": err["type"]} for err in e.errors()]})
        items = body if isinstance(body, list) else [body]
        documents = await run_in_threadpool(lambda: [  # language detection reads every text: off the event loop
            make_document(d.text, where=f"body[{i}]", id=d.id, title=d.title, published=d.published, source=d.source)
            for i, d in enumerate(items)])
        if int(request.headers.get("content-length") or 0) > settings.async_ingest_bytes:
            return await queued(documents)
        results = await run_in_threadpool(engine.ingest, documents)
        return results if isinstance(body, list) else results[0]

    async def queued(documents) -> JSONResponse:
        """202 with the job: a worker embeds and writes it; GET /jobs/{id} follows it."""
        job = await run_in_threadpool(jobs.queue, engine, documents)
        return JSONResponse(status_code=202, content=job.model_dump(mode="json"), headers={"Location": f"/jobs/{job.id}"})

    @router.get("/jobs/{job_id}", response_model=Job, dependencies=read)
    def get_job(job_id: Annotated[int, FastPath(ge=1, le=2**62)]) -> Job:
        """A queued write: queued, running (done of total documents), done (what was added or
        skipped) or failed (why)."""
        return jobs.job(engine, job_id)

    @router.post("/documents/url", response_model=IngestResult, dependencies=write)
    def add_url(request: UrlIn) -> IngestResult:
        """Fetch an article page and index it (loopback and private addresses are refused)."""
        return engine.ingest_urls([request.url])[0]

    @router.delete("/documents/{doc_id}", status_code=204, dependencies=write)
    def delete_document(doc_id: str) -> Response:
        engine.delete([doc_id])
        return Response(status_code=204)

    return router


def feed_routes(engine: Engine, write: list, read: list) -> APIRouter:
    """Watching feeds: add (the key when one is set), list, remove."""
    router = APIRouter()

    @router.post("/feeds", response_model=Feed, status_code=201, dependencies=write)
    def add_feed(request: UrlIn) -> Feed:
        """Watch an RSS or Atom feed; the server's poller (`serve --poll-feeds`) or `askbrief
        feeds poll` fetches it."""
        return engine.add_feed(request.url)

    @router.get("/feeds", response_model=list[Feed], dependencies=read)
    def list_feeds() -> list[Feed]:
        """The watched feeds, each with its last poll, counts and last error."""
        return engine.feeds()

    @router.delete("/feeds/{feed_id}", status_code=204, dependencies=write)
    def remove_feed(feed_id: Annotated[int, FastPath(ge=1, le=2**62)]) -> Response:
        """Stop watching a feed; the articles it brought stay."""
        engine.remove_feed(feed_id)
        return Response(status_code=204)

    return router
