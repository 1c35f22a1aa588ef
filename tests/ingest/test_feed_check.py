"""ingest.feed_check: a feed is read once before it is followed; a page linking to a feed is replaced by
that feed, and dead addresses and pages that are not feeds are told apart (local server only)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conf.limits import FetchLimits
from ingest.feed_check import check_feed, check_feeds
from ingest.fetch import Fetcher
from tests.support.feeds import FeedServer, closed_port_url, make_story

LIMITS = FetchLimits(user_agent="Vigie/0.1 (tests)", total_timeout=5.0)


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(LIMITS) as fetcher:
        yield fetcher


def test_a_feed_is_ok_with_its_own_title(server: FeedServer, fetcher: Fetcher) -> None:
    url = server.publish("wire", [make_story(1, prefix="wire"), make_story(2, prefix="wire")], title="Le Fil Monde")
    check = check_feed(fetcher, url)
    assert (check.verdict, check.feed_url, check.title, check.items) == ("ok", url, "Le Fil Monde", 2)
    assert not check.followed_link


def test_a_page_linking_to_a_feed_is_replaced_by_the_feed(server: FeedServer, fetcher: Fetcher) -> None:
    feed = server.publish("home", [make_story(1, prefix="home")], title="Home news")
    page = server.serve("/home.html", '<html><head><title>Home</title><link rel="alternate" '
                                      'type="application/rss+xml" href="/feed/home.xml"></head><body>hi</body></html>')
    check = check_feed(fetcher, page)
    assert (check.verdict, check.url, check.feed_url, check.title) == ("ok", page, feed, "Home news")
    assert check.followed_link


def test_dead_and_not_a_feed_are_told_apart(server: FeedServer, fetcher: Fetcher) -> None:
    plain = server.serve("/about.html", "<html><head><title>About</title></head><body>no feed</body></html>")
    missing = server.url("/feed-that-does-not-exist.xml")
    refused = closed_port_url()
    checks = {check.url: check for check in check_feeds(fetcher, [plain, missing, refused], workers=3)}
    assert checks[plain].verdict == "not-a-feed" and plain in (checks[plain].error or "")
    assert (checks[missing].verdict, checks[missing].error_kind) == ("dead", "http-404")
    assert checks[refused].verdict == "dead" and refused.split("/feed")[0].split("//")[1] in (checks[refused].error or "")


def test_check_feeds_keeps_the_order_and_reports_each_as_it_ends(server: FeedServer, fetcher: Fetcher) -> None:
    urls = [server.publish(f"many{n}", [make_story(n, prefix="many")]) for n in range(5)]
    urls.insert(2, closed_port_url())
    seen: list[str] = []
    checks = check_feeds(fetcher, urls, workers=2, done=lambda check: seen.append(check.url))
    assert [check.url for check in checks] == urls
    assert sorted(seen) == sorted(urls)
    assert [check.verdict for check in checks] == ["ok", "ok", "dead", "ok", "ok", "ok"]
