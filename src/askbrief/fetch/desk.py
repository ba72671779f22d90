"""One index's window on the web, for the engine to call: article URLs fetched and ingested,
and the watched feeds (add, list, remove, poll). The engine hands over how to open its store
and how to ingest; nothing here calls back up."""

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from askbrief.errors import PollInProgress
from askbrief.fetch.pages import Fetcher
from askbrief.fetch.urls import canonical_url, checked_url
from askbrief.records import Feed, FeedPoll, IngestResult
from askbrief.settings import Settings

if TYPE_CHECKING:
    from askbrief.fetch.feeds import Ingest, Ledger


class FetchDesk:
    def __init__(self, store: Callable[..., "Ledger"], exists: Callable[[], bool], ingest: "Ingest",
                 settings: Settings, index: str):
        self._store, self._exists, self._ingest = store, exists, ingest
        self.settings, self.index = settings, index
        self._polling = threading.Lock()

    def ingest_urls(self, urls: Iterable[str]) -> list[IngestResult]:
        """Fetch article pages (all first: a page that fails stops the ingest before any write)
        and ingest them; a URL already indexed comes back as a copy of the stored document."""
        from askbrief.fetch.feeds import ingest_pages  # feedparser loads only where feeds are used

        urls = [checked_url(u, self.settings.allow_private_urls) for u in urls]
        store = self._store(create=True)
        with Fetcher.from_settings(self.settings, store.hosts) as fetcher:
            return ingest_pages(urls, store, self._ingest, fetcher)

    def add_feed(self, url: str) -> Feed:
        return self._store(create=True).feeds.add(checked_url(url, self.settings.allow_private_urls))

    def feeds(self) -> list[Feed]:
        return self._store().feeds.all() if self._exists() else []

    def remove_feed(self, ref: str | int) -> Feed:
        feed = self._watched(ref)
        self._store().feeds.remove(feed.id)
        return feed

    def poll(self, ref: str | int | None = None) -> list[FeedPoll]:
        """One pass over the watched feeds (or the one named), one pass at a time in this process,
        and with PostgreSQL in all of them (`PollInProgress` when another holds the store's turn)."""
        from askbrief.fetch.feeds import poll

        if ref is None and not self.feeds():
            return []
        store = self._store()
        with self._polling, store.poll_lock() as mine:
            if not mine:
                raise PollInProgress(f"another askbrief process is polling the feeds of {self.index!r} now; "
                                     "its pass covers them")
            with Fetcher.from_settings(self.settings, store.hosts) as fetcher:
                feeds = store.feeds.all() if ref is None else [self._watched(ref)]
                return [poll(store, self._ingest, feed, fetcher, self.settings.feed_recheck_undated_h) for feed in feeds]

    def _watched(self, ref: str | int) -> Feed:
        """A watched feed by its id, or by its URL in any spelling canonical_url maps to the same."""
        return self._store().feeds.get(ref if str(ref).isdigit() else canonical_url(str(ref)))
