"""The command line: thin Typer commands over the engine (DESIGN.md lists them).

Readable text by default, the DESIGN.md records with --json. Every `AskbriefError` becomes a
one-line message on stderr and exit code 1; never a traceback.
"""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel, ValidationError

from askbrief.errors import AskbriefError, BadInput
from askbrief.records import Answer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Ask questions of news articles and get answers and summaries cited to the sentence.")

IndexOpt = Annotated[str, typer.Option("--index", "-i", help="Index name, a folder under ASKBRIEF_HOME (./indexes).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the DESIGN.md records as JSON.")]
ExplainOpt = Annotated[bool, typer.Option("--explain", help="Say why: each stage's decisions under the result"
                                                           " (--json: the explanation record too).")]
SinceOpt = Annotated[str | None, typer.Option(help="Only articles published on or after this date (YYYY-MM-DD).")]
UntilOpt = Annotated[str | None, typer.Option(help="Only articles published on or before this date (YYYY-MM-DD).")]


@contextmanager
def reported() -> Iterator[None]:
    """Turn askbrief's errors (and unreadable files) into one line on stderr and exit code 1."""
    try:
        yield
    except AskbriefError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    except OSError as e:
        typer.echo(f"error: {e.filename or ''}: {e.strerror or e}", err=True)
        raise typer.Exit(1) from None
    except ValidationError as e:  # a bad ASKBRIEF_* setting
        for problem in e.errors():
            name = "ASKBRIEF_" + "_".join(str(part) for part in problem["loc"]).upper()
            typer.echo(f"error: {name}: {problem['msg']}", err=True)
        raise typer.Exit(1) from None


def _engine(index: str):
    from askbrief.engine import Engine  # imported late so `--help` stays fast

    return Engine(index)


def _print_json(value: BaseModel | list[BaseModel]) -> None:
    if isinstance(value, list):
        typer.echo(json.dumps([v.model_dump() for v in value], ensure_ascii=False, indent=2))
    else:
        typer.echo(value.model_dump_json(indent=2))


def _print_cited(text: str, citations, note: str = "") -> None:
    typer.echo(text + (f"\n{note}" if note else ""))
    for c in citations:
        where = ", ".join(x for x in (c.title, c.published, c.source) if x)
        typer.echo(f"  [{c.n}] {c.doc_id} chars {c.start}-{c.end} ({where})")


def _confidence_words(confidence: float) -> str:
    """The page's words for a calibrated confidence (static/index.html says the same)."""
    if confidence >= 0.7:
        return "likely right"
    return "probably right, check the source" if confidence >= 0.4 else "uncertain: read the cited passage"


def _print_answer(answer: Answer) -> None:
    if answer.abstained:
        note = f"(confidence {answer.confidence:.2f}, below the threshold: the closest passages are cited to check)"
    else:
        note = f"(confidence {answer.confidence:.2f}: {_confidence_words(answer.confidence)})"
        if answer.span:
            note += f"\nshort answer: {answer.span.text}"
    _print_cited(answer.answer, answer.citations, note)


@app.command()
def ingest(paths: Annotated[list[str], typer.Argument(help="Files or folders (.txt .md .html .json .jsonl), or article URLs.")],
           index: IndexOpt = "default", json_out: JsonOpt = False,
           quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False) -> None:
    """Add articles to an index, creating it if needed. Example: askbrief ingest seeds/ https://example.org/news/1"""
    urls = [p for p in paths if p.lower().startswith(("http://", "https://"))]
    with reported():
        engine = _engine(index)
        results = engine.ingest_urls(urls) if urls else []
        files = [Path(p) for p in paths if p not in urls]
        results += engine.ingest_paths(files, progress=sys.stderr.isatty() and not quiet) if files else []
    if json_out:
        return _print_json(results)
    _print_ingested(results)


def _print_ingested(results) -> None:
    added = [r for r in results if not r.duplicate_of]
    for r in results:
        if r.duplicate_of:
            typer.echo(f"skipped {r.id}: same text as {r.duplicate_of}" if r.id != r.duplicate_of
                       else f"skipped {r.id}: already indexed")
    typer.echo(f"added {len(added)} documents ({sum(r.sentences for r in added)} sentences, "
               f"{sum(r.chunks for r in added)} chunks), {len(results) - len(added)} duplicates skipped")


@app.command()
def reindex(index: IndexOpt = "default",
            quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False) -> None:
    """Re-embed an index built by an older askbrief (another embedding model) in place; stopped, it resumes. Example: askbrief reindex --index news"""
    with reported():
        before, now = _engine(index).reindex(progress=sys.stderr.isatty() and not quiet)
    typer.echo(f"index {index!r} already holds vectors of {now}; nothing to do" if before == now
               else f"re-embedded index {index!r}: {before} -> {now}")


feeds_app = typer.Typer(no_args_is_help=True, help="Watch RSS and Atom feeds: their new articles are fetched and indexed.")
app.add_typer(feeds_app, name="feeds")


@feeds_app.command("add")
def feeds_add(url: str, index: IndexOpt = "default", json_out: JsonOpt = False) -> None:
    """Watch a feed; `askbrief feeds poll` (or `serve --poll-feeds 15m`) fetches it. Example: askbrief feeds add https://example.org/rss.xml"""
    with reported():
        feed = _engine(index).add_feed(url)
    _print_json(feed) if json_out else typer.echo(f"watching feed {feed.id}: {feed.url}")


@feeds_app.command("list")
def feeds_list(index: IndexOpt = "default", json_out: JsonOpt = False) -> None:
    """The watched feeds, with their last poll, counts and last error."""
    with reported():
        feeds = _engine(index).feeds()
    if json_out:
        return _print_json(feeds)
    for f in feeds:
        last = f"last polled {f.last_polled}: {f.last_status}" if f.last_polled else "not polled yet"
        typer.echo(f"{f.id}  {f.url}  {f.title or ''}\n    {last}; {f.polls} polls, {f.documents_added} articles added,"
                   f" {f.entries_skipped} entries skipped" + (f"\n    error: {f.last_error}" if f.last_error else ""))
    if not feeds:
        typer.echo("no feeds watched; add one with `askbrief feeds add URL`")


@feeds_app.command("remove")
def feeds_remove(feed: Annotated[str, typer.Argument(help="The feed's URL or id.")], index: IndexOpt = "default") -> None:
    """Stop watching a feed; the articles it brought stay indexed."""
    with reported():
        removed = _engine(index).remove_feed(feed)
    typer.echo(f"stopped watching feed {removed.id}: {removed.url}")


@feeds_app.command("poll")
def feeds_poll(feed: Annotated[str | None, typer.Argument(help="One feed's URL or id; none: all of them.")] = None,
               index: IndexOpt = "default", json_out: JsonOpt = False) -> None:
    """One pass over the watched feeds (for cron); exit code 1 when any feed failed."""
    with reported():
        polls = _engine(index).poll_feeds(feed)
    if json_out:
        _print_json(polls)
    else:
        for p in polls:
            typer.echo(f"{p.feed.url}: {p.status}" + (f" ({p.error})" if p.error else
                       f", {len(p.added)} added, {len(p.skipped)} skipped, revised {len(p.revised)}"))
            for r in p.added:
                typer.echo(f"  added {r.id} ({r.sentences} sentences)")
            for r in p.revised:
                typer.echo(f"  revised {r.id} ({r.sentences} sentences; the old text's citations answer 410)")
            for s in p.skipped:
                typer.echo(f"  skipped {s.url}: {s.reason}")
    if any(p.status == "failed" for p in polls):
        raise typer.Exit(1)


@app.command()
def ask(question: Annotated[str | None, typer.Argument(help="The question.")] = None,
        batch: Annotated[Path | None, typer.Option(help="A file of questions, one a line; prints one Answer JSON a line.")] = None,
        index: IndexOpt = "default", json_out: JsonOpt = False,
        top_k: Annotated[int, typer.Option(help="Passages (chunks) to read the answer from (1-50).")] = 5,
        since: SinceOpt = None, until: UntilOpt = None, explain: ExplainOpt = False) -> None:
    """Answer a question with cited sentences. Example: askbrief ask "What did Putin say about trade?" --explain"""
    with reported():
        engine = _engine(index)
        if batch is not None:
            questions = [line.strip() for line in batch.read_text(encoding="utf-8").splitlines() if line.strip()]
            for answer in engine.ask_many(questions, top_k, since, until, explain=explain):
                typer.echo(answer.model_dump_json())
            return
        answer = engine.ask(question or "", top_k, since, until, explain=explain)
    if json_out:
        return _print_json(answer)
    _print_answer(answer)
    if answer.explanation:
        from askbrief.explain.answer import answer_report

        typer.echo(answer_report(answer.explanation))


@app.command()
def summarize(doc: Annotated[list[str], typer.Option("--doc", help="A document id; repeat for several. None: the whole index.")] = [],  # noqa: B006
              query: Annotated[str | None, typer.Option(help="Focus the summary on this topic.")] = None,
              sentences: Annotated[int, typer.Option(help="Sentences in the paragraph (1-20); 1 is a one-line brief.")] = 4,
              since: Annotated[str | None, typer.Option(help="What's new since this date (YYYY-MM-DD): only what later "
                                                           "articles add to the earlier ones.")] = None,
              batch: Annotated[Path | None, typer.Option(help="A file of JSON requests, one a line: {doc_ids, query, max_sentences, since}.")] = None,
              index: IndexOpt = "default", json_out: JsonOpt = False, explain: ExplainOpt = False) -> None:
    """A one-paragraph cited summary. Example: askbrief summarize --doc 000_94717b999ff50f1a;
    what's new: askbrief summarize --query "Puerto Rico governor" --since 2019-08-01"""
    with reported():
        engine = _engine(index)
        if batch is not None:
            for request in _batch_requests(batch):
                typer.echo(engine.summarize(request.get("doc_ids") or [], request.get("query"),
                                            request.get("max_sentences", 4), request.get("since"),
                                            explain=explain).model_dump_json())
            return
        summary = engine.summarize(doc, query, sentences, since, explain=explain)
    if json_out:
        return _print_json(summary)
    for asked, stored in summary.resolved.items():
        typer.echo(f"note: {asked} was skipped at ingest as an exact copy of {stored}; summarising {stored}")
    if summary.since:
        typer.echo(f"new since {summary.since} in {len(summary.doc_ids)} articles, against "
                   f"{len(summary.compared_with)} earlier: {', '.join(summary.compared_with) or 'none'}")
        if not summary.citations:
            typer.echo("Nothing new: the later articles only repeat what the earlier ones said." if summary.doc_ids
                       else f"No article here was published on or after {summary.since}.")
    if summary.citations:
        _print_cited(summary.summary, summary.citations)
    if summary.explanation:
        from askbrief.explain.answer import summary_report

        typer.echo(summary_report(summary.explanation))


def _batch_requests(path: Path) -> Iterator[dict]:
    from askbrief.ingest.documents import json_lines

    for lineno, request in json_lines(path.read_text(encoding="utf-8"), str(path), "batch"):
        if not isinstance(request, dict):
            raise BadInput("batch", f"{path}:{lineno}: expected a JSON object")
        yield request


@app.command()
def quotes(speaker: Annotated[str | None, typer.Option(help="Part of the speaker's name, any case.")] = None,
           about: Annotated[str | None, typer.Option(help="Rank the quotes by relevance to this topic.")] = None,
           index: IndexOpt = "default", json_out: JsonOpt = False) -> None:
    """Who said what, with offsets. Example: askbrief quotes --speaker Putin --about trade"""
    with reported():
        found = _engine(index).quotes(speaker, about)
    if json_out:
        return _print_json(found)
    for q in found:
        typer.echo(f"{q.speaker} ({q.cue}, {q.doc_id} {q.start}-{q.end}, {q.published or 'undated'}): {q.quote}")


@app.command()
def search(query: str, index: IndexOpt = "default", json_out: JsonOpt = False,
           k: Annotated[int, typer.Option(help="How many passages (1-50).")] = 10,
           since: SinceOpt = None, until: UntilOpt = None) -> None:
    """Ranked passages for a query, with offsets. Example: askbrief search "trade turnover" --since 2023-01-01"""
    with reported():
        hits = _engine(index).search(query, k, since, until)
    if json_out:
        return _print_json(hits)
    for h in hits:
        typer.echo(f"{h.score:.4f}  {h.doc_id} {h.start}-{h.end}  {h.text[:100]!r}")


@app.command()
def show(doc_id: Annotated[str | None, typer.Argument(help="A document id.")] = None,
         citation: Annotated[str | None, typer.Option(help="A citation id (HASH:START-END) to resolve instead.")] = None,
         index: IndexOpt = "default", json_out: JsonOpt = False) -> None:
    """A stored document, its text exactly as indexed, or one cited sentence. Example: askbrief show 000_94717b999ff50f1a"""
    with reported():
        if citation is not None:
            record = _engine(index).citation(citation)
            return _print_json(record) if json_out else _print_cited(record.quote, [record.model_copy(update={"n": 1})])
        if doc_id is None:
            raise BadInput("doc_id", "name a document id, or a citation with --citation ID")
        doc = _engine(index).document(doc_id)
    if json_out:
        return _print_json(doc)
    typer.echo(f"{doc.title}\n{doc.published or 'undated'} · {doc.source}\n\n{doc.text}")


@app.command()
def delete(doc_ids: list[str], index: IndexOpt = "default") -> None:
    """Remove documents from an index. Example: askbrief delete 000_94717b999ff50f1a"""
    with reported():
        _engine(index).delete(doc_ids)
    typer.echo(f"deleted {len(doc_ids)} documents")


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
    with reported():
        every = _duration(poll_feeds) if poll_feeds is not None else None
        engine = _engine(index)
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
        engine = _engine(index)
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

        run_stdio(_engine(index))


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


def main() -> None:
    import logging

    handler = logging.StreamHandler()  # warnings such as an unreadable date reach the person, one line each
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    logger = logging.getLogger("askbrief")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    app()
