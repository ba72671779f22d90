"""Fetching politely and safely, against a real HTTP server on 127.0.0.1: askbrief names itself,
retries a busy server, obeys robots.txt and each host's delay across processes, keeps one
spelling per URL, and never fetches inside the network (redirects and DNS included)."""


import pytest
from scripts.newsserver import ARTICLES, news_server

from askbrief.engine import Engine
from askbrief.errors import BadInput
from askbrief.fetch import urls
from askbrief.fetch.pages import Fetcher, FetchError
from askbrief.fetch.urls import BlockedURL, canonical_url, checked_address
from askbrief.settings import Settings


def test_requests_name_askbrief_and_retry_a_busy_server(server, web_engine):
    web_engine.ingest_urls([f"{server.base}/articles/{ARTICLES[0]['id']}.html"])  # robots.txt is read and kept
    assert [p for p, _ in server.requests].count("/robots.txt") == 1
    server.flaky = 2
    results = web_engine.ingest_urls([f"{server.base}/articles/{ARTICLES[1]['id']}.html"])
    assert results[0].sentences > 0
    assert [p for p, _ in server.requests].count(f"/articles/{ARTICLES[1]['id']}.html") == 3
    assert all(h["User-Agent"].startswith("askbrief/") for _, h in server.requests)
    server.flaky = 5
    with pytest.raises(FetchError, match="HTTP 503 after 3 tries"):
        web_engine.ingest_urls([f"{server.base}/articles/{ARTICLES[3]['id']}.html"])


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://localhost:8000/feed", "http://10.1.2.3/",
                                 "http://192.168.0.1/", "http://169.254.169.254/latest/meta-data/",
                                 "http://[::1]/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/", "file:///etc/passwd",
                                 "gopher://example.org/", "http://100.64.0.1/"])
def test_internal_addresses_are_refused(url):
    with pytest.raises(BlockedURL):
        checked_address(url, allow_private=False)


def test_a_redirect_into_the_network_is_refused(server, monkeypatch):
    """No public address exists here, so the test server's own counts as public for this test."""
    monkeypatch.setattr(urls, "is_public", lambda ip: str(ip) == "127.0.0.1")
    server.routes["/leak"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
    with Fetcher(host_delay_s=0) as fetcher:
        assert fetcher.get(f"{server.base}/moved/{ARTICLES[0]['id']}").status == 200
        with pytest.raises(BlockedURL, match="169.254.169.254"):
            fetcher.get(server.base + "/leak")


def test_urls_are_kept_in_one_spelling():
    assert canonical_url("HTTPS://News.Example.org:443/a/b?utm_source=x&id=7#top") == "https://news.example.org/a/b?id=7"
    with pytest.raises(BadInput):
        canonical_url("http://example.org:99999/")


def test_https_goes_to_the_checked_address_and_still_verifies_the_name(tmp_path):
    """The request connects to the resolved IP, so the certificate must be checked against the
    URL's host name (sent as TLS SNI): the name on the certificate passes, another name fails."""
    import ssl

    import trustme

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    site = news_server()
    site.server.socket = context.wrap_socket(site.server.socket, server_side=True)
    url = f"https://localhost:{site.server.server_port}/articles/{ARTICLES[0]['id']}.html"
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    try:
        with Fetcher(host_delay_s=0, allow_private=True, verify=client_context) as fetcher:
            page = fetcher.get(url)
            assert page.status == 200 and ARTICLES[0]["title"].encode() in page.content
            assert site.requests[-1][1]["Host"] == f"localhost:{site.server.server_port}"
            with pytest.raises(FetchError, match="ConnectError"):  # the certificate names localhost only
                fetcher.get(url.replace("localhost", "127.0.0.1"))
    finally:
        site.server.shutdown()


def test_robots_txt_is_obeyed_by_urls_and_feeds_and_kept_per_host(server, web_engine, tmp_path):
    private = f"/articles/{ARTICLES[1]['id']}.html"
    server.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"},
                                    f"User-agent: *\nDisallow: /nothing\n\nUser-agent: askbrief\nDisallow: {private}\n".encode())
    with pytest.raises(FetchError, match="robots.txt does not allow askbrief"):
        web_engine.ingest_urls([server.base + private])
    assert private not in [p for p, _ in server.requests]  # refused before it was asked
    web_engine.add_feed(server.base + "/rss.xml")
    polled = web_engine.poll_feeds()[0]
    assert len(polled.added) == 1 and polled.skipped[0].reason.endswith(
        "the site's robots.txt does not allow askbrief to fetch it (ASKBRIEF_ROBOTS_IGNORE_HOSTS exempts a host)")
    assert [p for p, _ in server.requests].count("/robots.txt") == 1  # one read per host, kept in the store
    elsewhere = Engine("web", web_engine.settings)  # another process of the index: the store's copy serves it
    with pytest.raises(FetchError, match="robots.txt does not allow askbrief"):
        elsewhere.ingest_urls([server.base + private])
    assert [p for p, _ in server.requests].count("/robots.txt") == 1
    exempt = Engine("exempt", web_engine.settings.model_copy(update={"robots_ignore_hosts": ["127.0.0.1"]}))
    assert exempt.ingest_urls([server.base + private])[0].sentences > 0


def test_an_unreachable_robots_txt_disallows_and_a_missing_one_allows(server, tmp_path):
    settings = Settings(home=tmp_path / "i", allow_private_urls=True, fetch_host_delay_s=0, fetch_timeout_s=5)
    server.routes["/robots.txt"] = (500, {}, b"down")
    with pytest.raises(FetchError, match=r"robots.txt could not be read \(HTTP 500 after 3 tries\)"):
        Engine("five", settings).ingest_urls([f"{server.base}/articles/{ARTICLES[0]['id']}.html"])
    server.routes["/robots.txt"] = (404, {}, b"none")
    assert Engine("four", settings).ingest_urls([f"{server.base}/articles/{ARTICLES[0]['id']}.html"])[0].sentences


def test_the_per_host_delay_holds_across_processes_and_crawl_delay_lengthens_it(server, tmp_path):
    import time

    settings = Settings(home=tmp_path / "i", allow_private_urls=True, fetch_host_delay_s=0.6)
    first, second = Engine("shared", settings), Engine("shared", settings)  # two processes' stores of one index
    first.add_feed(server.base + "/rss.xml")
    waits = [first.store().hosts.claim_turn("news.example", 0.6), second.store().hosts.claim_turn("news.example", 0.6),
             first.store().hosts.claim_turn("news.example", 0.6)]
    assert waits[0] == 0 and 0.5 < waits[1] <= 0.6 and 1.1 < waits[2] <= 1.2
    server.routes["/robots.txt"] = (200, {}, b"User-agent: *\nCrawl-delay: 1\n")  # whole seconds (urllib.robotparser)
    with Fetcher.from_settings(settings, first.store().hosts) as one, Fetcher.from_settings(settings, second.store().hosts) as two:
        started = time.monotonic()
        one.get(f"{server.base}/articles/{ARTICLES[0]['id']}.html")
        two.get(f"{server.base}/articles/{ARTICLES[1]['id']}.html")
        two.get(f"{server.base}/articles/{ARTICLES[2]['id']}.html")
    # robots.txt at once, then three pages 1 s apart (the Crawl-delay, not the 0.6 s setting): 0.6 + 1 + 1
    assert time.monotonic() - started >= 2.5
