"""Delivery guarantees with real processes: redelivery, a killed worker, Elasticsearch and Redis down."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis
from celery import Celery
from elasticsearch import Elasticsearch

from conf.settings import Settings
from state.deadletter import DeadLetters
from state.pending import PendingArticles
from tests.support.feeds import make_story
from tests.support.processes import Background, start_scheduler
from tests.support.quiescence import settled
from tests.support.pipeline import count, feed_items, queue_length, send as _send, send_pending, \
    wait_for_count as _wait_for_count
from vigie.services import embedded_services
from worker.pending_sweep import SWEEP_SECONDS

pytestmark = [pytest.mark.integration, pytest.mark.long(240)]

#: A batch whose message was lost is queued again once it has waited SWEEP_SECONDS and two sweeps in a
#: row found its message nowhere: at most three sweeps, then its analysis.
SWEPT_WITHIN = 4 * SWEEP_SECONDS + 60


def test_same_task_delivered_twice_gives_one_document(
    app: Celery, settings: Settings, es: Elasticsearch, redis_client: redis.Redis,
    workers: Callable[..., Background],
) -> None:
    items = feed_items([make_story(n, prefix="twice") for n in range(5)])
    _send(app, items)
    _send(app, items)  # the broker delivers the same articles again
    workers()
    assert _wait_for_count(es, settings, 5, timeout=120) == 5
    # Both deliveries processed: no task queued or held by the worker, the count settled.
    assert settled(redis_client, lambda: count(es, settings)) == (5,)


def test_worker_killed_mid_batch_loses_nothing(
    env: dict[str, str], app: Celery, settings: Settings, es: Elasticsearch, redis_client: redis.Redis,
    workers: Callable[..., Background],
) -> None:
    """Killed mid-batch, a worker loses nothing, by either road back: the tasks it held come back from
    the broker after the visibility timeout; a message it had just taken off the queue (kombu's BRPOP)
    and not yet recorded as unacknowledged is gone from the broker, and the scheduler's sweep queues
    those articles again. The worker is killed right after a batch, when it takes the next one: a
    clean-clone run once lost one batch of 16 that way while the test queued without the scheduler."""
    items = feed_items([make_story(n, words=400, prefix="killed") for n in range(160)])
    pending = PendingArticles(redis_client)
    send_pending(app, redis_client, items)  # as the scheduler queues: each batch pending until indexed
    scheduler = start_scheduler(env)
    try:
        worker = workers(VIGIE_VISIBILITY_TIMEOUT="10")
        assert worker.wait_for_line("article.indexed", timeout=120)
        worker.kill_group()  # kill -9 the worker and its pool while batches are in progress
        interrupted = count(es, settings)
        assert interrupted < 160, "the worker finished before it could be killed; the test proves nothing"
        restarted = time.monotonic()
        workers(VIGIE_VISIBILITY_TIMEOUT="10")  # a new worker takes the unacknowledged tasks back
        assert _wait_for_count(es, settings, 160, timeout=SWEPT_WITHIN) == 160, (
            f"pending {pending.count()}; the scheduler's last lines:\n{scheduler.output()[-3000:]}")
        requeued = scheduler.output().count("article.requeued")
        print(f"FIGURES killed worker: {interrupted}/160 indexed at kill -9; 160/160, each once, "
              f"{time.monotonic() - restarted:.1f} s after a new worker started; {requeued} articles "
              f"queued again by the sweep")
        ids = {hit["_id"] for hit in es.search(index=f"{settings.index_prefix}-articles", size=500,
                                               _source=False)["hits"]["hits"]}
        assert ids == {item.article_id for item in items}
    finally:
        scheduler.stop(timeout=30)


def test_elasticsearch_down_for_30_seconds_while_500_articles_flow(
    app: Celery, settings: Settings, es: Elasticsearch, redis_client: redis.Redis,
    workers: Callable[..., Background],
) -> None:
    _, elasticsearch = embedded_services(settings)
    items = feed_items([make_story(n, words=60, prefix="outage") for n in range(500)])
    worker = workers(concurrency=2)
    _send(app, items[:100])
    assert _wait_for_count(es, settings, 1, timeout=120) >= 1
    elasticsearch.stop()
    _send(app, items[100:])  # the rest arrives while the index is down
    try:
        time.sleep(30)
    finally:
        elasticsearch.start()
    back = time.monotonic()
    before = count(es, settings)
    assert _wait_for_count(es, settings, 500, timeout=300) == 500, worker.output()[-6000:]
    assert DeadLetters(redis_client).entries() == []
    print(f"FIGURES Elasticsearch down 30 s: {before}/500 indexed when it came back, 500/500 "
          f"{time.monotonic() - back:.1f} s later, dead letters 0, retries logged "
          f"{worker.output().count('retry')}")


def test_redis_restart_keeps_queued_articles(
    app: Celery, settings: Settings, es: Elasticsearch, redis_client: redis.Redis,
    workers: Callable[..., Background],
) -> None:
    items = feed_items([make_story(n, words=60, prefix="restart") for n in range(200)])
    _send(app, items)
    assert queue_length(redis_client) == len(items) // 16 + 1
    redis_service, _ = embedded_services(settings)
    redis_service.stop()  # SIGTERM: Redis writes its append-only file and exits
    redis_service.start()
    assert queue_length(redis.Redis.from_url(settings.redis_url)) == len(items) // 16 + 1
    started = time.monotonic()
    workers()
    assert _wait_for_count(es, settings, 200, timeout=300) == 200
    print(f"FIGURES Redis restart: {len(items) // 16 + 1} queued tasks before and after; 200/200 indexed "
          f"{time.monotonic() - started:.1f} s after a worker started")
