"""The web page at /, in a real headless browser (Debian's chromium driven by selenium).

`make test` installs chromium and chromium-driver from Debian when it can (root and apt-get);
nothing downloads a browser build.
"""

import shutil

import pytest
from conftest import ROOT, SEED_QUESTION, live_server

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="Debian's chromium and chromium-driver are not installed (make test installs them)")


@pytest.fixture(scope="module")
def server(seed_engine):
    with live_server(seed_engine) as url:
        yield url


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


def test_declining_and_phone_width(browser, server):
    By = ask_in_page(browser, server, "What did Putin say about football?")
    assert "Not in these articles" in browser.find_element(By.ID, "answer").text
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    # 320 CSS px, the narrowest phones still sold; fonts differ between machines, so leave no slack.
    # The resize lands asynchronously: wait for the viewport, then for the layout to settle.
    browser.set_window_size(320, 844)
    WebDriverWait(browser, 10).until(lambda b: b.execute_script("return window.innerWidth") <= 320)
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
