"""The web page in headless Debian Chromium (through chromedriver), served by a real `vigie api` over
the real index: search for Idleb, read the sample with Erdogan marked as a person, follow a feed.
The screenshots of docs/screenshots/ are taken here (into .vigie-test/screenshots/; scripts/screenshots.sh
copies them)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from conf.limits import fetch_limits
from ingest.analyze import article_from_file
from ingest.fetch import Fetcher
from ingest.fingerprint import signature
from ingest.models import AnalyzedArticle
from ingest.poll import fetch_feed
from state.registry import FeedRegistry, bounds_from
from tests.support.api import ApiServer, api_env, serving
from tests.index.factories import analysed
from tests.ingest.analyzers import shipped_analyzer
from tests.support.browser import ELEMENT, Browser, screenshot_dir
from tests.support.feeds import FeedServer, make_story
from tests.support.samples import SAMPLE_PATH
from vigie.services.processes import free_port

pytestmark = pytest.mark.integration

SCREENSHOTS = screenshot_dir()  # copied into docs/screenshots/ by scripts/screenshots.sh
SAMPLE_START = "Le président turc Recep Tayyip Erdogan se rendra jeudi en Russie"
HOSTILE_TITLE = 'Zanzibar <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>'
HOSTILE_TEXT = ('Zanzibar </mark><img src=x onerror="window.__xss=3"> <a href="javascript:window.__xss=4">lien</a> '
                "<mark>faux</mark> & <b>gras</b>.")


def sample_article() -> AnalyzedArticle:
    """The sample wire story through the real analysis (the session's Analyzer, configured as shipped)."""
    article = replace(article_from_file(SAMPLE_PATH.read_bytes(), "sample"), url="https://wire.example.org/2020/03/erdogan-poutine-idleb",
                      feed_url="http://127.0.0.1:8765/feed.xml", fetched_at=datetime.now(timezone.utc),
                      published=datetime(2020, 3, 3, 9, 30, tzinfo=timezone.utc))
    analysis = shipped_analyzer().analyze(article)
    return AnalyzedArticle(article, analysis, signature=signature(analysis.text))


@pytest.fixture(scope="module")
def site(service_env: dict[str, str]) -> Iterator[ApiServer]:
    hostile = analysed("hostile", title=HOSTILE_TITLE, text=HOSTILE_TEXT, url="javascript:window.__xss=5")
    with serving(api_env(service_env), [sample_article(), hostile]) as server:
        yield server


def search(browser: Browser, site: ApiServer, query: str) -> None:
    browser.get(f"{site.base_url}/search")
    box = browser.wait_for("#q")
    browser.clear(box)
    browser.type(box, query + "\n")
    browser.wait_for("#summary", text=f"“{query}”")


def test_searching_idleb_shows_the_sample_with_its_highlights(browser: Browser, site: ApiServer) -> None:
    search(browser, site, "Idleb")
    results = browser.find_all(".result")
    assert len(results) == 1
    title = browser.text(browser.find(".result-title a"))
    assert title.startswith(SAMPLE_START)
    marks = [browser.text(mark) for mark in browser.find_all(".result .snippet mark")]
    assert marks and all(mark == "Idleb" for mark in marks)
    assert browser.wait_for("#facets [data-facet='topics'] button", text="migration")
    # By identity since issue 13: the facet names the person by the canonical name.
    assert browser.wait_for("#facets [data-facet='people'] button", text="Recep Tayyip Erdoğan")
    # The chips of a result card lead to the entity's page.
    chips = {browser.text(chip): browser.attribute(chip, "href") for chip in browser.find_all(".result .chips a.chip")}
    assert any("Erdogan" in text and "/entities/" in (href or "") for text, href in chips.items()), chips
    assert "q=Idleb" in browser.url  # the search is in the address: shareable, and Back works
    browser.screenshot(SCREENSHOTS / "search.png")


def test_the_article_marks_erdogan_as_a_person(browser: Browser, site: ApiServer) -> None:
    search(browser, site, "Idleb")
    browser.click(browser.find(".result-title a"))
    browser.wait_for("#article-text mark.entity")
    assert browser.text(browser.find("#article-title")).startswith(SAMPLE_START)
    people = {browser.text(mark): mark for mark in browser.find_all("#article-text mark.entity.PERSON")}
    erdogan = people.get("Erdogan") or people.get("Recep Tayyip Erdogan")
    assert erdogan is not None, sorted(people)
    assert browser.attribute(erdogan, "data-label") == "PERSON"
    # The label is shown next to the name, not only in the markup.
    label = browser.execute("return getComputedStyle(arguments[0], '::after').content", {ELEMENT: erdogan})
    assert label == '"PERSON"'
    places = [browser.text(mark) for mark in browser.find_all("#article-text mark.entity.LOCATION")]
    assert "Idleb" in places and "Syrie" in places
    evidence = [browser.text(chip) for chip in browser.find_all("#topics [data-topic='migration'] .evidence .chip")]
    assert "réfugié" in evidence or "migrant" in evidence, evidence
    browser.screenshot(SCREENSHOTS / "article.png")


def test_untrusted_titles_and_texts_stay_text(browser: Browser, site: ApiServer) -> None:
    search(browser, site, "Zanzibar")
    title = browser.text(browser.find(".result-title a"))
    assert '<img src=x onerror="window.__xss=1">' in title and "<script>" in title
    assert browser.find_all("#results img, #results script, #results b") == []
    browser.click(browser.find(".result-title a"))
    browser.wait_for("#article-text", text="Zanzibar")
    assert "<mark>faux</mark>" in browser.text(browser.find("#article-text"))
    assert browser.find_all("#article img, #article script, #article b, #article-text mark") == []
    source_links = [browser.attribute(link, "href") for link in browser.find_all("#article-meta a")]
    assert all(not (href or "").startswith("javascript:") for href in source_links)
    assert browser.execute("return window.__xss === undefined")


def test_the_feeds_page_shows_health_and_follows_a_feed_with_the_token(browser: Browser, site: ApiServer) -> None:
    import redis

    client = redis.Redis.from_url(site.settings.redis_url)
    registry = FeedRegistry(client, bounds_from(site.settings))
    assert registry.all() == []  # the module's own Redis database: no other test's feeds to wipe
    server = FeedServer()
    try:
        # Two feeds polled once through the poller's own fetch: one answers, one is down.
        working = registry.add(server.publish("monde", [make_story(n, prefix="monde") for n in range(3)]),
                               name="Le Monde (test)")
        broken = registry.add(f"http://127.0.0.1:{free_port()}/rss.xml", name="Broken wire")
        with Fetcher(fetch_limits(site.settings)) as fetcher:
            for feed in (working, broken):
                poll = fetch_feed(fetcher, feed.url)
                registry.record(feed, poll, new_items=len(poll.items), now=time.time())

        browser.get(f"{site.base_url}/feeds")
        browser.wait_for("#feeds-table tbody tr[data-status='failing']")
        ok_row = browser.find("#feeds-table tbody tr[data-status='ok']")
        assert "Le Monde (test)" in browser.text(ok_row) and "3" in browser.text(ok_row)
        assert "connection-refused" in browser.text(browser.find("#feeds-table tbody tr[data-status='failing']"))

        # Without the token the page says what is missing; with it the feed is followed.
        browser.execute("sessionStorage.removeItem('vigie.apiToken')")
        new_url = server.publish("sport", [make_story(1, prefix="sport")])
        browser.type(browser.find("#feed-url"), new_url)
        browser.click(browser.find("#add-feed button[type='submit']"))
        assert browser.wait_for("#feed-message .error", text="token")
        browser.type(browser.find("#api-token"), site.token)
        browser.click(browser.find("#add-feed button[type='submit']"))
        browser.wait_for("#feed-message .notice", text="Following")
        browser.wait_for("#feeds-table tbody tr[data-status='new']", text="sport")
        assert registry.get_by_url(new_url) is not None
        browser.screenshot(SCREENSHOTS / "feeds.png")

        row = browser.wait_for("#feeds-table tbody tr[data-status='new']", text="sport")
        browser.click(browser.find(f"#feeds-table tbody tr[data-id='{browser.attribute(row, 'data-id')}'] button.danger"))
        browser.accept_alert()
        browser.wait_for("#feed-message .notice", text="No longer following")
        assert registry.get_by_url(new_url) is None
    finally:
        server.close()
        client.close()


def test_a_facet_click_filters_the_results(browser: Browser, site: ApiServer) -> None:
    browser.get(f"{site.base_url}/search")
    button = browser.wait_for("#facets [data-facet='topics'] button", text="ceasefire")
    browser.click(button)
    browser.wait_for("#filters .chip", text="topic: ceasefire")
    browser.wait_for("#summary", text="1 article")
    assert "topic=ceasefire" in browser.url
    assert browser.text(browser.find(".result-title a")).startswith(SAMPLE_START)


def test_search_links_of_the_old_front_page_still_search(browser: Browser, site: ApiServer) -> None:
    """Search was the front page: a bookmarked /?q=Idleb now lands on /search?q=Idleb with its results."""
    browser.get(f"{site.base_url}/?q=Idleb&lang=fr")
    browser.wait_for("#summary", text="“Idleb”")
    assert "/search?q=Idleb&lang=fr" in browser.url
    assert browser.find_all("#filters .chip") and browser.text(browser.find("#filters .chip")).startswith("lang: fr")
    assert browser.text(browser.find(".result-title a")).startswith(SAMPLE_START)
    current = browser.find("#nav a[aria-current='page']")
    assert browser.text(current) == "Search"
