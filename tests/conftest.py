"""Shared fixtures: real model, real seed article, real BBC articles from ../shared/data."""

import atexit
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from askbrief.engine import Engine
from askbrief.records import Answer, Summary
from askbrief.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
DATA = Path(os.environ.get("ASKBRIEF_DATA", ROOT.parent / "shared" / "data"))
# One int8 export for the whole run (and for the CLI and servers it starts), not one per index home.
MODEL_CACHE = Path(tempfile.mkdtemp(prefix="askbrief-models-"))
os.environ["ASKBRIEF_MODEL_CACHE"] = str(MODEL_CACHE)
atexit.register(shutil.rmtree, MODEL_CACHE, ignore_errors=True)
SEED_ID = "000_94717b999ff50f1a"
SEED_QUESTION = "What did Putin say about trade?"


def bbc_articles(n: int, categories=("business", "entertainment", "sport", "tech")) -> list[dict]:
    """The first n articles of each category, in file order (real BBC News text)."""
    path = DATA / "bbc-news-summary.jsonl"
    assert path.exists(), f"evaluation data missing at {path}; set ASKBRIEF_DATA"
    taken: dict[str, list[dict]] = {c: [] for c in categories}
    with path.open() as f:
        for line in f:
            row = json.loads(line)
            if row["category"] in taken and len(taken[row["category"]]) < n:
                taken[row["category"]].append(row)
    return [r for c in categories for r in taken[c]]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@contextmanager
def live_server(engine: Engine):
    """The API on a free loopback port in a background thread; yields its base URL."""
    import uvicorn

    from askbrief.api import create_app

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


# The retrieval and answer tests of these modules run on both vector backends (issue 8).
ON_BOTH_BACKENDS = {"test_engine", "test_store"}


def pytest_generate_tests(metafunc):
    if metafunc.module.__name__ in ON_BOTH_BACKENDS and "vector_backend" in metafunc.fixturenames:
        metafunc.parametrize("vector_backend", ["faiss", "milvus"], indirect=True, scope="session")


@pytest.fixture(scope="session")
def vector_backend(request) -> str:
    """faiss, or milvus (an embedded milvus-lite file in the index folder) where parametrised."""
    return getattr(request, "param", "faiss")


@pytest.fixture(scope="session")
def seed_engine(tmp_path_factory, vector_backend) -> Engine:
    engine = Engine("seed", Settings(home=tmp_path_factory.mktemp("home"), vector_backend=vector_backend))
    engine.ingest_paths([SEEDS])
    return engine


@pytest.fixture(scope="session")
def bbc_engine(tmp_path_factory, vector_backend) -> Engine:
    """Eight real articles from each BBC category, with publication dates set for filter tests."""
    rows = bbc_articles(8)
    for i, row in enumerate(rows):
        row["published"] = f"2005-0{1 + i % 4}-1{i % 10}"
        row["source"] = "BBC " + row["category"]
    folder = tmp_path_factory.mktemp("bbc")
    engine = Engine("bbc", Settings(home=tmp_path_factory.mktemp("home"), vector_backend=vector_backend))
    engine.ingest_paths([write_jsonl(folder / "bbc.jsonl", rows)])
    return engine


@pytest.fixture()
def engine(tmp_path, vector_backend) -> Engine:
    """A fresh, empty index of its own."""
    return Engine("fresh", Settings(home=tmp_path / "indexes", vector_backend=vector_backend))
