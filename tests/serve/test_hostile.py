"""Issue 16's findings, each through the real server: no request that freezes, bloats or breaks
the service, no setting that silently opens it, no id that can spoof a listing."""

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from conftest import SEEDS, live_server, news_articles, write_jsonl
from typer.testing import CliRunner

from askbrief.cli import app
from askbrief.engine import Engine
from askbrief.settings import Settings

KEY = "hostile-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
ASKBRIEF = os.path.join(os.path.dirname(sys.executable), "askbrief")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("hostile")
    engine = Engine("hostile", Settings(home=home, api_key=KEY))
    engine.ingest_paths([SEEDS, write_jsonl(home / "news.jsonl", news_articles(1))])
    engine.warm()
    with live_server(engine) as url:
        with httpx.Client(base_url=url, timeout=60) as client:
            yield client


def test_a_chunked_multipart_upload_cannot_pass_the_body_limit(server):
    def chunks():  # no Content-Length: httpx sends it chunked
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n'
        for _ in range(11):
            yield b"word " * 200_000  # 1 MB
        yield b"\r\n--b--\r\n"

    response = server.post("/documents", content=chunks(), headers={**AUTH, "Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code == 413 and "limit" in response.json()["detail"][0]["msg"]
    streamed = server.post("/documents", content=(b"[" + b" " * 1_000_000 for _ in range(11)),
                           headers={**AUTH, "Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert server.get("/health").status_code == 200


def test_capitalised_words_without_a_cue_ingest_at_once(server):
    started = time.perf_counter()
    response = server.post("/documents", json={"id": "regex-bomb", "text": "Aa " * 12000 + "end."}, headers=AUTH)
    assert response.status_code == 200 and time.perf_counter() - started < 5  # was 19 s, holding the GIL
    assert server.delete("/documents/regex-bomb", headers=AUTH).status_code == 204


def test_two_documents_with_one_id_in_a_batch_are_refused_and_the_index_stays_whole(server, tmp_path):
    batch = [{"id": "twin", "text": "The first text about a harbour strike in Rotterdam."},
             {"id": "twin", "text": "The second text about a drought in southern Spain."}]
    response = server.post("/documents", json=batch, headers=AUTH)
    assert response.status_code == 400 and response.json()["detail"][0]["loc"] == ["body", "id"]
    assert server.get("/search", params={"q": "harbour strike Rotterdam"}).status_code == 200
    assert server.post("/ask", json={"question": "Where was the harbour strike?"}).status_code == 200
    assert server.get("/documents/twin").status_code == 404
    twins = write_jsonl(tmp_path / "twins.jsonl", batch)
    result = CliRunner().invoke(app, ["ingest", str(twins), "--index", "twins"], env={"ASKBRIEF_HOME": str(tmp_path)})
    assert result.exit_code == 1 and "share the id 'twin'" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("question", ["What happened since 2023-13-45?", "What happened after 2005-02-30?",
                                      "What happened in 0000?", "What happened in March 0000?"])
def test_impossible_dates_in_a_question_are_a_400(server, question):
    response = server.post("/ask", json={"question": question})
    assert response.status_code == 400 and response.json()["detail"][0]["loc"] == ["body", "question"]


def test_an_article_dated_at_the_end_of_time_breaks_no_relative_date(server):
    response = server.post("/documents", json={"id": "far-future", "published": "9999-12-31",
                                               "text": "The time capsule was opened by the mayor at noon."}, headers=AUTH)
    assert response.status_code == 200
    for question in ("What happened this week?", "What happened today?", "What happened last month?"):
        assert server.post("/ask", json={"question": question}).status_code == 200
    assert server.delete("/documents/far-future", headers=AUTH).status_code == 204


def test_summary_requests_are_bounded(server):
    many = server.post("/summarize", json={"doc_ids": [f"id-{i}" for i in range(10_000)]})
    assert many.status_code == 422 and "doc_ids" in many.json()["detail"][0]["loc"]
    report = "\n\n".join(r["text"] for r in news_articles())[:195_000]  # ~1,300 sentences in one document
    queued = server.post("/documents", json={"id": "long-report", "text": report}, headers=AUTH)
    assert queued.status_code == 202  # over ASKBRIEF_ASYNC_INGEST_BYTES: the server's worker writes it
    deadline = time.monotonic() + 120
    while (job := server.get(queued.headers["location"]).json())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["state"] == "done" and job["result"][0]["sentences"] > 1000
    started = time.perf_counter()
    summary = server.post("/summarize", json={"doc_ids": ["long-report"], "max_sentences": 5})
    assert summary.status_code == 200 and len(summary.json()["citations"]) == 5
    assert time.perf_counter() - started < 5  # 6,000 sentences took 18 s and 2.2 GB before
    assert server.delete("/documents/long-report", headers=AUTH).status_code == 204


def test_documents_past_the_limits_are_refused_naming_the_limit(server):
    long = server.post("/documents", json={"id": "too-long", "text": "word " * 50_000}, headers=AUTH)
    assert long.status_code == 400 and "limit is 200000" in long.json()["detail"][0]["msg"]
    many = server.post("/documents", json={"id": "too-many", "text": "Go. " * 4_000}, headers=AUTH)
    assert many.status_code == 400 and "limit is 3000" in many.json()["detail"][0]["msg"]


def test_deeply_nested_json_is_a_400_not_a_crash(server, tmp_path):
    nested = "[" * 100_000 + "]" * 100_000
    upload = server.post("/documents", files={"file": ("deep.json", nested.encode())}, headers=AUTH)
    assert upload.status_code == 400 and "nested too deeply" in upload.json()["detail"][0]["msg"]
    body = server.post("/documents", content=nested, headers={**AUTH, "Content-Type": "application/json"})
    assert 400 <= body.status_code < 500
    lines = server.post("/documents", files={"file": ("deep.jsonl", nested.encode())}, headers=AUTH)
    assert lines.status_code == 400
    (tmp_path / "deep.json").write_text(nested)
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "deep.json")], env={"ASKBRIEF_HOME": str(tmp_path)})
    assert result.exit_code == 1 and "nested too deeply" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("doc_id", ["a/b", "../up", "right\u202eleft", "zero\u200bwidth", "tab\there",
                                    "p\u0430ypal", "-leading"])
def test_ids_outside_the_safe_set_are_refused(server, doc_id):
    response = server.post("/documents", json={"id": doc_id, "text": "A short article about a village fete."},
                           headers=AUTH)
    assert response.status_code == 400 and response.json()["detail"][0]["loc"] == ["body", "id"]


def test_every_accepted_id_can_be_fetched_and_deleted(server):
    for doc_id in ("plain", "with.dots_and-dashes", "tag:2024@wire+1~x"):
        assert server.post("/documents", json={"id": doc_id, "text": f"An article filed as {doc_id} about rain."},
                           headers=AUTH).status_code == 200
        assert server.get(f"/documents/{doc_id}").json()["id"] == doc_id
        assert server.delete(f"/documents/{doc_id}", headers=AUTH).status_code == 204


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(home, env: dict, port: int) -> subprocess.Popen:
    return subprocess.Popen([ASKBRIEF, "serve", "--port", str(port), "--index", "seed"], stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True, env={**os.environ, "ASKBRIEF_HOME": str(home), **env})


@pytest.fixture(scope="module")
def seed_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("serve")
    Engine("seed", Settings(home=home)).ingest_paths([SEEDS])
    return home


@pytest.mark.parametrize("env, named", [({"ASKBRIEF_PROTECT_READS": "true"}, "ASKBRIEF_PROTECT_READS"),
                                        ({"ASKBRIEF_API_KEY": ""}, "ASKBRIEF_API_KEY"),
                                        ({"ASKBRIEF_API_KEY": "  "}, "ASKBRIEF_API_KEY")])
def test_settings_that_would_open_the_service_refuse_to_start(seed_home, env, named):
    process = serve(seed_home, env, free_port())
    try:
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()  # a server that did start must not outlive the test
    assert process.returncode == 1 and named in err and "Traceback" not in err


def test_protected_reads_hide_the_index_from_health_and_every_request_is_logged(seed_home):
    port = free_port()
    process = serve(seed_home, {"ASKBRIEF_API_KEY": KEY, "ASKBRIEF_PROTECT_READS": "true"}, port)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                anonymous = httpx.get(f"{url}/health", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert anonymous.json() == {"status": "ok"}
        keyed = httpx.get(f"{url}/health", headers=AUTH, timeout=5).json()
        assert keyed["index"] == "seed" and keyed["documents"] == 1
        assert httpx.post(f"{url}/ask", json={"question": "What did Putin say?"}, timeout=30).status_code == 401
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert {(r["path"], r["status"]) for r in logged} >= {("/health", 200), ("/ask", 401)}
    assert all(len(r["request_id"]) == 16 and r["ms"] >= 0 for r in logged)
