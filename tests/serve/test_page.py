"""The web page at /, in a real headless browser (Debian's chromium driven by selenium).

`make test` installs chromium and chromium-driver from Debian when it can (root and apt-get);
nothing downloads a browser build.
"""

import json
import shutil
import urllib.error
import urllib.parse
import urllib.request
from datetime import date

import pytest
from conftest import ROOT, SEED_QUESTION, live_server, news_articles, write_jsonl

from askbrief.engine import Engine
from askbrief.settings import Settings

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="Debian's chromium and chromium-driver are not installed (make test installs them)")


@pytest.fixture(scope="module")
def server(seed_engine):
    with live_server(seed_engine) as url:
        yield url


STORY_QUERY = "UK parliament suspension (prorogation) and the courts"
OUTLETS = ("Wire copy", "Evening <b>Courier</b>", "Daily Post")  # one outlet's name looks like markup
SHOWN_OUTLETS = 2  # the page's: outlets named on a day's line before "+n"


@pytest.fixture(scope="module")
def story_server(tmp_path_factory):
    """The Wikinews stories of tests/data and 10 other articles (test_timeline's `story_engine`),
    the Scottish court's ruling again under three more outlets (syndicated copies), served."""
    rows = [r for r in news_articles() if r["story"]] + [r for r in news_articles() if not r["story"]][:10]
    ruling = next(r for r in rows if r["id"] == "wn-scottish-court-finds-suspension-of-uk")
    for i, outlet in enumerate(OUTLETS):  # not exact copies: syndicated ones
        rows.append({**ruling, "id": f"copy-{i}-of-scottish-court", "source": outlet,
                     "text": ruling["text"].replace("\n", "\n" * (i + 2), 1)})
    engine = Engine("story", Settings(home=tmp_path_factory.mktemp("home")))
    engine.ingest_paths([write_jsonl(tmp_path_factory.mktemp("news") / "news.jsonl", rows)])
    with live_server(engine) as url:
        yield url


def api(url, path, body):
    """POST a JSON body: (status, JSON answer), a refusal's included."""
    request = urllib.request.Request(url + path, json.dumps(body).encode(), {"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1200,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def ask_in_page(browser, server, question):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server)
    box = browser.find_element(By.ID, "question")
    box.send_keys(question, Keys.ENTER)  # keyboard only
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources mark")))
    return By


def timeline_in_page(browser, server, query, days=None, since=None, until=None, done=".day"):
    """The story's timeline asked for in the page, keyboard only but for the dates (a date
    picker's typing is the locale's); waits for `done` in #timeline, or for an error."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server)
    assert not browser.find_element(By.ID, "timeline-form").is_displayed()
    browser.find_element(By.ID, "mode-timeline").send_keys(Keys.ENTER)  # a button: Enter presses it
    assert browser.find_element(By.ID, "mode-timeline").get_attribute("aria-pressed") == "true"
    assert not browser.find_element(By.ID, "ask-form").is_displayed()
    box = browser.switch_to.active_element  # the switch moved the focus to the story's field
    assert box.get_attribute("id") == "story"
    if days is not None:
        browser.find_element(By.ID, "days").send_keys(str(days))
    for field, value in (("since", since), ("until", until)):
        if value:
            browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.ID, field), value)
    box.send_keys(query, Keys.ENTER)

    def finished(b):  # the status empties once the sources are shown; an error stays in it
        status = b.find_element(By.ID, "status").text
        return status.startswith("Error:") or (not status and b.find_elements(By.CSS_SELECTOR, f"#timeline {done}"))

    WebDriverWait(browser, 60).until(finished)
    return By


def shown_day(iso):
    day = date.fromisoformat(iso)
    return f"{day:%a} {day.day} {day:%b} {day.year}"


def outlets_line(outlets):
    more = len(outlets) - SHOWN_OUTLETS
    return f"reported by {', '.join(outlets[:SHOWN_OUTLETS])}" + (f" +{more}" if more > 0 else "")


def test_the_seed_question_in_a_real_browser(browser, server, seed_engine):
    By = ask_in_page(browser, server, SEED_QUESTION)
    expected = seed_engine.ask(SEED_QUESTION)
    answer = browser.find_element(By.ID, "answer").text
    assert "trade turnover" in answer and "[1]" in answer
    marks = [m.text for m in browser.find_elements(By.CSS_SELECTOR, "#sources mark")]
    assert marks == [c.quote for c in expected.citations]
    strong = [s.text for s in browser.find_elements(By.CSS_SELECTOR, "#sources strong.short-answer")]
    assert strong == ([expected.span.text] if expected.span else [])
    heading = browser.find_element(By.CSS_SELECTOR, "#source-1 .meta").text
    assert "2023-12-27" in heading
    # a file is shown by its name, never by the server's path to it (the API keeps the path)
    assert expected.citations[0].source.endswith("/000_94717b999ff50f1a.txt") and "/" in expected.citations[0].source
    assert heading.endswith("000_94717b999ff50f1a.txt") and "/" not in heading.split(" · ")[-1]
    browser.find_element(By.CSS_SELECTOR, "a.marker[data-n='1']").click()
    assert "active" in browser.find_element(By.ID, "source-1").get_attribute("class")
    (ROOT / "results").mkdir(exist_ok=True)
    browser.save_screenshot(str(ROOT / "results" / "page.png"))


def test_the_short_answer_is_bold_inside_the_cited_sentence(browser, server, seed_engine):
    question = "Who did Jaishankar meet in Moscow?"
    expected = seed_engine.ask(question)
    assert expected.span is not None
    By = ask_in_page(browser, server, question)
    strong = browser.find_element(By.CSS_SELECTOR, "#source-1 mark strong.short-answer")
    assert strong.text == expected.span.text
    assert f"short answer: “{expected.span.text}”" in browser.find_element(By.ID, "answer").text


def assert_fits(browser, width):
    """Nothing on the page reaches past a `width` CSS px viewport (then back to the desktop size)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    # Fonts differ between machines, so leave no slack.
    # The resize lands asynchronously: wait for the viewport, then for the layout to settle.
    browser.set_window_size(width, 844)
    WebDriverWait(browser, 10).until(lambda b: b.execute_script("return window.innerWidth") <= width)
    fits = "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    try:
        WebDriverWait(browser, 5).until(lambda b: b.execute_script(fits))
    except TimeoutException:
        pass  # reported below, with what overflows
    too_wide = browser.execute_script("""
        const limit = document.documentElement.clientWidth;
        return [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > limit + 0.5)
            .map((e) => e.tagName + (e.id ? '#' + e.id : '') + ' ' + Math.round(e.getBoundingClientRect().right));""")
    scroll, client = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    browser.set_window_size(1200, 1000)
    assert scroll <= client and not too_wide, f"page is {scroll}px wide in a {client}px viewport: {too_wide}"


def test_declining_and_phone_width(browser, server):
    By = ask_in_page(browser, server, "What did Putin say about football?")
    assert "Not in these articles" in browser.find_element(By.ID, "answer").text
    assert_fits(browser, 320)  # the narrowest phones still sold


def test_why_this_answer_is_collapsed_until_opened(browser, server, seed_engine):
    question = "Who did Jaishankar meet in Moscow?"
    expected = seed_engine.ask(question, explain=True).explanation
    By = ask_in_page(browser, server, question)
    panel = browser.find_element(By.ID, "why")
    title = browser.find_element(By.ID, "why-title")
    assert title.text == "Why this answer?" and panel.get_attribute("open") is None
    confidence = browser.find_element(By.ID, "why-confidence")
    assert not confidence.is_displayed()  # collapsed by default
    title.click()  # a <summary>: the keyboard opens it too
    assert panel.get_attribute("open") is not None and confidence.is_displayed()
    assert expected.confidence.reason in confidence.text
    read = browser.find_elements(By.CSS_SELECTOR, "#why li.read-sentence q")
    assert read[0].text == expected.reading[0].text  # the best-scored sentence first, as the record says
    shown = browser.find_element(By.ID, "why-body").text
    assert "1. The question" in shown and "4. Confidence" in shown and expected.reading[0].outcome in shown
    browser.save_screenshot(str(ROOT / "results" / "page-why.png"))
    # a summary explains itself in the same panel, collapsed again
    browser.find_element(By.ID, "summarise").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(lambda b: b.find_element(By.ID, "why-title").text == "Why these sentences?")
    assert browser.find_element(By.ID, "why").get_attribute("open") is None
    browser.find_element(By.ID, "why-title").click()
    assert "-> picked" not in browser.find_element(By.ID, "why-body").text  # the page's words, not the CLI's
    assert "picked 1st" in browser.find_element(By.ID, "why-body").text


def test_a_story_timeline_in_a_real_browser(browser, story_server):
    status, expected = api(story_server, "/timeline", {"query": STORY_QUERY, "dates": 3, "explain": True})
    assert status == 200 and len(expected["entries"]) == 3, expected
    By = timeline_in_page(browser, story_server, STORY_QUERY, days=3)
    assert browser.find_element(By.CSS_SELECTOR, "#timeline h2").text == f"Timeline: {STORY_QUERY}"
    days = browser.find_elements(By.CSS_SELECTOR, "#timeline li.day")
    # the days the API gives, in its (date) order, down the side
    assert [d.find_element(By.TAG_NAME, "time").get_attribute("datetime") for d in days] == \
        [e["date"] for e in expected["entries"]]
    citations = []
    for day, entry in zip(days, expected["entries"]):
        assert " ".join(day.find_element(By.TAG_NAME, "time").text.split()) == shown_day(entry["date"])
        said = day.find_elements(By.CSS_SELECTOR, "p.happened")
        assert [p.find_element(By.CSS_SELECTOR, ".said").text for p in said] == [s["text"] for s in entry["sentences"]]
        assert [p.find_element(By.CSS_SELECTOR, "a.marker").text for p in said] == \
            [f"[{s['citation']['n']}]" for s in entry["sentences"]]
        citations += [s["citation"] for s in entry["sentences"]]
        first = day.find_elements(By.CSS_SELECTOR, ".first-reported")
        if entry["first_reported"] != entry["date"]:
            assert [f.text for f in first] == [f"first reported {shown_day(entry['first_reported'])}"]
        else:
            assert not first
        line = day.find_element(By.CSS_SELECTOR, ".outlets")
        if len(entry["reported_by"]) > SHOWN_OUTLETS:  # folded: one line, the rest a click away
            summary = line.find_element(By.TAG_NAME, "summary")
            assert summary.text == outlets_line(entry["reported_by"]) and line.get_attribute("open") is None
            summary.click()
            assert [li.text for li in line.find_elements(By.TAG_NAME, "li")] == entry["reported_by"]
        else:
            assert line.text == outlets_line(entry["reported_by"])
    # the syndicated ruling is reported by its four outlets: at least one day folds them
    assert any(len(e["reported_by"]) > SHOWN_OUTLETS for e in expected["entries"]), expected["entries"]
    # article text is text: an outlet named "Evening <b>Courier</b>" is shown as such, never as markup
    assert not browser.find_elements(By.CSS_SELECTOR, "#timeline b, #sources b")
    assert "Evening <b>Courier</b>" in browser.find_element(By.ID, "timeline").text
    # each [n] shows its source below, as answers' do
    assert [c["n"] for c in citations] == list(range(1, len(citations) + 1))
    marks = [m.text for m in browser.find_elements(By.CSS_SELECTOR, "#sources mark")]
    assert marks == [c["quote"] for c in citations]
    browser.find_element(By.CSS_SELECTOR, "#timeline a.marker[data-n='2']").click()
    assert "active" in browser.find_element(By.ID, "source-2").get_attribute("class")
    assert browser.find_element(By.CSS_SELECTOR, "#source-2 h2").text == f"[2] {citations[1]['title']}"
    # why these days: collapsed until opened
    assert browser.find_element(By.ID, "why-title").text == "Why these days?"
    assert browser.find_element(By.ID, "why").get_attribute("open") is None
    browser.find_element(By.ID, "why-title").click()
    assert expected["explanation"]["dates_reason"] in browser.find_element(By.ID, "why-days").text
    (ROOT / "results").mkdir(exist_ok=True)
    browser.save_screenshot(str(ROOT / "results" / "page-timeline.png"))


def test_an_empty_timeline_says_why_and_a_refusal_shows_its_message(browser, story_server):
    status, expected = api(story_server, "/timeline", {"query": STORY_QUERY, "since": "2030-01-01", "explain": True})
    assert status == 200 and expected["entries"] == [] and expected["reason"]
    By = timeline_in_page(browser, story_server, STORY_QUERY, since="2030-01-01", done=".reason")
    assert browser.find_element(By.CSS_SELECTOR, "#timeline .reason").text == \
        f"Nothing to put on a timeline: {expected['reason']}."
    assert "declined" in browser.find_element(By.ID, "timeline").get_attribute("class")
    assert not browser.find_elements(By.CSS_SELECTOR, "#timeline li.day, #sources article")
    # a window the API refuses (since after until: a 4xx naming the field) shows its message
    window = {"since": "2020-01-02", "until": "2020-01-01"}
    status, refused = api(story_server, "/timeline", {"query": STORY_QUERY, **window})
    assert 400 <= status < 500 and refused["detail"][0]["loc"][-1] == "since"
    timeline_in_page(browser, story_server, STORY_QUERY, **window)
    assert browser.find_element(By.ID, "status").text == f"Error: {refused['detail'][0]['msg']}"
    assert not browser.find_element(By.ID, "timeline").is_displayed()


def test_a_timeline_fits_a_phone(browser, story_server):
    By = timeline_in_page(browser, story_server, STORY_QUERY, days=3)
    for folded in browser.find_elements(By.CSS_SELECTOR, "#timeline details.outlets summary"):
        folded.click()  # the outlets unfolded too
    assert_fits(browser, 375)
