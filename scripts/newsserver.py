"""A news site on 127.0.0.1 for the feed tests: RSS 2.0 and Atom feeds and article pages built
from the Wikinews articles of tests/data. `python -m scripts.newsserver 8765` serves it until
stopped (the README's feed example).
"""

import html
import sys
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from scripts.wikinews import news_articles

ARTICLES = news_articles(2)[:5]
MAX_BYTES = 100_000


def page(row: dict, base: str, path: str) -> bytes:
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in row["text"].split("\n\n") if p.strip())
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(row['title'])}</title>"
            f"<link rel='canonical' href='{base}{path}'>"
            f"<meta property='article:published_time' content='{row['published']}T10:00:00Z'></head>"
            f"<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav><article><h1>{html.escape(row['title'])}</h1>"
            f"{paragraphs}</article><footer>Copyright the test server</footer></body></html>").encode()


def rss(base: str, rows: list[dict], paths: list[str] | None = None) -> bytes:
    paths = paths or [f"/articles/{r['id']}.html" for r in rows]
    items = "".join(f"<item><title>{html.escape(r['title'])}</title><link>{base}{p}?utm_source=rss</link>"
                    f"<pubDate>{formatdate(0)}</pubDate></item>" for r, p in zip(rows, paths))
    return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>Test wire</title><link>{base}/</link>"
            f"<description>test</description>{items}</channel></rss>").encode()


def atom(base: str, rows: list[dict]) -> bytes:
    entries = "".join(f"<entry><title>{html.escape(r['title'])}</title><id>urn:{r['id']}</id>"
                      f"<link href='{base}/moved/{r['id']}'/><updated>{r['published']}T10:00:00Z</updated></entry>"
                      for r in rows)
    return (f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'><title>Test atom</title>"
            f"<id>urn:test</id><updated>2019-01-01T00:00:00Z</updated>{entries}</feed>").encode()


class NewsServer:
    """Routes: path -> (status, headers, body); every request is logged with its headers."""

    def __init__(self, port: int = 0):
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.requests: list[tuple[str, dict]] = []
        self.flaky = 0  # answer 503 to this many next requests
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append((self.path, dict(self.headers)))
                path = self.path.split("?")[0]
                status, headers, body = outer.routes.get(path, (404, {}, b"not found"))
                if outer.flaky:
                    outer.flaky -= 1
                    status, headers, body = 503, {}, b"busy"
                etag = headers.get("ETag")
                if etag and self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def html(self, path: str, body: bytes) -> None:
        self.routes[path] = (200, {"Content-Type": "text/html; charset=utf-8"}, body)


def news_server(port: int = 0) -> NewsServer:
    """The test wire: /rss.xml (2 articles, ETag), /atom.xml (2, through redirects), /broken.xml,
    /articles/ID.html, /moved/ID (301), /syndicated/copy.html (a copy), /huge.html (too large)."""
    news = NewsServer(port)
    base = news.base
    for row in ARTICLES:
        news.html(f"/articles/{row['id']}.html", page(row, base, f"/articles/{row['id']}.html"))
        news.routes[f"/moved/{row['id']}"] = (301, {"Location": f"/articles/{row['id']}.html"}, b"")
    first = ARTICLES[0]
    news.html("/syndicated/copy.html", page(first, base, "/syndicated/copy.html"))  # same text, another URL
    news.routes["/rss.xml"] = (200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'}, rss(base, ARTICLES[:2]))
    news.routes["/atom.xml"] = (200, {"Content-Type": "application/atom+xml"}, atom(base, ARTICLES[2:4]))
    news.routes["/broken.xml"] = (200, {"Content-Type": "application/rss+xml"}, b"<rss><channel><item><title>cut off")
    news.html("/huge.html", b"<html><body><p>" + b"word " * (MAX_BYTES // 4) + b"</p></body></html>")
    return news


if __name__ == "__main__":
    site = news_server(int(sys.argv[1]) if len(sys.argv) > 1 else 8765)
    print(f"serving {site.base}/rss.xml and /atom.xml; Ctrl-C stops", flush=True)
    threading.Event().wait()
