import json
import sqlite3
import struct

import numpy as np
import pytest
from conftest import SEED_QUESTION, SEEDS, assert_faithful, news_articles, write_jsonl

from askbrief.encoders.embed import DIM, MODEL_NAME, UNTUNED
from askbrief.engine import Engine
from askbrief.errors import DocumentNotFound, EmptyIndex, IndexIncompatible, IndexNotFound
from askbrief.index import factory as store_module
from askbrief.index import search as search_module
from askbrief.index import sqlite as sqlite_module
from askbrief.index.schema import FORMAT_VERSION, vector_blobs, vectors_of
from askbrief.index.sqlite import SqliteStore as Store
from askbrief.ingest.documents import make_document
from askbrief.records import Filter, Prepared
from askbrief.retrieve.question import parse
from askbrief.settings import Settings
from askbrief.text.copies import signature
from askbrief.text.sentences import terms as text_terms


def rows(engine, table):
    if engine.settings.store_url:
        return engine.store()._value(f"SELECT count(*) FROM {table}")
    return sqlite3.connect(engine.path / "index.db").execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def sqlite_only(engine: Engine) -> None:
    """Skip a test of SQLite's own file (its layout, manifest, migrations) on PostgreSQL."""
    if engine.settings.store_url:
        pytest.skip("tests SQLite's index file; PostgreSQL's own tests are in test_postgres.py")


def test_exact_duplicates_are_not_added_twice_and_the_caller_is_told(engine, tmp_path):
    first = engine.ingest_paths([SEEDS])
    copy = tmp_path / "copy.txt"
    copy.write_text((SEEDS / "000_94717b999ff50f1a.txt").read_text())
    again = engine.ingest_paths([SEEDS, copy])
    assert first[0].duplicate_of is None and first[0].sentences == 18
    assert [r.duplicate_of for r in again] == [first[0].id, first[0].id]
    assert engine.store().count() == 1 and rows(engine, "sentences") == 18


def test_delete_removes_every_row_and_vector_without_a_rebuild(engine):
    rows_in = news_articles(2, ("business",))
    docs = [make_document(r["text"], where=r["id"], id=r["id"], title=r["title"]) for r in rows_in]
    engine.ingest(docs)
    keep, gone = docs
    engine.ask(rows_in[1]["title"])  # FAISS is now in memory
    engine.delete([gone.id])
    store = engine.store()
    assert store.count() == 1 and not store.has(gone.id)
    assert rows(engine, "sentences") == len(store.sentences(keep.id)[0])
    assert rows(engine, "chunk_terms") == rows(engine, "chunks")
    assert store.vector_index()["vectors"] == rows(engine, "chunks")
    answer = engine.ask(rows_in[1]["title"])
    assert all(c.doc_id == keep.id for c in answer.citations)
    with pytest.raises(DocumentNotFound, match="no document 'nope'"):
        engine.delete([keep.id, "nope"])
    assert store.has(keep.id)  # an all-or-nothing delete changed nothing
    assert store.chunk_count() == rows(engine, "chunks")  # the count kept in meta, not counted


def test_an_index_without_the_kept_chunk_count_gets_it_on_open(engine):
    sqlite_only(engine)
    engine.ingest_paths([SEEDS])
    engine.store().close()
    db = sqlite3.connect(engine.path / "index.db")
    db.execute("DELETE FROM meta WHERE key = 'chunks'")  # as an index written before the count was kept
    db.commit()
    db.close()
    assert Store(engine.path, MODEL_NAME, DIM).chunk_count() == rows(engine, "chunks") == 5


def test_same_id_with_new_text_replaces_the_old_version(engine):
    engine.ingest([make_document("Old text about oil prices.", where="t", id="story")])
    (result,) = engine.ingest([make_document("New text about gold prices rising sharply.", where="t", id="story")])
    assert result.replaced and engine.document("story").text.startswith("New text")
    assert engine.store().count() == 1


def test_a_failed_batch_leaves_the_index_as_it_was(engine):
    engine.ingest_paths([SEEDS])
    good = make_document("A fine article about rain in Spain.", where="a", id="good")
    bad = make_document("A broken article.", where="b", id="bad")
    vec = np.zeros((1, DIM), dtype=np.float32)
    sig = signature("anything")
    batch = [Prepared(good, [(0, 35)], [(0, 0)], vec, vec, ["rain spain"], sig, []),
             Prepared(bad, [(0, 17)], [(0, 0)], [object()], vec, ["broken"], sig, [])]  # not a vector: fails mid-write
    with pytest.raises(TypeError):
        engine.store().add(batch)
    assert engine.store().count() == 1 and not engine.store().has("good")


def damage_vector_index(engine: Engine, how: str) -> None:
    """Lose the vector index (`missing`) or leave it a write behind the database (`stale`)."""
    store = engine.store()
    if engine.settings.vector_backend == "faiss":
        path = engine.path / "vectors.faiss"
        assert path.exists()
        if how == "missing":
            path.unlink()
        else:
            path.write_bytes(struct.pack("<q", -5) + path.read_bytes()[8:])
    elif how == "missing":
        store._vectors.client.drop_collection(store._vectors.collection)
    else:
        (engine.path / "milvus.generation").write_text("-5")


@pytest.mark.parametrize("how", ["missing", "stale"])
def test_the_vector_index_is_rebuilt_when_missing_or_stale(seed_engine, how, tmp_path):
    sqlite_only(seed_engine)  # a shared collection is never rebuilt by a server: test_postgres.py
    before = seed_engine.ask(SEED_QUESTION)
    damage_vector_index(seed_engine, how)
    settings = seed_engine.settings
    reopened = Store(seed_engine.path, MODEL_NAME, DIM, vector_backend=settings.vector_backend,
                     milvus_uri=settings.milvus_uri, milvus_consistency=settings.milvus_consistency)
    assert reopened.vector_index()["vectors"] == reopened.chunk_count()
    hits = reopened.dense_search(seed_engine.embedder.encode([SEED_QUESTION])[0], 3)
    assert len(hits) == 3
    if settings.vector_backend == "faiss":
        assert (seed_engine.path / "vectors.faiss").exists()
    seed_engine._store = None  # the engine's own store reopens too, as a restarted server would
    assert seed_engine.ask(SEED_QUESTION).citations == before.citations


def test_opening_an_index_of_another_model_is_a_clear_error(seed_engine, tmp_path):
    sqlite_only(seed_engine)
    manifest = json.loads((seed_engine.path / "manifest.json").read_text())
    assert (manifest["model"], manifest["dim"]) == (MODEL_NAME, DIM)
    other = tmp_path / "other"
    other.mkdir()
    (other / "manifest.json").write_text(json.dumps({**manifest, "model": "some/other-model"}))
    with pytest.raises(IndexIncompatible, match="some/other-model"):
        Store(other, MODEL_NAME, DIM)
    with pytest.raises(IndexNotFound, match="askbrief ingest"):
        Store(tmp_path / "missing", MODEL_NAME, DIM)


def test_date_and_source_filters(news_engine):
    store = news_engine.store()
    q = news_engine.embedder.encode(["court ruling"])[0]
    first_half = Filter(since="2019-01-01", until="2019-06-30")
    hits = store.dense_search(q, 50, first_half) + store.keyword_search(["court"], 50, first_half)
    docs = store.documents(c.doc_id for c in store.chunks([h for h, _ in hits]).values())
    assert docs and all("2019-01-01" <= d.published <= "2019-06-30" for d in docs.values())
    sport = store.keyword_search(["world", "record"], 50, Filter(sources=("Wikinews sport",)))
    sport_ids = {r["id"] for r in news_articles(topics=("sport",))}
    assert sport and {store.chunks([h])[h].doc_id for h, _ in sport} <= sport_ids
    answer = news_engine.ask("What did the court decide?", since="2019-01-01", until="2019-06-30")
    assert answer.citations and all("2019-01-01" <= c.published <= "2019-06-30" for c in answer.citations)
    assert_faithful(news_engine, answer)


def test_an_index_emptied_by_deletes_says_so(engine):
    engine.ingest([make_document("Short lived article about tea.", where="t", id="tea")])
    engine.delete(["tea"])
    with pytest.raises(EmptyIndex, match="askbrief ingest"):
        engine.ask("What about tea?")


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


def test_keyword_queries_leave_out_terms_too_common_to_tell(news_engine, monkeypatch):
    """Past COMMON_CHUNKS a term is left out of the FTS5 query (its rows are most of the cost),
    unless it is among the query's two rarest; small collections keep every term."""
    store = news_engine.store()
    terms = text_terms("The year the government said people in Kenya ran the marathon world record")
    freqs, _ = store.document_frequencies(terms)
    assert store.telling_terms(terms) == terms  # 26 articles: nothing is common enough to drop
    monkeypatch.setattr(search_module, "COMMON_CHUNKS", 5)
    kept = store.telling_terms(terms)
    rarest = sorted(terms, key=lambda t: freqs.get(t, 0))[:2]
    assert set(rarest) <= set(kept) and all(freqs.get(t, 0) <= 5 or t in rarest for t in kept)
    assert {t for t in terms if freqs.get(t, 0) > 5} - set(rarest) and not (set(kept) & {"year", "govern", "peopl"})
    hits = store.keyword_search(terms, 5)
    assert hits and all(news_engine.store().chunks([cid]) for cid, _ in hits)


@pytest.mark.slow
def test_a_grown_keyword_index_is_merged_into_one_segment_and_finds_the_same(engine, monkeypatch, tmp_path):
    sqlite_only(engine)
    monkeypatch.setattr(sqlite_module, "MERGE_FROM", 50)
    rows_in = news_articles(3)
    engine.ingest_paths([write_jsonl(tmp_path / "news.jsonl", rows_in)])
    store = engine.store()
    assert int(store._value("SELECT value FROM meta WHERE key = 'keywords_merged_at'")) == store.chunk_count()
    unmerged = Engine("unmerged", Settings(home=tmp_path / "unmerged"))
    monkeypatch.setattr(sqlite_module, "MERGE_FROM", 10**9)
    unmerged.ingest_paths([tmp_path / "news.jsonl"])
    assert unmerged.store()._value("SELECT value FROM meta WHERE key = 'keywords_merged_at'") is None
    for row in rows_in:
        terms = list(parse(row["title"]).terms)
        merged_hits, unmerged_hits = store.keyword_search(terms, 20), unmerged.store().keyword_search(terms, 20)
        assert [i for i, _ in merged_hits] == [i for i, _ in unmerged_hits]
        assert np.allclose([x for _, x in merged_hits], [x for _, x in unmerged_hits])


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
