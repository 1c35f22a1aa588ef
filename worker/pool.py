"""The article worker's pool of processes: Celery's prefork pool, looking for pool processes to
replace every half second instead of every 5 s.

Celery replaces a pool process that died as soon as it notices, either from the process's sentinel
or from a periodic check (``AsynPool.timers``: every 5 s). Killed with ``kill -9``, a pool process
was replaced within 0.1 s most of the time, but after 4.6 to 5.0 s in 2 of 12 tries
(bench/memory.py): the periodic check had been the one to notice. The models are loaded in the
parent (worker.app), so a replacement is ready within milliseconds of being started, and a check every
half second bounds the wait. The story consumer keeps its solo pool.
"""

from __future__ import annotations

from collections.abc import Callable

from celery.concurrency import asynpool, prefork

#: Seconds between two looks for pool processes to replace (Celery's own: 5).
MAINTAIN_SECONDS = 0.5


class _AsynPool(asynpool.AsynPool):
    @property
    def timers(self) -> dict[Callable[[], None], float]:
        return {self.maintain_pool: MAINTAIN_SECONDS}


class TaskPool(prefork.TaskPool):
    """Celery's prefork pool (``worker_pool`` in worker.app) with the shorter check."""

    Pool = _AsynPool
