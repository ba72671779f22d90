"""No question, however long or in whatever script, is a crash: the pair encoder cuts the
question, never the sentence; the API answers it; a batch answers every line it can."""

import json

from conftest import SEED_QUESTION, assert_faithful
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from askbrief.cli import app
from askbrief.serve.api import create_app

LONG = {
    "English": "What did the minister say about the trade agreement, the oil prices and the payments " * 12,
    "Russian": "Что сказал министр иностранных дел о торговле, ценах на нефть и платежах в рупиях " * 12,
    "Chinese": "外交部长在莫斯科会见俄罗斯总统时关于贸易石油价格和卢比支付系统说了什么" * 20,
}


def test_a_long_question_in_any_script_is_answered_or_declined_never_a_crash(seed_engine):
    """A question that alone fills the models' 128 word pieces once raised `ValueError: 1 is not
    in list` in the pair encoder; it is cut, never the sentence."""
    for language, text in LONG.items():
        question = text[:1000]
        answer = seed_engine.ask(question, explain=True)
        assert answer.citations, language
        assert_faithful(seed_engine, answer)


def test_the_api_answers_a_1000_character_question(seed_engine):
    client = TestClient(create_app(seed_engine))
    for text in LONG.values():
        response = client.post("/ask", json={"question": text[:1000]})
        assert response.status_code == 200, response.text
    too_long = client.post("/ask", json={"question": "x" * 1001})
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["loc"] == ["body", "question"]


def test_a_batch_answers_every_line_and_gives_a_refused_one_a_json_error(seed_engine, tmp_path, monkeypatch):
    monkeypatch.setenv("ASKBRIEF_HOME", str(seed_engine.settings.home))
    questions = tmp_path / "questions.txt"
    questions.write_text("\n".join([SEED_QUESTION, LONG["Russian"][:1000], "y" * 1500, LONG["Chinese"][:1000]]) + "\n",
                         encoding="utf-8")
    result = CliRunner().invoke(app, ["ask", "--batch", str(questions), "--index", seed_engine.name])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4 and result.exit_code == 1
    assert lines[0]["citations"] and lines[1]["citations"] and lines[3]["citations"]
    assert lines[2]["field"] == "question" and "keep it under 1000" in lines[2]["error"]
    assert "1 of 4 questions refused" in result.stderr
