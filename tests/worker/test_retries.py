"""The one retry and dead-letter policy, with a real worker: a digest that Elasticsearch is down for
is retried within the outage budget, then dead-lettered, and the outage spends none of its webhook
attempts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import pytest
import redis
from celery import Celery

from conf.settings import Settings
from state.deadletter import DeadLetters
from tests.support.processes import Background, wait_until
from vigie.services.processes import free_port
from worker.retries import Budget, outage_budget, webhook_budget


def test_the_two_budgets_come_from_their_own_settings() -> None:
    settings = Settings(max_retries=3, retry_backoff_max=20, webhook_max_attempts=5, webhook_backoff_max=90)
    assert outage_budget(settings) == Budget(3, 20.0)
    assert webhook_budget(settings) == Budget(5, 90.0)
    assert [outage_budget(settings).spent(used) for used in range(5)] == [False, False, False, True, True]


def test_waits_grow_capped_and_a_longer_retry_after_is_honoured_within_the_cap() -> None:
    budget = Budget(10, 30.0)
    for used in range(10):
        assert min(30.0, 2.0 ** used) / 2 <= budget.delay(used) <= min(30.0, 2.0 ** used)
    assert budget.delay(0, retry_after=12) == 12.0  # the receiver asked for more than the backoff
    assert budget.delay(0, retry_after=3600) == 30.0  # never past the cap


@pytest.mark.integration
def test_a_digest_while_elasticsearch_is_down_is_capped_and_keeps_its_webhook_attempts(
    app: Celery, redis_client: redis.Redis, workers: Callable[..., Background]
) -> None:
    # The worker's Elasticsearch is a port nothing listens on: every read fails, as in an outage.
    worker = workers(VIGIE_ES_URL=f"http://127.0.0.1:{free_port()}", VIGIE_MAX_RETRIES="2",
                     VIGIE_RETRY_BACKOFF_MAX="1")
    period_end = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc).isoformat()
    app.send_task("vigie.send_digest", args=["alert-down", period_end, 1])  # one webhook attempt already made
    letters = DeadLetters(redis_client)
    assert wait_until(lambda: bool(letters.entries()), timeout=120), worker.output()[-3000:]
    [entry] = letters.entries()
    assert (entry.task, entry.error_kind, entry.attempts) == ("vigie.redeliver_digests", "index-unavailable", 3)
    # Replaying it sends the digest with the webhook attempts it had left: the outage spent none.
    assert entry.payload == [{"alert_id": "alert-down", "period_end": period_end, "attempt": 1}]
    # The first try and two retries were deferred (logged before the dead letter), then the cap.
    assert wait_until(lambda: worker.output().count("digest.deferred") >= 2, timeout=30)
    assert worker.output().count("digest.deferred") == 2
