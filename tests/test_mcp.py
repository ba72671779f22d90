"""The MCP server as an assistant meets it: the real `askbrief mcp` process over stdio, driven by
the official SDK's own client."""

import json
import os
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from askbrief.engine import Engine
from askbrief.settings import Settings
from conftest import SEED_ID, SEED_QUESTION, SEEDS

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
            searched = await client.call_tool("search", {"query": "trade turnover", "k": 3})
            summary = await client.call_tool("summarize", {"doc_ids": [SEED_ID], "max_sentences": 2})
            quoted = await client.call_tool("quotes", {"speaker": "Putin", "about": "trade", "limit": 3})
            answer = asked.structured_content
            shown = await client.call_tool("show_citation", {"citation_id": answer["citations"][0]["id"]})
            resources = await client.read_resource("askbrief://documents")
            document = await client.read_resource(f"askbrief://documents/{SEED_ID}")
            return listed, asked, searched, summary, quoted, shown, resources, document

    listed, asked, searched, summary, quoted, shown, resources, document = anyio.run(calls)
    assert set(listed) == {"ask", "search", "summarize", "quotes", "show_citation"}
    assert listed["ask"].input_schema["required"] == ["question"]
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
