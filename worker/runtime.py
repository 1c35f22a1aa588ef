"""What one worker process keeps between tasks: models, HTTP client, Elasticsearch and Redis clients.

Built once per process on first use (spaCy models take seconds to load), from the settings the
worker was started with.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

import redis

from conf.limits import fetch_limits, webhook_limits
from conf.settings import Settings
from index.alert_store import AlertStore
from index.client import Elasticsearch, connect
from index.notifications import NotificationStore
from index.store import ArticleStore
from ingest.analyze import Analyzer
from ingest.email import EmailSender, SmtpConfig
from ingest.fetch import Fetcher
from ingest.webhook import WebhookSender
from state.alert_version import rules_version
from state.deadletter import DeadLetters
from state.pending import PendingArticles
from state.recent_analyses import RecentAnalysesInRedis
from state.recent_bands import RecentBandsInRedis, recent_bands_for
from state.registry import FeedRegistry, bounds_from
from worker.alert_rules import AlertRules


@dataclass
class Runtime:
    settings: Settings

    @cached_property
    def analyzer(self) -> Analyzer:
        return Analyzer(
            models=self.settings.models,
            languages=self.settings.languages,
            topics_file=self.settings.topics_file,
            max_text_chars=self.settings.max_text_chars,
        )

    @cached_property
    def fetcher(self) -> Fetcher:
        return Fetcher(fetch_limits(self.settings))

    @cached_property
    def es(self) -> Elasticsearch:
        return connect(self.settings.es_url)

    @cached_property
    def store(self) -> ArticleStore:
        # Raises IndexUnavailable while Elasticsearch is down; not cached then, so the next task retries.
        store = ArticleStore(self.es, self.settings.index_prefix, recent=self.recent_bands)
        store.ensure_ready()
        return store

    @cached_property
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.settings.redis_url)

    @cached_property
    def recent_analyses(self) -> RecentAnalysesInRedis | None:
        """Recent analyses for wire copies (None when VIGIE_REUSE_ANALYSES is off)."""
        if not self.settings.reuse_analyses:
            return None
        return RecentAnalysesInRedis(self.redis, self.settings.reuse_hours * 3600)

    @cached_property
    def recent_bands(self) -> RecentBandsInRedis | None:
        """Recent near-duplicate band keys for the write path (None when VIGIE_DUPLICATE_RECENT_HOURS is 0)."""
        return recent_bands_for(self.settings, self.redis)

    @cached_property
    def dead_letters(self) -> DeadLetters:
        return DeadLetters(self.redis)

    @cached_property
    def pending(self) -> PendingArticles:
        return PendingArticles(self.redis)

    @cached_property
    def alert_store(self) -> AlertStore:
        return AlertStore(self.es, self.settings.index_prefix)

    @cached_property
    def alert_rules(self) -> AlertRules:
        return AlertRules(self.alert_store, lambda: rules_version(self.redis))

    @cached_property
    def registry(self) -> FeedRegistry:
        """The feeds (read here for their tags, which alerts may filter on)."""
        return FeedRegistry(self.redis, bounds_from(self.settings))

    @cached_property
    def notifications(self) -> NotificationStore:
        return NotificationStore(self.es, self.settings.index_prefix)

    @cached_property
    def webhooks(self) -> WebhookSender:
        return WebhookSender(webhook_limits(self.settings))


    @cached_property
    def mailer(self) -> EmailSender:
        return EmailSender(smtp_config(self.settings))


def smtp_config(settings: Settings) -> SmtpConfig:
    """Where alert e-mails go (``VIGIE_SMTP_*``)."""
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpConfig(host=settings.smtp_host, port=settings.smtp_port, user=settings.smtp_user, password=password,
                      sender=settings.smtp_from, starttls=settings.smtp_starttls, ssl=settings.smtp_ssl,
                      timeout=settings.smtp_timeout)


_lock = threading.Lock()
_runtime: Runtime | None = None


def runtime(settings: Settings) -> Runtime:
    """This process's runtime (created on first call)."""
    global _runtime
    with _lock:
        if _runtime is None or _runtime.settings is not settings:
            _runtime = Runtime(settings)
        return _runtime
