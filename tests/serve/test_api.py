import pytest
from conftest import SEED_ID, SEED_QUESTION, SEEDS, assert_faithful
from fastapi.testclient import TestClient

from askbrief.encoders.embed import MODEL_NAME
from askbrief.engine import Engine
from askbrief.serve.api import create_app
from askbrief.settings import Settings


@pytest.fixture(scope="module")
def client(seed_engine):
    return TestClient(create_app(seed_engine))


def test_ask_returns_a_cited_answer(client, seed_engine):
    response = client.post("/ask", json={"question": SEED_QUESTION})
    assert response.status_code == 200
    body = response.json()
    assert "trade turnover" in body["citations"][0]["quote"] and not body["abstained"]
    from askbrief.records import Answer

    assert_faithful(seed_engine, Answer(**body))


@pytest.mark.parametrize("body, field", [
    ({}, "question"),
    ({"question": ""}, "question"),
    ({"question": "   "}, "question"),
    ({"question": "x" * 1001}, "question"),
    ({"question": SEED_QUESTION, "top_k": 0}, "top_k"),
    ({"question": SEED_QUESTION, "colour": "red"}, "colour"),
    ({"question": SEED_QUESTION, "since": "soon"}, "since"),
])
def test_bad_ask_requests_are_4xx_naming_the_field(client, body, field):
    response = client.post("/ask", json=body)
    assert 400 <= response.status_code < 500
    assert field in [part for d in response.json()["detail"] for part in d["loc"]]


def test_ask_and_summarize_explain_only_when_asked(client, seed_engine):
    plain = client.post("/ask", json={"question": SEED_QUESTION}).json()
    explained = client.post("/ask", json={"question": SEED_QUESTION, "explain": True}).json()
    assert plain["explanation"] is None and explained["explanation"]["path"] == "quotes"
    assert explained["citations"] == plain["citations"]
    assert {"question", "retrieval", "reading", "headlines", "path", "order", "confidence"} == set(explained["explanation"])
    assert client.post("/ask", json={"question": SEED_QUESTION, "explain": "very"}).status_code == 422
    summary = client.post("/summarize", json={"max_sentences": 2, "explain": True}).json()
    assert [s["cited"] for s in summary["explanation"]["picked"]] == [1, 2]
    assert client.post("/summarize", json={"max_sentences": 2}).json()["explanation"] is None


def test_summarize_and_documents(client, seed_engine):
    response = client.post("/summarize", json={"doc_ids": [SEED_ID], "max_sentences": 3})
    assert response.status_code == 200 and len(response.json()["citations"]) == 3
    assert client.post("/summarize", json={"doc_ids": ["nope"]}).status_code == 404
    assert client.post("/summarize", json={"max_sentences": 100}).status_code == 422
    assert client.get(f"/documents/{SEED_ID}").json()["published"] == "2023-12-27"
    assert client.get("/documents/nope").status_code == 404
    assert "trade" in client.get("/search", params={"q": "trade turnover", "k": 2}).json()[0]["text"]


def test_health_and_an_empty_index(client, tmp_path):
    health = client.get("/health").json()
    assert health["documents"] == 1 and health["model"] == MODEL_NAME
    empty = Engine("empty", Settings(home=tmp_path))
    empty.ingest([])
    response = TestClient(create_app(empty)).post("/ask", json={"question": SEED_QUESTION})
    assert response.status_code == 409 and "holds no documents" in response.json()["detail"][0]["msg"]


@pytest.fixture()
def fresh(tmp_path):
    return TestClient(create_app(Engine("api", Settings(home=tmp_path))))


def test_documents_added_as_json_listed_and_deleted(fresh):
    assert fresh.get("/health").json()["documents"] == 0
    one = fresh.post("/documents", json={"id": "a", "text": "Oil prices rose sharply on Monday in London trading.",
                                         "published": "2005-01-03", "source": "BBC"})
    assert one.status_code == 200 and one.json() == {"id": "a", "sentences": 1, "chunks": 1, "duplicate_of": None,
                                                     "replaced": False}
    many = fresh.post("/documents", json=[{"id": "b", "text": "Gold fell as the dollar rallied."},
                                          {"id": "c", "text": "Oil prices rose sharply on Monday in London trading."}])
    assert [r["duplicate_of"] for r in many.json()] == [None, "a"]
    page = fresh.get("/documents", params={"limit": 1}).json()
    assert page["total"] == 2 and [d["id"] for d in page["documents"]] == ["a"]
    assert fresh.delete("/documents/a").status_code == 204
    assert fresh.delete("/documents/a").status_code == 404
    assert fresh.get("/documents").json()["total"] == 1


def test_documents_uploaded_as_files(fresh):
    upload = fresh.post("/documents", files={"file": ("seed.txt", (SEEDS / f"{SEED_ID}.txt").read_bytes(), "text/plain")})
    assert upload.status_code == 200 and upload.json()[0]["sentences"] == 18
    assert fresh.get("/documents/seed").json()["published"] == "2023-12-27"
    bad = fresh.post("/documents", files={"file": ("paper.pdf", b"%PDF-1.4", "application/pdf")})
    assert bad.status_code == 400 and "unsupported type .pdf" in bad.json()["detail"][0]["msg"]
    latin = fresh.post("/documents", files={"file": ("x.txt", b"caf\xe9", "text/plain")})
    assert latin.status_code == 400 and latin.json()["detail"][0]["loc"] == ["body", "file"]


@pytest.mark.parametrize("body, field", [({"title": "no text"}, "text"), ({"text": "x", "colour": 1}, "colour"),
                                         ([{"text": ""}], "text")])
def test_bad_documents_are_4xx_naming_the_field(fresh, body, field):
    response = fresh.post("/documents", json=body)
    assert 400 <= response.status_code < 500
    assert field in [part for d in response.json()["detail"] for part in d["loc"]]


def test_oversized_bodies_are_refused(fresh):
    response = fresh.post("/documents", content=b"x", headers={"content-length": str(11 * 1024 * 1024),
                                                                 "content-type": "application/json"})
    assert response.status_code == 413


def test_api_key_guards_writes_and_optionally_reads(tmp_path):
    keyed = TestClient(create_app(Engine("k", Settings(home=tmp_path, api_key="s3cret"))))
    doc = {"id": "a", "text": "Oil prices rose sharply on Monday."}
    assert keyed.post("/documents", json=doc).status_code == 401
    assert keyed.post("/documents", json=doc, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert keyed.post("/documents", json=doc, headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert keyed.post("/ask", json={"question": "What happened to oil?"}).status_code == 200
    locked = TestClient(create_app(Engine("k", Settings(home=tmp_path, api_key="s3cret", protect_reads=True))))
    assert locked.post("/ask", json={"question": "What happened to oil?"}).status_code == 401
    assert locked.post("/ask", json={"question": "What happened to oil?", "explain": True}).status_code == 401
    assert locked.post("/ask", json={"question": "What happened to oil?", "explain": True},
                       headers={"Authorization": "Bearer s3cret"}).json()["explanation"]["reading"]
    assert locked.get("/documents/a", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_every_response_carries_a_request_id_and_is_logged(client, caplog):
    import json
    import logging

    with caplog.at_level(logging.INFO, logger="askbrief.serve.api"):
        response = client.get("/health", headers={"X-Request-ID": "abc123"})
    assert response.headers["x-request-id"] == "abc123"
    line = json.loads(caplog.records[-1].getMessage())
    assert line["request_id"] == "abc123" and line["path"] == "/health" and line["status"] == 200
    assert len(client.get("/health").headers["x-request-id"]) == 16


def test_a_streamed_body_past_the_limit_is_refused(fresh):
    def chunks():
        for _ in range(11):
            yield b" " * (1024 * 1024)

    response = fresh.post("/documents", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and "limit" in response.json()["detail"][0]["msg"]


def test_paging_past_any_index_size_is_a_4xx_not_a_crash(client):
    # found by the schemathesis fuzz: an offset beyond SQLite's 64-bit integers crashed the page
    assert client.get("/documents", params={"offset": 10**20}).status_code == 422
    assert client.get("/documents", params={"offset": 10**6}).json()["documents"] == []


def test_citations_resolve_by_id(client):
    cited = client.post("/ask", json={"question": SEED_QUESTION}).json()["citations"][0]
    assert client.get(f"/citations/{cited['id']}").json()["quote"] == cited["quote"]
    assert client.get("/citations/0123456789abcdef:0-5").status_code == 404
    assert client.get("/citations/bad").status_code == 400
