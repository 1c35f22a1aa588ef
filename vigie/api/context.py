"""What the API process keeps between requests: clients, the feed registry, the alert and notification
stores, the lemma tables and the entity knowledge base, the write limiter. Built once by ``create_app`` and reached from a route
through ``Depends(context)``.

Routes run in FastAPI's thread pool (the Elasticsearch and Redis clients are synchronous and
thread-safe), so every lazy piece here is guarded by a lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from fastapi import Request

from conf.limits import fetch_limits
from conf.logs import log_event
from conf.settings import Settings
from index.alert_store import AlertStore
from index.client import Elasticsearch, connect
from index.notifications import NotificationStore
from index.store import ArticleStore
from ingest.entity_kb import default_kb, use_cache
from ingest.topic_rules import TopicRules, load_rules
from ingest.transport import fetch_policy
from state.client import Redis, RedisError
from state.client import connect as connect_redis
from state.recent_bands import recent_bands_for
from state.registry import FeedRegistry, bounds_from
from vigie.alert_store import alert_store_for
from vigie.api.errors import ApiProblem
from vigie.api.rate_limit import TokenBucket
from vigie.api.token import ApiToken
from vigie.queries import lemma_variants

log = logging.getLogger("vigie.api")

#: Longest a search may take before the API answers 503 (Elasticsearch's own work is bounded by the
#: query limits of index.query; this bounds a node that stopped answering).
SEARCH_TIMEOUT = 15.0
#: Health checks must answer fast, whatever the state of what they check.
HEALTH_TIMEOUT = 2.0
WORKER_PING_TIMEOUT = 0.5
WORKER_PING_CACHE = 5.0
LEMMA_WAIT = 120.0

LemmaVariants = Callable[[str], Iterable[str]]


@dataclass
class ApiContext:
    settings: Settings
    token: ApiToken
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _store_ready: bool = False
    _lemmas_ready: threading.Event = field(default_factory=threading.Event)
    _lemmas: LemmaVariants | None = None
    _lemma_error: BaseException | None = None
    _entities_loaded: bool = False
    _workers: tuple[float, list[str], str | None] | None = None  # (when, names, error)
    _workers_lock: threading.Lock = field(default_factory=threading.Lock)

    # -- clients ------------------------------------------------------------------------------------

    @cached_property
    def es(self) -> Elasticsearch:
        return connect(self.settings.es_url, timeout=SEARCH_TIMEOUT)

    @cached_property
    def health_es(self) -> Elasticsearch:
        return connect(self.settings.es_url, timeout=HEALTH_TIMEOUT)

    @cached_property
    def redis(self) -> Redis:
        return connect_redis(self.settings.redis_url, connect_timeout=HEALTH_TIMEOUT, timeout=5.0,
                             health_check_interval=30)

    @cached_property
    def registry(self) -> FeedRegistry:
        """The feed registry `vigie feeds` uses (``registry_for``), on a client with timeouts."""
        return FeedRegistry(self.redis, bounds_from(self.settings),
                            policy=fetch_policy(fetch_limits(self.settings)))

    @cached_property
    def alerts(self) -> AlertStore:
        """The alert store `vigie alerts` changes rules through (``alert_store_for``: topics checked,
        the query's lemmas computed with the tables this process loaded, workers told of each change),
        on this process's clients."""
        store = alert_store_for(self.settings, self.redis, es=self.es,
                                lemma_variants=lambda text: self.lemma_variants()(text))
        store.on_change = _logged_on_failure(store.on_change)
        return store

    @cached_property
    def notifications(self) -> NotificationStore:
        return NotificationStore(self.es, self.prefix)

    @cached_property
    def topic_rules(self) -> TopicRules:
        return load_rules(self.settings.topics_file)

    @cached_property
    def write_limiter(self) -> TokenBucket:
        return TokenBucket(self.settings.api_write_rate, self.settings.api_write_burst)

    @cached_property
    def refused_limiter(self) -> TokenBucket:
        """The bucket of write requests without a valid token: guessing is limited, and what a
        stranger sends never spends the real client's writes."""
        return TokenBucket(self.settings.api_write_rate, self.settings.api_write_burst)

    @property
    def prefix(self) -> str:
        return self.settings.index_prefix

    def store(self) -> ArticleStore:
        """The articles store, its index created on first use if missing (as the worker does)."""
        store = ArticleStore(self.es, self.prefix, recent=recent_bands_for(self.settings, self.redis))
        if not self._store_ready:
            with self._lock:
                if not self._store_ready:
                    store.ensure_ready()  # IndexUnavailable (503) while Elasticsearch is down: tried again next time
                    self._store_ready = True
        return store

    # -- query lemmas ---------------------------------------------------------------------------------

    def start_loading_tables(self) -> None:
        """Load what searches need in the background, so the port opens at once: the lemma tables
        (seconds, per language), then the entity knowledge base that says which entity a query word
        names (one to two seconds from the cache directory, built there first if missing; a first
        search otherwise waited for it, and several first searches each built it)."""
        threading.Thread(target=self._load_tables, name="query-tables", daemon=True).start()

    def _load_tables(self) -> None:
        self._load_lemmas()
        began = time.monotonic()
        try:
            use_cache(self.settings.cache_dir)
            default_kb()
            self._entities_loaded = True
            log_event(log, "api.entities_loaded", seconds=round(time.monotonic() - began, 1))
        except Exception:  # noqa: BLE001 - the first search that needs it loads it again, and says why
            log.exception("api.entities_failed")

    def _load_lemmas(self) -> None:
        began = time.monotonic()
        try:
            variants = lemma_variants(self.settings.query_lemma_languages)
            variants("warm")  # loads every language's table now rather than in the first search
            self._lemmas = variants
            log_event(log, "api.lemmas_loaded", languages=",".join(self.settings.languages),
                      seconds=round(time.monotonic() - began, 1))
        except BaseException as error:  # noqa: BLE001 - reported by every search that needs them
            self._lemma_error = error
            log.exception("api.lemmas_failed")
        finally:
            self._lemmas_ready.set()

    @property
    def lemmas_loaded(self) -> bool:
        return self._lemmas is not None

    @property
    def entities_loaded(self) -> bool:
        return self._entities_loaded

    def lemma_variants(self) -> LemmaVariants:
        if not self._lemmas_ready.wait(LEMMA_WAIT) or self._lemmas is None:
            reason = f": {self._lemma_error}" if self._lemma_error else " yet"
            raise ApiProblem(503, "lemmas-unavailable", f"the query lemma tables are not loaded{reason}",
                             headers={"Retry-After": "10"}, retry_after=10)
        return self._lemmas

    # -- workers ------------------------------------------------------------------------------------

    def alive_workers(self) -> tuple[list[str], str | None]:
        """Celery workers answering a broadcast ping (cached a few seconds: a ping waits its timeout)."""
        with self._workers_lock:
            if self._workers is not None and time.monotonic() - self._workers[0] < WORKER_PING_CACHE:
                return self._workers[1], self._workers[2]
            names: list[str] = []
            error: str | None = None
            try:
                replies: list[dict[str, Any]] = self.celery.control.ping(timeout=WORKER_PING_TIMEOUT) or []
                names = sorted(name for reply in replies for name in reply)
            except Exception as failure:  # noqa: BLE001 - the broker is down: reported, not raised
                error = f"{type(failure).__name__}: {failure}"
            self._workers = (time.monotonic(), names, error)
            return names, error

    @cached_property
    def celery(self) -> Any:
        from worker.app import create_app  # Celery and the worker runtime: 0.18 s of API start-up (measured)

        return create_app(self.settings)


def _logged_on_failure(bump: Callable[[], None] | None) -> Callable[[], None]:
    """The workers' reload signal, which must not turn a stored change into an error: without it they
    still reload the rules within a minute (worker.alert_rules.MAX_AGE_SECONDS)."""
    def guarded() -> None:
        if bump is None:
            return
        try:
            bump()
        except RedisError as error:
            log_event(log, "api.alerts_reload_not_signalled", logging.WARNING, error=str(error))

    return guarded


def context_of(request: Request) -> ApiContext:
    return request.app.state.context  # type: ignore[no-any-return]


def context(request: Request) -> ApiContext:
    """Dependency giving a route the process's ApiContext."""
    return context_of(request)
