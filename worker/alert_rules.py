"""The alert rules a worker evaluates, reloaded without a restart.

Every change made through ``vigie.alert_store.alert_store_for`` (the CLI and the API) increments a
counter in Redis (``state.alert_version``) once Elasticsearch has the new rule (writes wait for the
refresh). Each worker process reads the counter before each batch (one GET) and reloads the rules when it moved, so an added, edited or paused alert applies to the
next batch; the rules are also reloaded at least every ``MAX_AGE_SECONDS`` in case a change
bypassed the counter (an index restored by hand). Unchanged rules are not compiled again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from index.alert_match import AlertMatcher
from index.alert_store import AlertStore
from index.errors import IndexUnavailable

MAX_AGE_SECONDS = 60.0


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
