"""Alerts end to end: a real `celery worker`, real Redis and Elasticsearch, a local webhook receiver.

Articles go through the real path (``vigie.process_items``: analysis, index, alerts, delivery); alerts
are made with the real `vigie alerts` command while the worker runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import redis
from celery import Celery
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.notifications import NotificationStore
from ingest.notification_records import notification_id
from ingest.webhook import signature_matches
from state.deadletter import DeadLetters
from tests.index.factories import make_notification
from tests.support.feeds import make_story
from tests.support.pipeline import count, feed_items, send
from tests.support.processes import Background, run_vigie, start_scheduler, task_results, vigie_json, wait_until
from tests.support.quiescence import broker_backlog, settled
from tests.support.samples import sample_item
from tests.support.webhooks import WebhookReceiver

pytestmark = [pytest.mark.integration, pytest.mark.long(200)]


@pytest.fixture()
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def add_alert(env: dict[str, str], name: str, *args: str) -> dict:  # type: ignore[type-arg]
    return vigie_json(["alerts", "add", name, *args], env, timeout=300)


def notifications(es: Elasticsearch, settings: Settings, alert_id: str | None = None) -> list[dict]:  # type: ignore[type-arg]
    index = f"{settings.index_prefix}-notifications"
    if not es.indices.exists(index=index):
        return []
    es.indices.refresh(index=index)
    query = {"term": {"alert_id": alert_id}} if alert_id else {"match_all": {}}
    return [hit["_source"] for hit in es.search(index=index, query=query, size=100)["hits"]["hits"]]


def test_alert_on_migration_and_turquie_posts_the_sample_exactly_once(
    env: dict[str, str], settings: Settings, es: Elasticsearch, app: Celery, receiver: WebhookReceiver,
    redis_client: redis.Redis, workers: Callable[..., Background],
) -> None:
    worker = workers()
    # Made while the worker runs: it applies to the next article, no restart.
    alert = add_alert(env, "Migration Turquie", "--topic", "migration", "--query", "Turquie",
                      "--webhook", receiver.url)
    add_alert(env, "Migration Liban", "--topic", "migration", "--query", "Liban", "--webhook", receiver.url + "/liban")
    item = sample_item()
    send(app, [item])
    posts = receiver.wait_for(1, timeout=120)
    assert len(posts) == 1, worker.output()[-4000:]
    send(app, [item])  # the same article delivered again (a re-polled feed, a redelivered task)
    send(app, [replace(item, title=item.title + " (mis à jour)")])  # and changed: indexed again, same id
    assert wait_until(lambda: worker.output().count("article.indexed") >= 3, timeout=120), worker.output()[-4000:]
    # Any second delivery would have been POSTed by now: nothing queued or held, the counts settled.
    settled(redis_client, lambda: len(receiver.posts()), lambda: len(notifications(es, settings)))

    (post,) = receiver.posts()
    assert post.path == "/hook" and post.acknowledged
    assert signature_matches(alert["delivery"]["secret"], post.body, post.headers["x-vigie-signature"])
    expected_id = notification_id(alert["alert_id"], item.article_id)
    assert post.headers["idempotency-key"] == expected_id
    body = post.json
    assert body["alert"] == {"id": alert["alert_id"], "name": "Migration Turquie"}
    assert body["article_id"] == item.article_id and body["url"] == item.url and body["language"] == "fr"
    assert body["title"].startswith("Le président turc Recep Tayyip Erdogan")
    assert [topic["name"] for topic in body["matched_topics"]] == ["migration"]
    assert body["matched_terms"] == ["Turquie"] and "Turquie" in body["matched_entities"]
    assert "<mark>Turquie</mark>" in body["highlights"]["text"][0]

    stored = notifications(es, settings)
    assert [(n["notification_id"], n["state"], n["attempts"]) for n in stored] == [(expected_id, "delivered", 1)]
    fired = vigie_json(["alerts", "fired"], env)
    assert [n["notification_id"] for n in fired] == [expected_id]
    backtest = vigie_json(["alerts", "test", "Migration Turquie", "--since", "1d"], env)
    assert [hit["id"] for hit in backtest["hits"]] == [item.article_id]  # the alert and its backtest agree


def test_worker_killed_mid_delivery_gives_one_notification_and_one_acknowledged_post(
    env: dict[str, str], settings: Settings, es: Elasticsearch, app: Celery, redis_client: redis.Redis,
    workers: Callable[..., Background],
) -> None:
    receiver = WebhookReceiver(hold_first=True)  # holds the first POST open, answers nothing
    try:
        fast = {"VIGIE_VISIBILITY_TIMEOUT": "5", "VIGIE_WEBHOOK_TIMEOUT": "3"}
        alert = add_alert(env, "Migration Turquie", "--topic", "migration", "--query", "Turquie",
                          "--webhook", receiver.url)
        worker = workers(**fast)
        send(app, [sample_item()])
        assert receiver.holding.wait(120), worker.output()[-4000:]
        worker.kill_group()  # SIGKILL the worker and its pool while it waits for the receiver's answer
        receiver.release()
        workers(**fast)  # a new worker takes the unacknowledged delivery back
        acknowledged = receiver.wait_for(1, timeout=120, acknowledged=True)
        # The killed worker's delivery is back and done (``unacked`` empty): no further POST can come.
        settled(redis_client, lambda: len(receiver.posts()))
        posts = receiver.posts()
        assert len(acknowledged) == 1 and len(receiver.acknowledged()) == 1
        expected_id = notification_id(alert["alert_id"], "sample-erdogan")
        assert {post.headers["idempotency-key"] for post in posts} == {expected_id}  # a repeat is recognisable
        assert all(signature_matches(alert["delivery"]["secret"], post.body, post.headers["x-vigie-signature"])
                   for post in posts)
        assert len({post.body for post in posts}) == 1  # the same message, byte for byte
        stored = notifications(es, settings)
        assert [(n["notification_id"], n["state"]) for n in stored] == [(expected_id, "delivered")]
    finally:
        receiver.close()


def test_paused_alert_receives_nothing_and_resumed_it_fires_on_the_next_article(
    env: dict[str, str], settings: Settings, es: Elasticsearch, app: Celery, receiver: WebhookReceiver,
    redis_client: redis.Redis, workers: Callable[..., Background],
) -> None:
    paused = add_alert(env, "Migration Turquie", "--topic", "migration", "--query", "Turquie",
                       "--webhook", receiver.url + "/paused")
    add_alert(env, "Turquie", "--query", "Turquie", "--webhook", receiver.url + "/active")
    run_vigie(["alerts", "pause", "Migration Turquie"], env, check=True)
    worker = workers()
    send(app, [sample_item("first")])
    assert [post.path for post in receiver.wait_for(1, timeout=120)] == ["/hook/active"], worker.output()[-3000:]
    settled(redis_client, lambda: len(receiver.posts()), lambda: len(notifications(es, settings)))
    assert [post.path for post in receiver.posts()] == ["/hook/active"]  # the paused alert received nothing
    assert [n["alert_name"] for n in notifications(es, settings)] == ["Turquie"]

    run_vigie(["alerts", "resume", "Migration Turquie"], env, check=True)
    send(app, [sample_item("second")])
    receiver.wait_for(3, timeout=60)
    settled(redis_client, lambda: len(receiver.posts()))
    assert sorted((post.path, post.json["article_id"]) for post in receiver.posts()) == [
        ("/hook/active", "first"), ("/hook/active", "second"), ("/hook/paused", "second")]
    assert [n["article_id"] for n in notifications(es, settings, paused["alert_id"])] == ["second"]


def test_failing_receivers_are_retried_then_dead_lettered_and_never_block_indexing(
    env: dict[str, str], settings: Settings, es: Elasticsearch, app: Celery, receiver: WebhookReceiver,
    redis_client: redis.Redis, workers: Callable[..., Background],
) -> None:
    receiver.status = 500
    add_alert(env, "Erreur", "--query", "Turquie", "--webhook", receiver.url)
    add_alert(env, "Personne", "--query", "Turquie", "--webhook", "http://127.0.0.1:9/nobody")  # refused
    fast = {"VIGIE_WEBHOOK_MAX_ATTEMPTS": "3", "VIGIE_WEBHOOK_BACKOFF_MAX": "1", "VIGIE_WEBHOOK_TIMEOUT": "2"}
    worker = workers(**fast)
    send(app, [sample_item()])
    others = feed_items([make_story(n, prefix="flow") for n in range(40)])
    for start in range(0, len(others), 8):
        send(app, others[start : start + 8])
    # The pipeline keeps indexing while the receivers fail.
    assert wait_until(lambda: count(es, settings) == 41, timeout=240), worker.output()[-4000:]
    letters = DeadLetters(redis_client)
    assert wait_until(lambda: len(letters.entries()) == 2, timeout=120), worker.output()[-4000:]
    kinds = sorted(entry.error_kind for entry in letters.entries())
    assert kinds == ["webhook-connection-refused", "webhook-server-error"]
    posts = receiver.posts()
    assert len(posts) == 3 and len({post.headers["idempotency-key"] for post in posts}) == 1  # 3 attempts, one message
    assert sorted((n["alert_name"], n["state"], n["attempts"]) for n in notifications(es, settings)) == [
        ("Erreur", "failed", 3), ("Personne", "failed", 3)]

    receiver.status = 200  # the receiver is fixed: replaying the dead letters delivers
    run_vigie(["dlq", "retry", "--all"], env, check=True)
    assert len(receiver.wait_for(1, timeout=60, acknowledged=True)) == 1
    assert wait_until(lambda: sorted(n["state"] for n in notifications(es, settings)) == ["delivered", "failed"], 30)


# Seconds: VIGIE_DIGEST_HOURLY_SECONDS for the scheduler and the worker, so an "hour" ends within the test.
# Short, because the test waits for three period ends. A period end cannot fall between the two
# matches: both articles go in one vigie.process_items task, whose notifications share one created_at.
DIGEST_PERIOD = 5


def test_the_running_scheduler_sends_one_digest_listing_the_period_matches(
    env: dict[str, str], settings: Settings, es: Elasticsearch, app: Celery, receiver: WebhookReceiver,
    redis_client: redis.Redis, workers: Callable[..., Background],
) -> None:
    env = {**env, "VIGIE_DIGEST_HOURLY_SECONDS": str(DIGEST_PERIOD)}
    alert = add_alert(env, "Résumé", "--topic", "migration", "--webhook", receiver.url, "--digest", "hourly")
    worker = workers(VIGIE_DIGEST_HOURLY_SECONDS=str(DIGEST_PERIOD))
    scheduler = start_scheduler(env)  # its alert clock queues vigie.send_digests when a period ends
    try:
        send(app, [sample_item("one"), sample_item("two")])
        assert wait_until(lambda: len(notifications(es, settings)) == 2, timeout=120), worker.output()[-4000:]
        made = max(datetime.fromisoformat(n["created_at"]) for n in notifications(es, settings))
        # The first POST is the digest of both: nothing went one by one before it.
        (post,) = receiver.wait_for(1, timeout=120 + DIGEST_PERIOD)
        body = post.json
        assert body["type"] == "digest" and body["alert"]["id"] == alert["alert_id"] and body["count"] == 2
        assert sorted(match["article_id"] for match in body["matches"]) == ["one", "two"]
        period_end = datetime.fromisoformat(body["period_end"])
        # The scheduler chose the end of the period the matches were made in (periods aligned on the epoch).
        assert period_end.timestamp() % DIGEST_PERIOD == 0 and made < period_end <= made + timedelta(
            seconds=DIGEST_PERIOD)
        assert signature_matches(alert["delivery"]["secret"], post.body, post.headers["x-vigie-signature"])
        assert post.headers["idempotency-key"] == body["digest_id"]
        assert wait_until(lambda: {n["state"] for n in notifications(es, settings)} == {"delivered"}, 30)
        # The next periods end too, with nothing pending: the worker ran vigie.send_digests for them and
        # queued no digest (it returns the number of alerts with a digest to send).
        ran = len(task_results(worker, "vigie.send_digests"))
        assert wait_until(lambda: task_results(worker, "vigie.send_digests")[ran:].count("0") >= 2,
                          timeout=4 * DIGEST_PERIOD + 60), worker.output()[-4000:]
        settled(redis_client, lambda: len(receiver.posts()))
        assert len(receiver.posts()) == 1
        # And the sweep, queued by the same clock at start, ran in the worker.
        assert task_results(worker, "vigie.sweep_notifications"), worker.output()[-4000:]
    finally:
        scheduler.stop()
    feed = run_vigie(["alerts", "feed", "Résumé"], env, check=True).stdout
    assert feed.count("<entry>") == 2


def test_the_running_scheduler_sweeps_a_notification_whose_delivery_task_was_lost(
    env: dict[str, str], settings: Settings, es: Elasticsearch, receiver: WebhookReceiver,
    redis_client: redis.Redis, workers: Callable[..., Background],
) -> None:
    alert = add_alert(env, "Perdue", "--query", "Idleb", "--webhook", receiver.url)
    # A pending immediate notification due long ago whose deliver task is in no queue: the worker that
    # made it died before queueing it. Nothing but the sweep can find it.
    long_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    lost = make_notification(alert, "lost-1", created_at=long_ago, state="pending", mode="immediate")
    store = NotificationStore(es, settings.index_prefix)
    store.create([lost])
    store.refresh()
    worker = workers()
    assert receiver.posts() == [] and broker_backlog(redis_client)["vigie.notify"] == 0
    scheduler = start_scheduler(env)  # its alert clock queues vigie.sweep_notifications at start
    try:
        (post,) = receiver.wait_for(1, timeout=120)
        assert post.headers["idempotency-key"] == lost.notification_id and post.json["article_id"] == "lost-1"
        assert "1" in task_results(worker, "vigie.sweep_notifications"), worker.output()[-4000:]
        assert f"notification.requeued notification={lost.notification_id}" in worker.output()
        assert wait_until(lambda: [(n["state"], n["attempts"]) for n in notifications(es, settings)] == [
            ("delivered", 1)], 30)
        settled(redis_client, lambda: len(receiver.posts()))
        assert len(receiver.posts()) == 1
    finally:
        scheduler.stop()
