"""Who said what, on the seed article and through the CLI and API."""

import json

import pytest
from conftest import SEEDS, needs_data
from fastapi.testclient import TestClient

from askbrief.ingest.documents import load_paths
from askbrief.retrieve.hybrid import Retriever
from askbrief.serve.api import create_app
from askbrief.text.quotes import extract


def seed_quotes():
    (doc,) = load_paths([SEEDS])
    return doc.text, extract(doc.text)


def by_opening(text, quotes, opening):
    return next(q for q in quotes if text[q.start:q.end].startswith(opening))


def test_the_seed_quotes_go_to_the_right_speakers():
    text, quotes = seed_quotes()
    trade = by_opening(text, quotes, "Our trade turnover is growing")
    assert "Putin" in trade.speaker and trade.cue == "was quoted as saying"
    assert text[trade.speaker_start:trade.speaker_end] == "he"  # resolved through the pronoun
    partners = by_opening(text, quotes, "As strategic partners")
    assert "Jaishankar" in partners.speaker
    minister = by_opening(text, quotes, "Noted the progress")
    assert "Jaishankar" in minister.speaker and text[minister.speaker_start:minister.speaker_end] == "the minister"
    visit = by_opening(text, quotes, "our dear friend")
    assert "Putin" in visit.speaker and text[visit.speaker_start:visit.speaker_end] == "The Russian President"
    assert "Putin" in by_opening(text, quotes, "Please tell him").speaker  # a quote standing alone continues


def test_offsets_point_at_the_quote_and_the_speaker_mention():
    text, quotes = seed_quotes()
    for q in quotes:
        assert q.start < q.end and text[q.start:q.end].strip() == text[q.start:q.end]
        assert text[q.speaker_start:q.speaker_end]


def test_quotes_from_the_cli_and_the_api(seed_engine, monkeypatch):
    found = seed_engine.quotes("putin", about="trade")
    assert found[0].quote.startswith("Our trade turnover is growing")
    for q in found:
        assert seed_engine.document(q.doc_id).text[q.start:q.end] == q.quote
    assert seed_engine.quotes("Nobody") == []
    client = TestClient(create_app(seed_engine))
    body = client.get("/quotes", params={"speaker": "Jaishankar"}).json()
    assert body and all("Jaishankar" in q["speaker"] for q in body)
    assert client.get("/quotes", params={"speaker": "%"}).json() == []

    from typer.testing import CliRunner

    from askbrief.cli import app

    monkeypatch.setenv("ASKBRIEF_HOME", str(seed_engine.settings.home))
    result = CliRunner().invoke(app, ["quotes", "--speaker", "Putin", "--index", "seed", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)[0]["speaker"].endswith("Putin")


def test_what_did_x_say_is_answered_from_x_quotes_with_their_own_confidence(seed_engine):
    from conftest import SEED_QUESTION, assert_faithful

    from askbrief.retrieve.question import parse

    question = "What did Jaishankar say about the meeting with Lavrov?"
    answer = seed_engine.ask(question)
    assert answer.answer.startswith("As of 2023-12-27, S. Jaishankar said:") and "Lavrov" in answer.citations[0].quote
    assert len(answer.citations) == 1
    assert_faithful(seed_engine, answer)
    parsed = parse(question)
    vector, topic = seed_engine.embedder.encode([question, parsed.topic])  # one batch, as ask() embeds them
    evidence = Retriever(seed_engine.store()).evidence(parsed, vector, 5)
    assert seed_engine.reader.answer(parsed, vector, evidence, topic) == answer.model_copy(update={"timings_ms": {}})
    sentence_answer = seed_engine.reader.answer(parsed, vector, evidence)  # without the topic, no quote is read
    assert answer.confidence != sentence_answer.confidence  # the quote's own
    timings = answer.timings_ms
    assert abs(timings["total"] - sum(v for k, v in timings.items() if k != "total")) < 0.05
    trade = seed_engine.ask(SEED_QUESTION)  # Putin's quote reads weaker than the sentence reporting it
    assert "trade turnover" in trade.citations[0].quote and "Putin" in trade.answer
    assert seed_engine.ask("What did Putin say about football?").abstained  # no relevant quote, no answer


@needs_data
def test_attribution_on_hand_labelled_bbc_quotes_stays_above_its_floor():
    """Guards the measured figures (README): on the 108 development quotations precision 0.99 and
    recall 0.85; on the 26 held-out ones precision 0.90 and recall 0.69."""

    from conftest import DATA
    from scripts.eval_quotes import GOLD, score

    floors = {GOLD: (0.95, 0.80), GOLD.with_name("quotes-heldout.jsonl"): (0.85, 0.65)}
    for path, (precision, recall) in floors.items():
        gold = [json.loads(line) for line in path.open()]
        wanted = {g["doc_id"] for g in gold}
        articles = {}
        for line in (DATA / "bbc-news-summary.jsonl").open():
            row = json.loads(line)
            if row["id"] in wanted:
                articles[row["id"]] = row["text"]
        result = score(articles, gold)
        assert result["precision"] >= precision and result["recall"] >= recall, (path.name, result)


FRENCH = [json.loads(line) for line in (SEEDS.parent / "tests" / "data" / "wikinews-multilingual.jsonl")
          .read_text(encoding="utf-8").splitlines()]
GERMAN = ("„Wir werden die Steuern in diesem Jahr nicht erhöhen“, sagte Bundeskanzler Olaf Scholz am Montag in "
          "Berlin. Die Außenministerin Annalena Baerbock erklärte: „Das ist ein guter Tag für Europa und für uns.“ "
          "»Die Lage bleibt trotz allem ernst«, warnte der Ökonom Marcel Fratzscher.")


def test_french_quotes_go_to_the_speaker_named_at_the_speech_verb():
    from askbrief.text.quotes_fr_de_es import extract_other

    found = {}
    for row in FRENCH:
        for q in extract_other(row["text"], "fr"):
            assert row["text"][q.speaker_start:q.speaker_end] == q.speaker
            found[row["text"][q.start:q.end][:40]] = (q.speaker, q.cue)
    assert found["Je peux confirmer qu'une particule a été"] == ("John Womersley", "a déclaré")  # X a déclaré : « … »
    assert found["Le président Obama a promis le changemen"] == ("Mitt Romney", "a déclaré")  # « … » a déclaré X
    assert found["Nous avons appris que les entreprises av"] == ("Obama", "s'est réjoui")  # a role noun between
    assert found["Les militaires ne doivent plus jouer de "] == ("Abdel Nasser", "affirme")  # an apposition
    assert not any(speaker == "Collateral Murder" for speaker, _ in found.values())  # a title, not a quote


def test_german_quotes_with_both_kinds_of_marks():
    from askbrief.text.quotes_fr_de_es import extract_other

    quotes = extract_other(GERMAN, "de")
    said = {GERMAN[q.start:q.end]: (q.speaker, q.cue) for q in quotes}
    assert said == {"Wir werden die Steuern in diesem Jahr nicht erhöhen": ("Olaf Scholz", "sagte"),
                    "Das ist ein guter Tag für Europa und für uns.": ("Annalena Baerbock", "erklärte"),
                    "Die Lage bleibt trotz allem ernst": ("Marcel Fratzscher", "warnte")}
    assert extract_other(GERMAN, "it") == []  # a language without rules has no quotes, never English ones


@pytest.mark.slow
def test_an_english_question_finds_a_french_speakers_own_words(tmp_path):
    from askbrief import Engine, Settings

    engine = Engine("fr", Settings(home=tmp_path), embedder="multilingual")
    engine.ingest_paths([SEEDS.parent / "tests" / "data" / "wikinews-multilingual.jsonl"])
    assert any(q.speaker == "Philippe Varin" for q in engine.quotes("Varin"))
    answer = engine.ask("What did Philippe Varin say about the job cuts?")
    assert answer.citations[0].doc_id == "wn-fr-france-psa-va-supprimer-8-000"
