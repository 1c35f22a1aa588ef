"""Alert tasks: what follows a successful write.

fetch, analyse, store, then alert: the rules are matched in this process against the articles just
indexed (index.alert_match), each match becomes one notification (created once, whatever the
retries: index.notifications), and each new immediate notification one delivery task on the
vigie.notify queue. A delivery goes to the alert's channel, a webhook (``ingest.webhook``) or an
e-mail address (``ingest.email``), through the same lease, retry budget, dead letters and counters
(``state.counters``: sent, retried, failed per channel). Nothing here may fail the indexing: errors
are logged with the article ids, and an Elasticsearch outage is retried like indexing
(evaluate_alerts).

A rule that notifies once per story needs the article's story: with stories on, its matches are left
to the story consumer, which calls ``alert_stories`` once the articles have their stories
(worker.story_tasks).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import redis

from conf.logs import log_event
from index.alert_match import AlertMatch
from index.alerts import AlertRule
from index.article_document import ArticleDocument
from index.errors import IndexUnavailable
from index.story_alerts import Match, story_matches
from ingest.email import EmailError, digest_message, match_message
from ingest.notification_records import PENDING, Notification, digest_id
from ingest.stories import Assignment
from ingest.webhook import WebhookError, digest_payload, match_payload, payload_bytes
from state.counters import count_notification
from worker.app import app
from worker.queues import INDEX_QUEUE, NOTIFY_QUEUE
from worker.retries import (
    BROKER_ERRORS,
    Letter,
    after_outage,
    current_runtime,
    dead_letter,
    retry_later,
    unexpected,
    webhook_budget,
)
from worker.runtime import Runtime
from worker.story_memory import story_store

log = logging.getLogger("vigie.worker")

#: What a delivery on either channel may raise: both say whether trying again may help.
DeliveryError = (WebhookError, EmailError)

#: Lease on a notification (or digest) while one process POSTs it, so two copies of a task never
#: POST at the same time; it outlives the POST's own timeout, and expires if the process dies.
LEASE_PREFIX = "vigie:notify:lease:"
LEASE_MARGIN_SECONDS = 5.0


def alert(rt: Runtime, article_ids: list[str], documents: Callable[[], list[ArticleDocument]],
          attempt: int = 0) -> int:
    """Match the alerts against indexed articles and queue what fired. Never raises; returns the
    number of new notifications."""
    try:
        matcher = rt.alert_rules.matcher()
        if not len(matcher):
            return 0
        # Articles do not carry their feed's tags: read them now, as `vigie search --tag` does.
        try:
            feed_tags = rt.registry.tags_by_url() if matcher.uses_tags else None
        except redis.RedisError as error:  # Redis is down: evaluate later, as for an index outage
            defer_alerts(rt, article_ids, attempt, f"reading the feeds' tags: {error}")
            return 0
        return notify(rt, story_alert_matches(rt, matcher.match(documents(), feed_tags)))
    except IndexUnavailable as error:
        defer_alerts(rt, article_ids, attempt, str(error))
    except Exception as error:  # noqa: BLE001 - indexing is done; alerting must not undo it
        log.exception("alerts.evaluation_failed", extra={"articles": ",".join(article_ids), "error_": str(error)})
    return 0


def notify(rt: Runtime, matches: Sequence[Match]) -> int:
    """Store the notifications of ``matches`` (each once) and queue the deliveries of the new ones."""
    if not matches:
        return 0
    now = datetime.now(timezone.utc)
    outcome = rt.notifications.create([match.notification(now) for match in matches])
    for item in outcome.created:
        log_event(log, "notification.created", notification=item.notification_id, alert=item.alert_name,
                  article=item.article_id, mode=item.mode)
        if item.state == PENDING and item.mode == "immediate":
            deliver_notification.apply_async(args=[item.notification_id], queue=NOTIFY_QUEUE)
    if outcome.existing:
        # The article was seen again (a re-delivered task, a changed item): its notification exists.
        # If it is still pending long after it was due, the worker that should deliver it died
        # between creating and queueing it: queue it again (a second task finds it delivered or leased).
        requeue_lost(rt, rt.notifications.get_many(outcome.existing))
    return len(outcome.created)


# -- per-story alerts (a rule that notifies once per story) -----------------------------------


def story_alert_matches(rt: Runtime, matches: Sequence[AlertMatch]) -> list[Match]:
    """Alert matches with per-story rules' matches made story notifications (index.story_alerts).

    When stories are on, a per-story rule's match on an article without its story yet (the indexing
    task: the story consumer assigns it a moment later) is left to ``alert_stories``."""
    if not any(match.rule.per_story for match in matches):
        return list(matches)
    if rt.settings.stories:
        matches = [match for match in matches if not (match.rule.per_story and not match.article.story_id)]
    return story_matches(matches, story_store(rt), rt.notifications)


def alert_stories(rt: Runtime, assignments: Sequence[Assignment]) -> int:
    """The per-story alerts of articles just given their story: read the articles back (one
    multi-get), match the per-story rules, notify. Never raises; the number of new notifications."""
    stories = {a.article_id: a.story_id for a in assignments}
    try:
        matcher = rt.alert_rules.matcher()
        if not stories or not any(compiled.rule.per_story for compiled in matcher.rules):
            return 0
        documents = [replace(document, story_id=stories[document.article_id], story_key=stories[document.article_id])
                     for document in _documents(rt, list(stories))]
        matches = [match for match in matcher.match(documents) if match.rule.per_story]
        return notify(rt, story_alert_matches(rt, matches))
    except Exception as error:  # noqa: BLE001 - the stories are written; a failed alert must not undo them
        log.exception("alerts.story_evaluation_failed", extra={"articles": ",".join(stories), "error_": str(error)})
        return 0


def _documents(rt: Runtime, article_ids: list[str]) -> list[ArticleDocument]:
    """The indexed documents of ``article_ids`` (those found, in that order), read back in one multi-get."""
    found = rt.store.get_many(article_ids)
    return [ArticleDocument.from_source(found[article_id]) for article_id in dict.fromkeys(article_ids)
            if article_id in found]


def stale_before(rt: Runtime) -> datetime:
    """Pending immediate notifications due before this have lost their delivery task."""
    return datetime.now(timezone.utc) - timedelta(seconds=2 * _send_timeout(rt) + 60)


def _send_timeout(rt: Runtime) -> float:
    """The longest one message may take, on either channel."""
    return max(rt.settings.webhook_timeout, rt.settings.smtp_timeout)


def requeue_lost(rt: Runtime, notifications: Sequence[Notification]) -> int:
    limit = stale_before(rt)
    lost = [item for item in notifications if item.state == PENDING and item.mode == "immediate"
            and (item.due_at is None or item.due_at < limit)]
    for item in lost:
        deliver_notification.apply_async(args=[item.notification_id], queue=NOTIFY_QUEUE)
        log_event(log, "notification.requeued", logging.WARNING, notification=item.notification_id,
                  alert=item.alert_name, article=item.article_id, due_at=item.due_at)
    return len(lost)


def defer_alerts(rt: Runtime, article_ids: list[str], attempt: int, reason: str) -> None:
    """Evaluate the alerts on these (indexed) articles later, or dead-letter them once retries are spent."""
    payload = [{"article_id": article_id} for article_id in article_ids]
    after_outage(rt, attempt, letter=Letter(evaluate_alerts.name, payload, article_ids), error=reason,
                 kind="alerts-unavailable", event="alerts.deferred",
                 again=lambda delay: retry_later(evaluate_alerts, [payload, attempt + 1], delay, INDEX_QUEUE))


@app.task(name="vigie.evaluate_alerts", acks_on_failure_or_timeout=False)
def evaluate_alerts(articles: list[dict[str, Any]], attempt: int = 0) -> int:
    """Indexed articles whose alerts could not be evaluated (Elasticsearch was down): read them back
    and evaluate."""
    rt = current_runtime()
    ids = [str(data.get("article_id")) for data in articles]
    return alert(rt, ids, lambda: _documents(rt, ids), attempt)


@app.task(name="vigie.deliver_notification", acks_on_failure_or_timeout=False)
def deliver_notification(notification_id: str, attempt: int = 0) -> str:
    """POST one notification to its alert's webhook: delivered on 2xx; on a transient failure, again
    later with capped exponential backoff; after the last attempt or a permanent refusal, failed and
    dead-lettered. ``attempt`` counts tries of this task that Elasticsearch was down for."""
    rt = current_runtime()
    try:
        return deliver(rt, notification_id)
    except BROKER_ERRORS:
        raise
    except IndexUnavailable as error:
        # Elasticsearch down spends the outage budget (``attempt``), never the webhook attempts.
        return after_outage(
            rt, attempt, letter=Letter(redeliver_notifications.name, [{"notification_id": notification_id}], []),
            error=str(error), event="notification.deferred", notification=notification_id,
            again=lambda delay: retry_later(deliver_notification, [notification_id, attempt + 1], delay, NOTIFY_QUEUE))
    except Exception as error:  # noqa: BLE001 - a bug must not bring the message back forever
        unexpected(rt, Letter(redeliver_notifications.name, [{"notification_id": notification_id}], []), error,
                   attempts=attempt + 1, notification=notification_id)
        return "dead-lettered"


def deliver(rt: Runtime, notification_id: str) -> str:
    item = rt.notifications.get(notification_id)
    now = datetime.now(timezone.utc)
    if item is None or item.state != PENDING:
        return "done"  # delivered, failed, or stored only: a second copy of the task
    if item.due_at is not None and item.due_at > now + timedelta(seconds=1):
        return "not-due"  # a copy of the task; the retry scheduled for due_at will come
    rule = rt.alert_store.find(item.alert_id)
    channel = rule.delivery.channel if rule is not None else None
    if rule is None or channel is None:
        reason = "the alert was removed" if rule is None else "the alert has no webhook or e-mail address any more"
        rt.notifications.mark_failed(notification_id, item.attempts, reason)
        log_event(log, "notification.dropped", logging.WARNING, notification=notification_id,
                  alert=item.alert_name, article=item.article_id, reason=reason)
        return "dropped"
    with _Lease(rt, notification_id, retry=lambda wait: retry_later(
            deliver_notification, [notification_id], wait, NOTIFY_QUEUE)) as held:
        if not held:
            return "busy"
        try:
            sent = _send_match(rt, rule, item)
        except DeliveryError as error:
            return _failed_attempt(rt, item, error, channel)
    rt.notifications.mark_delivered(notification_id, item.attempts + 1)
    count_notification(rt.redis, channel, "sent")
    log_event(log, "notification.delivered", notification=notification_id, alert=item.alert_name,
              article=item.article_id, attempts=item.attempts + 1, channel=channel, **sent)
    return "delivered"


def _send_match(rt: Runtime, rule: AlertRule, item: Notification) -> dict[str, Any]:
    """Send one match to the alert's channel; what to log about it. WebhookError or EmailError."""
    if rule.delivery.webhook:
        result = rt.webhooks.post(rule.delivery.webhook, payload_bytes(match_payload(item)), secret=rule.delivery.secret,
                                  idempotency_key=item.notification_id, alert=rule.alert_id)
        return {"status": result.status, "ms": round(result.elapsed * 1000), "webhook": rule.delivery.webhook}
    assert rule.delivery.email is not None
    mailed = rt.mailer.send(match_message(item, rt.settings.smtp_from, rule.delivery.email))
    return {"email": mailed.recipient, "ms": round(mailed.elapsed * 1000)}


def _failed_attempt(rt: Runtime, item: Notification, error: WebhookError | EmailError, channel: str) -> str:
    attempts = item.attempts + 1
    budget = webhook_budget(rt.settings)
    if error.transient and not budget.spent(attempts):
        delay = budget.delay(attempts - 1, error.retry_after)
        due = datetime.now(timezone.utc) + timedelta(seconds=delay)
        # State first: a worker dying after this line leaves a pending notification the sweep requeues.
        rt.notifications.record_failure(item.notification_id, attempts, f"{error.kind}: {error}", due)
        retry_later(deliver_notification, [item.notification_id], delay, NOTIFY_QUEUE)
        count_notification(rt.redis, channel, "retried")
        log_event(log, "notification.retry", logging.WARNING, notification=item.notification_id,
                  alert=item.alert_name, article=item.article_id, attempt=attempts, kind=error.kind,
                  retry_in_s=round(delay, 1), error=str(error), channel=channel)
        return "retry"
    rt.notifications.mark_failed(item.notification_id, attempts, f"{error.kind}: {error}")
    count_notification(rt.redis, channel, "failed")
    payload = [{"notification_id": item.notification_id, "alert_id": item.alert_id, "article_id": item.article_id}]
    dead_letter(rt, Letter(redeliver_notifications.name, payload, [item.article_id]), kind=f"{channel}-{error.kind}",
                error=str(error), attempts=attempts, event="notification.dead_lettered",
                notification=item.notification_id, alert=item.alert_name)
    return "failed"


class _Lease:
    """Hold ``LEASE_PREFIX + key`` while POSTing; ``held`` is False when another process holds it,
    and ``retry`` is then called with the seconds until the lease ends (a worker killed mid-POST
    leaves its lease to expire: the task given back to the queue waits for that, then POSTs)."""

    def __init__(self, rt: Runtime, key: str, retry: Callable[[float], None] | None = None) -> None:
        self.rt = rt
        self.key = LEASE_PREFIX + key
        self.token = uuid.uuid4().hex
        self.seconds = _send_timeout(rt) + LEASE_MARGIN_SECONDS
        self.retry = retry

    def __enter__(self) -> bool:
        held = bool(self.rt.redis.set(self.key, self.token, nx=True, px=int(self.seconds * 1000)))
        if not held:
            left = max(0.5, (self.rt.redis.pttl(self.key) or 0) / 1000)
            log_event(log, "notification.leased", key=self.key, retry_in_s=round(left, 1))
            if self.retry is not None:
                self.retry(left + 0.5)
        return held

    def __exit__(self, *exc_info: object) -> None:
        if self.rt.redis.get(self.key) == self.token.encode():
            self.rt.redis.delete(self.key)


@app.task(name="vigie.redeliver_notifications", acks_on_failure_or_timeout=False)
def redeliver_notifications(payload: list[dict[str, Any]]) -> int:
    """A dead letter replayed (`vigie dlq retry`): the failed notifications become pending with their
    attempts from zero; immediate ones are queued, digest ones wait for the next digest."""
    rt = current_runtime()
    queued = 0
    for entry in payload:
        notification = str(entry.get("notification_id"))
        rt.notifications.reset(notification)
        item = rt.notifications.get(notification)
        if item is not None and item.state == PENDING and item.mode == "immediate":
            deliver_notification.apply_async(args=[notification], queue=NOTIFY_QUEUE)
            queued += 1
    return queued


@app.task(name="vigie.sweep_notifications", acks_on_failure_or_timeout=False)
def sweep_notifications() -> int:
    """Queue again the pending immediate notifications whose delivery task was lost (the poller
    queues this every minute)."""
    rt = current_runtime()
    try:
        return requeue_lost(rt, rt.notifications.stale_pending(stale_before(rt)))
    except Exception:  # noqa: BLE001 - the next sweep, a minute later, tries again
        log.exception("notifications.sweep_failed")
        return 0


# -- digests -------------------------------------------------------------------------------------


@app.task(name="vigie.send_digests", acks_on_failure_or_timeout=False)
def send_digests(mode: str, period_end: str) -> int:
    """A digest period ended (the poller says so): one digest task per alert with pending matches."""
    rt = current_runtime()
    end = datetime.fromisoformat(period_end)
    try:
        alerts = sorted({item.alert_id for item in rt.notifications.pending_digests(end) if item.mode == mode})
    except Exception:  # noqa: BLE001 - Elasticsearch down or a bug: the next period catches up
        log.exception("digests.failed", extra={"mode": mode, "period_end": period_end})
        return 0
    for alert_id in alerts:
        send_digest.apply_async(args=[alert_id, period_end], queue=NOTIFY_QUEUE)
    return len(alerts)


@app.task(name="vigie.send_digest", acks_on_failure_or_timeout=False)
def send_digest(alert_id: str, period_end: str, attempt: int = 0, outages: int = 0) -> str:
    """One message listing an alert's pending matches made before ``period_end``; they are delivered
    when the receiver acknowledges it. Same body and Idempotency-Key (the digest id) on every attempt.
    ``attempt``: the POSTs made so far (the webhook budget); ``outages``: the tries Elasticsearch was
    down for (the outage budget, capped like every task's)."""
    rt = current_runtime()
    end = datetime.fromisoformat(period_end)
    try:
        items = [item for item in rt.notifications.pending_digests(end) if item.alert_id == alert_id]
        if not items:
            return "done"
        rule = rt.alert_store.find(alert_id)
        channel = rule.delivery.channel if rule is not None else None
        if rule is None or channel is None:
            for item in items:
                rt.notifications.mark_failed(item.notification_id, item.attempts, "the alert was removed")
            return "dropped"
        digest = digest_id(alert_id, end)
        with _Lease(rt, digest, retry=lambda wait: retry_later(
                send_digest, [alert_id, period_end, attempt, outages], wait, NOTIFY_QUEUE)) as held:
            if not held:
                return "busy"
            try:
                sent = _send_digest(rt, rule, digest, end, items)
            except DeliveryError as error:
                return _failed_digest(rt, alert_id, period_end, attempt, outages, items, error, channel)
        rt.notifications.mark_many_delivered([item.notification_id for item in items], digest, attempt + 1)
        count_notification(rt.redis, channel, "sent")
        log_event(log, "digest.delivered", alert=rule.name, digest=digest, matches=len(items),
                  attempts=attempt + 1, channel=channel, **sent)
        return "delivered"
    except BROKER_ERRORS:
        raise
    except IndexUnavailable as error:
        # Spends the outage budget only: the receiver gets its webhook attempts once Elasticsearch is back.
        letter = Letter(redeliver_digests.name, [{"alert_id": alert_id, "period_end": period_end, "attempt": attempt}], [])
        return after_outage(
            rt, outages, letter=letter, error=str(error), event="digest.deferred", alert=alert_id,
            again=lambda delay: retry_later(send_digest, [alert_id, period_end, attempt, outages + 1], delay,
                                            NOTIFY_QUEUE))
    except Exception:  # noqa: BLE001 - the matches stay pending: the next period's digest lists them
        log.exception("digest.failed_unexpectedly", extra={"alert": alert_id, "period_end": period_end})
        return "failed"


def _send_digest(rt: Runtime, rule: AlertRule, digest: str, end: datetime,
                 items: Sequence[Notification]) -> dict[str, Any]:
    """Send a digest to the alert's channel; what to log about it. WebhookError or EmailError."""
    if rule.delivery.webhook:
        body = payload_bytes(digest_payload(rule.alert_id, rule.name, digest, end, items))
        result = rt.webhooks.post(rule.delivery.webhook, body, secret=rule.delivery.secret,
                                  idempotency_key=digest, alert=rule.alert_id)
        return {"status": result.status}
    assert rule.delivery.email is not None
    mailed = rt.mailer.send(digest_message(rule.alert_id, rule.name, digest, end, items, rt.settings.smtp_from,
                                           rule.delivery.email))
    return {"email": mailed.recipient}


def _failed_digest(rt: Runtime, alert_id: str, period_end: str, attempt: int, outages: int,
                   items: Sequence[Notification], error: WebhookError | EmailError, channel: str = "webhook") -> str:
    budget = webhook_budget(rt.settings)
    if error.transient and not budget.spent(attempt + 1):
        delay = budget.delay(attempt)
        retry_later(send_digest, [alert_id, period_end, attempt + 1, outages], delay, NOTIFY_QUEUE)
        count_notification(rt.redis, channel, "retried")
        log_event(log, "digest.retry", logging.WARNING, alert=alert_id, attempt=attempt + 1, kind=error.kind,
                  retry_in_s=round(delay, 1), error=str(error))
        return "retry"
    for item in items:
        rt.notifications.mark_failed(item.notification_id, attempt + 1, f"{error.kind}: {error}")
    count_notification(rt.redis, channel, "failed")
    letter = Letter(redeliver_notifications.name, [{"notification_id": item.notification_id} for item in items],
                    [item.article_id for item in items])
    dead_letter(rt, letter, kind=f"{channel}-{error.kind}", error=str(error), attempts=attempt + 1,
                event="digest.dead_lettered", alert=alert_id, matches=len(items))
    return "failed"


@app.task(name="vigie.redeliver_digests", acks_on_failure_or_timeout=False)
def redeliver_digests(payload: list[dict[str, Any]]) -> int:
    """A dead letter replayed (`vigie dlq retry`): digests that Elasticsearch was down for, sent again
    with the webhook attempts they had left and a fresh outage budget."""
    for entry in payload:
        retry_later(send_digest, [str(entry["alert_id"]), str(entry["period_end"]), int(entry.get("attempt", 0))],
                    0, NOTIFY_QUEUE)
    return len(payload)
