"""Why each sentence of a summary was picked, and what the most salient others lost to."""


from dataclasses import dataclass

import numpy as np

from askbrief.explain.words import MENTIONED, ordinal, words_of_terms
from askbrief.records import Document, Summary, SummaryExplanation, SummarySentenceExplained
from askbrief.summary.request import SummaryRun
from askbrief.summary.sources import TOPIC_MARGIN, WHOLE_INDEX, SourceChoice
from askbrief.summary.summarise import ALREADY_SAID, REDUNDANT, Pool, SummaryTrace
from askbrief.text.sentences import terms

LEFT_OUT = 5  # the most salient sentences not picked that a summary's explanation names


def covering_words(pool: Pool, rows: list[int]) -> dict[int, list[str]]:
    """Each row's words that the pool's other sentences use most: what the sentence is about,
    in the article's own words (a stem shown as the sentence spells it)."""
    langs = [pool.langs.get(d) for d in pool.doc_ids]
    bags = [terms(t, lang) for t, lang in zip(pool.texts, langs)]
    frequency: dict[str, int] = {}
    for bag in bags:
        for t in set(bag):
            frequency[t] = frequency.get(t, 0) + 1
    out = {}
    for row in rows:
        spelled = words_of_terms(pool.texts[row], langs[row])
        shared = sorted((t for t in set(bags[row]) if frequency[t] > 1), key=lambda t: (-frequency[t], t))
        out[row] = [spelled.get(t, t) for t in shared[:MENTIONED + 1]]
    return out


def source_words(choice: SourceChoice, docs: dict[str, Document], since: str | None) -> list[str]:
    """Which articles a summary read and why, in words: each named one (and the copy it resolved
    to), each retrieved one against the best one's relevance, the copies folded, and with `since`,
    which speak and which are only compared with."""
    if choice.how == "named":
        notes = [f"named: {d}" + (f" (an exact copy of {choice.resolved[d]}, which is read)" if d in choice.resolved
                                  else "") for d in choice.named]
    elif choice.how == "query":
        notes = [f"{'read' if d in choice.read else 'left out'}: {d}, its sentence closest to the query at {r:.2f}"
                 + (f", within {TOPIC_MARGIN:g} of the best article's {choice.best:.2f}" if d in choice.read else
                    f", more than {TOPIC_MARGIN:g} below the best article's {choice.best:.2f}")
                 for d, r in sorted(choice.relevance.items(), key=lambda item: -item[1])]
    else:
        notes = [f"the whole index: its {len(choice.read)} newest articles (at most {WHOLE_INDEX})"]
    notes += [f"folded: {copy}, a syndicated copy of {kept}, published first" for copy, kept in choice.folded.items()]
    if since:
        for doc in docs.values():
            speaks = (doc.published or "") >= since
            notes.append(f"{'speaks' if speaks else 'compared with'}: '{doc.title}' ({doc.published or 'undated'}),"
                         f" {'published on or after' if speaks else 'earlier than'} {since}")
    return notes


@dataclass(frozen=True)
class _Reading:
    """What the words about one summary's sentences need: scores, ranks, likenesses, the cited rows."""

    pool: Pool
    trace: SummaryTrace
    cited: dict[int, int]  # pool row -> its [n]
    selected: list[int]
    by_salience: list[int]
    sims: np.ndarray
    since: str | None


def summary_of(run: SummaryRun, since: str | None) -> Summary:
    """The run's summary, carrying its explanation when the run was traced (explain mode)."""
    if run.trace is None:
        return run.summary
    explanation = explain_summary(run.pool, run.trace, run.summary, run.choice, run.docs, since)
    return run.summary.model_copy(update={"explanation": explanation})


def explain_summary(pool: Pool, trace: SummaryTrace, summary: Summary, choice: SourceChoice,
                    docs: dict[str, Document], since: str | None) -> SummaryExplanation:
    """Why each sentence of a summary was picked, and what the most salient others lost to."""
    documents = source_words(choice, docs, since)
    if trace.scores is None or not len(pool.texts):
        return SummaryExplanation(documents=documents, sentences_read=0, picked=[], left_out=[])
    scores = trace.scores
    row_of = {(pool.doc_ids[i], *pool.spans[i]): i for i in range(len(pool.texts))}
    cited = {row_of[(c.doc_id, c.start, c.end)]: c.n for c in summary.citations}
    by_salience = [int(i) for i in np.argsort(-scores)]
    passed = [i for i in by_salience if i not in cited][:LEFT_OUT]
    covers = covering_words(pool, list(cited) + passed)
    reading = _Reading(pool, trace, cited, trace.selected or [], by_salience, pool.vectors @ pool.vectors.T, since)

    def entry(row: int, outcome: str) -> SummarySentenceExplained:
        start, end = pool.spans[row]
        return SummarySentenceExplained(doc_id=pool.doc_ids[row], start=start, end=end, text=pool.texts[row],
                                        score=round(float(scores[row]), 4), cited=cited.get(row),
                                        covers=covers[row], outcome=outcome)

    picked = [entry(row, _why_picked(reading, row)) for row, _ in sorted(cited.items(), key=lambda item: item[1])]
    left_out = [entry(row, _why_left_out(reading, row)) for row in passed]
    return SummaryExplanation(documents=documents, sentences_read=len(pool.texts), picked=picked, left_out=left_out)


def _why_picked(r: _Reading, row: int) -> str:
    scores, sims, selected = r.trace.scores, r.sims, r.selected
    if row in selected:
        before = selected[:selected.index(row)]
        closest = max((float(sims[row, j]) for j in before), default=0.0)
        salient = (scores[row] - scores.min()) / (float(scores.max() - scores.min()) or 1.0)
        why = (f"picked {ordinal(len(before) + 1)}: {ordinal(r.by_salience.index(row) + 1)} most salient of"
               f" {len(r.pool.texts)} sentences ({salient:.2f} of the pool's range)")
        if before:
            why += f"; its closest already-picked sentence is {closest:.2f} alike (below {REDUNDANT:g})"
    else:
        twin = next((j for j in selected if j not in r.cited and sims[row, j] >= REDUNDANT), row)
        why = (f"the same fact as a picked sentence of {r.pool.doc_ids[twin]} (cosine {sims[row, twin]:.2f}),"
               " cited to this article, which told it first")
    if r.trace.repeat is not None:
        why += (f"; new since {r.since}: its closest earlier sentence is {r.trace.repeat[row]:.2f} alike"
                f" (below {ALREADY_SAID:g})")
    return why


def _why_left_out(r: _Reading, row: int) -> str:
    sims, repeat = r.sims, r.trace.repeat
    if repeat is not None and repeat[row] >= ALREADY_SAID:
        return (f"not new since {r.since}: an earlier article said the same ({repeat[row]:.2f} alike,"
                f" at least {ALREADY_SAID:g})")
    if row in r.selected:
        return "the same fact told first by an earlier article, cited there"
    twin = max(r.cited, key=lambda j: sims[row, j], default=None)
    if twin is None:
        return "not picked"
    rank = r.by_salience.index(row) + 1
    if sims[row, twin] >= REDUNDANT:
        return f"a near-duplicate of [{r.cited[twin]}] ({sims[row, twin]:.2f} alike, at least {REDUNDANT:g})"
    if rank <= len(r.selected):
        return (f"{ordinal(rank)} most salient, passed over for a sentence less like those picked: it is"
                f" {sims[row, twin]:.2f} alike to [{r.cited[twin]}]")
    return (f"{ordinal(rank)} most salient: the summary holds {len(r.selected)} sentences (closest picked:"
            f" [{r.cited[twin]}], {sims[row, twin]:.2f} alike)")
