"""The Stories page in headless Debian Chromium on a real `vigie api`: stories assigned as the worker
assigns them (real Redis and Elasticsearch), the breaking one marked with why, a sparkline per story,
a story opened to its articles by language and source. The front page: docs/screenshots/stories.png."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.support.api import ApiServer
from tests.support.browser import Browser, screenshot_dir
from tests.vigie.test_cli_stories import council, quake
from worker.runtime import Runtime
from worker.story_tasks import assign_stories

pytestmark = pytest.mark.integration

SCREENSHOT = screenshot_dir() / "stories.png"  # copied into docs/screenshots/ by scripts/screenshots.sh


def test_the_stories_page_marks_the_breaking_story_and_opens_its_articles(
        browser: Browser, api_server: ApiServer) -> None:
    rt = Runtime(api_server.settings)
    now = datetime.now(timezone.utc)
    items = [council(f"c{hour}", now - timedelta(hours=hour, minutes=30)) for hour in range(20, -1, -1)]
    items += [quake(f"q{i}", "en" if i % 2 == 0 else "fr", now - timedelta(minutes=25 - 5 * i)) for i in range(5)]
    for start in range(0, len(items), 8):
        batch = items[start:start + 8]
        assign_stories(rt, batch, rt.store.index_batch(batch, refresh=True).documents)

    browser.get(f"{api_server.base_url}/")  # the front page
    assert browser.text(browser.wait_for("#nav a[aria-current='page']")) == "Stories"
    assert [browser.attribute(link, "href").removeprefix(api_server.base_url)
            for link in browser.find_all("#nav a")][:3] == ["/", "/", "/search"]
    breaking = browser.wait_for("#stories li.story[data-level='breaking']", text="Magnitude 7.4 earthquake strikes Noto")
    assert "5 article(s)" in browser.text(breaking) and "against a baseline of" in browser.text(breaking)
    steady = browser.wait_for("#stories li.story[data-level='none']", text="Springfield council")
    assert "21 article(s)" in browser.text(steady)
    assert len(browser.find_all("#stories li.story")) == 2
    assert len(browser.find_all("#stories li.story svg.sparkline")) == 2
    # The steady story's sparkline has a bar in each of the last 21 hours.
    bars = browser.execute("return [...document.querySelectorAll(\"#stories li.story[data-level='none'] rect\")]"
                           ".filter(r => Number(r.getAttribute('height')) > 0).length")
    assert bars >= 20

    browser.click(browser.find("#stories li.story[data-level='breaking'] .story-title"))
    browser.wait_for("#stories li.story[data-level='breaking'] .story-language h3", text="EN")
    languages = [browser.text(h) for h in browser.find_all("#stories li.story[data-level='breaking'] .story-language h3")]
    assert languages == ["EN", "FR"]  # as shown (headings are upper-cased)
    assert len(browser.find_all("#stories li.story[data-level='breaking'] .story-language li")) == 5
    browser.screenshot(SCREENSHOT)

    browser.click(browser.find("#story-breaking"))
    browser.wait_for("#stories-updated", text="1 story")
    assert len(browser.find_all("#stories li.story")) == 1
