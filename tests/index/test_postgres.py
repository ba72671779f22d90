"""PostgreSQL + a Milvus server: one index that many askbrief processes share (issue 24).

The engine and store tests run on this pair too (conftest's "postgres" backend); these are the
things only a shared index has: its identity in the database, keyword ranking alike to SQLite's,
one poller at a time, servers that see each other's writes, and a writer killed mid-job.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import (
    ROOT,
    SEED_QUESTION,
    SEEDS,
    drop_index,
    news_articles,
    shared_settings,
    write_jsonl,
)

from askbrief.encoders.embed import DIM, MODEL_NAME
from askbrief.engine import Engine
from askbrief.errors import BadSetting, IndexIncompatible, IndexNotFound, PollInProgress
from askbrief.index.postgres import PostgresStore
from askbrief.index.postgres_schema import as_tsvector
from askbrief.retrieve.question import parse
from askbrief.settings import Settings
from askbrief.text.sentences import make_chunks, split_sentences


@pytest.fixture()
def shared(request, tmp_path) -> Settings:
    settings = shared_settings(request, home=tmp_path / "home", milvus_consistency="Session")
    for name in ("shared", "other"):
        drop_index(settings, name)
    return settings


def test_the_index_lives_in_the_database_not_in_a_home_folder(shared, tmp_path):
    first = Engine("shared", shared)
    first.ingest_paths([SEEDS])
    assert not (shared.home / "shared").exists()  # nothing written beside the process
    elsewhere = Engine("shared", shared.model_copy(update={"home": tmp_path / "elsewhere"}))
    assert elsewhere.ask(SEED_QUESTION).citations == first.ask(SEED_QUESTION).citations
    manifest = first.store().manifest
    assert manifest["collection"] == elsewhere.store().manifest["collection"] and manifest["model"] == MODEL_NAME
    with pytest.raises(IndexIncompatible, match="some/other-model"):
        PostgresStore(shared, "shared", "some/other-model", DIM)
    with pytest.raises(IndexNotFound, match="askbrief ingest"):
        Engine("other", shared).ask("anything?")


def test_postgres_with_an_in_process_vector_index_refuses_to_start(shared):
    for backend, uri in (("faiss", None), ("milvus", None)):
        settings = shared.model_copy(update={"vector_backend": backend, "milvus_uri": uri})
        with pytest.raises(BadSetting, match="ASKBRIEF_MILVUS_URI=http") as refused:
            Engine("shared", settings).ingest_paths([SEEDS])
        assert refused.value.field == "store_url"


def test_a_lost_collection_is_made_again_from_the_database_once(shared):
    engine = Engine("shared", shared)
    engine.ingest_paths([SEEDS])
    before = engine.ask(SEED_QUESTION)
    store = engine.store()
    store._vectors.client.drop_collection(store._vectors.collection)
    reopened = Engine("shared", shared)
    assert reopened.ask(SEED_QUESTION).citations == before.citations
    assert reopened.store().vector_index()["vectors"] == reopened.store().chunk_count() == 5


def test_keyword_ranking_matches_sqlite_fts5(shared, tmp_path):
    """BM25 computed in PostgreSQL from the kept term statistics ranks as FTS5 does (the same top
    hit, 95% of the top 10, the same scores but where a term occurs 5 times or more in a chunk)."""
    source = write_jsonl(tmp_path / "news.jsonl", news_articles(4))
    on_postgres, on_sqlite = Engine("shared", shared), Engine("local", Settings(home=tmp_path / "local"))
    on_postgres.ingest_paths([source])
    on_sqlite.ingest_paths([source])
    agreed = total = 0
    for row in news_articles(4):
        terms = list(parse(row["title"]).terms)
        pg = on_postgres.store().keyword_search(terms, 10)
        lite = on_sqlite.store().keyword_search(terms, 10)
        assert pg and lite
        assert pg[0][0] == lite[0][0], row["title"]
        agreed += len({i for i, _ in pg} & {i for i, _ in lite})
        total += len(lite)
        for (i, a), (j, b) in zip(pg, lite):
            if i == j:  # equal up to the frequency cap (a term 5+ times in one chunk counts as 4: TF_WEIGHTS)
                assert a == pytest.approx(b, rel=0.05)
    assert agreed / total >= 0.95
    counts, chunks = on_postgres.store().document_frequencies(["court", "govern"])
    assert (counts, chunks) == on_sqlite.store().document_frequencies(["court", "govern"])


def test_term_statistics_follow_deletes(shared):
    engine = Engine("shared", shared)
    rows = news_articles(2, ("business",))
    engine.ingest_paths([write_jsonl(shared.home.parent / "two.jsonl", rows)])
    store = engine.store()
    total = int(store._value("SELECT value FROM meta WHERE key = 'term_total'"))
    engine.delete([rows[1]["id"]])
    kept = store._rows("SELECT sum(length), count(*) FROM chunk_terms")[0]
    assert int(store._value("SELECT value FROM meta WHERE key = 'term_total'")) == kept[0] < total
    assert store._value("SELECT count(*) FROM term_stats WHERE chunks < 0") == 0
    assert store._value("SELECT max(chunks) FROM term_stats") <= kept[1] == store.chunk_count()


def test_a_tsvector_literal_keeps_every_term_as_it_is():
    text = "o'brien u.s covid-19 back\\slash o'brien"
    vector = as_tsvector(text)
    assert vector.startswith("'o''brien':1C,5C 'u.s':2 'covid-19':3 'back\\\\slash':4")  # C: twice


def test_one_process_polls_the_feeds_at_a_time(shared):
    shared = shared.model_copy(update={"allow_private_urls": True})
    first, second = Engine("shared", shared), Engine("shared", shared)
    first.add_feed("http://127.0.0.1:9/feed.xml")
    with first.store().poll_lock() as mine:
        assert mine
        with pytest.raises(PollInProgress, match="another askbrief process"):
            second.poll_feeds()
    assert second.poll_feeds()[0].status == "failed"  # the turn is free again (nothing listens on port 9)


# ---- two servers, one index ------------------------------------------------------------------

ASKBRIEF = [sys.executable, "-c", "from askbrief.cli import main; main()"]  # the CLI, this interpreter


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(settings: Settings, home: Path, log: Path, **extra: str) -> tuple[subprocess.Popen, str]:
    """`askbrief serve` as its own process with its own home; its base URL once it answers."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "ASKBRIEF_HOME": str(home),
           "ASKBRIEF_STORE_URL": settings.store_url, "ASKBRIEF_VECTOR_BACKEND": "milvus",
           "ASKBRIEF_MILVUS_URI": settings.milvus_uri, **extra}
    process = subprocess.Popen([*ASKBRIEF, "serve", "--index", "shared", "--port", str(port)],
                               env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"the server did not start: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def whole_or_absent(store: PostgresStore) -> int:
    """Every stored document has all its sentences, chunks, keyword rows and vectors."""
    docs = store._rows("SELECT id, text FROM documents")
    for doc_id, text in docs:
        spans = split_sentences(text)
        assert store._value("SELECT count(*) FROM sentences WHERE doc_id = ?", (doc_id,)) == len(spans)
        ids = [r[0] for r in store._rows("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))]
        assert len(ids) == len(make_chunks(spans))
        assert store._value("SELECT count(*) FROM chunk_terms WHERE chunk_id = ANY(?)", (ids,)) == len(ids)
    for table in ("sentences", "chunks"):
        assert store._value(f"SELECT count(*) FROM {table} WHERE doc_id NOT IN (SELECT id FROM documents)") == 0
    assert store._value("SELECT count(*) FROM chunk_terms WHERE chunk_id NOT IN (SELECT id FROM chunks)") == 0
    assert store.chunk_count() == store._value("SELECT count(*) FROM chunks")
    return len(docs)


def cited_after(base: str, question: str, doc_id: str, limit_s: float) -> float:
    """Seconds until the server at `base` cites `doc_id` for `question` (asked every 50 ms, for at
    most `limit_s`: the time a write through another server takes to be read here)."""
    written = time.monotonic()
    while True:
        answer = httpx.post(base + "/ask", json={"question": question}, timeout=30).json()
        if any(c["doc_id"] == doc_id for c in answer["citations"]):
            return time.monotonic() - written
        assert time.monotonic() - written < limit_s, answer
        time.sleep(0.05)


def test_two_servers_share_one_index_and_a_killed_writer_loses_nothing(shared, tmp_path):
    rows = news_articles()
    first, second = news_articles(1)[:3], rows[:40]
    first_ids = {r["id"] for r in first}
    second = [r for r in second if r["id"] not in first_ids][:30]
    writer, a = serve(shared, tmp_path / "a", tmp_path / "a.log", ASKBRIEF_JOB_STALE_S="3")
    reader, b = serve(shared, tmp_path / "b", tmp_path / "b.log", ASKBRIEF_WORKER="false",
                      ASKBRIEF_JOB_STALE_S="3")
    try:
        # 1. a document written through one server is answered by the other within 2 seconds
        docs = [{k: r[k] for k in ("id", "title", "published", "text")} for r in first]
        assert httpx.post(a + "/documents", json=docs, timeout=120).status_code == 200
        print(f"written through A, cited by B after {cited_after(b, first[1]['title'], first[1]['id'], 2.0):.2f} s")

        # 2. a large write is a job; kill -9 the server doing it, mid-job
        batch = [{k: r[k] for k in ("id", "title", "published", "text")} for r in second]
        queued = httpx.post(a + "/documents", json=batch, timeout=60)
        assert queued.status_code == 202, queued.text
        job = queued.json()
        assert queued.headers["location"] == f"/jobs/{job['id']}" and job["state"] == "queued"
        deadline = time.monotonic() + 120
        while (seen := httpx.get(b + f"/jobs/{job['id']}", timeout=10).json())["done"] == 0:
            assert seen["state"] in ("queued", "running") and time.monotonic() < deadline, seen
            time.sleep(0.1)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        print(f"killed the writer at {seen['done']} of {seen['total']} documents")
        store = PostgresStore(shared, "shared", MODEL_NAME, DIM)
        landed = whole_or_absent(store)
        assert len(first) <= landed < len(first) + len(second)

        # 3. another process's worker takes the job again and completes it
        worker = subprocess.Popen([*ASKBRIEF, "worker", "--index", "shared"],
                                  env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "ASKBRIEF_HOME": str(tmp_path / "c"),
                                       "ASKBRIEF_STORE_URL": shared.store_url, "ASKBRIEF_VECTOR_BACKEND": "milvus",
                                       "ASKBRIEF_MILVUS_URI": shared.milvus_uri, "ASKBRIEF_JOB_STALE_S": "3"},
                                  stdout=(tmp_path / "c.log").open("ab"), stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 300
            while (done := httpx.get(b + f"/jobs/{job['id']}", timeout=10).json())["state"] != "done":
                assert done["state"] != "failed" and time.monotonic() < deadline, done
                time.sleep(0.5)
        finally:
            stop(worker)
        assert done["attempts"] == 2 and len(done["result"]) == done["done"] == done["total"] == len(second)
        assert whole_or_absent(store) == len(first) + len(second)
        answer = httpx.post(b + "/ask", json={"question": second[-1]["title"]}, timeout=30).json()
        assert second[-1]["id"] in {c["doc_id"] for c in answer["citations"]}
        store.close()
    finally:
        stop(reader)
        if writer.poll() is None:
            stop(writer)


def test_a_nul_character_is_never_a_database_error(shared):
    """PostgreSQL text holds no NUL: a lookup with one finds nothing, a text with one is stored
    with the replacement character in its place (one for one, so offsets still count right)."""
    from askbrief.errors import DocumentNotFound
    from askbrief.ingest.documents import make_document

    engine = Engine("shared", shared)
    engine.ingest([make_document("Rain\x00fall in Spain rose sharply this spring.", where="t", id="rain")])
    assert engine.document("rain").text == "Rain\ufffdfall in Spain rose sharply this spring."
    with pytest.raises(DocumentNotFound):
        engine.document("rain\x00")
    assert engine.search("rain\x00fall Spain", k=1)[0].doc_id == "rain"
