"""Checking feeds before following them: is the address alive, is it a feed, what is its title.

`vigie feeds add` and `vigie feeds import` run each candidate through ``check_feed``, which reads it
once through the poller's own code path (``ingest.poll.fetch_feed``: the same fetcher, limits and
address policy). An HTML page that advertises a feed (``<link rel="alternate" type="application/rss+xml">``)
is replaced by that feed, as `vigie fetch` names it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

from ingest.fetch import Fetcher
from ingest.poll import FeedPoll, fetch_feed

#: ok: a feed; dead: no feed answer at that address (connection refused, DNS, timeout, HTTP 404, 5xx...);
#: not-a-feed: something answered, but neither a feed nor a page linking to one
Verdict = Literal["ok", "dead", "not-a-feed"]


@dataclass(frozen=True, slots=True)
class FeedCheck:
    url: str  # the address checked, as given
    verdict: Verdict
    feed_url: str  # the feed to follow: ``url``, or the feed the page at ``url`` links to
    title: str | None = None  # the feed's own title
    items: int = 0
    error_kind: str | None = None
    error: str | None = None  # a sentence naming the URL

    @property
    def followed_link(self) -> bool:
        return self.feed_url != self.url

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"url": self.url, "verdict": self.verdict, "feed_url": self.feed_url,
                                   "title": self.title, "items": self.items}
        if self.error:
            data["error"] = {"kind": self.error_kind, "message": self.error}
        return data


def _verdict(url: str, poll: FeedPoll, feed_url: str) -> FeedCheck:
    if poll.ok:
        return FeedCheck(url=url, verdict="ok", feed_url=feed_url, title=poll.title, items=len(poll.items))
    assert poll.error is not None
    verdict: Verdict = "not-a-feed" if poll.error.kind == "not-a-feed" else "dead"
    return FeedCheck(url=url, verdict=verdict, feed_url=feed_url, error_kind=poll.error.kind, error=poll.error.message)


def check_feed(fetcher: Fetcher, url: str) -> FeedCheck:
    """Read ``url`` once; an HTML page linking to a feed is checked as that feed (one hop, no more)."""
    poll = fetch_feed(fetcher, url)
    link = poll.error.feed_link if poll.error is not None else None
    if link and link != url:
        # the advertised feed's own verdict (a broken link is reported naming the feed, not the page)
        return _verdict(url, fetch_feed(fetcher, link), link)
    return _verdict(url, poll, url)


def check_feeds(fetcher: Fetcher, urls: Sequence[str], *, workers: int = 8,
                done: Callable[[FeedCheck], None] | None = None) -> list[FeedCheck]:
    """``check_feed`` on every URL, at most ``workers`` at a time; results in the order of ``urls``,
    ``done`` called as each finishes (progress)."""
    if not urls:
        return []

    def one(url: str) -> FeedCheck:
        try:
            result = check_feed(fetcher, url)
        except Exception as error:  # noqa: BLE001 - a bug on one feed must not lose the others' checks
            result = FeedCheck(url=url, verdict="dead", feed_url=url, error_kind="internal-error",
                               error=f"checking {url} failed: {type(error).__name__}: {error}")
        if done is not None:
            done(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(urls))), thread_name_prefix="feed-check") as pool:
        return list(pool.map(one, urls))
