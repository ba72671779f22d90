"""The shipped sentence scorer: it loads offline from the package, reads a sentence against a
question, marks a short answer that is really in the cited text, and needs no torch."""

import subprocess
import sys

from conftest import assert_faithful

from askbrief.answer.span import MAX_TOKENS, MODEL_FILE, encode_pair, load_scorer, tokenizer

QUESTION = "Who did Jaishankar meet in Moscow?"
ANSWERING = "External Affairs Minister S Jaishankar on Wednesday met Russian President Vladimir Putin in Moscow."


def test_the_model_ships_in_the_package_with_its_card():
    assert MODEL_FILE.exists() and MODEL_FILE.stat().st_size < 30_000_000
    card = (MODEL_FILE.parent / "READER.md").read_text()
    assert "SQuAD 1.1 train" in card and "CC BY-SA 4.0" in card and "scripts/train_reader.py" in card


def test_the_answering_sentence_outscores_sentences_on_the_same_topic():
    others = ["The two ministers discussed oil prices, fertiliser and the rupee payment system.",
              "India's cricket team won the match in Mumbai by six wickets on Sunday."]
    logits, spans = load_scorer().score(QUESTION, [("", ANSWERING)] + [("", s) for s in others])
    assert logits[0] > logits[1:].max()
    start, end = spans[0]
    assert 0 <= start < end <= len(ANSWERING) and "Putin" in ANSWERING[start:end]


def test_an_entity_swapped_question_scores_below_the_real_one():
    """SQuAD 2.0's trap: the sentence fits the question's shape but not its subject."""
    logits, _ = load_scorer().score(QUESTION, [("", ANSWERING)])
    swapped, _ = load_scorer().score("Who did Jaishankar meet in Beijing?", [("", ANSWERING)])
    assert swapped[0] < logits[0]


def test_long_pairs_are_cut_to_the_model_length_keeping_the_sentence():
    encoded = encode_pair(tokenizer(), QUESTION, "context words " * 200, "Putin met Jaishankar in Moscow.")
    assert len(encoded.ids) <= MAX_TOKENS and sum(encoded.in_sentence) >= 8


def test_a_short_answer_lies_inside_the_first_citation_of_the_answer(news_engine):
    answers = news_engine.ask_many(["Who presided over the impeachment rules vote?",
                                    "How many Democrats supported the impeachment resolution?",
                                    "By how much has US surface ozone declined since 1980?"])
    spans = [a for a in answers if a.span]
    assert spans, [a.text for a in answers]
    for answer in spans:
        first = answer.citations[0]
        assert answer.span.doc_id == first.doc_id and first.start <= answer.span.start < answer.span.end <= first.end
        assert news_engine.document(first.doc_id).text[answer.span.start:answer.span.end] == answer.span.text
        assert_faithful(news_engine, answer)


def test_reading_an_answer_never_imports_torch():
    """The scorer and reader run on onnxruntime and tokenizers only."""
    script = ("import sys; from askbrief.answer.reader import Reader; r = Reader(); "
              f"r.scorer.score({QUESTION!r}, [('', {ANSWERING!r})]); print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_a_question_that_fills_the_model_alone_is_cut_never_the_sentence():
    """A 1,000-character question once raised `ValueError: 1 is not in list` here."""
    for question in ("Что сказал министр о торговле и ценах на нефть " * 25, "外交部长关于贸易说了什么" * 80, "why " * 250):
        encoded = encode_pair(tokenizer(), question[:1000], "the sentence before", "Putin met Jaishankar in Moscow.")
        assert len(encoded.ids) <= MAX_TOKENS and sum(encoded.in_sentence) >= 8


def test_a_12000_word_sentence_is_cut_once_keeping_its_start_and_the_question():
    """Issue 38: the cut was one word piece a turn, rescanning the pair each time (31 s for this)."""
    sentence = "Aa " * 12000 + "end."
    encoded = encode_pair(tokenizer(), QUESTION, "The sentence before it.", sentence, "A title")
    assert len(encoded.ids) == MAX_TOKENS
    kept = [o for o, inside in zip(encoded.offsets, encoded.in_sentence) if inside]
    assert kept[0][0] == encoded.sentence_at  # the sentence's start is kept, its end cut
    assert sum(encoded.in_sentence) == MAX_TOKENS - 3 - len(tokenizer().encode(QUESTION).ids) + 2  # context and title gone first
