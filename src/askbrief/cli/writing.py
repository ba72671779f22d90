"""Changing the index: ingest, reindex, delete, and the feeds it watches."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from askbrief.cli.common import EmbedderOpt, IndexOpt, JsonOpt, app, engine_for, print_ingested, print_json, reported


@app.command()
def ingest(paths: Annotated[list[str], typer.Argument(help="Files or folders (.txt .md .html .json .jsonl), or article URLs.")],
           index: IndexOpt = "default", json_out: JsonOpt = False,
           quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
           embedder: EmbedderOpt = None) -> None:
    """Add articles to an index, creating it if needed. Example: askbrief ingest seeds/ https://example.org/news/1"""
    urls = [p for p in paths if p.lower().startswith(("http://", "https://"))]
    with reported():
        engine = engine_for(index, embedder)
        results = engine.ingest_urls(urls) if urls else []
        files = [Path(p) for p in paths if p not in urls]
        results += engine.ingest_paths(files, progress=sys.stderr.isatty() and not quiet) if files else []
    if json_out:
        return print_json(results)
    print_ingested(results)


@app.command()
def reindex(index: IndexOpt = "default",
            quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
            embedder: EmbedderOpt = None) -> None:
    """Re-embed an index in place: one built by an older askbrief, or moved to another embedder; stopped, it resumes. Example: askbrief reindex --index news --embedder multilingual"""
    with reported():
        before, now = engine_for(index, embedder).reindex(progress=sys.stderr.isatty() and not quiet)
    typer.echo(f"index {index!r} already holds vectors of {now}; nothing to do" if before == now
               else f"re-embedded index {index!r}: {before} -> {now}")


@app.command()
def delete(doc_ids: list[str], index: IndexOpt = "default") -> None:
    """Remove documents from an index. Example: askbrief delete 000_94717b999ff50f1a"""
    with reported():
        engine_for(index).delete(doc_ids)
    typer.echo(f"deleted {len(doc_ids)} documents")


feeds_app = typer.Typer(no_args_is_help=True, help="Watch RSS and Atom feeds: their new articles are fetched and indexed.")

app.add_typer(feeds_app, name="feeds")


@feeds_app.command("add")
def feeds_add(url: str, index: IndexOpt = "default", json_out: JsonOpt = False) -> None:
    """Watch a feed; `askbrief feeds poll` (or `serve --poll-feeds 15m`) fetches it. Example: askbrief feeds add https://example.org/rss.xml"""
    with reported():
        feed = engine_for(index).add_feed(url)
    print_json(feed) if json_out else typer.echo(f"watching feed {feed.id}: {feed.url}")


@feeds_app.command("list")
def feeds_list(index: IndexOpt = "default", json_out: JsonOpt = False) -> None:
    """The watched feeds, with their last poll, counts and last error."""
    with reported():
        feeds = engine_for(index).feeds()
    if json_out:
        return print_json(feeds)
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
        removed = engine_for(index).remove_feed(feed)
    typer.echo(f"stopped watching feed {removed.id}: {removed.url}")


@feeds_app.command("poll")
def feeds_poll(feed: Annotated[str | None, typer.Argument(help="One feed's URL or id; none: all of them.")] = None,
               index: IndexOpt = "default", json_out: JsonOpt = False) -> None:
    """One pass over the watched feeds (for cron); exit code 1 when any feed failed."""
    with reported():
        polls = engine_for(index).poll_feeds(feed)
    if json_out:
        print_json(polls)
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
