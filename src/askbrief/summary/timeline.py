"""A story's timeline: which days mattered, and for each the sentences that say what happened.

A day matters when the articles about the story report events on it: they are published that
day, or their sentences name it ("on 20 April", "last Tuesday", resolved at ingest against each
article's date). Days are ranked by both counts (the date signals of news-tls's DATEWISE and of
Martschat & Markert 2018, without their trained parts). For each chosen day, the sentences that
name it and the opening sentences of that day's articles compete: about the query, central to
what the day's candidates say (several outlets saying it), naming the day; never a repeat of a
sentence already on the timeline, and a syndicated copy folds into the first with its outlet.
"""

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from askbrief.citations import cite
from askbrief.encoders.embed import Embedder
from askbrief.index.store import Store
from askbrief.ingest.documents import date_range
from askbrief.limits import MAX_PER_DATE, MAX_TIMELINE_DATES, check_question, check_range
from askbrief.records import (
    DayExplained,
    Document,
    Filter,
    Timeline,
    TimelineEntry,
    TimelineExplanation,
    TimelineSentence,
)

DEFAULT_DATES = 20  # the most days askbrief chooses by itself
ARTICLE_FLOOR = 0.30  # an article is about the query when its best sentence is at least this close,
ARTICLE_SHARE = 0.5  # and at least this share of the closest article's: other stories stay out
SENTENCE_FLOOR = 0.25  # a sentence counts for a day (and may be picked) from this closeness on
REFERENCE_WEIGHT = 0.5  # a sentence naming a day counts half an article published on it
AUTO_SHARE = 0.2  # without --dates: the days scoring at least this share of the best one
LEAD = 4  # the opening sentences of a day's articles speak for that day
LAG = range(1, 8)  # an opening naming an earlier day (up to a week) reports that day
CENTRAL_WEIGHT = 4.0  # closeness to the day's candidates' centroid (what most reports say), beside the query's
NAMES_DAY_BONUS = 0.05
REPEAT = 0.9  # a sentence this close to one already on the timeline is a repeat
WORDS = (6, 35)  # a timeline sentence has between these many words: entries are one-line news (25/30/35/50/70 measured)


@dataclass
class Story:
    """What a timeline reads: the sentences of the articles about the query, their closeness to
    it, and the days each names."""

    rows: list[tuple[str, int, int, int]]  # (doc_id, idx, start, end)
    vectors: np.ndarray
    closeness: np.ndarray
    docs: dict[str, Document]
    about: set[str]  # the articles about the query
    read: int  # the articles inside since..until
    named: dict[int, list[str]] = field(default_factory=dict)  # row -> days it names
    # The day each article reports: the day its opening names ("on Monday", in Tuesday's paper),
    # else its publication day. Published counts go to it: news runs a day behind its events.
    reports: dict[str, str] = field(default_factory=dict)


def checked_timeline(query: str, dates: int | None, per_date: int, since: str | None,
                     until: str | None) -> tuple[str, str | None, str | None]:
    """The request's query and dates, or a BadInput naming what is wrong."""
    query = check_question(query, field="query")
    _ = dates is None or check_range("dates", dates, 1, MAX_TIMELINE_DATES)
    check_range("per_date", per_date, 1, MAX_PER_DATE)
    return (query, *date_range(since, until))


def build_timeline(store: Store, embedder: Embedder, query: str, dates: int | None, per_date: int,
                   since: str | None, until: str | None, explain: bool = False) -> Timeline:
    """The timeline of `query` over the articles published in since..until (inclusive)."""
    story = read_story(store, embedder, query, Filter(since, until))
    if story is None or not story.about:
        reason = ("no article in the index is about this query" if story else "no article inside since..until")
        return Timeline(query=query, entries=[], reason=reason)
    scores, published, referenced = score_days(story, since, until)
    if not scores:
        return Timeline(query=query, entries=[], reason="the articles about this query carry no dates")
    candidates = candidates_by_day(story)
    # A day with no sentence to say it (all too long, or questions) cannot be an entry: the next one is.
    ranked = sorted((d for d in scores if candidates.get(d)), key=lambda d: (-scores[d], d))
    if not ranked:
        return Timeline(query=query, entries=[], reason="no sentence about the query names or opens a day")
    chosen, why = choose_days(ranked, scores, dates)
    entries, folded = [], 0
    picked: list[int] = []
    for day in sorted(chosen):
        entry, more_folded = day_entry(story, day, candidates.get(day, []), per_date, picked, len(picked))
        folded += more_folded
        if entry is not None and entry.sentences:  # every candidate a repeat of an earlier day's: none
            entries.append(entry)
    explanation = None
    if explain:
        shown = ranked[:max(2 * len(chosen), 30)]
        explanation = TimelineExplanation(
            articles=len(story.about), articles_read=story.read, dates_asked=dates, dates_reason=why, folded=folded,
            days=[DayExplained(date=d, score=round(scores[d], 3), published=published[d], referenced=referenced[d],
                               chosen=d in chosen) for d in shown])
    return Timeline(query=query, entries=entries, explanation=explanation,
                    reason=None if entries else "no sentence about the query on the chosen days")


def read_story(store: Store, embedder: Embedder, query: str, where: Filter) -> Story | None:
    rows, vectors = store.story_sentences(where)
    if not rows:
        return None
    closeness = vectors @ embedder.encode_queries([query])[0]
    best: dict[str, float] = {}
    for (doc_id, *_), score in zip(rows, closeness.tolist()):
        best[doc_id] = max(score, best.get(doc_id, -1.0))
    floor = max(ARTICLE_FLOOR, ARTICLE_SHARE * max(best.values()))
    about = {d for d, score in best.items() if score >= floor}
    story = Story(rows, vectors, closeness, store.documents(list(about)), about, len(best))
    at = {(doc_id, idx): row for row, (doc_id, idx, _, _) in enumerate(rows)}
    for doc_id, idx, day in store.story_days(where):
        if doc_id in about:
            story.named.setdefault(at[doc_id, idx], []).append(day)
            published = story.docs[doc_id].published
            if idx < LEAD and doc_id not in story.reports and published and _days_before(day, published) in LAG:
                story.reports[doc_id] = day
    for doc_id, doc in story.docs.items():
        if doc.published:
            story.reports.setdefault(doc_id, doc.published)
    return story


def _days_before(day: str, published: str) -> int:
    return (dt.date.fromisoformat(published) - dt.date.fromisoformat(day)).days


def score_days(story: Story, since: str | None, until: str | None) -> tuple[dict[str, float], Counter, Counter]:
    """Each day's score: the articles about the query published on it, and half a point for each
    sentence about the query that names it (inside since..until)."""
    published = Counter(story.reports.values())
    referenced: Counter = Counter()
    for row, days in story.named.items():
        if story.closeness[row] >= SENTENCE_FLOOR:
            referenced.update(set(days))
    inside = {day for day in published.keys() | referenced.keys()
              if (not since or day >= since) and (not until or day <= until)}
    return {day: published[day] + REFERENCE_WEIGHT * referenced[day] for day in inside}, published, referenced


def choose_days(ranked: list[str], scores: dict[str, float], dates: int | None) -> tuple[set[str], str]:
    if dates is not None:
        return set(ranked[:dates]), f"{dates} days asked for; {len(ranked)} days had articles or mentions"
    best = scores[ranked[0]]
    kept = [d for d in ranked if scores[d] >= AUTO_SHARE * best][:DEFAULT_DATES]
    return set(kept), (f"the {len(kept)} days scoring at least {AUTO_SHARE:.0%} of the busiest day ({best:g}),"
                       f" at most {DEFAULT_DATES}, of {len(ranked)} days with articles or mentions")


def candidates_by_day(story: Story) -> dict[str, list[int]]:
    """The rows that may speak for each day: sentences about the query that name it first, and
    the opening sentences, naming no day, of the articles about the query that report it."""
    out: dict[str, list[int]] = defaultdict(list)
    for row, (doc_id, idx, start, end) in enumerate(story.rows):
        if doc_id not in story.about or story.closeness[row] < SENTENCE_FLOOR:
            continue
        doc = story.docs[doc_id]
        text = doc.text[start:end]
        if not WORDS[0] <= len(text.split()) <= WORDS[1] or text.rstrip(" '\"’”").endswith("?"):
            continue  # a question ("Swine flu: how serious a threat?") reports nothing
        named = story.named.get(row, [])
        reports = story.reports.get(doc_id)
        if named:  # "On Wednesday, the court ruled the suspension, in effect since Tuesday, ...": Wednesday's
            out[named[0]].append(row)
        elif idx < LEAD and reports:
            out[reports].append(row)
    return out


def day_entry(story: Story, day: str, rows: list[int], per_date: int, picked: list[int],
              cited: int) -> tuple[TimelineEntry | None, int]:
    """The day's `per_date` best sentences among `rows` (added to `picked`), and how many copies
    were folded."""
    if not rows:
        return None, 0
    vectors = story.vectors[rows]
    centroid = vectors.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    scores = story.closeness[rows] + CENTRAL_WEIGHT * (vectors @ centroid)
    scores += NAMES_DAY_BONUS * np.array([day in story.named.get(r, []) for r in rows])
    chosen: list[tuple[int, list[str]]] = []
    folded = 0
    # Repeats of earlier days' sentences, in one product; the day's own picks are checked as they come.
    earlier = vectors @ story.vectors[picked].T if picked else np.zeros((len(rows), 0), np.float32)
    for i in np.argsort(-scores, kind="stable"):
        row = rows[i]
        near = [r for r, _ in chosen if float(story.vectors[r] @ story.vectors[row]) >= REPEAT]
        if near or (earlier.shape[1] and earlier[i].max() >= REPEAT):
            folded += 1
            for entry_row, copies in chosen:
                if entry_row in near and story.rows[row][0] not in copies:
                    copies.append(story.rows[row][0])
            continue
        if len(chosen) < per_date:
            chosen.append((row, []))
            picked.append(row)
    sentences = []
    for n, (row, copies) in enumerate(chosen, start=cited + 1):
        doc_id, _, start, end = story.rows[row]
        doc = story.docs[doc_id]
        sentences.append(TimelineSentence(text=doc.text[start:end], citation=cite(n, doc, start, end),
                                          also_reported_by=[c for c in copies if c != doc_id]))
    reporting = {story.rows[r][0] for r in rows}
    cited_sources = [story.docs[story.rows[r][0]].source for r, _ in chosen]
    others = sorted({story.docs[d].source for d in reporting} - set(cited_sources))
    first = min((story.docs[d].published for d in reporting if story.docs[d].published), default=day)
    return TimelineEntry(date=day, sentences=sentences, reported_by=list(dict.fromkeys(cited_sources + others)),
                         first_reported=first), folded
