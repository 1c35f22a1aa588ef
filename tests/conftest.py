"""Session fixtures: real Redis and Elasticsearch started through `vigie services start`.

They run under a private VIGIE_HOME (.vigie-test/ in the checkout, readable by the unprivileged
Elasticsearch user) on free ports with their own index prefix, so a `vigie up` running beside the
tests is not disturbed. If a service cannot start, the tests that need it fail with its paragraph.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator

import hypothesis
import pytest
import redis
from celery import Celery
from elasticsearch import Elasticsearch

from tests.support.api import ApiServer
from tests.support.processes import Background, run_vigie, start_worker
from tests.support.services import TEST_HOME, drop_indices, settings_from, vigie_env
from conf.settings import Settings
from worker.app import create_app

# One Hypothesis profile for the whole suite: no per-example deadline (a loaded 2-core machine makes
# the default 200 ms one fail at random); each test still sets its own number of examples.
hypothesis.settings.register_profile("vigie", deadline=None)
hypothesis.settings.load_profile("vigie")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest test files first (marked ``long(seconds)``), then the others in their order: the
    suite runs in two processes a whole file at a time (scripts/test.sh), and the short files then fill
    in at the end instead of one process finishing a five-minute file alone."""
    def seconds(item: pytest.Item) -> float:
        marker = item.get_closest_marker("long")
        return float(marker.args[0]) if marker is not None else 0.0

    items.sort(key=lambda item: -seconds(item))


@pytest.fixture(scope="session")
def service_env() -> Iterator[dict[str, str]]:
    """Redis and Elasticsearch, started once for the session by the project's own command."""
    home = TEST_HOME / f"session-{os.getpid()}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = vigie_env(home)
    result = run_vigie(["services", "start", "--json"], env, timeout=300)
    if result.returncode != 0:
        pytest.fail(f"`vigie services start` failed; the services the tests need are down:\n{result.stderr}")
    yield env
    run_vigie(["services", "stop"], env, timeout=120)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture()
def env(service_env: dict[str, str]) -> dict[str, str]:
    """Per test: the session's services, a fresh index prefix and a fresh Redis database."""
    fresh = dict(service_env)
    fresh["VIGIE_INDEX_PREFIX"] = f"test-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(fresh["VIGIE_REDIS_URL"])
    client.flushdb()
    return fresh


@pytest.fixture()
def settings(env: dict[str, str]) -> Settings:
    return settings_from(env)


@pytest.fixture()
def es(settings: Settings) -> Iterator[Elasticsearch]:
    client = Elasticsearch(settings.es_url, request_timeout=30)
    yield client
    drop_indices(client, settings.index_prefix)
    client.close()


@pytest.fixture()
def redis_client(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(settings.redis_url)


@pytest.fixture()
def workers(env: dict[str, str], request: pytest.FixtureRequest) -> Iterator[Callable[..., Background]]:
    """Start real workers on the test's services; every one is stopped at the end and its output kept
    in .vigie-test/logs/ for whoever reads a failure."""
    started: list[Background] = []

    def start(concurrency: int = 1, **overrides: str) -> Background:
        worker = start_worker({**env, **overrides}, concurrency=concurrency, name=f"worker-{len(started)}")
        started.append(worker)
        return worker

    yield start
    logs = TEST_HOME / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for worker in started:
        worker.stop(timeout=30)
        (logs / f"{request.node.name}-{worker.name}.log").write_text(worker.output())


@pytest.fixture()
def app(settings: Settings) -> Iterator[Celery]:
    """A Celery app on the test's Redis, to send tasks like the poller does."""
    app = create_app(settings)
    yield app
    app.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failing test that used a `vigie api` server (tests.support.api) gets the end of that server's
    log in its report: what the API said while the test waited for it."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for name, value in getattr(item, "funcargs", {}).items():
        if isinstance(value, ApiServer):
            report.sections.append((f"`vigie api` log ({name}, last lines)", value.process.output()[-6000:]))
