"""What every command shares: the Typer app, its options, errors as one line, the printing."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from pydantic import BaseModel, ValidationError

from askbrief.errors import AskbriefError
from askbrief.records import Answer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Ask questions of news articles and get answers and summaries cited to the sentence.")

IndexOpt = Annotated[str, typer.Option("--index", "-i", help="Index name, a folder under ASKBRIEF_HOME (./indexes).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the DESIGN.md records as JSON.")]
EmbedderOpt = Annotated[str | None, typer.Option(
    help="Pin the index's embedder: english (MiniLM tuned for questions) or multilingual (multilingual-e5-small: "
         "any language, questions in one over articles in another). Unpinned (ASKBRIEF_EMBEDDER=auto, the default) "
         "an index is English until an article in another language makes it multilingual; reindex --embedder "
         "moves one. `askbrief show` says which and why.")]
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


def engine_for(index: str, embedder: str | None = None):
    from askbrief.engine import Engine  # imported late so `--help` stays fast

    return Engine(index, embedder=embedder)


def print_json(value: BaseModel | list[BaseModel]) -> None:
    if isinstance(value, list):
        typer.echo(json.dumps([v.model_dump() for v in value], ensure_ascii=False, indent=2))
    else:
        typer.echo(value.model_dump_json(indent=2))


def print_cited(text: str, citations, note: str = "") -> None:
    typer.echo(text + (f"\n{note}" if note else ""))
    for c in citations:
        where = ", ".join(x for x in (c.title, c.published, c.source) if x)
        typer.echo(f"  [{c.n}] {c.doc_id} chars {c.start}-{c.end} ({where})")


def confidence_words(confidence: float) -> str:
    """The page's words for a calibrated confidence (static/index.html says the same)."""
    if confidence >= 0.7:
        return "likely right"
    return "probably right, check the source" if confidence >= 0.4 else "uncertain: read the cited passage"


def print_answer(answer: Answer) -> None:
    if answer.abstained:
        note = f"(confidence {answer.confidence:.2f}, below the threshold: the closest passages are cited to check)"
    else:
        note = f"(confidence {answer.confidence:.2f}: {confidence_words(answer.confidence)})"
        if answer.span:
            note += f"\nshort answer: {answer.span.text}"
    print_cited(answer.answer, answer.citations, note)


def print_ingested(results) -> None:
    added = [r for r in results if not r.duplicate_of]
    for r in results:
        if r.duplicate_of:
            typer.echo(f"skipped {r.id}: same text as {r.duplicate_of}" if r.id != r.duplicate_of
                       else f"skipped {r.id}: already indexed")
    typer.echo(f"added {len(added)} documents ({sum(r.sentences for r in added)} sentences, "
               f"{sum(r.chunks for r in added)} chunks), {len(results) - len(added)} duplicates skipped")
