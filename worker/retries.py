"""What every task shares: this process's runtime, backoff between retries, and which errors are the
broker's (the task is then delivered again) rather than the payload's."""

from __future__ import annotations

import random

import redis
from kombu.exceptions import OperationalError

from vigie.settings import Settings
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
