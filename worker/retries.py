"""What every task shares: this process's runtime, backoff between retries, and which errors are the
broker's (the task is then delivered again) rather than the payload's."""

from __future__ import annotations

import json
import random
from typing import Any

import redis
from kombu.exceptions import OperationalError

from conf.settings import Settings
from state.deadletter import DeadLetter, DeadLetters
from worker.app import app
from worker.runtime import Runtime, runtime

#: Broker trouble is not the payload's fault: let the task be delivered again.
BROKER_ERRORS = (redis.RedisError, OperationalError)


def current_runtime() -> Runtime:
    """The runtime of this worker process, built from the settings the worker started with."""
    settings: Settings = app.conf.vigie_settings
    return runtime(settings)


def backoff_seconds(attempt: int, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: about 1, 2, 4 ... seconds, never more than ``cap``."""
    base = min(cap, 2.0 ** attempt)
    return (rng or random).uniform(base / 2, base)


def replay(letters: DeadLetters, entry_ids: list[str] | None = None) -> list[DeadLetter]:
    """Send entries back to their task (all when ``entry_ids`` is None); each leaves the list once queued."""
    wanted = entry_ids if entry_ids is not None else [entry.entry_id for entry in letters.entries()]
    replayed: list[DeadLetter] = []
    for entry_id in wanted:
        entry = letters.take(entry_id)
        if entry is None:
            continue
        try:
            # Attempts start again from zero: a person decided the cause is fixed.
            args: list[Any] = [entry.payload, 0] if entry.task == "vigie.index_articles" else [entry.payload]
            app.send_task(entry.task, args=args)
        except Exception:
            letters.redis.hset(letters.key, entry.entry_id, json.dumps(entry.to_dict()))  # not lost
            raise
        replayed.append(entry)
    return replayed
