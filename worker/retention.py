"""The retention sweep the scheduler runs (``worker.poller.Poller.run``): notifications whose delivery
is over and dead-letter entries older than their retention (``VIGIE_NOTIFICATION_RETENTION_DAYS``,
``VIGIE_DEAD_LETTER_RETENTION_DAYS``) are deleted, once at start and then every ``SWEEP_SECONDS``;
each deletion is logged with what it removed. The same tick rolls the articles write index over past
VIGIE_ROLLOVER_MAX_DOCS, _MAX_AGE or _MAX_SIZE and deletes article backing indices past
VIGIE_RETENTION_DAYS (index.rollover), every VIGIE_ROLLOVER_CHECK_SECONDS."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import redis

from conf.logs import log_event
from conf.settings import Settings
from index.client import Elasticsearch, connect
from index.errors import IndexRejected, IndexUnavailable
from index.notifications import NotificationStore
from index.rollover import RolloverPolicy, RolloverResult, delete_expired, rollover
from state.deadletter import DeadLetters

log = logging.getLogger("vigie.retention")

SWEEP_SECONDS = 3600.0


def sweep(settings: Settings, es: Elasticsearch, client: redis.Redis, now: datetime) -> tuple[int, int]:
    """Delete what is past its retention at ``now``: (notifications, dead-letter entries) deleted."""
    notification_cutoff = now - timedelta(days=settings.notification_retention_days)
    notifications = NotificationStore(es, settings.index_prefix).delete_older_than(notification_cutoff)
    if notifications:
        log_event(log, "retention.notifications_deleted", count=notifications, before=notification_cutoff.isoformat())
    dropped = DeadLetters(client).drop_older_than(now - timedelta(days=settings.dead_letter_retention_days))
    for entry in dropped:
        log_event(log, "retention.dead_letter_deleted", entry=entry.entry_id, task=entry.task,
                  articles=",".join(entry.article_ids[:20]), failed_at=entry.failed_at)
    return notifications, len(dropped)


def roll_and_expire(settings: Settings, es: Elasticsearch, now: datetime) -> tuple[RolloverResult | None, list[str]]:
    """Roll the articles write index over if a VIGIE_ROLLOVER_MAX_* condition is met, then delete the
    backing indices past VIGIE_RETENTION_DAYS; each change logged."""
    policy = RolloverPolicy(max_docs=settings.rollover_max_docs, max_age=settings.rollover_max_age,
                            max_size=settings.rollover_max_size)
    result = rollover(es, settings.index_prefix, policy) if policy.active else None
    if result and result.rolled_over:
        log_event(log, "rollover.rolled_over", old_index=result.old_index, new_index=result.new_index,
                  conditions=",".join(key for key, met in result.conditions.items() if met))
    deleted = delete_expired(es, settings.index_prefix, settings.retention_days, now) if settings.retention_days else []
    for name in deleted:
        log_event(log, "retention.articles_index_deleted", index=name, days=settings.retention_days)
    return result, deleted


class RetentionSweep:
    """``tick(now)`` from the scheduler's loop: a sweep when one is due; failures are logged and tried
    again at the next period."""

    def __init__(self, settings: Settings, client: redis.Redis,
                 es_factory: Callable[[], Elasticsearch] | None = None) -> None:
        self.settings = settings
        self.client = client
        self._es_factory = es_factory or (lambda: connect(settings.es_url))
        self._es: Elasticsearch | None = None
        self.next_at = 0.0
        self.next_rollover_at = 0.0

    def tick(self, now: float) -> None:
        self._tick_rollover(now)
        if now < self.next_at:
            return
        self.next_at = now + SWEEP_SECONDS
        try:
            if self._es is None:
                self._es = self._es_factory()
            sweep(self.settings, self._es, self.client, datetime.fromtimestamp(now, timezone.utc))
        except (IndexUnavailable, IndexRejected, redis.RedisError) as error:
            log_event(log, "retention.sweep_failed", logging.WARNING, error=str(error))

    def _tick_rollover(self, now: float) -> None:
        """Rollover and article retention, every VIGIE_ROLLOVER_CHECK_SECONDS when either is set."""
        settings = self.settings
        if now < self.next_rollover_at or not (settings.retention_days or settings.rollover_max_docs
                                               or settings.rollover_max_age or settings.rollover_max_size):
            return
        self.next_rollover_at = now + settings.rollover_check_seconds
        try:
            if self._es is None:
                self._es = self._es_factory()
            roll_and_expire(settings, self._es, datetime.fromtimestamp(now, timezone.utc))
        except (IndexUnavailable, IndexRejected) as error:
            log_event(log, "rollover.check_failed", logging.WARNING, error=str(error))
