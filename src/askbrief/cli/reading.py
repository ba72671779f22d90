"""Reading the index: ask, summarize, quotes, search, show."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from askbrief.cli.common import (
    ExplainOpt,
    IndexOpt,
    JsonOpt,
    SinceOpt,
    UntilOpt,
    app,
    engine_for,
    print_answer,
    print_cited,
    print_json,
    reported,
)
from askbrief.errors import BadInput
from askbrief.limits import MAX_SUMMARY_SENTENCES, MAX_TOP_K, check_question
from askbrief.serve.requests import MAX_LISTED, QUOTES_LIMIT, SEARCH_K, SUMMARY_SENTENCES, TOP_K


@app.command()
def ask(question: Annotated[str | None, typer.Argument(help="The question.")] = None,
        batch: Annotated[Path | None, typer.Option(help="A file of questions, one a line; prints one Answer JSON a line.")] = None,
        index: IndexOpt = "default", json_out: JsonOpt = False,
        top_k: Annotated[int, typer.Option(help=f"Passages (chunks) to read the answer from (1-{MAX_TOP_K}).")] = TOP_K,
        since: SinceOpt = None, until: UntilOpt = None,
        source: Annotated[list[str], typer.Option("--source", help="Only articles from this source; repeat for several.")] = [],  # noqa: B006
        explain: ExplainOpt = False) -> None:
    """Answer a question with cited sentences. Example: askbrief ask "What did Putin say about trade?" --explain"""
    with reported():
        engine = engine_for(index)
        if batch is not None:
            questions = [line.strip() for line in batch.read_text(encoding="utf-8").splitlines() if line.strip()]
            return ask_batch(engine, questions, top_k, since, until, explain, source)
        answer = engine.ask(question or "", top_k, since, until, source, explain=explain)
    if json_out:
        return print_json(answer)
    print_answer(answer)
    if answer.explanation:
        from askbrief.explain.report import answer_report

        typer.echo(answer_report(answer.explanation))


def ask_batch(engine, questions: list[str], top_k: int, since: str | None, until: str | None, explain: bool,
              sources: list[str] = ()) -> None:
    """One Answer JSON a line, in order; a question askbrief refuses gets a JSON error line
    instead ({"question", "error", "field"}) and the others are still answered; exit 1 after
    the last line if any was refused."""
    refused: dict[int, BadInput] = {}
    for i, q in enumerate(questions):
        try:
            check_question(q)
        except BadInput as e:
            refused[i] = e
    answers = iter(engine.ask_many([q for i, q in enumerate(questions) if i not in refused], top_k, since, until,
                                   sources, explain=explain) if len(refused) < len(questions) else [])
    for i, q in enumerate(questions):
        if i in refused:
            typer.echo(json.dumps({"question": q[:200], "error": str(refused[i]), "field": refused[i].field}))
        else:
            typer.echo(next(answers).model_dump_json())
    if refused:
        typer.echo(f"error: {len(refused)} of {len(questions)} questions refused (numbers"
                   f" {', '.join(str(i + 1) for i in refused)}); the others are answered", err=True)
        raise typer.Exit(1)


@app.command()
def summarize(doc: Annotated[list[str], typer.Option("--doc", help="A document id; repeat for several. None: the whole index.")] = [],  # noqa: B006
              query: Annotated[str | None, typer.Option(help="Focus the summary on this topic.")] = None,
              sentences: Annotated[int, typer.Option(help=f"Sentences in the paragraph (1-{MAX_SUMMARY_SENTENCES}); "
                                                           "1 is a one-line brief.")] = SUMMARY_SENTENCES,
              since: Annotated[str | None, typer.Option(help="What's new since this date (YYYY-MM-DD): only what later "
                                                           "articles add to the earlier ones.")] = None,
              batch: Annotated[Path | None, typer.Option(help="A file of JSON requests, one a line: {doc_ids, query, max_sentences, since}.")] = None,
              index: IndexOpt = "default", json_out: JsonOpt = False, explain: ExplainOpt = False) -> None:
    """A one-paragraph cited summary. Example: askbrief summarize --doc 000_94717b999ff50f1a;
    what's new: askbrief summarize --query "Puerto Rico governor" --since 2019-08-01"""
    with reported():
        engine = engine_for(index)
        if batch is not None:
            for request in _batch_requests(batch):
                typer.echo(engine.summarize(request.get("doc_ids") or [], request.get("query"),
                                            request.get("max_sentences", SUMMARY_SENTENCES), request.get("since"),
                                            explain=explain).model_dump_json())
            return
        summary = engine.summarize(doc, query, sentences, since, explain=explain)
    if json_out:
        return print_json(summary)
    for asked, stored in summary.resolved.items():
        typer.echo(f"note: {asked} was skipped at ingest as an exact copy of {stored}; summarising {stored}")
    if summary.since:
        typer.echo(f"new since {summary.since} in {len(summary.doc_ids)} articles, against "
                   f"{len(summary.compared_with)} earlier: {', '.join(summary.compared_with) or 'none'}")
        if not summary.citations:
            typer.echo("Nothing new: the later articles only repeat what the earlier ones said." if summary.doc_ids
                       else f"No article here was published on or after {summary.since}.")
    if summary.citations:
        print_cited(summary.summary, summary.citations)
    if summary.explanation:
        from askbrief.explain.report import summary_report

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
           limit: Annotated[int, typer.Option(help=f"At most this many quotes (1-{MAX_LISTED}).")] = QUOTES_LIMIT,
           index: IndexOpt = "default", json_out: JsonOpt = False) -> None:
    """Who said what, with offsets. Example: askbrief quotes --speaker Putin --about trade"""
    with reported():
        if not 1 <= limit <= MAX_LISTED:
            raise BadInput("limit", f"limit must be a whole number from 1 to {MAX_LISTED}, got {limit}")
        found = engine_for(index).quotes(speaker, about, limit)
    if json_out:
        return print_json(found)
    for q in found:
        typer.echo(f"{q.speaker} ({q.cue}, {q.doc_id} {q.start}-{q.end}, {q.published or 'undated'}): {q.quote}")


@app.command()
def search(query: str, index: IndexOpt = "default", json_out: JsonOpt = False,
           k: Annotated[int, typer.Option(help=f"How many passages (1-{MAX_TOP_K}).")] = SEARCH_K,
           since: SinceOpt = None, until: UntilOpt = None) -> None:
    """Ranked passages for a query, with offsets. Example: askbrief search "trade turnover" --since 2023-01-01"""
    with reported():
        hits = engine_for(index).search(query, k, since, until)
    if json_out:
        return print_json(hits)
    for h in hits:
        typer.echo(f"{h.score:.4f}  {h.doc_id} {h.start}-{h.end}  {h.text[:100]!r}")


@app.command()
def show(doc_id: Annotated[str | None, typer.Argument(help="A document id.")] = None,
         citation: Annotated[str | None, typer.Option(help="A citation id (HASH:START-END) to resolve instead.")] = None,
         index: IndexOpt = "default", json_out: JsonOpt = False) -> None:
    """A stored document, its text exactly as indexed, or one cited sentence; with neither, the index (its embedder and why). Example: askbrief show 000_94717b999ff50f1a"""
    with reported():
        if citation is not None:
            record = engine_for(index).citation(citation)
            return print_json(record) if json_out else print_cited(record.quote, [record.model_copy(update={"n": 1})])
        if doc_id is None:  # the index itself: its size, languages and embedder, and why that one
            health = engine_for(index).health()
            return typer.echo(json.dumps(health, indent=2)) if json_out else typer.echo(
                f"index {index}: {health['documents']} documents, {health['chunks']} chunks; languages "
                f"{', '.join(health['languages']) or 'none yet'}\nembedder {health['model']}: {health['embedder_reason']}")
        doc = engine_for(index).document(doc_id)
    if json_out:
        return print_json(doc)
    typer.echo(f"{doc.title}\n{doc.published or 'undated'} · {doc.source} · {doc.lang or 'language unknown'}\n\n{doc.text}")
