"""The MCP server as an assistant meets it: the real `askbrief mcp` process over stdio, driven by
the official SDK's own client."""

import json
import os
import sys
from pathlib import Path

import anyio
import pytest
from conftest import SEED_ID, SEED_QUESTION, SEEDS
from mcp import Client, StdioServerParameters

from askbrief.engine import Engine
from askbrief.settings import Settings

ASKBRIEF = str(Path(sys.executable).with_name("askbrief"))


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("mcp-home")
    Engine("seed", Settings(home=home)).ingest_paths([SEEDS])
    return home


def session(home: Path, index: str = "seed") -> Client:
    env = {"ASKBRIEF_HOME": str(home), "HF_HUB_OFFLINE": "1", "PATH": os.environ.get("PATH", "")}
    return Client(StdioServerParameters(command=ASKBRIEF, args=["mcp", "--index", index], env=env),
                  read_timeout_seconds=120)


def test_the_tools_answer_with_the_rest_apis_citations(home):
    engine = Engine("seed", Settings(home=home))

    async def calls():
        async with session(home) as client:
            listed = {t.name: t for t in (await client.list_tools()).tools}
            asked = await client.call_tool("ask", {"question": SEED_QUESTION})
            explained = await client.call_tool("ask", {"question": SEED_QUESTION, "explain": True})
            summary_why = await client.call_tool("summarize", {"max_sentences": 2, "explain": True})
            searched = await client.call_tool("search", {"query": "trade turnover", "k": 3})
            summary = await client.call_tool("summarize", {"doc_ids": [SEED_ID], "max_sentences": 2})
            quoted = await client.call_tool("quotes", {"speaker": "Putin", "about": "trade", "limit": 3})
            answer = asked.structured_content
            shown = await client.call_tool("show_citation", {"citation_id": answer["citations"][0]["id"]})
            resources = await client.read_resource("askbrief://documents")
            document = await client.read_resource(f"askbrief://documents/{SEED_ID}")
            story = await client.call_tool("timeline", {"query": "Russia and India trade", "dates": 2})
            return listed, asked, searched, summary, quoted, shown, resources, document, explained, summary_why, story

    listed, asked, searched, summary, quoted, shown, resources, document, explained, summary_why, story = anyio.run(calls)
    assert set(listed) == {"ask", "search", "summarize", "quotes", "show_citation", "timeline"}
    assert story.structured_content == engine.timeline("Russia and India trade", dates=2).model_dump(exclude={"timings_ms"}) | {
        "timings_ms": story.structured_content["timings_ms"]}
    assert listed["ask"].input_schema["required"] == ["question"]
    assert answer_has_no_explanation(asked) and explained.structured_content["explanation"]["path"] == "quotes"
    assert explained.structured_content["citations"] == asked.structured_content["citations"]
    assert summary_why.structured_content["explanation"]["picked"]
    assert not any(r.is_error for r in (asked, searched, summary, quoted, shown))
    answer = asked.structured_content
    same = engine.ask(SEED_QUESTION).model_dump()
    assert (answer["answer"], answer["citations"]) == (same["answer"], same["citations"])  # the REST record, field for field
    assert "trade turnover" in answer["citations"][0]["quote"]
    assert json.loads(asked.content[0].text)["answer"] == answer["answer"]  # text content for hosts without structure
    text = json.loads(document.contents[0].text)["text"]
    for c in answer["citations"] + summary.structured_content["citations"]:
        assert text[c["start"]:c["end"]] == c["quote"]
    assert shown.structured_content["quote"] == answer["citations"][0]["quote"]
    hits = searched.structured_content["result"]
    assert len(hits) == 3 and hits[0]["doc_id"] == SEED_ID
    assert all("Putin" in q["speaker"] for q in quoted.structured_content["result"])
    listing = json.loads(resources.contents[0].text)
    assert [d["uri"] for d in listing] == [f"askbrief://documents/{SEED_ID}"]


def answer_has_no_explanation(result) -> bool:
    return result.structured_content["explanation"] is None


def test_bad_arguments_are_tool_errors_and_the_server_lives_on(home):
    async def calls():
        async with session(home) as client:
            results = [await client.call_tool("ask", {"question": ""}),
                       await client.call_tool("ask", {"question": "trade", "top_k": 999}),
                       await client.call_tool("show_citation", {"citation_id": "not-a-citation"}),
                       await client.call_tool("summarize", {"doc_ids": ["no-such-doc"]}),
                       await client.call_tool("ask", {"question": "Who met Putin?"})]
            return results

    empty, too_many, bad_id, unknown, fine = anyio.run(calls)
    assert all(r.is_error for r in (empty, too_many, bad_id, unknown))
    assert "question" in empty.content[0].text and "top_k" in too_many.content[0].text
    assert "BadInput: citation id 'not-a-citation'" in bad_id.content[0].text
    assert "DocumentNotFound" in unknown.content[0].text and "no-such-doc" in unknown.content[0].text
    assert not fine.is_error and fine.structured_content["citations"]


def test_an_index_that_does_not_exist_is_a_tool_error(home):
    async def calls():
        async with session(home, index="missing") as client:
            return await client.call_tool("ask", {"question": SEED_QUESTION})

    result = anyio.run(calls)
    assert result.is_error and "IndexNotFound" in result.content[0].text


# ---- over streamable HTTP, inside `askbrief serve` ---------------------------------------------

KEY = "mcp-test-key"


@pytest.fixture(scope="module")
def served(home):
    """`askbrief serve` over the seed index, its reads behind a key; its base URL."""
    import socket
    import subprocess
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "ASKBRIEF_HOME": str(home), "ASKBRIEF_API_KEY": KEY, "ASKBRIEF_PROTECT_READS": "true"}
    process = subprocess.Popen([ASKBRIEF, "serve", "--index", "seed", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/health", timeout=2)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=30)


def test_mcp_over_http_answers_as_post_ask_does_behind_the_same_key(served):
    import httpx
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    async def calls(headers: dict):
        transport = streamable_http_client(served + "/mcp", http_client=create_mcp_http_client(headers=headers))
        async with Client(transport, read_timeout_seconds=120) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            asked = await client.call_tool("ask", {"question": SEED_QUESTION})
            document = await client.read_resource(f"askbrief://documents/{SEED_ID}")
            return tools, asked, document

    tools, asked, document = anyio.run(calls, {"Authorization": f"Bearer {KEY}"})
    assert tools == {"ask", "search", "summarize", "quotes", "show_citation", "timeline"} and not asked.is_error
    rest = httpx.post(served + "/ask", json={"question": SEED_QUESTION}, headers={"Authorization": f"Bearer {KEY}"}).json()
    over_mcp = dict(asked.structured_content)
    assert over_mcp.pop("timings_ms") and rest.pop("timings_ms")
    assert over_mcp == rest  # the same record, field for field
    text = json.loads(document.contents[0].text)["text"]
    assert all(text[c["start"]:c["end"]] == c["quote"] for c in over_mcp["citations"])

    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ask", "arguments": {"question": "x"}}}
    mcp_headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}
    refused = httpx.post(served + "/mcp", json=call, headers=mcp_headers)
    assert refused.status_code == 401 and refused.json()["detail"][0]["loc"][-1] == "authorization"
    wrong = httpx.post(served + "/mcp", json=call, headers={**mcp_headers, "Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    rebinding = httpx.post(served + "/mcp", json=call, headers={**mcp_headers, "Authorization": f"Bearer {KEY}",
                                                                 "Origin": "http://evil.example"})
    assert rebinding.status_code == 403
    with pytest.raises(Exception):  # the SDK's own client, without the key: refused before any tool runs
        anyio.run(calls, {})
