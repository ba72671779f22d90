"""An index of an older format or an older embedder, opened by today's askbrief: migrated in place
(format 1 and 2 files, the kept chunk count), or refused with the way on and then re-embedded in
place, answering as before."""
import json
import sqlite3

import numpy as np
import pytest
from conftest import SEED_QUESTION, SEEDS, assert_faithful, news_articles, rows, sqlite_only

from askbrief.encoders.embed import DIM, MODEL_NAME, UNTUNED
from askbrief.engine import Engine
from askbrief.errors import IndexIncompatible
from askbrief.index import factory as store_module
from askbrief.index.schema import FORMAT_VERSION, vector_blobs, vectors_of
from askbrief.ingest.documents import make_document


def as_float32_vectors(db: sqlite3.Connection, dim: int = 384) -> None:
    """Store the vectors as formats 1 and 2 did: float32, 1,536 bytes each."""
    for table in ("sentences", "chunks"):
        rows = db.execute(f"SELECT rowid, vector FROM {table}").fetchall()
        db.executemany(f"UPDATE {table} SET vector = ? WHERE rowid = ?",
                       [(v.tobytes(), r[0]) for v, r in zip(vectors_of([r[1] for r in rows], dim), rows)])


def test_a_format_2_index_gets_int8_vectors_on_open_and_answers_the_same(engine):
    sqlite_only(engine)
    engine.ingest_paths([SEEDS])
    before = engine.ask(SEED_QUESTION)
    engine.store().close()
    db = sqlite3.connect(engine.path / "index.db", isolation_level=None)
    as_float32_vectors(db)
    db.close()
    (engine.path / "vectors.faiss").unlink(missing_ok=True)  # FAISS is rebuilt from the migrated rows
    manifest = engine.path / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format": 2}))
    size_before = (engine.path / "index.db").stat().st_size
    reopened = Engine(engine.name, engine.settings)
    after = reopened.ask(SEED_QUESTION)
    assert json.loads(manifest.read_text())["format"] == FORMAT_VERSION == 5  # through 3 and 4, to today's
    assert [c.id for c in after.citations] == [c.id for c in before.citations]
    lengths = sqlite3.connect(engine.path / "index.db").execute(
        "SELECT DISTINCT length(vector) FROM sentences UNION SELECT DISTINCT length(vector) FROM chunks").fetchall()
    assert lengths == [(4 + 384,)] and (engine.path / "index.db").stat().st_size < size_before


def test_stored_vectors_keep_their_direction(news_engine):
    vectors = news_engine.embedder.encode([r["title"] for r in news_articles(2)])
    stored = vectors_of(vector_blobs(vectors), vectors.shape[1])
    assert np.sum(stored * vectors, axis=1).min() > 0.9999
    assert np.allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-5)


def test_a_format_1_index_is_migrated_on_open_and_answers_the_same(engine):
    sqlite_only(engine)
    engine.ingest_paths([SEEDS])
    before = engine.ask(SEED_QUESTION)
    engine.store().close()
    db = sqlite3.connect(engine.path / "index.db", isolation_level=None)  # rewrite it as format 1 laid it out
    as_float32_vectors(db)
    db.executescript("""
        ALTER TABLE sentences RENAME TO new_layout;
        CREATE TABLE sentences (doc_id TEXT NOT NULL, idx INTEGER NOT NULL, start INTEGER NOT NULL,
            end INTEGER NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (doc_id, idx)) WITHOUT ROWID;
        INSERT INTO sentences SELECT * FROM new_layout; DROP TABLE new_layout;""")
    db.close()
    manifest = engine.path / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format": 1}))
    reopened = Engine(engine.name, engine.settings)
    after = reopened.ask(SEED_QUESTION)
    assert json.loads(manifest.read_text())["format"] == FORMAT_VERSION  # every step on the way
    assert [c.id for c in after.citations] == [c.id for c in before.citations]
    sql = sqlite3.connect(engine.path / "index.db").execute(
        "SELECT sql FROM sqlite_master WHERE name = 'sentences'").fetchone()[0]
    assert "WITHOUT ROWID" not in sql and rows(reopened, "sentences") == 18


def as_old_model_index(engine: Engine) -> None:
    """Make the engine's index look built by an older askbrief: every vector another model's
    (random unit vectors stand in for them) and that model recorded."""
    store = engine.store()
    rng = np.random.default_rng(7)
    with store._lock, store._transaction():
        for table, key in (("sentences", "doc_id, idx"), ("chunks", "id")):
            keys = store._rows(f"SELECT {key} FROM {table}")
            vectors = rng.normal(size=(len(keys), DIM)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            where = " AND ".join(f"{k.strip()} = ?" for k in key.split(","))
            store._many(f"UPDATE {table} SET vector = ? WHERE {where}", [(v, *k) for k, v in zip(keys, vector_blobs(vectors))])
        store._bump_generation()
        store._record_model(UNTUNED)
    if not engine.settings.store_url:
        manifest = engine.path / "manifest.json"
        manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "model": UNTUNED}))
    store.close()
    engine._store = None


def stored_sentences_agree_with_the_embedder(engine: Engine) -> np.ndarray:
    """The cosine between each stored sentence vector and the embedder's vector of its text (int8
    activations are quantised per batch: a text's vector moves a little with its batch)."""
    store = engine.store()
    cosines = []
    for doc_id in store.list_ids(0, 1000):
        text = engine.document(doc_id).text
        rows, vectors = store.sentences(doc_id)
        cosines += list(np.sum(engine.embedder.encode([text[a:b] for _, a, b in rows]) * vectors, axis=1))
    return np.array(cosines)


@pytest.mark.slow
def test_an_index_of_the_old_embedder_is_refused_then_reindexed_in_place(engine):
    engine.ingest_paths([SEEDS])
    engine.ingest([make_document(row["text"], where=row["id"], id=row["id"], title=row["title"],
                                 published=row["published"]) for row in news_articles(2)])
    before = engine.ask(SEED_QUESTION)
    sizes = engine.store().sizes()
    as_old_model_index(engine)
    with pytest.raises(IndexIncompatible, match=f"askbrief reindex --index {engine.name}"):
        engine.ask(SEED_QUESTION)

    # Stopped part-way (the embedder fails on its third page): nothing of the index moved.
    store = store_module.open_store(engine.settings, engine.name, MODEL_NAME, DIM, any_model=True)
    calls = []

    def failing(texts):
        calls.append(len(texts))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return engine.embedder.encode(texts)

    with pytest.raises(KeyboardInterrupt):
        store.reembed(failing, MODEL_NAME, page=2)
    store.close()
    with pytest.raises(IndexIncompatible):
        Engine(engine.name, engine.settings).store()

    # Resumed: the staged pages are kept, the rest embedded, all swapped in at once.
    assert engine.reindex() == (UNTUNED, MODEL_NAME)
    assert engine.store().sizes() == sizes
    agree = stored_sentences_agree_with_the_embedder(engine)
    assert agree.min() > 0.95 and np.median(agree) > 0.98  # the random stand-ins are near 0
    after = engine.ask(SEED_QUESTION)
    assert after.citations == before.citations and not after.abstained
    assert_faithful(engine, after)
    assert engine.reindex() == (MODEL_NAME, MODEL_NAME)  # twice is harmless
