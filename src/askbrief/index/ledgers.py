"""Ledgers kept beside the articles, each its own object on the store's connection: watched feeds
and their entries, turns at each host and robots.txt (shared by every process), and the queue of
writes done off the serving path. The store keeps documents and search; `store.feeds`,
`store.hosts` and `store.jobs` keep these, so a fetcher or a job worker is handed only its own."""

import datetime as dt
import json
import time

from askbrief.errors import FeedNotFound
from askbrief.index.base import StoreBase, now
from askbrief.records import Feed, Job


class _Ledger:
    """One ledger: its tables, read and written through the store's own statements (one
    connection and one transaction discipline for the articles and everything beside them)."""

    def __init__(self, database: StoreBase):
        self._db = database

    def _rows(self, sql: str, params=()) -> list[tuple]:
        return self._db._rows(sql, params)

    def _value(self, sql: str, params=()):
        return self._db._value(sql, params)


class FeedLedger(_Ledger):
    """Watched RSS/Atom feeds, what each poll found, and the entries each listed before."""

    def add(self, url: str) -> Feed:
        """Watch a feed (again adding a watched URL changes nothing)."""
        self._rows("INSERT INTO feeds (url, added) VALUES (?, ?) ON CONFLICT (url) DO NOTHING", (url, now()))
        return self.get(url)

    def all(self) -> list[Feed]:
        return [_feed(r) for r in self._rows(f"SELECT {_FEED_COLUMNS} FROM feeds ORDER BY id")]

    def get(self, ref: str | int) -> Feed:
        """A watched feed by its id or its URL; `FeedNotFound` otherwise."""
        rows = self._rows(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE id = ? OR url = ?",
                          (int(ref) if str(ref).isdigit() and int(ref) < 2**62 else -1, str(ref)))
        if not rows:
            raise FeedNotFound(f"no feed {ref!r} is watched here; `askbrief feeds list` shows them")
        return _feed(rows[0])

    def remove(self, feed_id: int) -> None:
        """Stop watching a feed; the articles it brought stay."""
        self._rows("DELETE FROM feeds WHERE id = ?", (feed_id,))
        self._rows("DELETE FROM feed_entries WHERE feed_id = ?", (feed_id,))

    def validators(self, feed_id: int) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified of the feed's last full answer, for a conditional GET."""
        rows = self._rows("SELECT etag, last_modified FROM feeds WHERE id = ?", (feed_id,))
        return tuple(rows[0]) if rows else (None, None)

    def record_poll(self, feed_id: int, status: str, error: str | None, title: str | None,
                    validators: tuple[str | None, str | None] | None, added: int, skipped: int) -> None:
        """What a poll found; validators None keeps the old ones (a failed or 304 poll)."""
        keep = validators is None
        etag, modified = validators or (None, None)
        self._rows(
            "UPDATE feeds SET last_polled = ?, last_status = ?, last_error = ?, title = coalesce(?, title),"
            " etag = CASE WHEN ? THEN etag ELSE ? END, last_modified = CASE WHEN ? THEN last_modified ELSE ? END,"
            " polls = polls + 1, documents_added = documents_added + ?, entries_skipped = entries_skipped + ?"
            " WHERE id = ?", (now(), status, error, title, keep, etag, keep, modified, added, skipped, feed_id))

    def entries(self, feed_id: int) -> dict[str, tuple[str, str | None, str | None, float]]:
        """doc id -> (signature, etag, last modified, checked) of what the feed listed before."""
        return {r[0]: (r[1], r[2], r[3], float(r[4])) for r in self._rows(
            "SELECT doc_id, signature, etag, last_modified, checked FROM feed_entries WHERE feed_id = ?", (feed_id,))}

    def record_entries(self, feed_id: int, entries: list[tuple[str, str, str | None, str | None, float]]) -> None:
        """Remember (doc id, signature, etag, last modified, checked) of the feed's entries."""
        self._db._many("INSERT INTO feed_entries (feed_id, doc_id, signature, etag, last_modified, checked)"
                   " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (feed_id, doc_id) DO UPDATE SET signature = excluded.signature,"
                   " etag = excluded.etag, last_modified = excluded.last_modified, checked = excluded.checked",
                   [(feed_id, *e) for e in entries])

class HostLedger(_Ledger):
    """Turns at each host and its robots.txt, shared by every process of the index."""

    def claim_turn(self, host: str, delay_s: float) -> float:
        """Seconds to wait before asking `host` (its next free turn, kept here so that servers and
        cron polls of one index never ask one host faster than `delay_s`); takes that turn."""
        at = time.time()
        turn_after = self._value(
            "INSERT INTO hosts (host, next_turn) VALUES (?, ?) ON CONFLICT (host) DO UPDATE SET next_turn ="
            " CASE WHEN hosts.next_turn > ? THEN hosts.next_turn ELSE ? END + ? RETURNING next_turn",
            (host, at + delay_s, at, at, delay_s))
        return max(0.0, float(turn_after) - delay_s - at)

    def robots(self, host: str) -> tuple[str, float] | None:
        rows = self._rows("SELECT robots, robots_expires FROM hosts WHERE host = ? AND robots IS NOT NULL", (host,))
        return (rows[0][0], float(rows[0][1])) if rows else None

    def save_robots(self, host: str, text: str, expires: float) -> None:
        self._rows("INSERT INTO hosts (host, next_turn, robots, robots_expires) VALUES (?, 0, ?, ?) ON CONFLICT (host)"
                   " DO UPDATE SET robots = excluded.robots, robots_expires = excluded.robots_expires",
                   (host, text, expires))

class JobLedger(_Ledger):
    """The queue of writes done off the serving path (a worker takes, beats and finishes a job)."""

    def add(self, payload: str, total: int) -> Job:
        job_id = self._value("INSERT INTO jobs (payload, total, state, created) VALUES (?, ?, 'queued', ?) RETURNING id",
                             (payload, total, now()))
        return self.get(job_id)

    def get(self, job_id: int) -> Job | None:
        rows = self._rows(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            return None
        fields = dict(zip(_JOB_FIELDS, rows[0]))
        return Job(**fields | {"result": json.loads(fields["result"]) if fields["result"] else None})

    def take(self, worker: str, stale_s: float) -> tuple[Job, str] | None:
        """The oldest queued job (or a running one whose worker has not beaten its heart for
        `stale_s`), marked running by `worker`, with its payload; None when there is none."""
        stale = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=stale_s)).isoformat(timespec="seconds")
        with self._db._lock, self._db._transaction():
            row = self._rows("SELECT id, payload FROM jobs WHERE state = 'queued' OR (state = 'running' AND heartbeat < ?)"
                             " ORDER BY id LIMIT 1", (stale,))
            if not row:
                return None
            self._rows("UPDATE jobs SET state = 'running', worker = ?, heartbeat = ?, attempts = attempts + 1,"
                       " done = 0 WHERE id = ?", (worker, now(), row[0][0]))
        return self.get(row[0][0]), row[0][1]

    def progress(self, job_id: int, worker: str, done: int) -> None:
        self._rows("UPDATE jobs SET done = ?, heartbeat = ? WHERE id = ? AND worker = ?", (done, now(), job_id, worker))

    def finish(self, job_id: int, worker: str, done: int, result: str | None, error: str | None) -> None:
        self._rows("UPDATE jobs SET state = ?, done = ?, result = ?, error = ?, finished = ?, payload = ''"
                   " WHERE id = ? AND worker = ?", ("failed" if error else "done", done, result, error, now(), job_id, worker))


_FEED_COLUMNS = ("id, url, title, added, last_polled, last_status, last_error, polls, documents_added,"
                 " entries_skipped")
_JOB_FIELDS = ("id", "state", "total", "done", "attempts", "created", "finished", "result", "error")
_JOB_COLUMNS = ", ".join(_JOB_FIELDS)


def _feed(row: tuple) -> Feed:
    return Feed(**dict(zip((c.strip() for c in _FEED_COLUMNS.split(",")), row)))
