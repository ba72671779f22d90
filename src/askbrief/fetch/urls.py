"""URLs as askbrief keeps and checks them: one spelling per page (canonical_url), and a refusal
(BlockedURL) for any URL, or any address its host resolves to, that is not on the public
internet; fetching (pages.py) connects to the very address checked here."""

import ipaddress
import socket
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from askbrief.errors import BadInput

# Query parameters that only track the reader; dropped so one article has one URL.
_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "at_medium", "at_campaign", "ocid", "cmpid")



class BlockedURL(BadInput):
    """A URL that askbrief refuses to fetch: not http(s), or pointing inside the network."""

    def __init__(self, message: str):
        super().__init__("url", message)


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
