"""The article worker's pool (worker.pool): Celery's prefork pool, configured by the app, looking for
dead pool processes every half second (the replacement itself: tests/worker/test_fork_share.py; its
time: bench/memory.py)."""

from __future__ import annotations

from celery.concurrency import asynpool, get_implementation, prefork

from conf.settings import Settings
from worker.app import create_app
from worker.pool import MAINTAIN_SECONDS, TaskPool


def test_the_article_worker_runs_the_prefork_pool_that_looks_for_dead_processes_every_half_second() -> None:
    app = create_app(Settings())
    assert get_implementation(app.conf.worker_pool) is TaskPool
    assert issubclass(TaskPool, prefork.TaskPool) and issubclass(TaskPool.Pool, asynpool.AsynPool)

    class Probe:
        def maintain_pool(self) -> None:
            pass

    probe = Probe()
    assert TaskPool.Pool.timers.fget(probe) == {probe.maintain_pool: MAINTAIN_SECONDS}  # type: ignore[attr-defined]
    assert MAINTAIN_SECONDS == 0.5 and asynpool.AsynPool.timers.fget(probe) == {probe.maintain_pool: 5.0}  # type: ignore[attr-defined]
    app.close()
