"""`vigie worker` runs the article worker and, once it is ready, the story consumer: one process on the
story queue, stopped with the worker; with stories off, the worker alone."""

from __future__ import annotations

import psutil
import pytest

from conf.settings import Settings
from tests.support.processes import start_worker
from vigie.supervisor import story_consumer_command, worker_command
from worker.queues import STORY_CONSUMER, STORY_QUEUE, WORKER_QUEUES


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_the_story_queue_has_one_consumer_of_its_own() -> None:
    settings = Settings()
    worker = worker_command(settings, 3)
    assert _option(worker, "--queues").split(",") == list(WORKER_QUEUES) and STORY_QUEUE not in WORKER_QUEUES
    assert _option(worker, "--concurrency") == "3"
    consumer = story_consumer_command(settings)
    assert _option(consumer, "--queues") == STORY_QUEUE
    assert _option(consumer, "--pool") == "solo" and _option(consumer, "--concurrency") == "1"
    assert _option(consumer, "--hostname").startswith(STORY_CONSUMER)


def _celery_queues(pid: int) -> list[str]:
    """The queues of the Celery workers under ``pid`` (a prefork pool's children repeat their parent's)."""
    found = set()
    for process in psutil.Process(pid).children(recursive=True):
        command = process.cmdline()
        if "celery" in " ".join(command) and "--queues" in command:
            found.add(_option(command, "--queues"))
    return sorted(found)


@pytest.mark.integration
def test_vigie_worker_starts_the_story_consumer_and_stops_it(env: dict[str, str]) -> None:
    worker = start_worker(env, concurrency=1)
    try:
        assert worker.wait_for_line(f"{STORY_CONSUMER}-", timeout=120), worker.output()[-4000:]
        assert _celery_queues(worker.pid) == sorted([",".join(WORKER_QUEUES), STORY_QUEUE])
        tree = psutil.Process(worker.pid).children(recursive=True)
        assert worker.stop(timeout=120) == 0, worker.output()[-4000:]
        assert all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in tree)
    finally:
        worker.stop()


@pytest.mark.integration
def test_with_stories_off_vigie_worker_is_the_worker_alone(env: dict[str, str]) -> None:
    worker = start_worker({**env, "VIGIE_STORIES": "false"}, concurrency=1)
    try:
        assert "celery" in " ".join(psutil.Process(worker.pid).cmdline())  # `vigie worker` became the worker
        assert STORY_CONSUMER not in worker.output()
    finally:
        worker.stop(timeout=120)
