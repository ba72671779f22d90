import datetime as dt

import pytest

from askbrief.retrieve.dates import TimeScope, scope

NEWEST = dt.date(2005, 3, 16)  # a Wednesday


@pytest.mark.parametrize("question, expected", [
    ("What is the latest on oil prices?", TimeScope(prefer_recent=True)),
    ("What happened this week?", TimeScope("2005-03-14", "2005-03-20")),
    ("What happened last week?", TimeScope("2005-03-07", "2005-03-13")),
    ("What did the minister say last month?", TimeScope("2005-02-01", "2005-02-28")),
    ("What happened in March?", TimeScope("2005-03-01", "2005-03-31")),
    ("What happened in May?", TimeScope("2004-05-01", "2004-05-31")),  # the most recent May
    ("Who won in 2004?", TimeScope("2004-01-01", "2004-12-31")),
    ("What has changed since 2004?", TimeScope("2004-01-01", None)),
    ("What has changed since March 2004?", TimeScope("2004-03-01", None)),
    ("What happened before 2005-02-01?", TimeScope(None, "2005-02-01")),
    ("Who scored today?", TimeScope("2005-03-16", "2005-03-16")),
    ("What did Putin say about trade?", TimeScope()),
])
def test_relative_dates_read_against_the_newest_article(question, expected):
    assert scope(question, NEWEST) == expected


def test_an_undated_index_keeps_only_the_recency_wish():
    assert scope("latest news this week", None) == TimeScope(prefer_recent=True)


@pytest.mark.parametrize("question", ["What happened since 2023-13-45?", "What happened after 2005-02-30?",
                                      "What happened in 0000?", "What happened in March 0000?",
                                      "What changed since 0000?"])
def test_a_date_not_in_the_calendar_is_a_clear_error(question):
    from askbrief.errors import BadInput

    with pytest.raises(BadInput, match="not a real date") as e:
        scope(question, NEWEST)
    assert e.value.field == "question"


@pytest.mark.parametrize("question", ["What happened this week?", "What happened today?", "last week?",
                                      "this month", "last year", "yesterday"])
@pytest.mark.parametrize("newest", [dt.date.max, dt.date.min])
def test_the_ends_of_the_calendar_do_not_overflow(question, newest):
    found = scope(question, newest)
    assert found.since <= found.until


def test_words_read_as_time_are_not_terms_a_passage_must_hold():
    """"in February" becomes a date filter: a passage answering it need not say "February"."""
    from askbrief.retrieve.question import parse

    newest = dt.date(2005, 3, 18)
    assert parse("What was the oil price in February?", newest).terms == ("oil", "price")
    assert parse("What was the latest closing price of Brent crude?", newest).terms == ("close", "price", "brent", "crude")
    # explicit dates win over the words, which then stay words
    assert "februari" in parse("What was the oil price in February?", newest, since="2005-01-01").terms


@pytest.mark.parametrize("lang, question, expected", [
    ("fr", "Qu'a dit le ministre la semaine dernière ?", TimeScope("2005-03-07", "2005-03-13")),
    ("fr", "Que s'est-il passé en mars ?", TimeScope("2005-03-01", "2005-03-31")),
    ("fr", "Que s'est-il passé le 3 mars 2004 ?", TimeScope("2004-03-03", "2004-03-03")),
    ("fr", "Qu'est-ce qui a changé depuis 2004 ?", TimeScope("2004-01-01", None)),
    ("fr", "Qu'a annoncé PSA il y a deux semaines ?", TimeScope("2005-02-28", "2005-03-06")),
    ("fr", "Quelles sont les dernières nouvelles ?", TimeScope(prefer_recent=True)),
    ("de", "Was sagte der Minister letzte Woche?", TimeScope("2005-03-07", "2005-03-13")),
    ("de", "Was geschah im März 2004?", TimeScope("2004-03-01", "2004-03-31")),
    ("de", "Was sagte Merkel am 3. März 2004?", TimeScope("2004-03-03", "2004-03-03")),
    ("de", "Was hat sich seit 2004 geändert?", TimeScope("2004-01-01", None)),
    ("de", "Was geschah vor zwei Wochen?", TimeScope("2005-02-28", "2005-03-06")),
    ("de", "Was ist das Neueste zum Ölpreis?", TimeScope(prefer_recent=True)),
    ("es", "¿Qué pasó hace dos semanas?", TimeScope("2005-02-28", "2005-03-06")),
    ("es", "¿Qué ocurrió en marzo de 2004?", TimeScope("2004-03-01", "2004-03-31")),
    ("es", "¿Qué dijo el gobierno hasta 2004?", TimeScope(None, "2004-12-31")),
    ("it", "Che cosa è successo la settimana scorsa?", TimeScope()),  # no rules for Italian: none, never English
])
def test_dates_in_french_german_and_spanish_questions(lang, question, expected):
    from askbrief.retrieve.dates_fr_de_es import scope_in

    assert scope_in(lang, question, NEWEST) == expected


def test_a_french_date_not_in_the_calendar_is_a_clear_error():
    from askbrief.errors import BadInput
    from askbrief.retrieve.dates_fr_de_es import scope_in

    with pytest.raises(BadInput, match="not a real date"):
        scope_in("fr", "Que s'est-il passé le 31 février 2004 ?", NEWEST)
