"""Feeds and article URLs against a real HTTP server on 127.0.0.1 serving RSS 2.0 and Atom feeds
and article pages built from the Wikinews articles of tests/data."""

import json
import threading

import httpx
import pytest
from conftest import assert_faithful, live_server
from scripts.newsserver import ARTICLES, MAX_BYTES, rss
from typer.testing import CliRunner

from askbrief.cli import app
from askbrief.engine import Engine
from askbrief.errors import FeedNotFound
from askbrief.settings import Settings


def test_a_feed_polled_twice_adds_then_answers_304_then_adds_only_what_is_new(server, web_engine):
    feed = web_engine.add_feed(server.base + "/rss.xml")
    first = web_engine.poll_feeds()[0]
    assert first.status == "updated" and first.error is None
    ids = [r.id for r in first.added]
    assert len(ids) == 2 and all(i.startswith("127.0.0.1:") for i in ids)
    doc = web_engine.document(ids[0])
    assert doc.title == ARTICLES[0]["title"] and doc.published == ARTICLES[0]["published"]
    assert doc.source == f"{server.base}/articles/{ARTICLES[0]['id']}.html"  # the canonical URL, tracking dropped
    assert "Copyright the test server" not in doc.text and ARTICLES[0]["text"][:60] in doc.text

    second = web_engine.poll_feeds()[0]  # the feed sends the same ETag: 304, nothing fetched
    assert (second.status, second.added, second.skipped) == ("not modified", [], [])
    assert server.requests[-1][1].get("If-None-Match") == '"v1"'

    server.routes["/rss.xml"] = (200, {"Content-Type": "application/rss+xml", "ETag": '"v2"'},
                                 rss(server.base, ARTICLES[:3]))
    before = len(server.requests)
    third = web_engine.poll_feeds()[0]
    assert [r.id for r in third.added] != [] and len(third.added) == 1
    assert sorted(s.reason.split(" as ")[0] for s in third.skipped) == ["already indexed", "already indexed"]
    fetched = [path for path, _ in server.requests[before:]]
    assert fetched == ["/rss.xml", f"/articles/{ARTICLES[2]['id']}.html"]  # known links are not fetched again

    state = web_engine.feeds()[0]
    assert (state.id, state.polls, state.documents_added, state.entries_skipped) == (feed.id, 3, 3, 2)
    assert state.title == "Test wire" and state.last_status == "updated" and state.last_error is None
    answer = web_engine.ask("How many pilgrims were killed in the stampede?")
    assert not answer.abstained and "345" in answer.answer
    assert_faithful(web_engine, answer)


def test_atom_entries_follow_redirects_and_copies_are_skipped_by_text(server, web_engine):
    web_engine.add_feed(server.base + "/atom.xml")
    first = web_engine.poll_feeds()[0]
    assert len(first.added) == 2
    stored = web_engine.document(first.added[0].id)
    assert stored.source.endswith(f"/articles/{ARTICLES[2]['id']}.html")  # where the redirect led
    again = web_engine.poll_feeds()[0]  # no validators: read again, every entry already indexed
    assert again.added == [] and len(again.skipped) == 2
    assert all(s.duplicate_of in {r.id for r in first.added} for s in again.skipped)

    results = web_engine.ingest_urls([f"{server.base}/articles/{ARTICLES[0]['id']}.html", server.base + "/syndicated/copy.html"])
    assert [r.duplicate_of for r in results] == [None, results[0].id]


def test_a_broken_feed_or_page_is_recorded_never_a_crash(server, web_engine):
    web_engine.add_feed(server.base + "/broken.xml")
    web_engine.add_feed(server.base + "/missing.xml")
    server.routes["/mixed.xml"] = (200, {"Content-Type": "application/rss+xml"},
                                   rss(server.base, ARTICLES[:3], ["/huge.html", "/gone.html", f"/articles/{ARTICLES[2]['id']}.html"]))
    web_engine.add_feed(server.base + "/mixed.xml")
    broken, missing, mixed = web_engine.poll_feeds()
    assert broken.status == "failed" and "not a readable RSS or Atom feed" in broken.error
    assert missing.status == "failed" and "HTTP 404" in missing.error
    assert web_engine.feeds()[1].last_error == missing.error
    assert mixed.status == "updated" and len(mixed.added) == 1
    reasons = {s.url.rsplit("/", 1)[-1]: s.reason for s in mixed.skipped}
    assert f"over the {MAX_BYTES}-byte limit" in reasons["huge.html"] and "HTTP 404" in reasons["gone.html"]
    assert web_engine.store().count() == 1


def test_the_api_refuses_private_urls_and_manages_feeds(server, tmp_path):
    closed = Engine("web", Settings(home=tmp_path / "closed"))
    with live_server(closed) as base:
        response = httpx.post(base + "/feeds", json={"url": server.base + "/rss.xml"})
        assert response.status_code == 400
        assert response.json()["detail"][0]["loc"] == ["body", "url"]
        assert "127.0.0.1, a loopback, private" in response.json()["detail"][0]["msg"]
        assert httpx.post(base + "/documents/url", json={"url": server.base + "/x.html"}).status_code == 400
    assert not [p for p, _ in server.requests]  # nothing was fetched

    opened = Engine("web", Settings(home=tmp_path / "open", allow_private_urls=True, fetch_host_delay_s=0))
    with live_server(opened) as base:
        created = httpx.post(base + "/feeds", json={"url": server.base + "/rss.xml?utm_campaign=x"})
        assert created.status_code == 201 and created.json()["url"] == server.base + "/rss.xml"
        opened.poll_feeds()
        listed = httpx.get(base + "/feeds").json()
        assert [(f["polls"], f["documents_added"], f["last_status"]) for f in listed] == [(1, 2, "updated")]
        added = httpx.post(base + "/documents/url", json={"url": f"{server.base}/articles/{ARTICLES[3]['id']}.html"})
        assert added.status_code == 200 and added.json()["sentences"] > 0
        assert httpx.delete(f"{base}/feeds/{created.json()['id']}").status_code == 204
        assert httpx.delete(f"{base}/feeds/{created.json()['id']}").status_code == 404
        assert httpx.get(base + "/feeds").json() == []
        assert httpx.get(base + "/documents").json()["total"] == 3  # the feed's articles stay


def test_the_cli_watches_polls_and_ingests_urls(server, tmp_path, monkeypatch):
    for name, value in (("HOME", str(tmp_path / "indexes")), ("ALLOW_PRIVATE_URLS", "true"), ("FETCH_HOST_DELAY_S", "0")):
        monkeypatch.setenv(f"ASKBRIEF_{name}", value)
    run = CliRunner().invoke
    assert run(app, ["feeds", "add", server.base + "/rss.xml"]).output == f"watching feed 1: {server.base}/rss.xml\n"
    first = run(app, ["feeds", "poll"])
    assert first.exit_code == 0 and f"{server.base}/rss.xml: updated, 2 added, 0 skipped" in first.output
    second = run(app, ["feeds", "poll"])
    assert second.output == f"{server.base}/rss.xml: not modified, 0 added, 0 skipped, revised 0\n"
    listed = run(app, ["feeds", "list", "--json"])
    assert json.loads(listed.output)[0]["polls"] == 2
    page_url = f"{server.base}/articles/{ARTICLES[0]['id']}.html"
    again = run(app, ["ingest", page_url])
    assert again.exit_code == 0 and "0 documents" in again.output and "1 duplicates skipped" in again.output
    run(app, ["feeds", "add", server.base + "/broken.xml"])
    failed = run(app, ["feeds", "poll", server.base + "/broken.xml?utm_source=cron"])  # any spelling of its URL
    assert failed.exit_code == 1 and "failed (" in failed.output
    assert run(app, ["feeds", "remove", "1"]).exit_code == 0
    gone = run(app, ["feeds", "remove", "1"])
    assert gone.exit_code == 1 and "no feed '1'" in gone.output
    missing = run(app, ["ingest", server.base + "/nothing.html"])
    assert missing.exit_code == 1 and "HTTP 404" in missing.output


def test_removing_an_unknown_feed_names_it(web_engine):
    assert web_engine.feeds() == [] and web_engine.poll_feeds() == []
    assert not web_engine.path.exists()  # listing and polling nothing creates no index
    web_engine.add_feed("http://127.0.0.1:9/feed.xml")
    with pytest.raises(FeedNotFound, match="no feed 'http://127.0.0.1:9/other.xml'"):
        web_engine.remove_feed("http://127.0.0.1:9/other.xml")
    assert web_engine.remove_feed("http://127.0.0.1:9/feed.xml").id == 1


def test_the_server_polls_its_feeds_in_the_background(server, web_engine):
    from fastapi.testclient import TestClient

    from askbrief.serve.api import create_app

    web_engine.add_feed(server.base + "/rss.xml")
    with TestClient(create_app(web_engine, poll_every_s=3600)) as client:
        for _ in range(200):
            feeds = client.get("/feeds").json()
            if feeds[0]["polls"]:
                break
            threading.Event().wait(0.05)
        assert (feeds[0]["polls"], feeds[0]["documents_added"]) == (1, 2)
        assert client.get("/documents").json()["total"] == 2


# ---- robots.txt and turns shared by processes (issue 25) -----------------------------------------


def test_an_updated_article_is_re_read_in_one_poll_and_its_old_text_never_cited_again(server, web_engine):
    from email.utils import formatdate

    from scripts.newsserver import page

    row = dict(ARTICLES[0])
    path = "/articles/changing.html"

    def publish(text: str, updated: float) -> None:
        server.html(path, page({**row, "text": text}, server.base, path))
        server.routes["/changing.xml"] = (200, {"Content-Type": "application/rss+xml"}, (
            f"<?xml version='1.0'?><rss version='2.0'><channel><title>Changing</title><link>{server.base}/</link>"
            f"<description>t</description><item><title>{row['title']}</title><link>{server.base}{path}</link>"
            f"<guid>urn:changing</guid><pubDate>{formatdate(updated)}</pubDate></item></channel></rss>").encode())

    first_text = row["text"]
    corrected = first_text.replace(first_text.split(".")[0], "CORRECTION: the ministry now says the storm hit on Tuesday")
    publish(first_text, 1_000_000)
    web_engine.add_feed(server.base + "/changing.xml")
    added = web_engine.poll_feeds()[0].added
    doc_id = added[0].id
    old = web_engine.ask(row["title"])
    old_citation = old.citations[0]
    before = len(server.requests)
    again = web_engine.poll_feeds()[0]  # nothing moved: the article is not fetched again
    assert again.revised == [] and [p for p, _ in server.requests[before:]] == ["/changing.xml"]

    publish(corrected, 2_000_000)
    polled = web_engine.poll_feeds()[0]
    assert [r.id for r in polled.revised] == [doc_id] and polled.revised[0].replaced
    document = web_engine.document(doc_id)
    assert "CORRECTION: the ministry" in document.text and document.revisions == 1 and document.updated
    result = CliRunner().invoke(app, ["feeds", "poll", "--index", "web"], env={
        "ASKBRIEF_HOME": str(web_engine.settings.home), "ASKBRIEF_ALLOW_PRIVATE_URLS": "true"})
    assert "revised 0" in result.output  # the CLI says how many were revised (none more here)
    answer = web_engine.ask("When did the storm hit, according to the ministry?")
    for c in answer.citations:
        assert web_engine.document(c.doc_id).text[c.start:c.end] == c.quote
        assert not (c.doc_id == doc_id and c.id.split(":")[0] == old_citation.id.split(":")[0])
    with live_server(web_engine) as base:
        gone = httpx.get(f"{base}/citations/{old_citation.id}")
        assert gone.status_code == 410
        assert gone.json()["replaced_by"] == doc_id and gone.json()["revision"] == 1
        current = httpx.get(f"{base}/documents/{doc_id}").json()
        assert current["revisions"] == 1


def test_a_feed_of_100_unchanged_entries_costs_one_request(server, web_engine):
    from conftest import news_articles
    from scripts.newsserver import page

    rows = news_articles()
    items = []
    for n in range(100):
        row = {**rows[n % len(rows)], "text": rows[n % len(rows)]["text"] + f"\n\nEdition {n}."}
        path = f"/hundred/{n}.html"
        server.html(path, page(row, server.base, path))
        items.append(f"<item><title>Story {n}</title><link>{server.base}{path}</link><guid>urn:{n}</guid>"
                     f"<pubDate>Mon, 0{1 + n % 9} Jan 2024 10:00:00 GMT</pubDate></item>")
    server.routes["/hundred.xml"] = (200, {"Content-Type": "application/rss+xml"}, (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>Hundred</title><link>{server.base}/</link>"
        f"<description>t</description>{''.join(items)}</channel></rss>").encode())
    web_engine.add_feed(server.base + "/hundred.xml")
    first = web_engine.poll_feeds()[0]
    assert len(first.added) + len(first.skipped) == 100
    before = len(server.requests)
    again = web_engine.poll_feeds()[0]  # no validators on this feed: a full answer, entries unchanged
    assert (again.added, again.revised) == ([], []) and [p for p, _ in server.requests[before:]] == ["/hundred.xml"]
