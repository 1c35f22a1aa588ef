"""Fixtures of the API, schema and browser tests: one real `vigie api` per test module (the lemma tables
take seconds to load; see tests/support/api.py), its Redis, a worker and a Celery app on its
settings, one HTTP client, one Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
import redis
from celery import Celery

from state.registry import DUE_KEY, FEEDS_KEY
from tests.support.api import ApiServer, api_env, start_api
from tests.support.browser import Browser
from tests.support.processes import Background, start_worker
from tests.support.services import TEST_HOME, drop_indices
from worker.app import create_app


@pytest.fixture(scope="module")
def api_server(service_env: dict[str, str]) -> Iterator[ApiServer]:
    server = start_api(api_env(service_env))
    yield server
    server.stop()
    drop_indices(server.settings.es_url, server.settings.index_prefix)


@pytest.fixture(scope="module")
def module_redis(api_server: ApiServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(api_server.settings.redis_url)
    yield client
    client.close()


@pytest.fixture()
def no_feeds(module_redis: redis.Redis) -> Callable[[], None]:
    """Start with no followed feed (the module's tests share its Redis database)."""
    def clear() -> None:
        module_redis.delete(FEEDS_KEY, DUE_KEY)

    clear()
    return clear


@pytest.fixture(scope="module")
def pipeline_worker(api_server: ApiServer, request: pytest.FixtureRequest) -> Iterator[Background]:
    """A real `celery worker` on the module's server settings; its log is kept in .vigie-test/logs."""
    process = start_worker(api_server.env, name=f"{request.module.__name__.rsplit('.', 1)[-1]}-worker")
    yield process
    process.stop(timeout=30)
    logs = TEST_HOME / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / f"{process.name}.log").write_text(process.output())


@pytest.fixture(scope="module")
def client(api_server: ApiServer) -> Iterator[httpx.Client]:
    """One HTTP client on the module's server."""
    with api_server.client() as http:
        yield http


@pytest.fixture(scope="module")
def celery_app(api_server: ApiServer) -> Iterator[Celery]:
    """What the poller sends tasks with, on the module's settings."""
    app = create_app(api_server.settings)
    yield app
    app.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium through chromedriver, one per module."""
    chromium = Browser(width=1280, height=1000)
    yield chromium
    chromium.quit()
