"""The alert rules a worker evaluates, reloaded without a restart, and the store the CLI and API use.

Every change made through ``alert_store_for`` increments a counter in Redis once Elasticsearch has
the new rule (writes wait for the refresh). Each worker process reads the counter before each batch
(one GET) and reloads the rules when it moved, so an added, edited or paused alert applies to the
next batch; the rules are also reloaded at least every ``MAX_AGE_SECONDS`` in case a change
bypassed the counter (an index restored by hand). Unchanged rules are not compiled again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import redis
from elasticsearch import Elasticsearch

from index.alert_match import AlertMatcher
from index.alerts import AlertStore
from index.client import connect
from index.errors import IndexUnavailable
from index.search import LemmaVariants
from ingest.topics import load_rules
from vigie.settings import Settings

VERSION_KEY = "vigie:alerts:version"
MAX_AGE_SECONDS = 60.0


def bump_rules_version(client: redis.Redis) -> None:
    client.incr(VERSION_KEY)


def alert_store_for(settings: Settings, client: redis.Redis | None = None, *, es: Elasticsearch | None = None,
                    lemma_variants: LemmaVariants | None = None) -> AlertStore:
    """The alert store of the CLI and the HTTP API: topics checked against the rules in use, the
    query's lemma variants computed as `vigie search` does, workers told of every change. ``es`` and
    ``lemma_variants``: the caller's own (the API shares its client and the tables it loaded)."""
    from vigie.queries import lemma_variants as query_lemmas  # loads lemma tables when a rule with words is stored

    redis_client = client or redis.Redis.from_url(settings.redis_url)
    return AlertStore(
        es or connect(settings.es_url), settings.index_prefix,
        known_topics=[topic.name for topic in load_rules(settings.topics_file).topics],
        lemma_variants=lemma_variants or query_lemmas(settings.query_lemma_languages),
        on_change=lambda: bump_rules_version(redis_client),
    )


class AlertRules:
    """This process's compiled rules (``matcher()``), reloaded when ``version()`` changes."""

    def __init__(self, store: AlertStore, version: Callable[[], object],
                 max_age: float = MAX_AGE_SECONDS) -> None:
        self.store = store
        self.version = version
        self.max_age = max_age
        self._matcher: AlertMatcher | None = None
        self._version: object = None
        self._loaded = 0.0
        self._lock = threading.Lock()

    def matcher(self) -> AlertMatcher:
        """The current rules; IndexUnavailable when they must be loaded and Elasticsearch is down."""
        with self._lock:
            current = self.version()  # read before loading: a change made meanwhile reloads next time
            stale = time.monotonic() - self._loaded > self.max_age
            if self._matcher is None or current != self._version or stale:
                try:
                    rules = self.store.active()
                except IndexUnavailable:
                    if self._matcher is not None and current == self._version:
                        return self._matcher  # only the periodic reload failed: the rules are unchanged
                    raise
                self._matcher = AlertMatcher.build(rules, None, previous=self._matcher)
                self._version = current
                self._loaded = time.monotonic()
            return self._matcher
