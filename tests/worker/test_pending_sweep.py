"""A batch whose broker message is lost is queued again by the scheduler's sweep (worker.pending_sweep):
on the real Redis, and indexed once by a real worker.

Celery's Redis transport takes a message off its queue (BRPOP) before it records it as
unacknowledged; a worker killed in between loses it. The first test makes that happen to a real
worker: stopped (SIGSTOP) while its BRPOP waits on Redis, it is handed the batch it will never read,
then killed. The others take the message off the queue themselves, as that worker did."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import psutil
import pytest
import redis
from celery import Celery
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.mappings import members_index
from index.stories import StoryStore
from ingest.stories import features_of
from state.deadletter import DeadLetters
from state.pending import PendingArticles
from tests.index.factories import analysed
from tests.support.feeds import make_story
from tests.support.pipeline import count, feed_items, wait_for_count
from tests.support.processes import Background, vigie_json, wait_until, worker_tree
from tests.support.quiescence import settled
from tests.worker.story_articles import quake
from worker.pending_sweep import MAX_REQUEUES, SWEEP_SECONDS, UNACKED, PendingSweep, SendBatch, queue_batch, \
    task_ids_in_broker, task_sender
from worker.queues import ANALYZE_QUEUE, INDEX_QUEUE, PROCESS_ITEMS, STORY_QUEUE
from worker.story_queue import features_to_dict

pytestmark = [pytest.mark.integration]


def _sender(app: Celery) -> SendBatch:
    send = task_sender(app)
    return lambda items, task_id: send(PROCESS_ITEMS, items, task_id)


def _queue(app: Celery, pending: PendingArticles, prefix: str, numbers: range, now: float) -> str:
    items = feed_items([make_story(n, prefix=prefix) for n in numbers])
    return queue_batch(_sender(app), pending, [item.to_dict() for item in items], now)


def test_a_worker_killed_holding_a_batch_it_never_recorded_loses_it_to_the_broker_and_the_sweep_brings_it_back(
        app: Celery, settings: Settings, es: Elasticsearch, redis_client: redis.Redis,
        workers: Callable[..., Background]) -> None:
    pending = PendingArticles(redis_client)
    worker = workers(VIGIE_VISIBILITY_TIMEOUT="5")
    assert worker.process is not None
    consumer = psutil.Process(worker_tree(worker.process.pid).article_worker)
    start, queued, lost = time.time(), 0, None
    for attempt in range(8):
        consumer.suspend()  # its BRPOP stays open on Redis for up to a second
        task = _queue(app, pending, "limbo", range(queued, queued + 4), start)
        queued += 4
        time.sleep(1.5)
        if task not in task_ids_in_broker(redis_client):  # in no queue, not unacknowledged: handed over
            lost = task
            break
        consumer.resume()  # the BRPOP had timed out: the batch waits in the queue; try again
        assert wait_for_count(es, settings, queued, timeout=60) == queued
    assert lost is not None, "the stopped worker was never handed a batch"
    worker.kill_group()
    survivor = workers(VIGIE_VISIBILITY_TIMEOUT="5")
    time.sleep(20)  # four visibility timeouts, two looks for dead workers' tasks: nothing comes back
    assert count(es, settings) == queued - 4
    assert redis_client.hlen(UNACKED) == 0 and redis_client.llen(ANALYZE_QUEUE) == 0

    sweep = PendingSweep(redis_client, task_sender(app))
    assert sweep.sweep(start + SWEEP_SECONDS + 1) == 0
    assert sweep.sweep(start + 2 * SWEEP_SECONDS + 2) == 4
    assert wait_for_count(es, settings, queued, timeout=120) == queued
    assert settled(redis_client, lambda: count(es, settings)) == (queued,)
    assert pending.count() == 0
    assert "article.indexed" in survivor.output()
    print(f"FIGURES lost batch: handed to a stopped worker on try {attempt + 1}, killed; "
          f"{queued - 4}/{queued} indexed 20 s later, {queued}/{queued} after the sweep")


def test_a_lost_batch_is_queued_again_once_and_indexed_once_and_a_waiting_one_is_not(
        app: Celery, settings: Settings, es: Elasticsearch, redis_client: redis.Redis,
        workers: Callable[..., Background]) -> None:
    pending = PendingArticles(redis_client)
    start = time.time()
    lost = _queue(app, pending, "lost", range(0, 4), start)
    waiting = _queue(app, pending, "waiting", range(4, 8), start)
    assert task_ids_in_broker(redis_client) == {lost, waiting}
    taken = redis_client.rpop(ANALYZE_QUEUE)  # the worker's BRPOP end: the first batch queued
    assert taken is not None and lost in taken.decode()  # ... and that worker dies: the message is gone

    sweep = PendingSweep(redis_client, task_sender(app))
    assert sweep.sweep(start + SWEEP_SECONDS / 2) == 0  # queued too recently to judge
    assert sweep.sweep(start + SWEEP_SECONDS + 1) == 0  # found nowhere once: a message may be moving
    assert sweep.sweep(start + 2 * SWEEP_SECONDS + 2) == 4  # nowhere twice: queued again
    assert sweep.sweep(start + 3 * SWEEP_SECONDS + 3) == 0  # the new message waits in the queue
    again = {article.task_id for article in pending.queued_before(start + 10 * SWEEP_SECONDS)} - {waiting}
    assert len(again) == 1 and again != {lost}
    assert redis_client.llen(ANALYZE_QUEUE) == 2  # the waiting batch was never queued twice

    workers()
    assert wait_for_count(es, settings, 8, timeout=120) == 8
    assert settled(redis_client, lambda: count(es, settings)) == (8,)
    assert pending.count() == 0  # indexed: nothing left to watch
    assert DeadLetters(redis_client).entries() == []


def test_a_story_message_lost_after_indexing_is_queued_again_and_each_article_joins_one_story(
        app: Celery, settings: Settings, es: Elasticsearch, redis_client: redis.Redis,
        workers: Callable[..., Background]) -> None:
    pending = PendingArticles(redis_client)
    worker = workers()
    assert worker.process is not None
    assert wait_until(lambda: worker_tree(worker.process.pid).story_consumer is not None, timeout=60)
    consumer = psutil.Process(worker_tree(worker.process.pid).story_consumer)
    consumer.suspend()
    time.sleep(2)  # its BRPOP has timed out on Redis: the story message will wait in its queue
    start = time.time()
    _queue(app, pending, "unstoried", range(0, 4), start)
    assert wait_for_count(es, settings, 4, timeout=120) == 4
    assert wait_until(lambda: redis_client.llen(STORY_QUEUE) == 1, timeout=30)
    taken = redis_client.rpop(STORY_QUEUE)  # the consumer's BRPOP end ... and that consumer dies: gone
    assert taken is not None
    story_task = json.loads(taken)["headers"]["id"]
    ids = [f"t-{n}" for n in range(4)]
    # Indexed, but waiting on the story message: recorded before it was sent.
    assert {(article.article_id, article.task_id) for article in pending.queued_before(time.time() + 1)} == {
        (article_id, story_task) for article_id in ids}
    consumer.resume()
    stories = StoryStore(es, settings.index_prefix)
    assert stories.memberships(ids) == {}

    sweep = PendingSweep(redis_client, task_sender(app))
    assert sweep.sweep(time.time() + SWEEP_SECONDS + 1) == 0  # found nowhere once: a message may be moving
    assert sweep.sweep(time.time() + 2 * SWEEP_SECONDS + 2) == 4  # nowhere twice: queued again
    assert wait_until(lambda: len(stories.memberships(ids)) == 4, timeout=120), stories.memberships(ids)
    assert settled(redis_client, lambda: count(es, settings), lambda: stories.memberships(ids)) == (
        4, stories.memberships(ids))
    es.indices.refresh(index=members_index(settings.index_prefix))  # searchable every few seconds: now
    members = es.search(index=members_index(settings.index_prefix), query={"terms": {"_id": ids}}, size=20)
    assert sorted(hit["_id"] for hit in members["hits"]["hits"]) == ids  # one membership each
    assert pending.count() == 0 and DeadLetters(redis_client).entries() == []
    print(f"FIGURES lost story message: {len(stories.memberships(ids))}/4 articles in a story after the sweep, "
          f"{count(es, settings)} documents")


def test_a_task_held_by_a_worker_is_not_queued_again(app: Celery, redis_client: redis.Redis) -> None:
    pending = PendingArticles(redis_client)
    start = time.time()
    held = _queue(app, pending, "held", range(0, 2), start)
    raw = redis_client.rpop(ANALYZE_QUEUE)
    assert raw is not None
    message = json.loads(raw)
    # What kombu records once a worker has the message (its delivery tag, the message, exchange, routing key).
    redis_client.hset(UNACKED, message["properties"]["delivery_tag"], json.dumps([message, "", ANALYZE_QUEUE]))
    sweep = PendingSweep(redis_client, task_sender(app))
    for round_ in range(1, 4):
        assert sweep.sweep(start + round_ * (SWEEP_SECONDS + 1)) == 0
    assert {article.task_id for article in pending.queued_before(start + 10 * SWEEP_SECONDS)} == {held}
    assert redis_client.llen(ANALYZE_QUEUE) == 0


def test_a_batch_lost_every_time_goes_to_the_dead_letters_after_the_last_try(
        app: Celery, redis_client: redis.Redis) -> None:
    pending = PendingArticles(redis_client)
    now = time.time()
    _queue(app, pending, "cursed", range(0, 3), now)
    sweep = PendingSweep(redis_client, task_sender(app))
    queued_again = []
    for _ in range(MAX_REQUEUES + 1):
        assert redis_client.rpop(ANALYZE_QUEUE) is not None  # lost again
        now += SWEEP_SECONDS + 1
        assert sweep.sweep(now) == 0
        now += SWEEP_SECONDS + 1
        queued_again.append(sweep.sweep(now))
    assert queued_again == [3] * MAX_REQUEUES + [0]
    assert redis_client.llen(ANALYZE_QUEUE) == 0 and pending.count() == 0
    [letter] = DeadLetters(redis_client).entries()
    assert (letter.task, letter.error_kind, sorted(letter.article_ids)) == (PROCESS_ITEMS, "lost-in-broker",
                                                                            ["t-0", "t-1", "t-2"])
    assert letter.payload[0]["article_id"] in letter.article_ids  # the feed items, to replay


def test_feed_items_replayed_from_the_dead_letters_wait_as_pending(env: dict[str, str], redis_client: redis.Redis) -> None:
    items = [item.to_dict() for item in feed_items([make_story(n, prefix="replayed") for n in range(3)])]
    ids = sorted(str(item["article_id"]) for item in items)
    DeadLetters(redis_client).add(task=PROCESS_ITEMS, payload=items, article_ids=ids, error_kind="fetch-failed",
                                  error="the page answered 503", attempts=1)
    assert vigie_json(["dlq", "retry", "--all"], env)["articles"] == 3
    waiting = PendingArticles(redis_client).queued_before(time.time() + 1)
    assert sorted(article.article_id for article in waiting) == ids
    [task] = {article.task_id for article in waiting}
    assert task_ids_in_broker(redis_client) == {task}  # the message that carries them


def test_analysed_articles_replayed_wait_as_pending_and_a_lost_replay_goes_back_to_their_task(
        app: Celery, env: dict[str, str], settings: Settings, es: Elasticsearch, redis_client: redis.Redis,
        workers: Callable[..., Background]) -> None:
    articles = [analysed(f"replayed-{n}", title=f"Crue de la Loire {n}", text=f"La Loire déborde à Tours, jour {n}.",
                         url=f"https://a.example/loire-{n}") for n in range(2)]
    ids = [item.article.article_id for item in articles]
    DeadLetters(redis_client).add(task="vigie.index_articles", payload=[item.to_dict() for item in articles],
                                  article_ids=ids, error_kind="index-unavailable", error="Elasticsearch was down",
                                  attempts=13)
    assert vigie_json(["dlq", "retry", "--all"], env)["articles"] == 2
    pending = PendingArticles(redis_client)
    waiting = pending.queued_before(time.time() + 1)
    assert {(article.article_id, article.kind) for article in waiting} == {(article_id, "vigie.index_articles")
                                                                          for article_id in ids}
    [replayed] = {article.task_id for article in waiting}
    taken = redis_client.rpop(INDEX_QUEUE)  # a worker's BRPOP ... and that worker dies: the replay is gone
    assert taken is not None and json.loads(taken)["headers"]["id"] == replayed

    start = time.time()
    sweep = PendingSweep(redis_client, task_sender(app))
    assert sweep.sweep(start + SWEEP_SECONDS + 1) == 0
    assert sweep.sweep(start + 2 * SWEEP_SECONDS + 2) == 2
    [again] = [json.loads(raw) for raw in redis_client.lrange(INDEX_QUEUE, 0, -1)]
    assert again["headers"]["task"] == "vigie.index_articles"  # to the task that takes them, not the analysis
    assert redis_client.llen(ANALYZE_QUEUE) == 0

    workers()
    assert wait_for_count(es, settings, 2, timeout=120) == 2
    assert settled(redis_client, lambda: count(es, settings)) == (2,)
    assert pending.count() == 0 and DeadLetters(redis_client).entries() == []


def test_story_features_replayed_wait_as_pending_on_their_message(
        app: Celery, env: dict[str, str], redis_client: redis.Redis) -> None:
    features = [features_to_dict(features_of(quake(f"q-{language}", language))) for language in ("en", "fr")]
    ids = [item["article_id"] for item in features]
    DeadLetters(redis_client).add(task="vigie.assign_story_features", payload=features, article_ids=ids,
                                  error_kind="stories-unavailable", error="the story lock stayed busy", attempts=13)
    assert vigie_json(["dlq", "retry", "--all"], env)["articles"] == 2
    waiting = PendingArticles(redis_client).queued_before(time.time() + 1)
    assert {(article.article_id, article.kind) for article in waiting} == {
        (article_id, "vigie.assign_story_features") for article_id in ids}
    [task] = {article.task_id for article in waiting}
    assert task_ids_in_broker(redis_client) == {task}  # on the story queue: the sweep leaves it there
    sweep = PendingSweep(redis_client, task_sender(app))
    now = time.time()
    assert sweep.sweep(now + SWEEP_SECONDS + 1) == 0 and sweep.sweep(now + 2 * SWEEP_SECONDS + 2) == 0
    assert redis_client.llen(STORY_QUEUE) == 1


def test_looking_for_a_backlogs_oldest_batches_reads_only_the_oldest_end_of_the_queue(
        app: Celery, redis_client: redis.Redis) -> None:
    pending = PendingArticles(redis_client)
    now = time.time()
    tasks = [_queue(app, pending, "backlog", range(n, n + 1), now) for n in range(450)]  # oldest first
    assert task_ids_in_broker(redis_client) == set(tasks)  # everything, read from the newest end
    oldest = set(tasks[:3])
    found = task_ids_in_broker(redis_client, oldest)
    assert oldest <= found and tasks[-1] not in found  # found in the first chunk; the newest never read
    assert set(tasks) <= task_ids_in_broker(redis_client, {"lost-task"})  # one lost: the whole queue is read
    sweep = PendingSweep(redis_client, task_sender(app))
    assert sweep.sweep(now + SWEEP_SECONDS + 1) == 0 and sweep.sweep(now + 2 * SWEEP_SECONDS + 2) == 0
    assert redis_client.llen(ANALYZE_QUEUE) == 450
