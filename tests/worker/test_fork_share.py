"""The models are loaded once, in the worker's main process, and shared by its pool processes: a pool
process killed with SIGKILL is replaced by one that loads nothing and takes the next article at once
(real Celery worker, Redis and Elasticsearch)."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable

from celery import Celery
from elasticsearch import Elasticsearch

from conf.settings import Settings
from tests.support.feeds import make_story
from tests.support.pipeline import feed_items, send, wait_for_count
from tests.support.processes import Background, wait_until, worker_tree

_READY = re.compile(r"worker\.process_ready.*\bpid=(\d+)\b.*\bmodels_loaded=(\d+)")


def ready_lines(worker: Background) -> dict[int, int]:
    """Pool process id -> models it loaded itself, from the worker's ``worker.process_ready`` lines."""
    return {int(match.group(1)): int(match.group(2)) for line in list(worker.lines)
            if (match := _READY.search(line))}


def pool(worker: Background) -> set[int]:
    """The pool processes of the article worker (`vigie worker` is that Celery process, or with stories
    on the parent of it and of the story consumer)."""
    return set(worker_tree(worker.pid).pool)


def test_a_killed_pool_process_is_replaced_without_loading_models_and_takes_the_next_article(
        workers: Callable[..., Background], app: Celery, es: Elasticsearch, settings: Settings) -> None:
    worker = workers(concurrency=2)
    assert worker.wait_for_line("worker.loaded", timeout=5), worker.output()[-3000:]
    assert "where=parent" in next(line for line in worker.lines if "worker.loaded" in line)
    assert wait_until(lambda: len(ready_lines(worker)) == 2 and len(pool(worker)) == 2, timeout=60), \
        worker.output()[-3000:]
    assert set(ready_lines(worker).values()) == {0}, "a pool process loaded its own models"
    first = set(ready_lines(worker))

    victim = sorted(pool(worker))[0]
    killed_at = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    assert wait_until(lambda: len(set(ready_lines(worker)) - first) == 1, timeout=60, interval=0.05), \
        worker.output()[-3000:]
    (replacement,) = set(ready_lines(worker)) - first
    assert ready_lines(worker)[replacement] == 0, "the replacement loaded the models again"

    send(app, feed_items([make_story(n, prefix="fork") for n in range(4)]), batch=2)
    # Generous bound for a loaded 2-core machine: a process that had to load the models would also
    # have been killed by Celery after 4 s ("Timed out waiting for UP message"), again and again.
    assert wait_for_count(es, settings, 4, timeout=90) == 4, worker.output()[-3000:]
    seconds = time.monotonic() - killed_at
    assert "Timed out waiting for UP message" not in worker.output()
    assert seconds < 90
    assert pool(worker) == (first - {victim}) | {replacement}
