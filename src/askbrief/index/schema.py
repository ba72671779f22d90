"""The index's SQLite layout (PostgreSQL's is in postgres_schema.py, the same tables), the migrations that bring older indexes up to it, and the small
helpers the store builds its queries with.

Format 3 (this one) stores sentence and chunk vectors as int8 with a per-vector scale (388
bytes instead of 1,536); format 2 kept them float32, format 1 also kept sentences WITHOUT ROWID.
Older indexes are migrated on open, one transaction a step, and their manifest names the new
format only once the step has committed.
"""

import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from askbrief.records import Filter
from askbrief.text.dated import sentence_days

SQLITE_VARS = 900  # stay under SQLite's default 999 host parameters per statement (pre-3.32)
FORMAT_VERSION = 5  # 5: the days sentences name; 4: documents know their language; 3: int8 vectors; 2: sentences became a rowid table (older indexes are migrated on open)
MIGRATE_BATCH = 10_000  # rows re-encoded a statement while migrating, so memory stays flat

# A rowid table: WITHOUT ROWID stored these 1.5 KB vector rows at ~4.9 KB each (SQLite advises it
# only for rows under 1/20 of a page). Format 1 had that layout; migrate_from_1 copies into this.
SENTENCES = """CREATE TABLE IF NOT EXISTS sentences (
    doc_id TEXT NOT NULL, idx INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    vector BLOB NOT NULL, PRIMARY KEY (doc_id, idx))"""

# The days a sentence names ("on 20 April", "yesterday"), resolved at ingest (text/dated.py): a
# story's timeline counts them. `start`/`end` are offsets in the document's text.
SENTENCE_DAYS = """CREATE TABLE IF NOT EXISTS sentence_days (
    doc_id TEXT NOT NULL, idx INTEGER NOT NULL, day TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sentence_days_doc ON sentence_days(doc_id);
CREATE INDEX IF NOT EXISTS sentence_days_day ON sentence_days(day)"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, published TEXT, source TEXT NOT NULL,
    text TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, added TEXT NOT NULL, lang TEXT);
CREATE INDEX IF NOT EXISTS documents_published ON documents(published);
{sentences};
{sentence_days};
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
-- Terms are stemmed by askbrief.text.sentences.terms; FTS5 only splits them at spaces ('.-' stay inside).
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_terms USING fts5(terms, tokenize="unicode61 tokenchars '.-''’'");
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_vocab USING fts5vocab(chunk_terms, 'row');
CREATE TABLE IF NOT EXISTS quotes (
    doc_id TEXT NOT NULL, speaker TEXT NOT NULL, cue TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    speaker_start INTEGER NOT NULL, speaker_end INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS quotes_doc ON quotes(doc_id);
CREATE TABLE IF NOT EXISTS syndication (
    doc_id TEXT PRIMARY KEY, signature BLOB NOT NULL, cluster TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS syndication_cluster ON syndication(cluster);
-- An id ingested with the exact text of a stored document: it resolves to that document.
CREATE TABLE IF NOT EXISTS aliases (alias TEXT PRIMARY KEY, doc_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS aliases_doc ON aliases(doc_id);
-- Watched feeds (feeds.py): added to format 3 without a version step, as older code ignores it.
CREATE TABLE IF NOT EXISTS feeds (
    id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE, title TEXT, added TEXT NOT NULL,
    etag TEXT, last_modified TEXT, last_polled TEXT, last_status TEXT, last_error TEXT,
    polls INTEGER NOT NULL DEFAULT 0, documents_added INTEGER NOT NULL DEFAULT 0,
    entries_skipped INTEGER NOT NULL DEFAULT 0);
-- Writes queued off the serving path (POST /documents over a size): a worker takes them.
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY, state TEXT NOT NULL, payload TEXT NOT NULL, total INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, worker TEXT, heartbeat TEXT,
    created TEXT NOT NULL, finished TEXT, result TEXT, error TEXT);
-- Texts a document had before a newer one replaced it under the same id (a corrected article):
-- their citations answer 410 with the document that replaced them.
CREATE TABLE IF NOT EXISTS revisions (
    doc_id TEXT NOT NULL, hash TEXT NOT NULL, revision INTEGER NOT NULL, replaced TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS revisions_hash ON revisions(hash);
CREATE INDEX IF NOT EXISTS revisions_doc ON revisions(doc_id);
-- The entries a feed listed: their GUID and date, and the page's validators, to re-read a changed article.
CREATE TABLE IF NOT EXISTS feed_entries (
    feed_id INTEGER NOT NULL, doc_id TEXT NOT NULL, signature TEXT NOT NULL, etag TEXT, last_modified TEXT,
    checked REAL NOT NULL, PRIMARY KEY (feed_id, doc_id));
-- Fetching: each host's next free turn (epoch seconds) and its robots.txt, shared by processes.
CREATE TABLE IF NOT EXISTS hosts (
    host TEXT PRIMARY KEY, next_turn REAL NOT NULL, robots TEXT, robots_expires REAL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('generation', '0');
-- Chunk ids are never reused, so a vector id once deleted can never name another chunk.
INSERT OR IGNORE INTO meta SELECT 'next_chunk', coalesce(max(id), 0) + 1 FROM chunks;
-- Kept by every write, as count(*) scans the table (2.4 ms a question at 200k chunks).
INSERT OR IGNORE INTO meta SELECT 'chunks', count(*) FROM chunks;
""".format(sentences=SENTENCES, sentence_days=SENTENCE_DAYS)


def migrate_from_1(db_path: Path) -> None:
    """Copy format 1's WITHOUT ROWID sentences into a rowid table, in one transaction, then
    reclaim the space."""
    db = sqlite3.connect(db_path, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("ALTER TABLE sentences RENAME TO sentences_format_1")
        db.execute(SENTENCES)
        db.execute("INSERT INTO sentences SELECT * FROM sentences_format_1 ORDER BY doc_id, idx")
        db.execute("DROP TABLE sentences_format_1")
        db.execute("COMMIT")
        db.execute("VACUUM")
    finally:
        db.close()


def filter_sql(where: Filter) -> tuple[str, list]:
    """A WHERE clause over `documents d` for a filter, and its parameters."""
    clauses, params = ["1 = 1"], []
    if where.since:
        clauses.append("d.published >= ?")
        params.append(where.since)
    if where.until:
        clauses.append("d.published <= ?")
        params.append(where.until)
    if where.sources:
        clauses.append(f"d.source IN ({marks(list(where.sources))})")
        params += list(where.sources)
    return " AND ".join(clauses), params


def vector_blobs(vectors: np.ndarray) -> list[bytes]:
    """Unit vectors as stored: a float32 scale (the largest magnitude / 127), then one int8 a
    dimension. The cosine between a vector and its stored copy is above 0.9999, well inside the
    int8 embedder's own distance to torch (0.992)."""
    vectors = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    scales = np.abs(vectors).max(axis=1, keepdims=True) / 127.0
    scales[scales == 0] = 1.0
    codes = np.clip(np.rint(vectors / scales), -127, 127).astype(np.int8)
    return [scale.tobytes() + code.tobytes() for scale, code in zip(scales.astype("<f4"), codes)]


def vectors_of(blobs: list[bytes], dim: int) -> np.ndarray:
    """Stored vectors back as unit-length float32 rows."""
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    raw = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), 4 + dim)
    vectors = raw[:, 4:].view(np.int8).astype(np.float32) * raw[:, :4].copy().view("<f4")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def migrate_from_4(db_path: Path) -> None:
    """Find the days every stored sentence names, in one transaction (2-3 s per 1,000 articles)."""
    db = sqlite3.connect(db_path, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        for statement in SENTENCE_DAYS.split(";"):
            db.execute(statement)
        day_rows(lambda sql, params=(): db.execute(sql, params).fetchall(),
                 lambda sql, rows: db.executemany(sql, rows))
        db.execute("COMMIT")
    finally:
        db.close()


def day_rows(rows, many) -> None:
    """Store the days each stored document's sentences name, a document at a time; `rows` and
    `many` run SQL with "?" parameters (either store's)."""
    for doc_id, text, published in rows("SELECT id, text, published FROM documents ORDER BY id"):
        spans = [(a, b) for a, b in rows('SELECT start, "end" FROM sentences WHERE doc_id = ? ORDER BY idx', (doc_id,))]
        many('INSERT INTO sentence_days (doc_id, idx, day, start, "end") VALUES (?, ?, ?, ?, ?)',
             [(doc_id, *row) for row in sentence_days(text, published, spans)])


def migrate_from_3(db_path: Path) -> None:
    """Give documents their language column; rows stored before it read as detected (reads.py)."""
    db = sqlite3.connect(db_path, isolation_level=None)
    try:
        if "lang" not in {row[1] for row in db.execute("PRAGMA table_info(documents)")}:
            db.execute("ALTER TABLE documents ADD COLUMN lang TEXT")
    finally:
        db.close()


def migrate_from_2(db_path: Path, dim: int) -> None:
    """Re-encode format 2's float32 sentence and chunk vectors as int8, in one transaction, then
    reclaim the space."""
    db = sqlite3.connect(db_path, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        for table in ("sentences", "chunks"):
            last = -1
            while rows := db.execute(f"SELECT rowid, vector FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                     (last, MIGRATE_BATCH)).fetchall():
                floats = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), dim)
                db.executemany(f"UPDATE {table} SET vector = ? WHERE rowid = ?",
                               [(blob, r[0]) for blob, r in zip(vector_blobs(floats), rows)])
                last = rows[-1][0]
        db.execute("COMMIT")
        db.execute("VACUUM")
    finally:
        db.close()


def batches(items: list, size: int = SQLITE_VARS) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def marks(items: list) -> str:
    return ",".join("?" * len(items))
