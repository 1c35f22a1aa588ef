"""What Vigie already accepted, and what each feed carried itself (state.seen), on a real Redis."""

from __future__ import annotations

from dataclasses import replace

import pytest
import redis

from ingest.models import FeedItem
from state.seen import FEED_ITEMS_PREFIX, SeenArticles


def _item(n: int, feed: str = "http://f/one.xml") -> FeedItem:
    return FeedItem(article_id=f"art-{n}", feed_url=feed, url=f"http://f/{n}", title=f"Title {n}", summary="s")


@pytest.mark.integration
def test_a_wire_story_on_two_feeds_is_queued_once_and_counted_by_both(redis_client: redis.Redis) -> None:
    seen = SeenArticles(redis_client, 1)
    first = [_item(n) for n in range(15)] + [_item(100 + n) for n in range(5)]
    second = [_item(200 + n, "http://f/two.xml") for n in range(15)] + [_item(100 + n) for n in range(5)]
    seen.accept(seen.unseen(first))  # the first feed was polled and its batch queued already
    queued_for_second = seen.unseen(second)
    assert len(queued_for_second) == 15  # the shared five are not queued twice
    assert seen.new_to_feed("one", first, now=1000.0) == 20
    assert seen.new_to_feed("two", second, now=1000.0) == 20  # ... but both feeds carried them
    assert seen.new_to_feed("two", second, now=1060.0) == 0  # polled again: nothing new to it
    edited = [replace(second[0], title="Title 200, updated"), *second[1:]]
    assert seen.new_to_feed("two", edited, now=1120.0) == 1  # a changed item is news, as for the queue


@pytest.mark.integration
def test_what_a_feed_carried_is_forgotten_after_the_ttl(redis_client: redis.Redis) -> None:
    seen = SeenArticles(redis_client, 1)
    items = [_item(n) for n in range(3)]
    assert seen.new_to_feed("old", items, now=0.0) == 3
    assert seen.new_to_feed("old", items[:1], now=2 * 86400.0) == 0  # still carried: its time moves on
    assert seen.new_to_feed("old", items[1:2], now=2 * 86400.0 + 1) == 1  # unseen by it for over a day
    assert 0 < redis_client.ttl(FEED_ITEMS_PREFIX + "old") <= 86400
