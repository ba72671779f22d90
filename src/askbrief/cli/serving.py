"""Serving the index: the HTTP API and page, the write worker, the MCP server on stdio."""

import sys
from typing import Annotated

import typer

from askbrief.cli.common import IndexOpt, app, engine_for, reported
from askbrief.errors import BadInput

SWITCH_INTERVAL_S = 0.0005


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, index: IndexOpt = "default",
          poll_feeds: Annotated[str | None, typer.Option(help="Poll the watched feeds this often in the background"
                                                               " (e.g. 15m, 1h, 90s).")] = None) -> None:
    """Serve the HTTP API and the page at /. Example: askbrief serve --port 8000 --poll-feeds 15m"""
    import logging

    import uvicorn

    from askbrief.serve.api import create_app

    requests_log = logging.getLogger("askbrief.serve.api")  # one JSON line a request, on stderr
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    requests_log.addHandler(handler)
    requests_log.setLevel(logging.INFO)
    requests_log.propagate = False  # not through main()'s "warning: " handler
    logging.getLogger("askbrief.serve.jobs").addHandler(handler)  # the worker thread's line a job, likewise
    logging.getLogger("askbrief.serve.jobs").setLevel(logging.INFO)
    logging.getLogger("askbrief.serve.jobs").propagate = False

    import os

    # A server answers many questions at once: one core a model call beats every core for each
    # (16 clients: 41 questions/s at 28.5 CPU-ms each, against 32 at 53; docs/deploy.md).
    os.environ.setdefault("ASKBRIEF_ONNX_THREADS", "1")
    # A worker thread ingesting a large article holds the GIL for up to the switch interval at each
    # turn, and /health takes several turns: at CPython's 5 ms its slowest polls during a 195 KB
    # ingest were 40-130 ms; at 0.5 ms, 15-25 ms (scripts/hostile.py, probe 5).
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    with reported():
        every = _duration(poll_feeds) if poll_feeds is not None else None
        engine = engine_for(index)
        engine.warm()
        application = create_app(engine, poll_every_s=every)
    uvicorn.run(application, host=host, port=port)


@app.command()
def worker(index: IndexOpt = "default") -> None:
    """Embed and write queued documents (POST /documents over ASKBRIEF_ASYNC_INGEST_BYTES) until
    stopped; with PostgreSQL, any number of workers on any machines share the queue.
    Example: askbrief worker --index news"""
    import logging
    import signal
    import threading

    from askbrief.serve.jobs import run_worker

    jobs_log = logging.getLogger("askbrief.serve.jobs")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    jobs_log.addHandler(handler)
    jobs_log.setLevel(logging.INFO)
    jobs_log.propagate = False
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with reported():
        engine = engine_for(index)
        engine.warm()
        typer.echo(f"worker for index {index!r}: waiting for jobs (Ctrl-C stops)", err=True)
        try:
            run_worker(engine, stop)
        except KeyboardInterrupt:
            pass


@app.command()
def mcp(index: IndexOpt = "default") -> None:
    """An MCP server on stdin/stdout for assistants: tools ask, search, summarize, quotes and
    show_citation, the documents as resources. Example: askbrief mcp --index news (the command an MCP host runs)"""
    with reported():
        from askbrief.serve.mcp import run_stdio

        run_stdio(engine_for(index))


def _duration(text: str) -> float:
    """Seconds in "90s", "15m", "1h" or a plain number of seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (text[:-1], units[text[-1]]) if text[-1:] in units else (text, 1)
    try:
        seconds = float(number) * unit
    except ValueError:
        seconds = 0
    if not 1 <= seconds <= 7 * 86400:
        raise BadInput("poll_feeds", f"--poll-feeds {text!r}: give a period between 1s and 7 days, such as 15m or 1h")
    return seconds
