"""Story timelines (issue 39): the days sentences name, stored at ingest; the timeline over real
Wikinews stories (tests/data), verbatim and cited, in date order, without repeats; bad input."""

import json
import shutil
import sqlite3

import pytest
from conftest import news_articles, write_jsonl
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from askbrief.cli import app
from askbrief.engine import Engine
from askbrief.errors import BadInput
from askbrief.ingest.documents import make_document
from askbrief.records import Filter
from askbrief.serve.api import create_app
from askbrief.settings import Settings
from askbrief.text.dated import references

STORY_QUERY = "UK parliament suspension (prorogation) and the courts"


def named(text: str, published: str | None) -> list[tuple[str, str]]:
    return [(text[r.start:r.end], r.day) for r in references(text, published)]


@pytest.mark.parametrize("text, published, expected", [
    ("The rig exploded on April 20, killing 11.", "2010-05-03", [("April 20", "2010-04-20")]),
    ("On 20 April 2010 the rig exploded.", "2011-01-01", [("20 April 2010", "2010-04-20")]),
    ("The hearing is set for Dec. 30.", "2011-01-05", [("Dec. 30", "2010-12-30")]),  # the nearer year
    ("The CDC reported on Monday that cases rose.", "2009-03-04", [("on Monday", "2009-03-02")]),
    ("Hayward will testify before Congress on Thursday.", "2010-06-14", [("on Thursday", "2010-06-17")]),
    ("Fans gathered yesterday; more come tomorrow.", "2009-06-27", [("yesterday", "2009-06-26"), ("tomorrow", "2009-06-28")]),
    ("Sales rose 5 percent in March 2010, and 3 percent in May.", "2010-06-01", []),  # a month is no day
    ("Talks resume on Monday.", None, []),  # relative, and nothing to resolve it against
    ("It happened on February 30.", "2010-03-01", []),  # no such day
])
def test_a_sentence_names_the_days_it_refers_to(text, published, expected):
    assert named(text, published) == expected


@pytest.fixture(scope="module")
def story_engine(tmp_path_factory) -> Engine:
    """The Wikinews stories of tests/data (26 articles, 9 stories, 2015-2023) and 10 other articles;
    one article again under another outlet (a syndicated copy)."""
    rows = [r for r in news_articles() if r["story"]] + [r for r in news_articles() if not r["story"]][:10]
    copy = next(r for r in rows if r["id"] == "wn-scottish-court-finds-suspension-of-uk")
    rows.append({**copy, "id": "copy-of-scottish-court", "source": "Wire copy",
                 "text": copy["text"].replace("\n", "\n\n", 1)})  # not an exact copy: a syndicated one
    engine = Engine("story", Settings(home=tmp_path_factory.mktemp("home")))
    engine.ingest_paths([write_jsonl(tmp_path_factory.mktemp("news") / "news.jsonl", rows)])
    return engine


def test_ingest_stores_the_days_and_a_delete_removes_them(story_engine, tmp_path):
    days = story_engine.store().story_days(Filter())
    assert days and all(len(day) == 10 for _, _, day in days)
    engine = Engine("one", Settings(home=tmp_path))
    engine.ingest([_doc("d1", "The court sat on Tuesday. Nothing else happened.", "2019-09-13")])
    assert engine.store().story_days(Filter()) == [("d1", 0, "2019-09-10")]
    engine.delete(["d1"])
    engine.ingest([_doc("d2", "No date here.", "2019-09-13")])
    assert engine.store().story_days(Filter()) == []


def test_an_index_of_format_4_finds_its_days_on_open(story_engine, tmp_path):
    folder = tmp_path / "old"
    shutil.copytree(story_engine.path, folder)
    fresh = story_engine.store().story_days(Filter())
    db = sqlite3.connect(folder / "index.db")
    db.execute("DROP TABLE sentence_days")
    db.commit()
    db.close()
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "format": 4}))
    reopened = Engine("old", Settings(home=tmp_path))
    assert reopened.store().story_days(Filter()) == fresh
    assert json.loads((folder / "manifest.json").read_text())["format"] == 5


def test_a_timeline_is_in_date_order_verbatim_cited_and_without_repeats(story_engine):
    story = story_engine.timeline(STORY_QUERY, dates=4, per_date=2, explain=True)
    dates = [e.date for e in story.entries]
    assert dates == sorted(dates) and len(dates) == len(set(dates)) and 1 <= len(dates) <= 4
    texts = [s.text for e in story.entries for s in e.sentences]
    assert len(texts) == len(set(texts))
    numbers = [s.citation.n for e in story.entries for s in e.sentences]
    assert numbers == list(range(1, len(numbers) + 1))
    for entry in story.entries:
        assert 1 <= len(entry.sentences) <= 2 and entry.reported_by and len(entry.first_reported) == 10
        for sentence in entry.sentences:
            c = sentence.citation
            document = story_engine.document(c.doc_id)
            assert document.text[c.start:c.end] == c.quote == sentence.text
    # The story is the prorogation's: its days are those of its four articles (Aug-Sep 2019).
    assert all("2019-08-01" <= d <= "2019-09-30" for d in dates), dates
    why = story.explanation
    assert why and why.dates_asked == 4 and sum(d.chosen for d in why.days) == len(dates)
    assert why.articles < why.articles_read  # the other stories are not about it


def test_without_dates_askbrief_chooses_and_says_why(story_engine):
    story = story_engine.timeline("Hurricane Dorian in the Bahamas", explain=True)
    assert 1 <= len(story.entries) <= 20
    assert "at most 20" in story.explanation.dates_reason
    assert {e.date[:7] for e in story.entries} <= {"2019-08", "2019-09"}


def test_a_syndicated_copy_is_folded_under_the_first_with_its_outlet(story_engine):
    story = story_engine.timeline("Scottish court rules the suspension of parliament unlawful", dates=3, explain=True)
    cited = [s for e in story.entries for s in e.sentences]
    assert not {"wn-scottish-court-finds-suspension-of-uk", "copy-of-scottish-court"} <= {s.citation.doc_id for s in cited}
    assert any("Wire copy" in e.reported_by and "Wikinews" in e.reported_by for e in story.entries)


def test_a_window_without_articles_gives_an_empty_timeline_with_the_reason(story_engine):
    story = story_engine.timeline(STORY_QUERY, since="2030-01-01")
    assert story.entries == [] and story.reason


@pytest.mark.parametrize("kwargs, field", [
    ({"query": " "}, "query"), ({"query": "x" * 1001}, "query"), ({"query": "x", "dates": 0}, "dates"),
    ({"query": "x", "dates": 10_000}, "dates"), ({"query": "x", "per_date": 0}, "per_date"),
    ({"query": "x", "since": "2020-01-02", "until": "2020-01-01"}, "since"), ({"query": "x", "since": "soon"}, "since"),
])
def test_bad_timeline_requests_are_refused_by_name(story_engine, kwargs, field):
    with pytest.raises(BadInput) as refused:
        story_engine.timeline(**kwargs)
    assert refused.value.field == field


def test_the_api_and_the_cli_give_the_same_timeline(story_engine):
    client = TestClient(create_app(story_engine))
    posted = client.post("/timeline", json={"query": STORY_QUERY, "dates": 3})
    got = client.get("/timeline", params={"query": STORY_QUERY, "dates": 3})
    assert posted.status_code == got.status_code == 200
    assert [e["date"] for e in posted.json()["entries"]] == [e["date"] for e in got.json()["entries"]]
    for bad in ({"query": STORY_QUERY, "dates": 0}, {"query": ""}, {"query": STORY_QUERY, "until": "2019-13-45"}):
        response = client.post("/timeline", json=bad)
        assert response.status_code in (400, 422) and "detail" in response.json() or "error" in response.json()
    result = CliRunner().invoke(app, ["timeline", STORY_QUERY, "--dates", "3", "--index", "story", "--json"],
                                env={"ASKBRIEF_HOME": str(story_engine.settings.home)})
    assert result.exit_code == 0, result.output
    assert [e["date"] for e in json.loads(result.output)["entries"]] == [e["date"] for e in posted.json()["entries"]]
    refused = CliRunner().invoke(app, ["timeline", STORY_QUERY, "--dates", "0", "--index", "story"],
                                 env={"ASKBRIEF_HOME": str(story_engine.settings.home)})
    assert refused.exit_code == 1 and "dates" in refused.output


def _doc(doc_id: str, text: str, published: str | None):
    return make_document(text, where=doc_id, id=doc_id, published=published)


def test_articles_without_dates_give_an_empty_timeline_with_the_reason(tmp_path):
    engine = Engine("undated", Settings(home=tmp_path))
    engine.ingest([_doc("u1", "The council voted to close the old bridge. Repairs would cost too much, the mayor said.", None)])
    story = engine.timeline("the old bridge")
    assert story.entries == [] and "no dates" in story.reason
