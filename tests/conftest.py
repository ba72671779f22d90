"""Shared fixtures: the real model, the seed article, and real news from tests/data.

tests/data/wikinews-en.jsonl holds 60 Wikinews articles (CC BY 2.5, attribution in its README),
so the suite stands alone. Tests that measure against the evaluation data (BBC, SQuAD) in
ASKBRIEF_DATA (default ../shared/data) are marked `needs_data` and skip, with one reason, where
it is absent; CI has it.
"""

import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from scripts.newsserver import MAX_BYTES, news_server
from scripts.wikinews import news_articles

from askbrief.engine import Engine
from askbrief.records import Answer, Summary
from askbrief.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
DATA = Path(os.environ.get("ASKBRIEF_DATA", ROOT.parent / "shared" / "data"))
needs_data = pytest.mark.data  # skipped, with one reason, where the evaluation data is absent
SEED_ID = "000_94717b999ff50f1a"
SEED_QUESTION = "What did Putin say about trade?"


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@contextmanager
def live_server(engine: Engine):
    """The API on a free loopback port in a background thread; yields its base URL."""
    import uvicorn

    from askbrief.serve.api import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def assert_faithful(engine: Engine, record: Answer | Summary) -> None:
    """The product's promise: every citation quotes its source exactly at its offsets."""
    text = record.answer if isinstance(record, Answer) else record.summary
    for c in record.citations:
        doc = engine.document(c.doc_id)
        assert doc.text[c.start:c.end] == c.quote, (c.doc_id, c.start, c.end)
        assert c.quote.strip() == c.quote and c.quote
        assert (c.title, c.published, c.source) == (doc.title, doc.published, doc.source)
        assert engine.citation(c.id).quote == c.quote  # the stable id resolves to the same text
        if not getattr(record, "abstained", False):
            assert f"{c.quote} [{c.n}]" in text
    assert [c.n for c in record.citations] == list(range(1, len(record.citations) + 1))


def cosine_pairs(engine: Engine, record: Answer | Summary) -> np.ndarray:
    vectors = engine.embedder.encode([c.quote for c in record.citations])
    sims = vectors @ vectors.T
    return sims[np.triu_indices(len(vectors), k=1)]


# The retrieval and answer tests of these modules run on every store and vector backend (issues
# 8, 14, 24): SQLite with FAISS, with embedded milvus-lite and with a Milvus server process (the
# `milvus` package) over gRPC, and PostgreSQL with that Milvus server ("postgres").
ON_BOTH_BACKENDS = {"test_engine", "test_store", "test_migrations"}
# The tiers (`make test-fast` runs what none of these marks): a test is marked by the fixtures it
# uses; the modules named start servers or processes of their own inside the tests.
MARKS_BY_FIXTURE = {"server": {"server", "battery", "served", "seed_home", "web_engine"},
                    "browser": {"browser"}, "shared_store": {"postgres_server", "milvus_server"}}
SERVER_MODULES = {"test_service", "test_hostile", "test_hostile_battery", "test_fuzz", "test_feeds", "test_fetching", "test_page",
                  "test_mcp", "test_cli", "test_postgres", "test_vectors", "test_layers"}


def pytest_collection_modifyitems(config, items):
    no_data = pytest.mark.skip(reason=f"evaluation data not found at {DATA} (set ASKBRIEF_DATA; CI has it)")
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        for mark, names in MARKS_BY_FIXTURE.items():
            if fixtures & names:
                item.add_marker(mark)
        if item.module.__name__ in SERVER_MODULES:
            item.add_marker("server")
        backend = getattr(item, "callspec", None) and item.callspec.params.get("vector_backend")
        if backend in ("milvus-server", "postgres"):
            item.add_marker("shared_store")
        elif backend == "milvus":  # the same tests on embedded milvus-lite: the full run's
            item.add_marker("slow")
        if item.get_closest_marker("data") and not (DATA / "bbc-news-summary.jsonl").exists():
            item.add_marker(no_data)
BACKENDS = ["faiss", "milvus", "milvus-server", "postgres"]


def pytest_generate_tests(metafunc):
    if metafunc.module.__name__ in ON_BOTH_BACKENDS and "vector_backend" in metafunc.fixturenames:
        metafunc.parametrize("vector_backend", BACKENDS, indirect=True, scope="session")


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory) -> Iterator[str]:
    """A standalone Milvus server on 127.0.0.1 for the session (about 8 s to start); its URI."""
    milvus = pytest.importorskip("milvus", reason="the Milvus server package (`milvus`, a test dependency) is not installed")
    server = milvus.MilvusServer()
    server.set_base_dir(str(tmp_path_factory.mktemp("milvus-server")))
    server.start()
    yield f"http://127.0.0.1:{server.listen_port}"
    server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server on 127.0.0.1 for the session (Debian's postgresql package, under a
    second to start); its URL."""
    from scripts.pgserver import PostgresServer, binaries

    if binaries() is None:
        pytest.skip("PostgreSQL's initdb is not installed (`make test` installs Debian's postgresql where it can)")
    server = PostgresServer().start()
    yield server.url
    server.stop()


def shared_settings(request, **extra) -> Settings:
    """Settings for PostgreSQL and the Milvus server of this session (a shared index)."""
    return Settings(store_url=request.getfixturevalue("postgres_server"), vector_backend="milvus",
                    milvus_uri=request.getfixturevalue("milvus_server"), **extra)


def drop_index(settings: Settings, name: str) -> None:
    """Remove an index from PostgreSQL and its Milvus collection, if it is there."""
    from askbrief.encoders.embed import DIM, MODEL_NAME
    from askbrief.index.postgres import PostgresStore
    from askbrief.index.postgres_schema import index_exists

    if index_exists(settings.store_url, name):
        store = PostgresStore(settings, name, MODEL_NAME, DIM)
        store.drop()
        store.close()


@pytest.fixture(scope="session")
def vector_backend(request) -> str:
    """faiss, milvus (an embedded milvus-lite file in the index folder) or milvus-server where
    parametrised; `backend_settings` turns it into Settings fields."""
    return getattr(request, "param", "faiss")


@pytest.fixture(scope="session")
def backend_settings(request, vector_backend) -> dict:
    if vector_backend == "milvus-server":
        return {"vector_backend": "milvus", "milvus_uri": request.getfixturevalue("milvus_server"),
                "milvus_consistency": "Strong"}
    if vector_backend == "postgres":
        return shared_settings(request, milvus_consistency="Strong").model_dump(include={
            "store_url", "vector_backend", "milvus_uri", "milvus_consistency"})
    return {"vector_backend": vector_backend}


@pytest.fixture(scope="session")
def seed_engine(tmp_path_factory, backend_settings) -> Engine:
    engine = Engine("seed", Settings(home=tmp_path_factory.mktemp("home"), **backend_settings))
    engine.ingest_paths([SEEDS])
    return engine


@pytest.fixture(scope="session")
def news_engine(tmp_path_factory, backend_settings) -> Engine:
    """Up to four Wikinews articles of each topic (26), their real dates, the topic as source."""
    rows = news_articles(4)
    for row in rows:
        row["source"] = "Wikinews " + row["topic"]
    folder = tmp_path_factory.mktemp("news")
    engine = Engine("news", Settings(home=tmp_path_factory.mktemp("home"), **backend_settings))
    engine.ingest_paths([write_jsonl(folder / "news.jsonl", rows)])
    return engine


@pytest.fixture()
def engine(tmp_path, backend_settings) -> Iterator[Engine]:
    """A fresh, empty index of its own."""
    settings = Settings(home=tmp_path / "indexes", **backend_settings)
    if settings.store_url:  # one database for the session: the name must be free again
        drop_index(settings, "fresh")
    engine = Engine("fresh", settings)
    yield engine
    if settings.store_url and engine._store is not None:
        engine._store.close()  # its pool's connections


# ---- the fetch tests' news site and engine; the index tests' row counts ------------------------

@pytest.fixture()
def server():
    news = news_server()
    yield news
    news.server.shutdown()


@pytest.fixture()
def web_engine(tmp_path) -> Engine:
    return Engine("web", Settings(home=tmp_path / "indexes", allow_private_urls=True, fetch_host_delay_s=0,
                                  fetch_max_bytes=MAX_BYTES, fetch_timeout_s=5))


def rows(engine, table):
    if engine.settings.store_url:
        return engine.store()._value(f"SELECT count(*) FROM {table}")
    return sqlite3.connect(engine.path / "index.db").execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def sqlite_only(engine: Engine) -> None:
    """Skip a test of SQLite's own file (its layout, manifest, migrations) on PostgreSQL."""
    if engine.settings.store_url:
        pytest.skip("tests SQLite's index file; PostgreSQL's own tests are in test_postgres.py")
