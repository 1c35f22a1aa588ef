"""The whole pipeline with real processes: local feeds → `vigie scheduler` → `celery worker` → index."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis
from elasticsearch import Elasticsearch

from conf.settings import Settings
from state.deadletter import DeadLetters
from state.pending import PendingArticles
from state.seen import ACCEPTED_KEY
from tests.support.feeds import FeedServer, make_story
from tests.support.processes import Background, run_vigie, start_scheduler, vigie_json, wait_until
from tests.support.quiescence import settled
from tests.support.pipeline import count

pytestmark = [pytest.mark.integration, pytest.mark.long(300)]


def accepted(client: redis.Redis) -> int:
    """Articles the poller accepted as new and queued."""
    return int(client.get(ACCEPTED_KEY) or 0)


def test_feeds_polled_again_and_again_index_each_article_once(
    env: dict[str, str], settings: Settings, es: Elasticsearch, redis_client: redis.Redis,
    feed_server: FeedServer, workers: Callable[..., Background],
) -> None:
    shared = [make_story(n, prefix="shared") for n in range(5)]  # carried by both feeds
    first = feed_server.publish("first", [make_story(n, prefix="first") for n in range(15)] + shared)
    second = feed_server.publish("second", [make_story(n, prefix="second") for n in range(15)] + shared)
    env = {**env, "VIGIE_POLL_MIN_INTERVAL": "1"}
    for url in (first, second):  # polled every second: the four polls below take seconds, not ten
        run_vigie(["feeds", "add", url, "--interval", "1"], env, check=True)
    workers(concurrency=2)
    scheduler = start_scheduler(env)
    try:
        assert wait_until(lambda: count(es, settings) >= 35, timeout=180), scheduler.output()[-3000:]
        # Let both feeds be polled several more times (they answer 304 from now on).
        assert wait_until(lambda: min(feed_server.requests.get(f"/feed/{n}.xml", 0) for n in ("first", "second")) >= 4, 60)
        # Nothing in flight: no task queued or held, the documents and the poller's accepted count settled.
        assert settled(redis_client, lambda: count(es, settings), lambda: accepted(redis_client)) == (35, 35)
        polls = {n: feed_server.requests.get(f"/feed/{n}.xml", 0) for n in ("first", "second")}
        print(f"FIGURES polled again: 40 items (5 on both feeds), polls {polls}, 35 documents, accepted 35")
        listed = vigie_json(["feeds", "list"], env)
        assert {feed["url"] for feed in listed} == {first, second}
        for feed in listed:
            assert feed["status"] == "ok" and feed["last_success"] and feed["items_seen"] == 20
            assert feed["consecutive_failures"] == 0 and feed["last_error"] is None
        assert "status=304" in scheduler.output()  # conditional GET: an unchanged feed costs a 304
    finally:
        scheduler.stop()


def test_a_broken_feed_is_recorded_and_does_not_delay_the_others(
    env: dict[str, str], settings: Settings, es: Elasticsearch,
    feed_server: FeedServer, workers: Callable[..., Background],
) -> None:
    good = feed_server.publish("good", [make_story(n, prefix="good") for n in range(3)])
    broken = f"{feed_server.base_url}/feed-that-does-not-exist.xml"
    run_vigie(["feeds", "add", broken, "--name", "Broken", "--keep-dead"], env, check=True)  # a 404: dead, kept
    run_vigie(["feeds", "add", good], env, check=True)
    workers()
    scheduler = start_scheduler(env)
    try:
        assert wait_until(lambda: count(es, settings) == 3, timeout=120)
    finally:
        scheduler.stop()
    listed = {feed["url"]: feed for feed in vigie_json(["feeds", "list"], env)}
    failing = listed[broken]
    assert failing["status"] == "failing" and failing["consecutive_failures"] >= 1
    assert failing["last_error"]["kind"] == "http-404" and broken in failing["last_error"]["message"]
    assert failing["next_poll"] > listed[good]["last_success"]  # backed off, not hammered
    assert "feed.failed" in scheduler.output() and f"feed={broken}" in scheduler.output()


@pytest.mark.timeout(1500)
def test_load_5000_articles_from_local_feeds(
    env: dict[str, str], settings: Settings, es: Elasticsearch, redis_client: redis.Redis,
    feed_server: FeedServer, workers: Callable[..., Background],
) -> None:
    urls = [feed_server.publish(f"load{f}", [make_story(f * 100 + n, words=60, prefix="load") for n in range(100)])
            for f in range(50)]
    opml = "".join(f'<outline type="rss" text="load {i}" xmlUrl="{url}"/>' for i, url in enumerate(urls))
    path = f"{env['VIGIE_HOME']}/load.opml"
    with open(path, "w") as handle:
        handle.write(f'<?xml version="1.0"?><opml version="2.0"><head/><body>{opml}</body></opml>')
    imported = vigie_json(["feeds", "import", path], env)
    assert len(imported["added"]) == 50
    workers(concurrency=2)
    started = time.monotonic()
    scheduler = start_scheduler(env)
    try:
        assert wait_until(lambda: count(es, settings) >= 5000, timeout=1200), scheduler.output()[-3000:]
        seconds = time.monotonic() - started
        taken, indexed, dead = settled(redis_client, lambda: accepted(redis_client), lambda: count(es, settings),
                                       lambda: DeadLetters(redis_client).article_count(), timeout=300)
    finally:
        scheduler.stop()
    assert indexed == 5000
    assert taken == indexed + dead == 5000
    assert PendingArticles(redis_client).count() == 0  # every accepted article indexed, none left waiting
    print(f"FIGURES load: 50 feeds x 100 items, accepted {taken}, indexed {indexed}, dead letters {dead}, "
          f"{seconds:.0f} s from the poller's start to 5000 searchable")
