import datetime as dt

import pytest

from askbrief.answer.dates import TimeScope, scope

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
    from askbrief.answer.question import parse

    newest = dt.date(2005, 3, 18)
    assert parse("What was the oil price in February?", newest).terms == ("oil", "price")
    assert parse("What was the latest closing price of Brent crude?", newest).terms == ("close", "price", "brent", "crude")
    # explicit dates win over the words, which then stay words
    assert "februari" in parse("What was the oil price in February?", newest, since="2005-01-01").terms
