"""The pipeline counters /metrics reads: per stage, per feed, and the fetched-to-indexed histogram."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
import redis

from ingest.models import FeedItem
from state.counters import (
    count_feed_error,
    count_indexed,
    count_stage,
    read_feed_errors,
    read_index_latency,
    read_stage_counts,
)
from state.deadletter import DeadLetters
from state.seen import SeenArticles


@pytest.mark.integration
def test_stages_add_up_across_calls(redis_client: redis.Redis) -> None:
    count_stage(redis_client, "polled", 5)
    count_stage(redis_client, "polled", 2)
    count_stage(redis_client, "polled", 0)
    item = FeedItem(article_id="a1", feed_url="http://f/x.xml", url=None, title="t", summary="s")
    SeenArticles(redis_client, 1).accept([item])  # the poller's "queued" counter
    DeadLetters(redis_client).add(task="vigie.index_articles", payload=[{}], article_ids=["a", "b"],
                                  error_kind="index-rejected", error="x", attempts=1)
    assert read_stage_counts(redis_client) == {"polled": 7, "queued": 1, "indexed": 0, "dead_lettered": 2}


@pytest.mark.integration
def test_indexed_articles_fill_the_latency_histogram(redis_client: redis.Redis) -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
    count_indexed(redis_client, [now - timedelta(seconds=0.1), now - timedelta(seconds=1.5),
                                 now - timedelta(hours=2), None], now=now)
    histogram = read_index_latency(redis_client)
    buckets = dict(histogram.buckets)
    assert buckets["0.25"] == 1 and buckets["2.0"] == 2 and buckets["1800.0"] == 2 and buckets["+Inf"] == 3
    assert histogram.count == 3 and histogram.total == pytest.approx(0.1 + 1.5 + 7200)
    assert read_stage_counts(redis_client)["indexed"] == 4  # the undated one is counted, not timed


def test_a_redis_failure_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    with caplog.at_level(logging.WARNING):
        count_stage(dead, "polled", 3)  # logged and swallowed: an article is never held back for a counter
        count_feed_error(dead, "f1")
        count_indexed(dead, [datetime.now(timezone.utc)])
    lost = [record.getMessage() for record in caplog.records
            if record.levelno == logging.WARNING and record.getMessage().startswith("counter.lost")]
    assert [message.split(" error=")[0] for message in lost] == [
        "counter.lost stage=polled amount=3", "counter.lost feed=f1", "counter.lost stage=indexed amount=1"]
    assert all(message.split(" error=")[1] for message in lost), lost  # each says why


@pytest.mark.integration
def test_feed_errors_are_counted_per_feed(redis_client: redis.Redis) -> None:
    for _ in range(3):
        count_feed_error(redis_client, "feed-a")
    count_feed_error(redis_client, "feed-b")
    assert read_feed_errors(redis_client) == {"feed-a": 3, "feed-b": 1}
