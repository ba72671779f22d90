"""The index on its own: copies, deletes, replacements, failed batches, a damaged vector index,
date and source filters, and the keyword index; on every vector backend and both stores."""

import json
import sqlite3
import struct

import numpy as np
import pytest
from conftest import SEED_QUESTION, SEEDS, assert_faithful, news_articles, rows, sqlite_only, write_jsonl

from askbrief.encoders.embed import DIM, MODEL_NAME
from askbrief.engine import Engine
from askbrief.errors import DocumentNotFound, EmptyIndex, IndexIncompatible, IndexNotFound
from askbrief.index import search as search_module
from askbrief.index import sqlite as sqlite_module
from askbrief.index.sqlite import SqliteStore as Store
from askbrief.ingest.documents import make_document
from askbrief.records import Filter, Prepared
from askbrief.retrieve.question import parse
from askbrief.settings import Settings
from askbrief.text.copies import signature
from askbrief.text.sentences import terms as text_terms


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


