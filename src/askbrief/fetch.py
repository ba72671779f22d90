"""Fetching article pages and feeds from the web, politely and safely (httpx).

Polite: a User-Agent naming askbrief, conditional GET (ETag / Last-Modified), a delay between
requests to one host, retries with backoff on timeouts, 429 and 5xx, timeouts, a size cap.
Safe: the URLs come from API callers and from feeds (anyone's words), so each one, and every
redirect, is resolved first and refused when any address is loopback, private, link-local or
otherwise not global; the request then goes to the checked address itself (Host header and TLS
SNI keep the name), so a DNS answer that changes between the check and the connect cannot
steer it elsewhere. `ASKBRIEF_ALLOW_PRIVATE_URLS=true` lifts the check (tests, intranets).
"""

import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from askbrief import __version__
from askbrief.errors import AskbriefError, BadInput

USER_AGENT = f"askbrief/{__version__} (offline news question answering; feed and article fetcher)"
MAX_REDIRECTS = 5
RETRIES = 2  # after the first try: three requests at most
BACKOFF_S = 0.5  # doubled at each retry; a Retry-After header is obeyed up to MAX_RETRY_AFTER_S
MAX_RETRY_AFTER_S = 30.0
RETRY_STATUS = {429, 500, 502, 503, 504}
REDIRECTS = {301, 302, 303, 307, 308}
# Query parameters that only track the reader; dropped so one article has one URL.
_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "at_medium", "at_campaign", "ocid", "cmpid")


class FetchError(AskbriefError):
    """A page or feed could not be fetched (network, status, size, type)."""

    status = 502


class BlockedURL(BadInput):
    """A URL that askbrief refuses to fetch: not http(s), or pointing inside the network."""

    def __init__(self, message: str):
        super().__init__("url", message)


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int  # 200, or 304 when a conditional GET found nothing new
    content: bytes
    content_type: str
    etag: str | None
    last_modified: str | None


def canonical_url(url: str) -> str:
    """One spelling per page: lower-case scheme and host, no default port, no fragment, no
    tracking parameters."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as e:
        raise BlockedURL(f"{url[:200]}: not a valid URL ({e})") from None
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or (parts.scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not k.lower().startswith(_TRACKING)])
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", query, ""))


def checked_url(url: str, allow_private: bool) -> str:
    """A URL as askbrief keeps it (canonical_url), once it is known to be fetchable now."""
    if not isinstance(url, str) or not url.strip():
        raise BlockedURL("give a URL, http:// or https://")
    url = canonical_url(url)
    checked_address(url, allow_private)
    return url


def checked_address(url: str, allow_private: bool) -> tuple[str, int, str]:
    """(host, port, address to connect to) for an http(s) URL whose every address is global;
    a `BlockedURL` otherwise, naming the address and how to allow it."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as e:
        raise BlockedURL(f"{url[:200]}: not a valid URL ({e})") from None
    if parts.scheme not in ("http", "https") or not host:
        raise BlockedURL(f"{url[:200]}: only http:// and https:// URLs can be fetched")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise BlockedURL(f"{url[:200]}: cannot resolve {host} ({e})") from None
    addresses = sorted(dict.fromkeys(info[4][0] for info in infos), key=lambda a: ":" in a)  # IPv4 first
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if not allow_private and not is_public(ip):
            raise BlockedURL(f"{url[:200]}: {host} resolves to {ip}, a loopback, private, link-local or reserved"
                             " address; askbrief does not fetch inside the network (set"
                             " ASKBRIEF_ALLOW_PRIVATE_URLS=true to allow it)")
    return host, port, addresses[0]


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Reachable on the public internet: not loopback, private, link-local, shared, reserved,
    unspecified or multicast."""
    return ip.is_global and not ip.is_multicast


class Fetcher:
    """One HTTP client for a run of fetches; thread-safe; remembers when it last asked each host."""

    def __init__(self, timeout_s: float = 10.0, max_bytes: int = 5_000_000, host_delay_s: float = 1.0,
                 allow_private: bool = False, verify: "ssl.SSLContext | bool" = True):
        self.max_bytes, self.host_delay_s, self.allow_private = max_bytes, host_delay_s, allow_private
        # No kept-alive connections: they are pooled by address, and one verified for one host's
        # TLS name must not carry another host's request that happens to share the address.
        self._client = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
                                    headers={"User-Agent": USER_AGENT}, follow_redirects=False,
                                    limits=httpx.Limits(max_keepalive_connections=0), verify=verify)
        self._next_turn: dict[str, float] = {}
        self._turns = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> "Fetcher":
        return cls(settings.fetch_timeout_s, settings.fetch_max_bytes, settings.fetch_host_delay_s,
                   settings.allow_private_urls)

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc) -> None:
        self._client.close()

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """The body at `url`, following redirects (each one checked); `FetchError` or
        `BlockedURL` when it cannot be had."""
        conditional = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", last_modified)) if v}
        for _ in range(MAX_REDIRECTS + 1):
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
                    raise FetchError(f"{url[:200]}: HTTP {response.status_code} after {RETRIES + 1} tries")
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
                raise FetchError(f"{url[:200]}: HTTP {response.status_code}")
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
        """Space requests to one host `host_delay_s` apart (threads take turns)."""
        with self._turns:
            now = time.monotonic()
            turn = max(now, self._next_turn.get(host, now))
            self._next_turn[host] = turn + self.host_delay_s
        if turn > now:
            time.sleep(turn - now)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return min(float(value), MAX_RETRY_AFTER_S) if value.isdigit() else None
