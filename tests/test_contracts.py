"""The contracts a caller relies on: top_k is what is read, exact copies' ids resolve, search
takes dates, a batch cannot name one id twice, and the vector index always matches SQLite."""

import json

import faiss
import numpy as np
import pytest
from conftest import assert_faithful, news_articles, write_jsonl
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from askbrief.answer.features import candidates
from askbrief.cli import app
from askbrief.engine import Engine
from askbrief.errors import BadInput, DocumentNotFound
from askbrief.ingest.documents import make_document
from askbrief.retrieve.hybrid import Retriever
from askbrief.retrieve.question import parse
from askbrief.serve.api import create_app


def test_top_k_sets_how_many_chunks_the_reader_reads(news_engine):
    question = "What did the court decide about the suspension of Parliament?"
    parsed, vector = parse(question), news_engine.embedder.encode([question])[0]
    read = {k: Retriever(news_engine.store()).evidence(parsed, vector, k) for k in (1, 5, 12)}
    assert [len(read[k].hits) for k in (1, 5, 12)] == [1, 5, 12]
    sentences = {k: {(c.doc_id, c.idx) for c in candidates(e)} for k, e in read.items()}
    assert sentences[1] < sentences[5] < sentences[12]  # more chunks, more candidate sentences
    wide = news_engine.ask(question, top_k=12)
    assert {(c.doc_id, c.start) for c in wide.citations} <= {
        (d, read[12].sentences[(d, i)].start) for d, i in sentences[12]}
    assert_faithful(news_engine, wide)


def test_an_exact_copy_id_resolves_to_the_stored_document(engine):
    row = news_articles(1, ("business",))[0]
    original = make_document(row["text"], where="a", id="original", title=row["title"])
    copy = make_document(row["text"], where="b", id="copy-elsewhere", title="Another headline")
    (first,) = engine.ingest([original])
    (second,) = engine.ingest([copy])
    assert first.duplicate_of is None and second.duplicate_of == "original"
    doc = engine.document("copy-elsewhere")
    assert doc.id == "original" and doc.aliases == ["copy-elsewhere"]
    summary = engine.summarize(["copy-elsewhere"], max_sentences=2)
    assert summary.resolved == {"copy-elsewhere": "original"} and summary.doc_ids == ["original"]
    assert_faithful(engine, summary)
    client = TestClient(create_app(engine))
    assert client.get("/documents/copy-elsewhere").json()["id"] == "original"
    assert client.post("/summarize", json={"doc_ids": ["copy-elsewhere"]}).json()["resolved"] == {
        "copy-elsewhere": "original"}
    engine.delete(["copy-elsewhere"])  # deleting the alias leaves the stored document
    assert engine.document("original").aliases == []
    with pytest.raises(DocumentNotFound):
        engine.document("copy-elsewhere")
    engine.ingest([copy])
    assert engine.document("copy-elsewhere").id == "original"
    engine.delete(["original"])  # and deleting the document takes its aliases with it
    with pytest.raises(DocumentNotFound):
        engine.document("copy-elsewhere")


def test_summarize_names_a_copy_it_resolved_on_the_command_line(tmp_path, monkeypatch):
    row = news_articles(1, ("sport",))[0]
    data = write_jsonl(tmp_path / "two.jsonl", [{"id": "first", "text": row["text"]}])
    again = write_jsonl(tmp_path / "again.jsonl", [{"id": "second", "text": row["text"]}])
    monkeypatch.setenv("ASKBRIEF_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(data)]).exit_code == 0
    assert "skipped second: same text as first" in runner.invoke(app, ["ingest", str(again)]).output
    result = runner.invoke(app, ["summarize", "--doc", "second", "--sentences", "2"])
    assert result.exit_code == 0, result.output
    assert "note: second was skipped at ingest as an exact copy of first" in result.output and "[2]" in result.output


def test_search_takes_a_date_range_everywhere(news_engine, tmp_path):
    since, until = "2019-09-01", "2019-12-31"
    hits = news_engine.search("impeachment of the president", k=10, since=since, until=until)
    assert hits and all(since <= h.published <= until for h in hits)
    everything = news_engine.search("impeachment of the president", k=10)
    assert any(not (since <= (h.published or "") <= until) for h in everything)  # the range did something
    client = TestClient(create_app(news_engine))
    response = client.get("/search", params={"q": "impeachment of the president", "since": since, "until": until})
    assert response.status_code == 200 and [h["doc_id"] for h in response.json()] == [h.doc_id for h in hits]
    bad = client.get("/search", params={"q": "impeachment", "since": "2019-13-45"})
    assert bad.status_code == 400 and bad.json()["detail"][0]["loc"] == ["body", "since"]
    result = CliRunner().invoke(app, ["search", "impeachment of the president", "--index", "news", "--json",
                                      "--since", since, "--until", until],
                                env={"ASKBRIEF_HOME": str(news_engine.settings.home),
                                     "ASKBRIEF_VECTOR_BACKEND": news_engine.settings.vector_backend})
    assert result.exit_code == 0, result.output
    assert [h["doc_id"] for h in json.loads(result.output)] == [h.doc_id for h in hits]


def test_one_ingest_cannot_name_an_id_twice(engine):
    first = make_document("The council approved the budget for the new bridge on Monday.", where="a", id="same")
    second = make_document("Heavy rain flooded the valley and closed two roads overnight.", where="b", id="same")
    with pytest.raises(BadInput, match="share the id 'same'") as e:
        engine.ingest([first, second])
    assert e.value.field == "id"
    assert not engine.path.exists() or engine.store().count() == 0  # nothing written


def vector_ids(engine: Engine) -> set[int]:
    """The ids the FAISS index holds, read from the index itself."""
    store = engine.store()
    store.vector_index()  # in step with SQLite
    index = store._vectors.index
    return set(faiss.vector_to_array(index.id_map).tolist())


def chunk_ids(engine: Engine) -> set[int]:
    return {int(i) for page in engine.store().vector_pages() for i in page.ids}


@pytest.mark.slow
def test_every_vector_id_names_a_stored_chunk_after_every_kind_of_write(engine):
    rows = news_articles(1)
    docs = [make_document(r["text"], where=r["id"], id=r["id"], title=r["title"]) for r in rows]
    writes = [
        ("add", lambda: engine.ingest(docs[:4])),
        ("add more", lambda: engine.ingest(docs[4:])),
        ("replace", lambda: engine.ingest([make_document(docs[5].text + "\n\nA correction was added.", where="r",
                                                          id=docs[0].id)])),
        ("exact copy", lambda: engine.ingest([make_document(docs[1].text, where="c", id="a-copy")])),
        ("delete", lambda: engine.delete([docs[2].id, "a-copy"])),
        ("re-add", lambda: engine.ingest([docs[2]])),
    ]
    seen: set[int] = set()
    gone: set[int] = set()
    for name, write in writes:
        write()
        stored = chunk_ids(engine)
        assert vector_ids(engine) == stored, name
        reopened = Engine(engine.name, engine.settings)  # and the saved file agrees too
        assert vector_ids(reopened) == stored, name
        reopened.store().close()
        assert not gone & stored, name  # an id once deleted never comes back for another chunk
        gone |= seen - stored
        seen |= stored
    question = docs[2].title
    vector = engine.embedder.encode([question])[0]
    hits = engine.store().dense_search(vector, 50)
    assert {i for i, _ in hits} <= chunk_ids(engine) and np.isfinite([s for _, s in hits]).all()
