"""Alert evaluation deferred by an outage (worker.alert_tasks), run in this process on real Redis and
Elasticsearch: an unreachable index defers the articles' alerts by their ids; the deferred task, run
later, reads them back in one multi-get and notifies each match once however often it runs; once the
retries are spent, the articles' ids go to the dead letters."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.alerts import new_rule
from index.errors import IndexUnavailable
from state.deadletter import DeadLetters
from tests.index.factories import analysed
from tests.worker.test_story_alerts import notifications
from vigie.services.processes import free_port
from worker import alert_tasks
from worker.alert_tasks import alert, evaluate_alerts
from worker.queues import INDEX_QUEUE
from worker.runtime import Runtime

pytestmark = pytest.mark.integration

QUAKE = "A magnitude 6.1 earthquake struck Wajima on Monday; the port and the morning market were closed."


def deferrals(monkeypatch: pytest.MonkeyPatch, rt: Runtime) -> list[tuple[Any, list[Any], float, str]]:
    """The retries ``defer_alerts`` queues, kept here instead of sent with a countdown; the deferred
    task, when run, uses ``rt``."""
    queued: list[tuple[Any, list[Any], float, str]] = []
    monkeypatch.setattr(alert_tasks, "retry_later", lambda task, args, delay, queue: queued.append(
        (task, args, delay, queue)))
    monkeypatch.setattr(alert_tasks, "current_runtime", lambda: rt)
    return queued


def test_alerts_deferred_by_an_outage_are_evaluated_later_each_match_once(
        settings: Settings, es: Elasticsearch, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = Runtime(settings)
    rule = rt.alert_store.add(new_rule("Wajima quake", query="Wajima"))
    rt.store.index_batch([
        analysed("w1", title="Earthquake in Wajima", text=QUAKE, language="en"),
        analysed("w2", title="Wajima: the port reopens", text="Wajima's port reopened on Tuesday.", language="en"),
        analysed("x1", title="Lyon marathon", text="Ten thousand runners crossed Lyon on Sunday.", language="en"),
        analysed("w3", title="Wajima market", text="The morning market of Wajima is closed.", language="en"),
    ], refresh=True)
    queued = deferrals(monkeypatch, rt)

    def outage() -> list[Any]:
        raise IndexUnavailable("reading the articles just indexed: connection refused")

    assert alert(rt, ["w1", "w2", "x1", "w3"], outage) == 0
    [(task, args, delay, queue)] = queued
    assert task is evaluate_alerts and queue == INDEX_QUEUE
    assert args == [[{"article_id": "w1"}, {"article_id": "w2"}, {"article_id": "x1"}, {"article_id": "w3"}], 1]
    assert 0 < delay <= settings.retry_backoff_max
    assert notifications(rt, es) == []

    # The outage is over; one article was deleted meanwhile: it is left out, the others are read back.
    assert rt.store.delete("w3")
    assert evaluate_alerts(*args) == 2
    assert evaluate_alerts(*args) == 0  # the retry delivered twice: nothing new
    made = notifications(rt, es)
    assert sorted((item.alert_id, item.article_id) for item in made) == [(rule.alert_id, "w1"), (rule.alert_id, "w2")]
    assert len(queued) == 1  # nothing deferred again


def test_alerts_still_unreachable_after_the_last_retry_go_to_the_dead_letters(
        settings: Settings, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    # Elasticsearch at a port nothing listens on: the rules cannot be loaded, as in an outage.
    down = settings.model_copy(update={"es_url": f"http://127.0.0.1:{free_port()}", "max_retries": 2})
    rt = Runtime(down)
    queued = deferrals(monkeypatch, rt)
    payload = [{"article_id": "a1"}, {"article_id": "a2"}]

    assert evaluate_alerts(payload, 1) == 0  # a retry left: deferred once more
    assert [(args, queue) for _, args, _, queue in queued] == [([payload, 2], INDEX_QUEUE)]
    assert DeadLetters(redis_client).entries() == []

    assert evaluate_alerts(payload, 2) == 0  # the budget is spent
    assert len(queued) == 1
    [letter] = DeadLetters(redis_client).entries()
    assert (letter.task, letter.error_kind, letter.attempts) == ("vigie.evaluate_alerts", "alerts-unavailable", 3)
    assert letter.payload == payload and letter.article_ids == ["a1", "a2"]
