"""A real `vigie api` process on the session's Redis and Elasticsearch, for the API, schema and
browser tests. One server per test module (the lemma tables take seconds to load), with its own
index prefix and its own Redis database (1 to 15, emptied when handed out: the per-test ``env``
fixture empties database 0, and workers other tests start there never answer this server's pings);
the languages are cut to French and English so the tables load fast."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
import redis
from celery import Celery
from elasticsearch import Elasticsearch

from tests.conftest import TEST_HOME, settings_from
from tests.support.browser import Browser
from tests.support.processes import VIGIE, Background, start_worker
from vigie.services.processes import free_port
from vigie.settings import Settings
from worker.app import create_app
from worker.registry import DUE_KEY, FEEDS_KEY

TOKEN = "test-token-" + "x" * 24


@dataclass
class ApiServer:
    process: Background
    env: dict[str, str]
    settings: Settings
    base_url: str
    token: str

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30, **kwargs)  # type: ignore[arg-type]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def stop(self) -> None:
        self.process.stop(timeout=30)


_DATABASES = itertools.cycle(range(1, 16))  # Redis' 16 databases; 0 is the per-test one


def own_database(redis_url: str) -> str:
    """``redis_url`` on the next of databases 1-15, emptied first."""
    url = f"{redis_url.rsplit('/', 1)[0]}/{next(_DATABASES)}"
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


def api_env(base: dict[str, str], **overrides: str) -> dict[str, str]:
    env = dict(base)
    env.update(VIGIE_INDEX_PREFIX=f"test-{uuid.uuid4().hex[:8]}", VIGIE_API_TOKEN=TOKEN, VIGIE_API_PORT=str(free_port()),
               VIGIE_LANGUAGES="fr,en", VIGIE_API_WRITE_RATE="600", VIGIE_API_WRITE_BURST="100")
    if "VIGIE_REDIS_URL" not in overrides:
        env["VIGIE_REDIS_URL"] = own_database(base["VIGIE_REDIS_URL"])
    env.update(overrides)
    return env


def start_api(env: dict[str, str], timeout: float = 90) -> ApiServer:
    """`vigie api` on ``env``, once it answers /health (whatever the health) and its lemmas are loaded."""
    process = Background("api", [VIGIE, "api"], env).start()
    base_url = f"http://127.0.0.1:{env['VIGIE_API_PORT']}"
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, timeout=10) as client:
        while time.monotonic() < deadline:
            if process.process is not None and process.process.poll() is not None:
                raise AssertionError(f"`vigie api` exited with {process.process.returncode}:\n{process.output()[-4000:]}")
            try:
                if client.get("/health").json().get("lemmas_loaded"):
                    return ApiServer(process, env, settings_from(env), base_url, env.get("VIGIE_API_TOKEN", ""))
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
    output = process.output()
    process.stop()
    raise AssertionError(f"`vigie api` did not answer within {timeout} s:\n{output[-4000:]}")


def drop_indices(settings: Settings) -> None:
    client = Elasticsearch(settings.es_url, request_timeout=30)
    try:
        names = list(client.indices.get(index=f"{settings.index_prefix}-*", allow_no_indices=True).keys())
        if names:
            client.indices.delete(index=",".join(names))
        client.options(ignore_status=404).indices.delete_index_template(name=f"{settings.index_prefix}-*")
    finally:
        client.close()


@pytest.fixture(scope="module")
def api_server(service_env: dict[str, str]) -> Iterator[ApiServer]:
    server = start_api(api_env(service_env))
    yield server
    server.stop()
    drop_indices(server.settings)


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
