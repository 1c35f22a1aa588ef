"""A real `vigie api` process on the session's Redis and Elasticsearch, for the API, schema and browser
tests: its environment (own index prefix, own Redis database 1 to 15, emptied when handed out: the
per-test ``env`` fixture empties database 0, and workers other tests start there never answer this
server's pings), and starting it. The languages are cut to French and English so the lemma tables load
fast."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import redis

from index.client import connect
from index.store import ArticleStore
from ingest.models import AnalyzedArticle
from tests.support.processes import VIGIE, Background
from tests.support.services import drop_indices, settings_from
from vigie.services.processes import free_port
from conf.settings import Settings

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
    """`vigie api` on ``env``, once it answers /health (whatever the health) and its lemma tables and
    entity knowledge base are loaded."""
    process = Background("api", [VIGIE, "api"], env).start()
    base_url = f"http://127.0.0.1:{env['VIGIE_API_PORT']}"
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, timeout=10) as client:
        while time.monotonic() < deadline:
            if process.process is not None and process.process.poll() is not None:
                raise AssertionError(f"`vigie api` exited with {process.process.returncode}:\n{process.output()[-4000:]}")
            try:
                health = client.get("/health").json()
                if health.get("lemmas_loaded") and health.get("entities_loaded"):
                    return ApiServer(process, env, settings_from(env), base_url, env.get("VIGIE_API_TOKEN", ""))
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
    output = process.output()
    process.stop()
    raise AssertionError(f"`vigie api` did not answer within {timeout} s:\n{output[-4000:]}")


@contextmanager
def serving(env: dict[str, str], articles: Sequence[AnalyzedArticle]) -> Iterator[ApiServer]:
    """`vigie api` on ``env`` over an index holding ``articles`` (all indexed, searchable); stopped and
    its indices dropped afterwards."""
    server = start_api(env)
    store = ArticleStore(connect(server.settings.es_url), server.settings.index_prefix)
    store.ensure_ready()
    outcome = store.index_batch(list(articles), refresh=True)
    assert len(outcome.indexed) == len(articles), outcome
    try:
        yield server
    finally:
        server.stop()
        drop_indices(server.settings.es_url, server.settings.index_prefix)
