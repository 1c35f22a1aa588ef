"""Proving that "nothing more arrives" from the system's own state, not from a fixed sleep.

Vigie's tasks are acknowledged only when they finish (``task_acks_late``): a task waiting in a queue
is in its Redis list, and a task a worker took (running, prefetched, or waiting for its retry
countdown) stays in kombu's ``unacked`` hash until it is done; a task that queues another does so
before it is acknowledged. So when every queue list is empty and ``unacked`` is empty, no task is left
anywhere that could still write or POST. ``settled`` asks for that state twice in a row, an interval
apart, with the counters the test gives (POSTs received, documents indexed...) reading the same both
times (a message is briefly in neither place while a worker moves it from the list to ``unacked``).
Only then does the test count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import redis

from worker.pending_sweep import PRIORITY_SEPARATOR, PRIORITY_STEPS, UNACKED
from worker.queues import QUEUES

__all__ = ["PRIORITY_SEPARATOR", "PRIORITY_STEPS", "UNACKED", "broker_backlog", "settled"]


def broker_backlog(client: redis.Redis) -> dict[str, int]:
    """Messages waiting in each Vigie queue (priority lists included) and the unacknowledged ones."""
    backlog = {}
    for queue in (*QUEUES, "celery"):
        names = [queue, *(f"{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS)]
        backlog[queue] = sum(int(client.llen(name)) for name in names)
    backlog[UNACKED] = int(client.hlen(UNACKED))
    return backlog


def settled(client: redis.Redis, *counters: Callable[[], Any], timeout: float = 180,
            interval: float = 1.0) -> tuple[Any, ...]:
    """Wait until no task is queued or held by a worker and every counter reads the same on two reads
    ``interval`` apart, both with the broker idle; return the counters' settled values.

    Raises AssertionError (with the backlog and the counters) if that does not happen in ``timeout``.
    """
    deadline = time.monotonic() + timeout
    previous: tuple[Any, ...] | None = None
    while True:
        backlog = broker_backlog(client)
        values = tuple(counter() for counter in counters)
        idle = not any(backlog.values()) and broker_backlog(client) == backlog
        if idle and previous is not None and values == previous:
            return values
        previous = values if idle else None
        if time.monotonic() > deadline:
            raise AssertionError(f"the system did not settle within {timeout} s: broker backlog {backlog}, "
                                 f"counters {values}")
        time.sleep(interval)
