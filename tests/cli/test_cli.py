import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT, SEED_ID, SEED_QUESTION, SEEDS
from typer.testing import CliRunner

from askbrief.cli import app


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli-home")
    os.environ["ASKBRIEF_HOME"] = str(home)
    result = CliRunner().invoke(app, ["ingest", str(SEEDS), "--index", "seed"])
    assert result.exit_code == 0, result.output
    assert "added 1 documents (18 sentences" in result.output
    yield home
    del os.environ["ASKBRIEF_HOME"]


def run(*args):
    return CliRunner().invoke(app, list(args))


def check_quotes(home, record):
    text = json.loads(run("show", record["citations"][0]["doc_id"], "--index", "seed", "--json").output)["text"]
    for c in record["citations"]:
        assert text[c["start"]:c["end"]] == c["quote"]


def test_ask_json_prints_the_answer_record(home):
    result = run("ask", SEED_QUESTION, "--index", "seed", "--json")
    assert result.exit_code == 0
    answer = json.loads(result.output)
    assert set(answer) == {"question", "answer", "abstained", "confidence", "citations", "timings_ms", "span",
                           "explanation"}
    assert answer["explanation"] is None  # only when asked
    assert "trade turnover" in answer["citations"][0]["quote"]
    check_quotes(home, answer)


def test_ask_prints_readable_text_by_default(home):
    result = run("ask", SEED_QUESTION, "--index", "seed")
    assert result.exit_code == 0
    assert "trade turnover" in result.output.splitlines()[0]
    assert f"[1] {SEED_ID} chars" in result.output


def test_explain_prints_each_stage_under_the_answer_and_json_adds_the_record(home):
    plain = run("ask", SEED_QUESTION, "--index", "seed").output
    result = run("ask", "Who won the 2022 World Cup?", "--index", "seed", "--explain")
    assert result.exit_code == 0
    out = result.output
    for heading in ("Why this answer", "1. The question", "2. Retrieval", "3. Reading", "4. Confidence"):
        assert heading in out
    assert "below the threshold" in out.split("Why this answer")[0]  # the answer comes first, as without --explain
    assert "do not mention" in out and "'2022'" in out
    explained = run("ask", SEED_QUESTION, "--index", "seed", "--explain").output
    assert explained.startswith(plain)  # the same answer, the report under it
    record = json.loads(run("ask", SEED_QUESTION, "--index", "seed", "--json", "--explain").output)
    assert record["explanation"]["path"] == "quotes" and record["explanation"]["question"]["speaker"] == "Putin"
    summary = run("summarize", "--index", "seed", "--sentences", "2", "--explain").output
    assert "Why these sentences" in summary and "-> picked 1st" in summary
    assert json.loads(run("summarize", "--index", "seed", "--json", "--explain").output)["explanation"]["picked"]


def test_summarize_json_and_batch(home, tmp_path):
    summary = json.loads(run("summarize", "--index", "seed", "--json", "--sentences", "3").output)
    assert len(summary["citations"]) == 3 and summary["doc_ids"] == [SEED_ID]
    check_quotes(home, summary)
    requests = tmp_path / "requests.jsonl"
    requests.write_text(json.dumps({"doc_ids": [SEED_ID], "max_sentences": 2}) + "\n" + json.dumps({"query": "trade"}) + "\n")
    lines = run("summarize", "--index", "seed", "--batch", str(requests)).output.splitlines()
    assert [len(json.loads(line)["citations"]) for line in lines] == [2, 4]


def test_ask_batch_prints_one_answer_a_line(home, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text(f"{SEED_QUESTION}\n\nWhat did Putin say about football?\n")
    lines = run("ask", "--batch", str(questions), "--index", "seed").output.splitlines()
    answers = [json.loads(line) for line in lines]
    assert [a["abstained"] for a in answers] == [False, True]


def test_search_show_and_delete(home, tmp_path):
    hits = json.loads(run("search", "trade turnover", "--index", "seed", "--json").output)
    assert "trade turnover" in hits[0]["text"]
    note = tmp_path / "note.txt"
    note.write_text("A short note about the weather in Moscow, which was cold and snowy.")
    assert run("ingest", str(note), "--index", "seed").exit_code == 0
    assert run("delete", "note", "--index", "seed").output.strip() == "deleted 1 documents"
    assert run("show", "note", "--index", "seed").exit_code == 1


@pytest.mark.parametrize("args, message", [
    (["ask", "", "--index", "seed"], "question is empty"),
    (["ask", "x" * 1001, "--index", "seed"], "keep it under 1000"),
    (["ask", SEED_QUESTION, "--index", "nope"], "no index at"),
    (["ask", SEED_QUESTION, "--index", "seed", "--top-k", "0"], "top_k must be"),
    (["show", "nope", "--index", "seed"], "no document 'nope'"),
    (["delete", "nope", "--index", "seed"], "no document 'nope'"),
    (["summarize", "--doc", "nope", "--index", "seed"], "no document 'nope'"),
    (["summarize", "--sentences", "100", "--index", "seed"], "max_sentences must be"),
    (["ingest", "missing-folder", "--index", "seed"], "no such file"),
])
def test_bad_input_is_one_line_and_exit_1(home, args, message):
    result = run(*args)
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and message in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_bad_files_are_refused_before_anything_is_written(home, tmp_path):
    (tmp_path / "good.txt").write_text("A good article about rain.")
    (tmp_path / "bad.jsonl").write_text('{"id": "x"}\n')
    result = run("ingest", str(tmp_path / "good.txt"), str(tmp_path / "bad.jsonl"), "--index", "seed")
    assert result.exit_code == 1 and "bad.jsonl:1" in result.output and "'text'" in result.output
    assert run("show", "good", "--index", "seed").exit_code == 1
    (tmp_path / "latin.txt").write_bytes(b"caf\xe9")
    assert "not UTF-8" in run("ingest", str(tmp_path / "latin.txt"), "--index", "seed").output


def test_the_installed_command_reports_errors_without_a_traceback(tmp_path):
    env = {**os.environ, "ASKBRIEF_HOME": str(tmp_path)}
    result = subprocess.run([os.path.join(os.path.dirname(sys.executable), "askbrief"), "ask", "  "],
                            capture_output=True, text=True, env=env, cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr.strip() == 'error: question is empty; ask something, e.g. "What did Putin say about trade?"'


def test_show_resolves_a_citation_id(home):
    answer = json.loads(run("ask", SEED_QUESTION, "--index", "seed", "--json").output)
    cited = answer["citations"][0]
    shown = json.loads(run("show", "--citation", cited["id"], "--index", "seed", "--json").output)
    assert (shown["quote"], shown["start"], shown["end"]) == (cited["quote"], cited["start"], cited["end"])
    assert run("show", "--citation", "zz", "--index", "seed").exit_code == 1


@pytest.mark.parametrize("name, value", [("ONNX_THREADS", "many"), ("VECTOR_BACKEND", "qdrant")])
def test_a_bad_setting_is_one_line_naming_it(home, name, value, monkeypatch):
    monkeypatch.setenv(f"ASKBRIEF_{name}", value)
    result = run("ask", SEED_QUESTION, "--index", "seed")
    assert result.exit_code == 1
    assert f"error: ASKBRIEF_{name}:" in result.output and "Traceback" not in result.output


def test_reindex_of_an_index_already_on_this_embedder_changes_nothing(home):
    before = run("ask", SEED_QUESTION, "--index", "seed", "--json").output
    result = run("reindex", "--index", "seed")
    assert result.exit_code == 0 and "nothing to do" in result.output
    assert run("ask", SEED_QUESTION, "--index", "seed", "--json").output.split('"timings_ms"')[0] == before.split('"timings_ms"')[0]
    missing = run("reindex", "--index", "nowhere")
    assert missing.exit_code == 1 and "askbrief ingest" in missing.output
