"""The pages at desktop (1280 px) and phone (390 px) widths in headless Chromium, served by a real
`vigie api` over the real index: nothing wider than the screen, the first result near the top on a
phone (options and facets folded behind a button), the alerts form whole, error text wrapped between
words, dark mode from the system, "/" to search. Screenshots: <page>-<width>.png in the screenshot
directory (scripts/screenshots.sh copies them into docs/screenshots/)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import redis

from conf.limits import fetch_limits
from index.client import connect
from index.mappings import notifications_index, notifications_index_body
from ingest.fetch import Fetcher
from ingest.poll import fetch_feed
from state.registry import FeedRegistry, bounds_from
from tests.api.test_web_page import sample_article, site  # noqa: F401 (site is a fixture)
from tests.support.api import ApiServer
from tests.support.browser import ELEMENT, Browser, screenshot_dir
from tests.support.feeds import FeedServer, make_story
from vigie.services.processes import free_port

pytestmark = pytest.mark.integration

SCREENSHOTS = screenshot_dir()
PHONE, DESKTOP = 390, 1280
WIDTHS = (DESKTOP, PHONE)
HEIGHT = {PHONE: 844, DESKTOP: 1000}
#: On a phone the first result starts within the first screen, under the search box (it started
#: 1,784 px down, below every facet, before the facets were folded).
PHONE_FIRST_RESULT_MAX_TOP = 420


@pytest.fixture()
def sized(browser: Browser, request: pytest.FixtureRequest) -> Iterator[tuple[Browser, int]]:
    width = request.param
    browser.set_viewport(width, HEIGHT[width], mobile=width == PHONE)
    yield browser, width
    browser.reset_viewport()
    browser.prefer_color_scheme("")


@pytest.fixture(scope="module")
def feeds_and_alerts(site: ApiServer) -> Iterator[None]:  # noqa: F811
    """Two feeds polled once (one answers, one is down: its error text shows) and two alerts."""
    client = redis.Redis.from_url(site.settings.redis_url)
    registry = FeedRegistry(client, bounds_from(site.settings))
    server = FeedServer()
    added = [registry.add(server.publish("monde-phone", [make_story(n, prefix="phone") for n in range(2)]),
                          name="Le Monde (phone)"),
             registry.add(f"http://127.0.0.1:{free_port()}/a/rather/long/path/to/the/rss/feed.xml", name="Broken wire")]
    with Fetcher(fetch_limits(site.settings)) as fetcher:
        for feed in added:
            poll = fetch_feed(fetcher, feed.url)
            registry.record(feed, poll, new_items=len(poll.items), now=time.time())
    with httpx.Client(base_url=site.base_url, timeout=30) as http:
        for body in ({"name": "Migration Turquie", "topics": ["migration"], "query": "Turquie OR Turkey",
                      "languages": ["fr", "en"], "webhook": "http://127.0.0.1:9/hook"},
                     {"name": "Idleb par courriel", "query": "Idleb", "email": "ana@example.org"}):
            created = http.post("/api/alerts", json=body, headers={"Authorization": f"Bearer {site.token}"})
            assert created.status_code == 201, created.text
    yield
    for feed in added:
        registry.remove(feed.feed_id)
    server.close()
    client.close()


def assert_fits(browser: Browser, width: int, page: str) -> None:
    scroll, inner = browser.execute("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert inner == width, f"{page}: the viewport is {inner} px, not {width}"
    assert scroll <= inner, f"{page} at {width} px scrolls sideways: {scroll} px wide"


def top_of(browser: Browser, selector: str) -> float:
    return float(browser.execute(
        "return document.querySelector(arguments[0]).getBoundingClientRect().top + window.scrollY", selector))


@pytest.mark.parametrize("sized", WIDTHS, indirect=True)
def test_search(sized: tuple[Browser, int], site: ApiServer) -> None:  # noqa: F811
    browser, width = sized
    browser.get(f"{site.base_url}/search?q=Idleb")
    browser.wait_for(".result .result-title a")
    browser.wait_for("#facets [data-facet='topics']")
    assert_fits(browser, width, "search")
    facets_shown = browser.execute("return getComputedStyle(document.getElementById('facets')).display !== 'none'")
    if width == PHONE:
        assert top_of(browser, ".result") <= PHONE_FIRST_RESULT_MAX_TOP
        assert not facets_shown  # folded behind the button
        toggle = browser.find("#filters-toggle")
        browser.click(toggle)
        assert browser.attribute(toggle, "aria-expanded") == "true"
        assert browser.execute("return getComputedStyle(document.getElementById('facets')).display") == "block"
        browser.wait_for("#facets [data-facet='topics'] button", text="migration")
        assert_fits(browser, width, "search with its filters open")
        browser.click(toggle)
    else:
        browser.wait_for("#facets [data-facet='topics'] button", text="migration")
        assert facets_shown and browser.execute(
            "return getComputedStyle(document.getElementById('filters-toggle')).display") == "none"
    # Entity chips on the cards lead to the entity's page.
    chip = browser.find(".result .chips a.chip")
    assert (browser.attribute(chip, "href") or "").startswith("/entities/")
    browser.screenshot(SCREENSHOTS / f"search-{width}.png")


@pytest.mark.parametrize("sized", WIDTHS, indirect=True)
def test_article(sized: tuple[Browser, int], site: ApiServer) -> None:  # noqa: F811
    browser, width = sized
    browser.get(f"{site.base_url}/articles/{sample_article().article.article_id}")
    browser.wait_for("#article-text", text="Idleb")
    assert_fits(browser, width, "article")
    browser.screenshot(SCREENSHOTS / f"article-{width}.png")


@pytest.mark.parametrize("sized", WIDTHS, indirect=True)
def test_feeds(sized: tuple[Browser, int], site: ApiServer, feeds_and_alerts: None) -> None:  # noqa: F811
    browser, width = sized
    browser.get(f"{site.base_url}/feeds")
    failing = browser.wait_for("#feeds-table tbody tr[data-status='failing']")
    browser.wait_for("#feeds-table tbody tr[data-status='ok']", text="Le Monde (phone)")
    assert_fits(browser, width, "feeds")
    # Every column of a feed is on screen: on a phone each row is a card, a cell per line.
    cells = browser.execute("return [...arguments[0].querySelectorAll('td')].map((td) => {"
                            " const box = td.getBoundingClientRect(); return [box.left, box.right]; })",
                            {ELEMENT: failing})
    assert cells and all(left >= 0 and right <= width for left, right in cells), cells
    # Error text wraps between words: nothing breaks "connection" into "connec tion".
    style = browser.execute("const why = document.querySelector('#feeds-table .why-text');"
                            "const css = getComputedStyle(why); return [why.textContent, css.wordBreak, css.overflowWrap]")
    assert "refused" in style[0] and style[1:] == ["normal", "break-word"]
    browser.screenshot(SCREENSHOTS / f"feeds-{width}.png")


@pytest.mark.parametrize("sized", WIDTHS, indirect=True)
def test_alerts(sized: tuple[Browser, int], site: ApiServer, feeds_and_alerts: None) -> None:  # noqa: F811
    browser, width = sized
    browser.get(f"{site.base_url}/alerts")
    browser.wait_for("#alerts-table tbody tr", text="Migration Turquie")
    browser.wait_for("#alerts-table tbody tr", text="e-mail ana@example.org")
    browser.wait_for("#alerts-table .fired", text="no match yet")
    assert_fits(browser, width, "alerts")
    # The whole form is usable: every field is on screen, none cut off at the right edge.
    for field in ("#alert-name", "#alert-query", "#alert-entities", "#alert-languages", "#alert-tags",
                  "#alert-min-score", "#alert-webhook", "#alert-email", "#alert-digest", "#api-token",
                  "#add-alert button[type='submit']"):
        left, right = browser.execute("const box = document.querySelector(arguments[0]).getBoundingClientRect();"
                                      "return [box.left, box.right]", field)
        assert 0 <= left and right <= width, f"{field} at {width} px: {left}-{right}"
    browser.screenshot(SCREENSHOTS / f"alerts-{width}.png")


@pytest.mark.parametrize("sized", [DESKTOP], indirect=True)
def test_alerts_listed_when_how_often_they_fired_cannot_be_read(
        sized: tuple[Browser, int], site: ApiServer, feeds_and_alerts: None) -> None:  # noqa: F811
    """The counts need one more search (the notifications index): when it answers 503, the page still
    lists the alerts and says what is missing, instead of an error in place of the table. The 503 is
    real: the notifications index's only shard held unassigned by a filter matching no node."""
    browser, _ = sized
    es = connect(site.settings.es_url)
    index = notifications_index(site.settings.index_prefix)
    body = notifications_index_body()
    es.indices.delete(index=index, ignore_unavailable=True)
    es.indices.create(index=index, mappings=body["mappings"], wait_for_active_shards="0", settings={
        **body["settings"], "index.routing.allocation.include._name": "no-such-node"})
    try:
        with httpx.Client(base_url=site.base_url, timeout=60) as http:
            assert http.get("/api/alerts", params={"counts": "true"}).status_code == 503
        browser.get(f"{site.base_url}/alerts")
        browser.wait_for("#alerts-table tbody tr", text="Migration Turquie")
        browser.wait_for("#alerts-table tbody tr", text="e-mail ana@example.org")
        note = browser.wait_for("#alerts-table .counts-unavailable", text="How often each alert fired is not shown")
        assert "try again in a moment" in browser.text(note)
        assert browser.find_all("#alerts-table .fired") == []  # no count rather than a wrong one
    finally:
        es.indices.put_settings(index=index, settings={"index.routing.allocation.include._name": None})
        es.cluster.health(index=index, wait_for_active_shards="1", timeout="30s")
        es.close()


@pytest.mark.parametrize("sized", [PHONE], indirect=True)
def test_dark_mode_follows_the_system(sized: tuple[Browser, int], site: ApiServer) -> None:  # noqa: F811
    browser, _ = sized

    def background() -> str:
        browser.get(f"{site.base_url}/search?q=Idleb")
        browser.wait_for(".result")
        return str(browser.execute("return getComputedStyle(document.body).backgroundColor"))

    browser.prefer_color_scheme("light")
    light = background()
    browser.prefer_color_scheme("dark")
    dark = background()
    assert light == "rgb(245, 246, 248)" and dark != light
    red, green, blue = (int(part) for part in dark[dark.index("(") + 1:-1].split(","))
    assert red + green + blue < 3 * 64  # a dark page, not merely another light one
    assert_fits(browser, PHONE, "search in dark mode")
    browser.screenshot(SCREENSHOTS / "search-390-dark.png")


def test_slash_goes_to_the_search_box(browser: Browser, site: ApiServer) -> None:  # noqa: F811
    browser.get(f"{site.base_url}/search?q=Idleb")
    browser.wait_for(".result")
    browser.execute("document.activeElement.blur()")
    browser.execute("document.body.dispatchEvent(new KeyboardEvent('keydown', {key: '/', bubbles: true}))")
    assert browser.execute("return document.activeElement.id") == "q"
    browser.get(f"{site.base_url}/feeds")
    browser.wait_for("#feeds-table")
    browser.execute("document.body.dispatchEvent(new KeyboardEvent('keydown', {key: '/', bubbles: true}))")
    browser.wait_for("#q")
    assert browser.url.endswith("/search")
    # In a field, "/" is a character like any other.
    box = browser.find("#q")
    browser.type(box, "a/b")
    assert browser.execute("return document.getElementById('q').value") == "a/b"


@pytest.mark.parametrize("sized", WIDTHS, indirect=True)
def test_stories_and_entity(sized: tuple[Browser, int], site: ApiServer) -> None:  # noqa: F811
    browser, width = sized
    browser.get(f"{site.base_url}/stories")
    browser.wait_for("#nav a[aria-current='page']", text="Stories")
    assert_fits(browser, width, "stories")
    browser.get(f"{site.base_url}/search?q=Idleb")
    chip = browser.wait_for(".result .chips a.chip.PERSON")
    browser.get(site.base_url + (browser.attribute(chip, "href") or ""))
    browser.wait_for("#entity-name", text="Recep Tayyip")
    assert_fits(browser, width, "entity")
    browser.screenshot(SCREENSHOTS / f"entity-{width}.png")
