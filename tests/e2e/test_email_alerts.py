"""E-mailed alerts end to end: a real `celery worker`, real Redis and Elasticsearch, a local SMTP server
(aiosmtpd). The alert is made with the real `vigie alerts add --email`; the article goes through the
real path (``vigie.process_items``: analysis, index, alerts, delivery)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import redis
from celery import Celery
from elasticsearch import Elasticsearch

from conf.settings import Settings
from ingest.notification_records import notification_id
from state.counters import read_notification_counts
from state.deadletter import DeadLetters
from tests.e2e.test_alerts import add_alert, notifications
from tests.support.pipeline import send
from tests.support.processes import Background, task_results, wait_until
from tests.support.quiescence import settled
from tests.support.samples import sample_item
from tests.support.smtp import SmtpReceiver

pytestmark = [pytest.mark.integration, pytest.mark.long(80)]


@pytest.fixture()
def smtp() -> Iterator[SmtpReceiver]:
    server = SmtpReceiver()
    yield server
    server.close()


def test_an_email_alert_sends_one_message_per_match_naming_the_alert_and_the_article(
    env: dict[str, str], settings: Settings, es: Elasticsearch, app: Celery, smtp: SmtpReceiver,
    redis_client: redis.Redis, workers: Callable[..., Background],
) -> None:
    worker = workers(**smtp.env())
    alert = add_alert(env, "Migration Turquie", "--topic", "migration", "--query", "Turquie",
                      "--email", "ana@example.org")
    assert alert["delivery"]["email"] == "ana@example.org" and alert["delivery"]["webhook"] is None
    item = sample_item()
    send(app, [item])
    mails = smtp.wait_for(1, timeout=120)
    assert len(mails) == 1, worker.output()[-4000:]
    send(app, [item])  # the same article again, then changed: the same notification, no second e-mail
    send(app, [replace(item, title=item.title + " (mis à jour)")])
    assert wait_until(lambda: worker.output().count("article.indexed") >= 3, timeout=120), worker.output()[-4000:]
    settled(redis_client, lambda: len(smtp.mails()), lambda: len(notifications(es, settings)))

    (mail,) = smtp.mails()
    expected_id = notification_id(alert["alert_id"], item.article_id)
    assert mail.recipients == ["ana@example.org"] and mail.sender == "vigie@test.example.org"
    assert mail.message["Message-ID"] == f"<{expected_id}@vigie>"  # the same on any second send
    assert mail.message["X-Vigie-Alert"] == alert["alert_id"]
    assert mail.message["Subject"].startswith("[Vigie] Migration Turquie: Le président turc")
    text = mail.text
    assert "Alert “Migration Turquie” matched an article." in text
    assert item.title in text and item.url in text and "migration 0." in text and "“Turquie”" in text
    assert mail.html is not None and f'href="{item.url}"' in mail.html
    stored = notifications(es, settings)
    assert [(n["notification_id"], n["state"], n["attempts"]) for n in stored] == [(expected_id, "delivered", 1)]
    counts = read_notification_counts(redis_client)
    assert counts[("email", "sent")] == 1 and counts[("email", "retried")] == 0 and counts[("webhook", "sent")] == 0


def test_a_server_that_says_try_later_gets_the_message_again_and_it_is_counted(
    env: dict[str, str], settings: Settings, es: Elasticsearch, app: Celery, redis_client: redis.Redis,
    workers: Callable[..., Background],
) -> None:
    smtp = SmtpReceiver(refuse_first=2)
    try:
        worker = workers(**smtp.env())
        add_alert(env, "Turquie", "--query", "Turquie", "--email", "ana@example.org")
        send(app, [sample_item()])
        mails = smtp.wait_for(1, timeout=120)
        assert len(mails) == 1 and smtp.refused == 2, worker.output()[-4000:]
        settled(redis_client, lambda: len(smtp.mails()))
        assert len(smtp.mails()) == 1
        (stored,) = notifications(es, settings)
        assert stored["state"] == "delivered" and stored["attempts"] == 3
        counts = read_notification_counts(redis_client)
        assert (counts[("email", "retried")], counts[("email", "sent")], counts[("email", "failed")]) == (2, 1, 0)
        assert worker.output().count("notification.retry") == 2
    finally:
        smtp.close()


def test_without_an_smtp_server_the_notification_fails_at_once_and_is_dead_lettered(
    env: dict[str, str], settings: Settings, es: Elasticsearch, app: Celery, redis_client: redis.Redis,
    workers: Callable[..., Background],
) -> None:
    # No SMTP server set: permanent, the notification fails and waits in the dead letters for `dlq retry`.
    worker = workers()
    add_alert(env, "Turquie", "--query", "Turquie", "--email", "ana@example.org")
    send(app, [sample_item()])
    assert wait_until(lambda: [n["state"] for n in notifications(es, settings)] == ["failed"], timeout=120), \
        worker.output()[-4000:]
    (stored,) = notifications(es, settings)
    assert stored["attempts"] == 1 and stored["last_error"].startswith("not-configured: ")
    (letter,) = DeadLetters(redis_client).entries()
    assert letter.error_kind == "email-not-configured" and letter.article_ids == ["sample-erdogan"]
    assert read_notification_counts(redis_client)[("email", "failed")] == 1


def test_an_email_digest_lists_the_period_matches_in_one_message(
    env: dict[str, str], settings: Settings, es: Elasticsearch, app: Celery, smtp: SmtpReceiver,
    redis_client: redis.Redis, workers: Callable[..., Background],
) -> None:
    worker = workers(**smtp.env())
    alert = add_alert(env, "Résumé", "--topic", "migration", "--email", "ana@example.org", "--digest", "hourly")
    send(app, [sample_item("one"), sample_item("two")])
    assert wait_until(lambda: len(notifications(es, settings)) == 2, timeout=120), worker.output()[-4000:]
    assert smtp.mails() == []  # a digest alert sends nothing per match
    # The period ends after both matches: the next whole second (a match made in this very second
    # would fall after an end truncated to it).
    end = (datetime.now(timezone.utc) + timedelta(seconds=1)).replace(microsecond=0).isoformat()
    app.send_task("vigie.send_digest", args=[alert["alert_id"], end], queue="vigie.notify")
    (mail,) = smtp.wait_for(1, timeout=120)
    assert mail.message["Subject"].startswith("[Vigie] Résumé: 2 article(s) until ")
    assert "Alert “Résumé” matched 2 article(s)" in mail.text
    assert mail.text.count("https://wire.example.org/one") == 1 and mail.text.count("https://wire.example.org/two") == 1
    assert wait_until(lambda: {n["state"] for n in notifications(es, settings)} == {"delivered"}, 60)
    app.send_task("vigie.send_digest", args=[alert["alert_id"], end], queue="vigie.notify")  # the same period again
    assert wait_until(lambda: task_results(worker, "vigie.send_digest").count("'done'") >= 1, 60), worker.output()[-4000:]
    settled(redis_client, lambda: len(smtp.mails()))
    assert len(smtp.mails()) == 1
    assert read_notification_counts(redis_client)[("email", "sent")] == 1
