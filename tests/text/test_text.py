import re

from conftest import SEEDS, news_articles

from askbrief.ingest.documents import load_paths
from askbrief.text.sentences import CHUNK_CHARS, MAX_SENTENCE_CHARS, make_chunks, split_sentences, terms


def sentences(text):
    return [text[a:b] for a, b in split_sentences(text)]


def test_seed_sentences_keep_names_and_quotes_whole():
    (doc,) = load_paths([SEEDS])
    found = sentences(doc.text)
    assert found[0] == ("External Affairs Minister Dr S Jaishankar on Wednesday met Russian President"
                        " Vladimir Putin in Moscow.")
    assert "— Dr. S. Jaishankar (@DrSJaishankar) December 27, 2023" in found
    assert '"Please tell him that we expect him here."' in found
    assert len(found) == 18


def test_money_abbreviations_and_quoted_questions():
    text = ('"Of course we applaud it, but why target the airlines?" said Ulrich Schulte-Strathaus. '
            "Sales rose to $1.13bn in the U.S. on Monday. Dr. Smith agreed.")
    assert sentences(text) == [
        '"Of course we applaud it, but why target the airlines?" said Ulrich Schulte-Strathaus.',
        "Sales rose to $1.13bn in the U.S. on Monday.",
        "Dr. Smith agreed.",
    ]


def test_offsets_cover_real_news_text_exactly():
    for row in news_articles(2):
        text = row["text"]
        spans = split_sentences(text)
        assert all(a < b for a, b in spans)
        assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
        # nothing but white space is left between sentences
        gaps = [text[spans[i][1]:spans[i + 1][0]] for i in range(len(spans) - 1)]
        assert all(not g.strip() for g in gaps)
        assert "".join(sentences(text)).replace(" ", "") == re.sub(r"\s", "", text)
        titled = f"{row['title']}\n\n{text}"  # a headline line is a sentence of its own
        assert sentences(titled)[0] == row["title"]


def test_chunks_are_bounded_runs_of_whole_sentences_overlapping_by_one():
    text = news_articles(1, ("business",))[0]["text"]
    spans = split_sentences(text)
    chunks = make_chunks(spans)
    assert chunks[0][0] == 0 and chunks[-1][1] == len(spans) - 1
    for (f1, l1), (f2, _) in zip(chunks, chunks[1:]):
        assert f2 == l1 or (f1 == l1 and f2 == l1 + 1)
    for f, l in chunks:
        assert f == l or spans[l][1] - spans[f][0] <= CHUNK_CHARS
    assert make_chunks([]) == []


def test_terms_drop_stop_words_and_stem():
    assert terms("What did Putin say about the trade turnover in the U.S.?") == ["putin", "trade", "turnov", "u.s"]


def test_a_run_of_12000_words_is_not_one_sentence():
    """Issue 38: every later stage reads whole sentences, so ingest bounds what one can be."""
    text = "The council met on Monday. " + "Aa " * 12000 + "end. It adjourned."
    spans = split_sentences(text)
    assert max(b - a for a, b in spans) <= MAX_SENTENCE_CHARS
    assert sentences(text)[0] == "The council met on Monday." and sentences(text)[-1] == "It adjourned."
    assert all(text[b:a].isspace() for (_, b), (a, _) in zip(spans, spans[1:]))  # cut only at spaces
    assert sentences("中" * 2500 + "。")[0] == "中" * MAX_SENTENCE_CHARS  # a script without spaces is cut hard
