"""Article URLs and RSS/Atom feeds in: fetch (fetch.py), read the feed (feedparser), extract the
article (trafilatura), skip what is already indexed, ingest the rest like any other document.

A page is indexed under an id made from its canonical URL (documents.url_id), so "already
indexed" is a lookup before any page is fetched; the feed's link resolves to the canonical id as
an alias when the two differ, so the next poll does not fetch it again. Exact copies are caught
by text hash and syndicated copies linked by the ingest itself, as for files.
"""

import datetime as dt
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Protocol

import feedparser

from askbrief.errors import AskbriefError
from askbrief.fetch.pages import Fetched, Fetcher, FetchError
from askbrief.fetch.urls import canonical_url
from askbrief.ingest.documents import html_fields, make_document, url_id
from askbrief.records import Document, Feed, FeedPoll, IngestResult, SkippedEntry

MAX_ENTRIES = 100  # entries read from one poll of a feed, newest first as the feed lists them
_HTML_TYPES = ("text/html", "application/xhtml+xml", "")  # "": a server that does not say


Ingest = Callable[[list[Document]], list[IngestResult]]  # the engine's ingest, passed in: feeds never call back up


class FeedBook(Protocol):
    """The feed ledger (index/ledgers.py): each watched feed and what its polls found."""

    def get(self, ref: str | int) -> Feed: ...
    def all(self) -> list[Feed]: ...
    def remove(self, feed_id: int) -> None: ...
    def validators(self, feed_id: int) -> tuple[str | None, str | None]: ...
    def entries(self, feed_id: int) -> dict[str, tuple[str, str | None, str | None, float]]: ...
    def record_entries(self, feed_id: int, entries: list[tuple[str, str, str | None, str | None, float]]) -> None: ...
    def record_poll(self, feed_id: int, status: str, error: str | None, title: str | None,
                    validators: tuple[str | None, str | None] | None, added: int, skipped: int) -> None: ...


class Ledger(Protocol):
    """What feeds read and write in the index: what is stored, aliases, the poll turn, and the
    feed ledger beside it."""

    feeds: FeedBook

    def resolve(self, doc_ids: Iterable[str]) -> dict[str, str]: ...
    def documents(self, doc_ids: Iterable[str]) -> dict[str, Document]: ...
    def add_aliases(self, aliases: Iterable[tuple[str, str]]) -> None: ...
    def poll_lock(self) -> AbstractContextManager[bool]: ...


def page_document(page: Fetched, entry: dict | None = None) -> Document:
    """The article on a fetched page, its id and source from the page's canonical URL; the feed
    entry's title and date stand in where the page has none."""
    if page.content_type.split(";")[0].strip().lower() not in _HTML_TYPES:
        raise FetchError(f"{page.url[:200]}: {page.content_type} is not an HTML page")
    fields = html_fields(page.content, url=page.url)  # bytes: trafilatura reads the page's own charset
    canonical = fields.get("url") or ""
    url = canonical_url(canonical if canonical.startswith(("http://", "https://")) else page.url)
    entry = entry or {}
    if not fields["text"].strip():
        raise FetchError(f"{page.url[:200]}: no article text found on the page")
    return make_document(fields["text"], where=page.url[:200], id=url_id(url),
                         title=fields.get("title") or entry.get("title"),
                         published=fields.get("date") or _entry_date(entry), source=url)


def fetch_articles(links: Iterable[tuple[str, dict | None]], store: Ledger, fetcher: Fetcher,
                   origins: dict[str, dict] | None = None,
                   ) -> tuple[list[Document], list[SkippedEntry], list[tuple[str, str]]]:
    """The articles behind `links` ((url, feed entry or None)) not yet indexed, what was skipped
    and why, and (link id, canonical id) aliases to record once the articles are stored;
    `origins` (if given) hears each article's feed entry by its id."""
    documents: list[Document] = []
    skipped: list[SkippedEntry] = []
    aliases: list[tuple[str, str]] = []
    taken: set[str] = set()
    for link, entry in links:
        url = str(link)[:2000]
        try:
            url = canonical_url(link)
            link_id = url_id(url)
            known = store.resolve([link_id]).get(link_id)
            if known or link_id in taken:
                skipped.append(SkippedEntry(url=url, reason=f"already indexed as {known or link_id}",
                                            duplicate_of=known or link_id))
                continue
            document = page_document(fetcher.get(url), entry)
            known = store.resolve([document.id]).get(document.id)
            if known or document.id in taken:  # the page names a canonical URL already indexed
                skipped.append(SkippedEntry(url=url, reason=f"already indexed as {known or document.id} (canonical URL)",
                                            duplicate_of=known or document.id))
                aliases.append((link_id, known or document.id))
                continue
            taken |= {link_id, document.id}
            documents.append(document)
            if origins is not None:
                origins[document.id] = entry or {}
            if document.id != link_id:
                aliases.append((link_id, document.id))
        except AskbriefError as e:  # a broken page is reported, never the end of the poll
            skipped.append(SkippedEntry(url=url, reason=str(e)))
    return documents, skipped, aliases


def ingest_fetched(ingest: Ingest, store: Ledger, documents: list[Document], aliases: list[tuple[str, str]],
                   ) -> tuple[list[IngestResult], list[SkippedEntry]]:
    """Ingest fetched articles; exact copies of stored texts come back as skipped entries."""
    results = ingest(documents)
    store.add_aliases(aliases)
    added = [r for r in results if not r.duplicate_of]
    copies = [SkippedEntry(url=d.source, reason=f"same text as {r.duplicate_of}", duplicate_of=r.duplicate_of)
              for d, r in zip(documents, results) if r.duplicate_of]
    return added, copies


def ingest_pages(urls: list[str], store: Ledger, ingest: Ingest, fetcher: Fetcher) -> list[IngestResult]:
    """Fetch article pages and ingest them. Like files, all are fetched first, so a page that
    fails stops the ingest before any write; a URL already indexed comes back as a copy of the
    stored document."""
    documents, skipped, aliases = fetch_articles([(u, None) for u in urls], store, fetcher)
    for entry in skipped:
        if not entry.duplicate_of:
            raise FetchError(entry.reason)
    known = [IngestResult(id=url_id(s.url), sentences=0, chunks=0, duplicate_of=s.duplicate_of) for s in skipped]
    added, copies = ingest_fetched(ingest, store, documents, aliases)
    return known + added + [IngestResult(id=url_id(c.url), sentences=0, chunks=0, duplicate_of=c.duplicate_of)
                            for c in copies]


def poll(store: Ledger, ingest: Ingest, feed: Feed, fetcher: Fetcher, recheck_undated_h: float) -> FeedPoll:
    """One poll of one feed, recorded on the feed whatever happens."""
    try:
        page = fetcher.get(feed.url, *store.feeds.validators(feed.id))
        if page.status == 304:
            store.feeds.record_poll(feed.id, "not modified", None, None, None, 0, 0)
            return FeedPoll(feed=store.feeds.get(feed.id), status="not modified", added=[], skipped=[], error=None)
        parsed = feedparser.parse(page.content, response_headers={"content-type": page.content_type or "application/xml"})
        if parsed.bozo and not any(e.get("link") for e in parsed.entries):
            raise FetchError(f"{feed.url}: not a readable RSS or Atom feed ({parsed.get('bozo_exception')})")
        entries = parsed.entries[:MAX_ENTRIES]
        linked = [(e.get("link"), e) for e in entries if e.get("link")]
        fresh, due, seen = sort_known(linked, store, store.feeds.entries(feed.id), recheck_undated_h)
        origins: dict[str, dict] = {}
        documents, skipped, aliases = fetch_articles(fresh, store, fetcher, origins)
        skipped += [SkippedEntry(url=feed.url, reason=f"entry {e.get('title', '')[:80]!r} has no link")
                    for e in entries if not e.get("link")]
        added, copies = ingest_fetched(ingest, store, documents, aliases)
        skipped += copies
        revised, states = reread(store, ingest, due, fetcher, skipped)
        kept = {r.id for r in added}
        seen += states + [(d.id, signature(origins.get(d.id) or {}), None, None, time.time())
                          for d in documents if d.id in kept]
        store.feeds.record_entries(feed.id, seen)
    except AskbriefError as e:
        store.feeds.record_poll(feed.id, "failed", str(e), None, None, 0, 0)
        return FeedPoll(feed=store.feeds.get(feed.id), status="failed", added=[], skipped=[], error=str(e))
    store.feeds.record_poll(feed.id, "updated", None, parsed.feed.get("title"), (page.etag, page.last_modified),
                      len(added), len(skipped))
    return FeedPoll(feed=store.feeds.get(feed.id), status="updated", added=added, revised=revised, skipped=skipped, error=None)


# ---- articles that change: corrections and updates ---------------------------------------------

def signature(entry: dict) -> str:
    """What says a feed entry changed: its GUID and its updated (else published) date."""
    return f"{entry.get('id', '')}|{_when(entry) or ''}"


def _when(entry: dict) -> str | None:
    # Asked for `updated` it lacks, feedparser answers `published` with a deprecation warning.
    return entry["updated"] if "updated" in entry.keys() else entry.get("published")


def sort_known(linked: list[tuple[str, dict]], store: Ledger, states: dict, recheck_h: float):
    """Split a feed's links into new ones (to fetch as articles), indexed ones due a re-read (their
    entry's GUID or date moved, or an undated one not checked for `recheck_h` hours), and the
    states of the indexed ones that stay as they are."""
    fresh, due, seen = [], [], []
    for link, entry in linked:
        try:
            link_id = url_id(canonical_url(link))
        except AskbriefError:
            fresh.append((link, entry))  # fetch_articles reports it
            continue
        stored = store.resolve([link_id]).get(link_id)
        if stored is None:
            fresh.append((link, entry))
            continue
        state, now, sig = states.get(stored), time.time(), signature(entry)
        dated = bool(_when(entry))
        moved = state is not None and (sig != state[0] if dated else now - state[3] >= recheck_h * 3600)
        if state is None:  # first seen through this feed: remember it as it is
            seen.append((stored, sig, None, None, now))
        if moved:
            due.append((stored, link, entry, state))
        else:
            fresh.append((link, entry))  # fetch_articles skips it as already indexed, and says so
    return fresh, due, seen


def reread(store: Ledger, ingest: Ingest, due: list, fetcher: Fetcher,
           skipped: list[SkippedEntry]) -> tuple[list[IngestResult], list]:
    """Fetch the due articles again (conditionally); a changed text replaces its document under
    the same id in one write, the old text kept as a revision whose citations answer 410."""
    changed, states, now = [], [], time.time()
    stored = store.documents(d for d, _, _, _ in due)
    for doc_id, link, entry, (_, etag, modified, _) in due:
        try:
            page = fetcher.get(canonical_url(link), etag, modified)
            if page.status != 304:
                document = page_document(page, entry)
                if doc_id in stored and document.hash != stored[doc_id].hash:
                    changed.append(document.model_copy(update={"id": doc_id}))
            states.append((doc_id, signature(entry), page.etag, page.last_modified, now))
        except AskbriefError as e:
            skipped.append(SkippedEntry(url=link, reason=f"re-reading {doc_id}: {e}"))
    results = ingest(changed) if changed else []
    return [r for r in results if r.replaced], states


def _entry_date(entry: dict) -> str | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return dt.date(*parsed[:3]).isoformat() if parsed else None
