"""The search page's volume chart and the entity page in headless Debian Chromium on a real `vigie api`
(real Redis and Elasticsearch, stories assigned as the worker assigns them): a burst on an earthquake
is marked as a spike against the query's own baseline, a steady council story is not; a result card's
entity chip and the article page's lead to the entity page. docs/screenshots/volume.png and entity.png
are taken here."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from ingest.entity_kb import default_kb
from ingest.entity_linking import unknown_id
from ingest.models import AnalyzedArticle
from tests.support.api import ApiServer
from tests.support.browser import Browser, screenshot_dir
from tests.vigie.test_cli_stories import council, quake
from worker.runtime import Runtime
from worker.story_tasks import assign_stories

pytestmark = pytest.mark.integration

SCREENSHOTS = screenshot_dir()  # copied into docs/screenshots/ by scripts/screenshots.sh


def with_ids(item: AnalyzedArticle) -> AnalyzedArticle:
    """The factory's entities given the identity the analysis gives them (the knowledge base's id where
    it knows the name, else the id of an unknown name): the entity page is by identity."""
    entities = []
    for entity in item.analysis.entities:
        known = default_kb().lookup(entity.text)
        entities.append(replace(entity, id=known.id if known is not None else unknown_id(entity.label, entity.text),
                                name=entity.text, variants=(entity.text,)))
    return replace(item, analysis=replace(item.analysis, entities=tuple(entities)))


@pytest.fixture(scope="module")
def burst_start(api_server: ApiServer) -> datetime:
    """A council story, one article an hour for 21 hours; six earthquake articles within one clock hour
    three hours ago (whole in one hourly bucket, whatever the time the test runs)."""
    rt = Runtime(api_server.settings)
    now = datetime.now(timezone.utc)
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    items = [council(f"c{hour}", now - timedelta(hours=hour, minutes=30)) for hour in range(20, -1, -1)]
    items += [quake(f"q{i}", "en" if i % 2 == 0 else "fr", start + timedelta(minutes=5 + 8 * i)) for i in range(6)]
    items = [with_ids(item) for item in items]
    for first in range(0, len(items), 8):
        batch = items[first:first + 8]
        assign_stories(rt, batch, rt.store.index_batch(batch, refresh=True).documents)
    return start


def test_the_volume_api_counts_per_hour_and_marks_the_burst(api_server: ApiServer, burst_start: datetime) -> None:
    response = httpx.get(f"{api_server.base_url}/api/volume", params={"q": "noto"}, timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["interval"] == "hour" and body["total"] == 6
    assert 48 <= len(body["buckets"]) <= 49  # the last 48 hours, empty hours included
    spikes = [bucket for bucket in body["buckets"] if bucket["level"]]
    assert [(bucket["count"], bucket["level"]) for bucket in spikes] == [(6, "breaking")]
    assert datetime.fromisoformat(spikes[0]["key"].replace("Z", "+00:00")) == burst_start
    steady = httpx.get(f"{api_server.base_url}/api/volume", params={"q": "council"}, timeout=30).json()
    assert steady["total"] == 21 and not [bucket for bucket in steady["buckets"] if bucket["level"]]
    by_day = httpx.get(f"{api_server.base_url}/api/volume", params={"q": "council", "interval": "day", "since": "3d"},
                       timeout=30).json()
    assert by_day["interval"] == "day" and by_day["total"] == 21 and 3 <= len(by_day["buckets"]) <= 4
    # The same filters as search: French only.
    french = httpx.get(f"{api_server.base_url}/api/volume", params={"q": "noto", "lang": "fr"}, timeout=30).json()
    assert french["total"] == 3
    # Refused in words, never a 5xx: an empty span, or more buckets than a chart needs.
    empty = httpx.get(f"{api_server.base_url}/api/volume", params={"since": "1h", "until": "2h"}, timeout=30)
    assert empty.status_code == 422 and empty.json()["errors"][0]["location"] == "query.since"
    too_many = httpx.get(f"{api_server.base_url}/api/volume", params={"since": "1000d"}, timeout=30)
    assert too_many.status_code == 422 and "by day" in too_many.json()["message"]


def test_the_search_page_shows_the_volume_of_the_query_with_its_spike(
        browser: Browser, api_server: ApiServer, burst_start: datetime) -> None:
    browser.get(f"{api_server.base_url}/search?q=council")
    browser.wait_for("#volume figcaption", text="21 article(s) per hour")
    assert browser.attribute(browser.find("#volume"), "data-spikes") == "0"
    bars = browser.execute("return [...document.querySelectorAll('#volume rect')]"
                           ".filter(r => Number(r.getAttribute('height')) > 0).length")
    assert bars >= 20

    box = browser.find("#q")
    browser.clear(box)
    browser.type(box, "noto\n")
    browser.wait_for("#volume figcaption", text="6 article(s) per hour")
    badge = browser.wait_for("#volume .badge.breaking")
    assert "6 (expected 0.3)" in browser.text(badge).lower()  # the badge is shown upper-cased
    spikes = browser.find_all("#volume rect.spike.breaking")
    assert len(spikes) == 1
    assert browser.css(spikes[0], "fill") == "rgb(192, 57, 43)"  # red, as the breaking badge
    assert browser.attribute(browser.find("#volume"), "data-spikes") == "1"
    browser.screenshot(SCREENSHOTS / "volume.png")


def test_entity_chips_lead_to_the_entity_page(browser: Browser, api_server: ApiServer, burst_start: datetime) -> None:
    browser.get(f"{api_server.base_url}/search?q=noto")
    # The volume chart above the results may come after them and used to push them down: click once it is
    # drawn, as a reader would (a click made while it arrived once led nowhere on a loaded machine, CI of
    # 2026-12-07; the chart's room is now kept, app.css, and it is asked for beside the results).
    browser.wait_for("#volume figcaption", text="6 article(s) per hour")
    chip = browser.wait_for(".result .chips a.chip", text="Noto")
    browser.click(chip)
    browser.wait_for("#entity-name", text="Noto")
    assert "/entities/Noto" in browser.url
    assert "6 article(s)" in browser.text(browser.find("#entity-meta"))
    languages = {browser.attribute(item, "data-language"): browser.text(item)
                 for item in browser.find_all("#entity-languages li")}
    assert set(languages) == {"en", "fr"} and "3 article(s)" in languages["en"]
    assert [browser.text(item) for item in browser.find_all("#entity-variants li")] == ["Noto · 6 article(s)"]
    company = [browser.text(link) for link in browser.find_all("#entity-company a.chip")]
    assert company == ["Wajima"]
    assert len(browser.find_all("#entity-latest li")) == 6
    assert browser.find_all("#entity-days svg rect")
    browser.screenshot(SCREENSHOTS / "entity.png")

    # From the article page: its entity chips lead to the entity page too.
    browser.click(browser.find("#entity-latest li a"))
    wajima = browser.wait_for("#entities a.chip", text="Wajima")
    browser.click(wajima)
    browser.wait_for("#entity-name", text="Wajima")
    assert [browser.text(link) for link in browser.find_all("#entity-company a.chip")] == ["Noto"]
    # The company links on to its own page.
    browser.click(browser.find("#entity-company a.chip"))
    browser.wait_for("#entity-name", text="Noto")
