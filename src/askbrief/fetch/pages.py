"""Fetching article pages and feeds from the web, politely and safely (httpx).

Polite: a User-Agent naming askbrief, robots.txt obeyed (RFC 9309, urllib.robotparser; kept per
host in the store), conditional GET (ETag / Last-Modified), a delay between requests to one host
kept in the store so that every process of an index shares it (and a longer Crawl-delay
honoured), retries with backoff on timeouts, 429 and 5xx, timeouts, a size cap.
Safe: the URLs come from API callers and from feeds (anyone's words), so each one, and every
redirect, is resolved first and refused when any address is loopback, private, link-local or
otherwise not global; the request then goes to the checked address itself (Host header and TLS
SNI keep the name), so a DNS answer that changes between the check and the connect cannot
steer it elsewhere. `ASKBRIEF_ALLOW_PRIVATE_URLS=true` lifts the check (tests, intranets).
"""

import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import httpx

from askbrief import __version__
from askbrief.errors import AskbriefError
from askbrief.fetch.urls import BlockedURL, checked_address

USER_AGENT = f"askbrief/{__version__} (offline news question answering; feed and article fetcher)"
ROBOTS_AGENT = "askbrief"  # the product token robots.txt groups match (RFC 9309)
ROBOTS_KEEP_S = 24 * 3600  # a fetched (or 4xx) robots.txt is kept this long (the RFC's most)
ROBOTS_RETRY_S = 3600  # an unreachable or 5xx robots.txt disallows the host this long, then is asked again
ROBOTS_MAX_CHARS = 500_000  # the RFC asks parsers to read at least 500 KiB
MAX_CRAWL_DELAY_S = 60.0  # a Crawl-delay beyond this is read as this
MAX_REDIRECTS = 5
RETRIES = 2  # after the first try: three requests at most
BACKOFF_S = 0.5  # doubled at each retry; a Retry-After header is obeyed up to MAX_RETRY_AFTER_S
MAX_RETRY_AFTER_S = 30.0
RETRY_STATUS = {429, 500, 502, 503, 504}
REDIRECTS = {301, 302, 303, 307, 308}
class FetchError(AskbriefError, status=502):
    """A page or feed could not be fetched (network, status, size, type)."""

    def __init__(self, message: str, http_status: int | None = None):
        super().__init__(message)
        self.http_status = http_status  # the server's answer, when it gave one


class RobotsDisallowed(FetchError, status=403):
    """The site's robots.txt does not let askbrief fetch this URL."""


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int  # 200, or 304 when a conditional GET found nothing new
    content: bytes
    content_type: str
    etag: str | None
    last_modified: str | None


class Fetcher:
    """One HTTP client for a run of fetches; thread-safe; remembers when it last asked each host."""

    def __init__(self, timeout_s: float = 10.0, max_bytes: int = 5_000_000, host_delay_s: float = 1.0,
                 allow_private: bool = False, verify: "ssl.SSLContext | bool" = True,
                 hosts: "HostLedger | None" = None, robots_ignore: Iterable[str] = ()):
        self.max_bytes, self.host_delay_s, self.allow_private = max_bytes, host_delay_s, allow_private
        self.hosts = hosts  # turns and robots.txt shared with every process of the index (the store)
        self.robots_ignore = {h.lower() for h in robots_ignore}
        self._robots: dict[str, tuple[RobotFileParser, float]] = {}  # host -> rules, expiry (time.time())
        self._reading_robots: set[str] = set()
        self._unreachable: dict[str, str] = {}  # host -> why its robots.txt could not be read
        # No kept-alive connections: they are pooled by address, and one verified for one host's
        # TLS name must not carry another host's request that happens to share the address.
        self._client = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
                                    headers={"User-Agent": USER_AGENT}, follow_redirects=False,
                                    limits=httpx.Limits(max_keepalive_connections=0), verify=verify)
        self._next_turn: dict[str, float] = {}
        self._turns = threading.Lock()

    @classmethod
    def from_settings(cls, settings, hosts: "HostLedger | None" = None) -> "Fetcher":
        return cls(settings.fetch_timeout_s, settings.fetch_max_bytes, settings.fetch_host_delay_s,
                   settings.allow_private_urls, hosts=hosts, robots_ignore=settings.robots_ignore_hosts)

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc) -> None:
        self._client.close()

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """The body at `url`, following redirects (each one checked); `FetchError` or
        `BlockedURL` when it cannot be had."""
        conditional = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", last_modified)) if v}
        for _ in range(MAX_REDIRECTS + 1):
            self._check_robots(url)
            response = self._with_retries(url, conditional)
            if isinstance(response, Fetched):
                return response
            url = str(httpx.URL(url).join(response.headers["location"]))  # a redirect: check the next hop too
        raise FetchError(f"{url[:200]}: more than {MAX_REDIRECTS} redirects")

    def _with_retries(self, url: str, headers: dict) -> "Fetched | httpx.Response":
        for attempt in range(RETRIES + 1):
            try:
                response = self._once(url, headers)
            except (httpx.TimeoutException, httpx.TransportError) as e:
                if attempt == RETRIES:
                    raise FetchError(f"{url[:200]}: {type(e).__name__} after {RETRIES + 1} tries ({e})") from None
                time.sleep(BACKOFF_S * 2**attempt)
                continue
            if isinstance(response, httpx.Response) and response.status_code in RETRY_STATUS:
                if attempt == RETRIES:
                    raise FetchError(f"{url[:200]}: HTTP {response.status_code} after {RETRIES + 1} tries",
                                     response.status_code)
                time.sleep(_retry_after(response) or BACKOFF_S * 2**attempt)
                continue
            return response
        raise AssertionError("unreachable")

    def _once(self, url: str, headers: dict) -> "Fetched | httpx.Response":
        """One request to the checked address; a redirect or a retryable status comes back as
        the bare response, anything else as `Fetched` or a `FetchError`."""
        host, port, address = checked_address(url, self.allow_private)
        self._wait_turn(host)
        parts = urlsplit(url)
        pinned = urlunsplit(parts._replace(netloc=f"[{address}]:{port}" if ":" in address else f"{address}:{port}"))
        default_port = (parts.scheme, port) in (("http", 80), ("https", 443))
        request_headers = {**headers, "Host": host if default_port else f"{host}:{port}"}
        with self._client.stream("GET", pinned, headers=request_headers,
                                 extensions={"sni_hostname": host} if parts.scheme == "https" else {}) as response:
            if response.status_code in REDIRECTS and "location" in response.headers or response.status_code in RETRY_STATUS:
                return response
            if response.status_code == 304:
                return Fetched(url, 304, b"", "", headers.get("If-None-Match"), headers.get("If-Modified-Since"))
            if response.status_code != 200:
                raise FetchError(f"{url[:200]}: HTTP {response.status_code}", response.status_code)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise FetchError(f"{url[:200]}: {declared} bytes, over the {self.max_bytes}-byte limit a page")
            body = bytearray()
            for piece in response.iter_bytes():
                body += piece
                if len(body) > self.max_bytes:
                    raise FetchError(f"{url[:200]}: over the {self.max_bytes}-byte limit a page")
            return Fetched(url, 200, bytes(body), response.headers.get("content-type", ""),
                           response.headers.get("etag"), response.headers.get("last-modified"))

    def _wait_turn(self, host: str) -> None:
        """Space requests to one host `host_delay_s` apart (or its robots.txt's Crawl-delay, if
        longer): across processes through the store's ledger, else among this one's threads."""
        delay = max(self.host_delay_s, min(self._crawl_delay(host), MAX_CRAWL_DELAY_S))
        if self.hosts is not None:
            wait = self.hosts.claim_turn(host, delay)
        else:
            with self._turns:
                now = time.monotonic()
                turn = max(now, self._next_turn.get(host, now))
                self._next_turn[host] = turn + delay
            wait = turn - now
        if wait > 0:
            time.sleep(wait)

    # ---- robots.txt (RFC 9309) ------------------------------------------------------------

    def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host in self.robots_ignore or parts.path == "/robots.txt" or host in self._reading_robots:
            return
        if not self._rules(parts).can_fetch(ROBOTS_AGENT, url):
            if host in self._unreachable:
                raise RobotsDisallowed(f"{url[:200]}: the site's robots.txt could not be read ({self._unreachable[host]});"
                                       " until it can, the site counts as disallowed (RFC 9309)")
            raise RobotsDisallowed(f"{url[:200]}: the site's robots.txt does not allow askbrief to fetch it"
                                   " (ASKBRIEF_ROBOTS_IGNORE_HOSTS exempts a host)")

    def _crawl_delay(self, host: str) -> float:
        cached = self._robots.get(host)
        delay = cached[0].crawl_delay(ROBOTS_AGENT) if cached else None
        return float(delay or 0)

    def _rules(self, parts) -> RobotFileParser:
        """The host's rules: from this fetcher's memory, the store's (shared) cache, or fetched
        through this same checked fetcher. A 4xx robots.txt allows everything; a 5xx, a timeout
        or an unreachable host disallows everything for ROBOTS_RETRY_S."""
        host = parts.hostname.lower()
        cached = self._robots.get(host)
        if cached and cached[1] > time.time():
            return cached[0]
        stored = self.hosts.robots(host) if self.hosts is not None else None
        if stored is None or stored[1] <= time.time():
            origin = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
            self._reading_robots.add(host)  # its own redirects are not checked against it
            try:
                text, expires = self.get(origin + "/robots.txt").content.decode("utf-8", "replace"), ROBOTS_KEEP_S
            except BlockedURL:
                raise
            except FetchError as e:
                unavailable = e.http_status is not None and 400 <= e.http_status < 500
                if not unavailable:
                    self._unreachable[host] = str(e).split(": ", 1)[-1]
                text, expires = ("" if unavailable else "User-agent: *\nDisallow: /"), (
                    ROBOTS_KEEP_S if unavailable else ROBOTS_RETRY_S)
            finally:
                self._reading_robots.discard(host)
            stored = (text[:ROBOTS_MAX_CHARS], time.time() + expires)
            if self.hosts is not None:
                self.hosts.save_robots(host, *stored)
        rules = RobotFileParser()
        rules.parse(stored[0].splitlines())
        self._robots[host] = (rules, stored[1])
        return rules


class HostLedger(Protocol):
    """What fetching shares between processes (the store keeps it): each host's next free turn
    and its robots.txt."""

    def claim_turn(self, host: str, delay_s: float) -> float:
        """Seconds to wait for this request's turn at `host`; the next turn is `delay_s` later."""

    def robots(self, host: str) -> tuple[str, float] | None:
        """The host's robots.txt and when it expires (time.time()), if kept."""

    def save_robots(self, host: str, text: str, expires: float) -> None: ...


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return min(float(value), MAX_RETRY_AFTER_S) if value.isdigit() else None
