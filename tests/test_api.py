import pytest
from fastapi.testclient import TestClient

from askbrief.api import create_app
from askbrief.engine import Engine
from askbrief.settings import Settings
from conftest import SEED_ID, SEED_QUESTION, assert_faithful


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
    ({"question": SEED_QUESTION, "since": "soon"}, "published"),
])
def test_bad_ask_requests_are_4xx_naming_the_field(client, body, field):
    response = client.post("/ask", json=body)
    assert 400 <= response.status_code < 500
    assert field in [part for d in response.json()["detail"] for part in d["loc"]]


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
    assert health["documents"] == 1 and health["model"].endswith("all-MiniLM-L6-v2")
    empty = Engine("empty", Settings(home=tmp_path))
    empty.ingest([])
    response = TestClient(create_app(empty)).post("/ask", json={"question": SEED_QUESTION})
    assert response.status_code == 409 and "holds no documents" in response.json()["detail"][0]["msg"]
