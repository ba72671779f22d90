"""The story timeline command: what was reported when, each day's sentences cited."""

from typing import Annotated

import typer

from askbrief.cli.common import ExplainOpt, IndexOpt, JsonOpt, SinceOpt, UntilOpt, app, engine_for, print_json, reported
from askbrief.limits import MAX_PER_DATE, MAX_TIMELINE_DATES
from askbrief.records import Timeline


@app.command()
def timeline(query: Annotated[str, typer.Argument(help="The story, e.g. \"BP oil spill\".")],
             dates: Annotated[int | None, typer.Option(help=f"Days on the timeline (1-{MAX_TIMELINE_DATES}); "
                                                            "none: askbrief chooses, at most 20.")] = None,
             per_date: Annotated[int, typer.Option(help=f"Sentences a day (1-{MAX_PER_DATE}).")] = 1,
             since: SinceOpt = None, until: UntilOpt = None,
             index: IndexOpt = "default", json_out: JsonOpt = False, explain: ExplainOpt = False) -> None:
    """The story day by day, each sentence verbatim and cited. Example: askbrief timeline "BP oil spill" --dates 10"""
    with reported():
        story = engine_for(index).timeline(query, dates, per_date, since, until, explain)
    if json_out:
        return print_json(story)
    print_timeline(story)


def print_timeline(story: Timeline) -> None:
    if not story.entries:
        typer.echo(f"No timeline: {story.reason}.")
    for entry in story.entries:
        outlets = ", ".join(entry.reported_by[:4]) + (f" +{len(entry.reported_by) - 4}" if len(entry.reported_by) > 4 else "")
        first = f"; first reported {entry.first_reported}" if entry.first_reported != entry.date else ""
        typer.echo(f"{entry.date}  ({outlets}{first})")
        for sentence in entry.sentences:
            folded = f" (also {len(sentence.also_reported_by)} copies)" if sentence.also_reported_by else ""
            typer.echo(f"  {sentence.text} [{sentence.citation.n}]{folded}")
    for entry in story.entries:
        for c in (s.citation for s in entry.sentences):
            where = ", ".join(x for x in (c.title, c.published, c.source) if x)
            typer.echo(f"  [{c.n}] {c.doc_id} chars {c.start}-{c.end} ({where})")
    if story.explanation:
        why = story.explanation
        typer.echo(f"\nWhy these days: {why.dates_reason}; {why.articles} of {why.articles_read} articles are about"
                   f" the query; {why.folded} repeated sentences folded.")
        typer.echo("  day         score  published  named by  chosen")
        for day in why.days:
            typer.echo(f"  {day.date}  {day.score:5.1f}  {day.published:9d}  {day.referenced:8d}  {'yes' if day.chosen else ''}")
