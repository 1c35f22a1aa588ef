"""The alerts page in headless Debian Chromium (through chromedriver), on a real `vigie api` and a real
`celery worker`: an alert created on the page, then a matching article fed through the pipeline
(``vigie.process_items``: analysis, index, alerts), appears in the page's live notifications; the
page's Test button backtests it and its Pause button pauses it. docs/screenshots/alerts.png is taken
here (into .vigie-test/screenshots/; scripts/screenshots.sh copies it)."""

from __future__ import annotations

import time

import pytest
from celery import Celery

from tests.support.api import ApiServer
from tests.support.browser import Browser, screenshot_dir
from tests.support.processes import Background
from tests.support.samples import sample_item

pytestmark = pytest.mark.integration

SCREENSHOT = screenshot_dir() / "alerts.png"  # copied into docs/screenshots/ by scripts/screenshots.sh
PIPELINE_TIMEOUT = 180  # the first article loads the French model in the worker
SAMPLE_START = "Le président turc Recep Tayyip Erdogan"


def test_an_alert_made_on_the_page_shows_a_matching_article_live(
        browser: Browser, api_server: ApiServer, pipeline_worker: Background, celery_app: Celery) -> None:
    browser.get(f"{api_server.base_url}/alerts")
    browser.wait_for("#live-state", text="live")
    browser.wait_for("#topic-choices input[value='migration']")

    browser.type(browser.find("#alert-name"), "Réfugiés à la frontière turque")
    browser.type(browser.find("#alert-query"), "Turquie OR Turkey")
    browser.click(browser.find("#topic-choices input[value='migration']"))
    browser.type(browser.find("#alert-languages"), "fr, en")
    token = browser.find("#api-token")
    browser.clear(token)
    browser.type(token, api_server.token)
    browser.click(browser.find("#add-alert button[type='submit']"))
    browser.wait_for("#alert-message .notice", text="created")
    row = browser.wait_for("#alerts-table tbody tr[data-state='active']", text="Réfugiés à la frontière turque")
    assert "migration" in browser.text(row) and "stored only" in browser.text(row)
    # The page made it through the API: the store has exactly this rule.
    with api_server.client() as client:
        alerts = client.get("/api/alerts").json()
    assert [(alert["name"], alert["topics"], alert["query"], alert["languages"]) for alert in alerts] == [
        ("Réfugiés à la frontière turque", ["migration"], "Turquie OR Turkey", ["fr", "en"])]
    assert browser.find_all("#notifications li") == []

    # A matching article goes through the real pipeline; the open page is told, without a reload.
    celery_app.send_task("vigie.process_items", args=[[sample_item("page-live-1").to_dict()]])
    try:
        item = browser.wait_for("#notifications li", timeout=PIPELINE_TIMEOUT, text=SAMPLE_START)
    except AssertionError as error:
        raise AssertionError(f"{error}\nworker:\n{pipeline_worker.output()[-3000:]}") from None
    assert browser.text(browser.find("#notifications li .alert-name")) == "Réfugiés à la frontière turque"
    chips = [browser.text(chip) for chip in browser.find_all("#notifications li .why .chip")]
    assert any(chip.startswith("migration ") for chip in chips) and "Turquie" in chips, chips
    assert browser.attribute(item, "data-state") == "stored"  # no webhook: the match is kept, not POSTed
    assert len(browser.find_all("#notifications li")) == 1

    # Test: the backtest finds the article that was just indexed. An alert is matched against the
    # documents as they are written, so its notification can come before the index's next refresh
    # (1 s) makes the article searchable, which the backtest reads: wait for that first.
    with api_server.client() as client:
        deadline = time.monotonic() + 30
        while "page-live-1" not in {hit["id"] for hit in client.get(
                "/api/search", params={"q": "Erdogan", "limit": "50"}).json()["hits"]}:
            assert time.monotonic() < deadline, "the article was notified but never became searchable"
            time.sleep(0.2)
    browser.click(browser.find("#alerts-table button.test"))
    browser.wait_for("#backtest-results .summary", text="would have matched 1 article")
    assert browser.text(browser.find("#backtest-results .result-title a")).startswith(SAMPLE_START)
    browser.screenshot(SCREENSHOT)

    # Pause: the row says so, and so does the API.
    browser.click(browser.find("#alerts-table button.toggle"))
    browser.wait_for("#alerts-table tbody tr[data-state='paused']")
    browser.wait_for("#alert-message .notice", text="paused")
    with api_server.client() as client:
        assert [alert["paused"] for alert in client.get("/api/alerts").json()] == [True]
