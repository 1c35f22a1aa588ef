"""The Stories page in headless Debian Chromium on a real `vigie api`: stories assigned as the worker
assigns them (real Redis and Elasticsearch), the breaking one marked with why, a sparkline per story,
each story's first articles by language and source on the page itself, the rest one click away, and a
phone-width layout without sideways scrolling. The front page: docs/screenshots/stories.png."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from index.stories import StoryStore
from tests.support.api import ApiServer
from tests.support.browser import Browser, screenshot_dir
from tests.vigie.test_cli_stories import council, quake
from worker.runtime import Runtime
from worker.story_tasks import assign_stories

pytestmark = pytest.mark.integration

SCREENSHOT = screenshot_dir() / "stories.png"  # copied into docs/screenshots/ by scripts/screenshots.sh


def test_the_stories_page_marks_the_breaking_story_and_groups_its_articles(
        browser: Browser, api_server: ApiServer) -> None:
    rt = Runtime(api_server.settings)
    now = datetime.now(timezone.utc)
    items = [council(f"c{hour}", now - timedelta(hours=hour, minutes=30)) for hour in range(20, -1, -1)]
    items += [quake(f"q{i}", "en" if i % 2 == 0 else "fr", now - timedelta(minutes=25 - 5 * i)) for i in range(5)]
    for start in range(0, len(items), 8):
        batch = items[start:start + 8]
        assign_stories(rt, batch, rt.store.index_batch(batch, refresh=True).documents)
    StoryStore(rt.es, api_server.settings.index_prefix).refresh()  # listings see them (at most a second later)

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

    # Each story's articles are on the page itself, by language then source, titles linked.
    shown = "#stories li.story[data-level='breaking'] .story-language"
    browser.wait_for(f"{shown} h3", text="EN")
    assert [browser.text(h) for h in browser.find_all(f"{shown} h3")] == ["EN", "FR"]  # headings are upper-cased
    links = browser.find_all(f"{shown} a")
    hrefs = sorted(browser.attribute(a, "href").removeprefix(api_server.base_url) for a in links)  # type: ignore[union-attr]
    assert hrefs == [f"/articles/q{i}" for i in range(5)]
    assert browser.text(browser.find(f"{shown}[data-language='fr'] li")).startswith("fr-q1.example")
    assert not browser.find_all("#stories li.story[data-level='breaking'] button.more")  # all five shown
    # The steady story shows its first six; the others are collapsed behind a button.
    steady_articles = "#stories li.story[data-level='none'] .story-language a"
    assert len(browser.find_all(steady_articles)) == 6
    more = browser.find("#stories li.story[data-level='none'] button.more")
    assert browser.text(more) == "all 21 articles (15 more)"
    browser.screenshot(SCREENSHOT)
    browser.click(more)
    browser.wait_for("#stories li.story[data-level='none'] .story-articles[data-view='all']")
    assert len(browser.find_all(steady_articles)) == 21
    browser.click(browser.find("#stories li.story[data-level='none'] button.more"))  # "fewer"
    browser.wait_for("#stories li.story[data-level='none'] .story-articles[data-view='compact']")
    assert len(browser.find_all(steady_articles)) == 6

    # At phone width the page stays usable: no sideways scrolling, the groups one under the other.
    browser._call("POST", browser._path("/window/rect"), {"width": 390, "height": 844})
    try:
        assert browser.execute("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        columns = browser.execute("return getComputedStyle(document.querySelector(\"#stories li.story[data-level='breaking'] "
                                  ".story-articles\")).gridTemplateColumns.split(' ').length")
        assert columns == 1
    finally:
        browser._call("POST", browser._path("/window/rect"), {"width": 1280, "height": 1000})

    browser.click(browser.find("#story-breaking"))
    browser.wait_for("#stories-updated", text="1 story")
    assert len(browser.find_all("#stories li.story")) == 1
