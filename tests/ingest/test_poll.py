"""ingest.poll: the one code path of `vigie fetch` and the poller never raises for a feed's problems."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conf.limits import FetchLimits
from ingest.fetch import Fetcher
from ingest.poll import FeedPoll, decode_page, fetch_article_page, fetch_feed, poll_to_dict
from tests.ingest.torture_server import ETAG, FRENCH_TITLE, LAST_MODIFIED, TortureServer, closed_port

LIMITS = FetchLimits(user_agent="Vigie/0.1 (tests)", total_timeout=2.5)


@pytest.fixture(scope="module")
def server() -> Iterator[TortureServer]:
    server = TortureServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(LIMITS) as fetcher:
        yield fetcher


def test_a_good_feed_yields_items_and_validators(server: TortureServer, fetcher: Fetcher) -> None:
    url = server.url("/feed/conditional")
    poll = fetch_feed(fetcher, url)
    assert poll.ok and poll.status == 200 and poll.error is None and not poll.not_modified
    assert [item.title for item in poll.items] == ["Item 1", "Item 2", "Item 3"]
    assert all(item.feed_url == url for item in poll.items)
    assert (poll.etag, poll.last_modified) == (ETAG, LAST_MODIFIED)
    assert poll.bytes > 0 and poll.elapsed > 0 and poll.title == "Torture RSS"


def test_an_unchanged_feed_is_one_304_and_keeps_its_validators(server: TortureServer, fetcher: Fetcher) -> None:
    url = server.url("/feed/conditional")
    poll = fetch_feed(fetcher, url, etag=ETAG, last_modified=LAST_MODIFIED)
    assert poll.ok and poll.not_modified and poll.status == 304 and poll.items == ()
    assert (poll.etag, poll.last_modified) == (ETAG, LAST_MODIFIED)
    assert poll.bytes == 0


@pytest.mark.parametrize(("path", "kind", "status", "transient"), [
    ("/status/404", "http-404", 404, False),
    ("/status/500", "server-error", 500, True),
    ("/redirect/loop-a", "too-many-redirects", None, False),
    ("/redirect/file", "unsupported-scheme", None, False),
    ("/drip", "timeout", None, True),
    ("/big", "too-large", None, False),
    ("/gzip-bomb", "too-large", None, False),
    ("/html", "not-a-feed", 200, False),
    ("/empty", "not-a-feed", 200, False),
    ("/garbage", "not-a-feed", 200, False),
    ("/path-body", "not-a-feed", 200, False),
])
def test_failures_are_results_not_exceptions(server: TortureServer, fetcher: Fetcher, path: str, kind: str,
                                            status: int | None, transient: bool) -> None:
    url = server.url(path)
    poll = fetch_feed(fetcher, url, etag='"old"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    assert not poll.ok and poll.items == ()
    assert poll.error is not None and (poll.error.kind, poll.status, poll.error.transient) == (kind, status, transient)
    assert url in poll.error.message
    assert (poll.etag, poll.last_modified) == ('"old"', "Mon, 01 Jan 2024 00:00:00 GMT")  # kept for next time


def test_rate_limit_carries_retry_after(server: TortureServer, fetcher: Fetcher) -> None:
    poll = fetch_feed(fetcher, server.url("/status/429"))
    assert poll.error is not None and poll.error.kind == "rate-limited" and poll.retry_after == 120.0


def test_closed_port(fetcher: Fetcher) -> None:
    poll = fetch_feed(fetcher, f"http://127.0.0.1:{closed_port()}/feed")
    assert poll.error is not None and poll.error.kind == "connection-refused" and poll.status is None


def test_redirected_feed_keeps_its_registered_url_and_reports_the_move(server: TortureServer,
                                                                      fetcher: Fetcher) -> None:
    url = server.url("/redirect/moved")
    poll = fetch_feed(fetcher, url)
    assert poll.ok and poll.feed_url == url and poll.final_url == server.url("/feed/rss20")
    assert poll.permanent_redirect == server.url("/feed/rss20")
    assert all(item.feed_url == url for item in poll.items)


def test_recoverable_breakage_is_ok_with_warnings(server: TortureServer, fetcher: Fetcher) -> None:
    poll = fetch_feed(fetcher, server.url("/truncated"))
    assert poll.ok and len(poll.items) == 2 and any("malformed XML" in w for w in poll.warnings)


def test_json_contract(server: TortureServer, fetcher: Fetcher) -> None:
    ok = poll_to_dict(fetch_feed(fetcher, server.url("/feed/atom")))
    assert ok["feed"] == server.url("/feed/atom") and ok["ok"] is True and ok["status"] == 200
    assert ok["error"] is None
    article = ok["articles"][0]
    assert set(article) >= {"id", "url", "title", "published", "summary"}
    assert article["published"] == "2024-05-06T10:00:00+00:00" and len(article["id"]) == 32
    failed = poll_to_dict(fetch_feed(fetcher, server.url("/status/404")))
    assert failed["ok"] is False and failed["articles"] == []
    assert set(failed["error"]) == {"kind", "message"} and failed["error"]["kind"] == "http-404"


# --- article pages -----------------------------------------------------------------------------------


def test_article_page_html(server: TortureServer, fetcher: Fetcher) -> None:
    page = fetch_article_page(fetcher, server.url("/html"))
    assert page.ok and page.html is not None and "<h1>Not a feed</h1>" in page.html and page.error is None


@pytest.mark.parametrize(("path", "kind"), [("/status/404", "http-404"), ("/garbage", "not-html"),
                                             ("/empty", "empty-page"), ("/gzip-bomb", "too-large")])
def test_article_page_failures(server: TortureServer, fetcher: Fetcher, path: str, kind: str) -> None:
    page = fetch_article_page(fetcher, server.url(path))
    assert not page.ok and page.html is None and page.error is not None and page.error.kind == kind


def test_page_charset_from_meta() -> None:
    body = f'<html><head><meta charset="windows-1252"></head><body>{FRENCH_TITLE}</body></html>'.encode("cp1252")
    assert FRENCH_TITLE in decode_page(body, None)
    assert FRENCH_TITLE in decode_page(FRENCH_TITLE.encode(), "iso-8859-1")  # lying header, UTF-8 body


def test_feed_poll_is_frozen() -> None:
    poll = FeedPoll(feed_url="http://x.org/f", ok=True, status=200, error=None, not_modified=False, items=(),
                    warnings=(), etag=None, last_modified=None, retry_after=None, elapsed=0.0, bytes=0)
    with pytest.raises(AttributeError):
        poll.ok = False  # type: ignore[misc]
