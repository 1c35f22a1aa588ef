"""The API with Elasticsearch and Redis unreachable, and with a tight write limit: 503s that say what
is down and when to come back, and 429s once a client writes too fast."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.api import ApiServer, api_env, start_api
from vigie.services.processes import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lonely_api(service_env: dict[str, str]) -> Iterator[ApiServer]:
    """Nothing listens at its Redis and Elasticsearch addresses; two writes a minute per client."""
    env = api_env(service_env, VIGIE_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
                  VIGIE_ES_URL=f"http://127.0.0.1:{free_port()}", VIGIE_API_WRITE_BURST="2", VIGIE_API_WRITE_RATE="2")
    server = start_api(env)
    yield server
    server.stop()


def test_services_down_are_503_with_retry_after(lonely_api: ApiServer) -> None:
    with lonely_api.client() as client:
        health = client.get("/health")
        assert health.status_code == 503
        body = health.json()
        assert body["status"] == "down" and not body["redis"]["ok"] and not body["elasticsearch"]["ok"]
        assert "does not answer" in body["elasticsearch"]["error"] and body["redis"]["error"]

        for path in ("/api/search?q=Idleb", "/api/facets", "/api/articles/x"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert response.json()["kind"] == "index-unavailable" and response.headers["retry-after"] == "5"
        feeds = client.get("/api/feeds")
        assert feeds.status_code == 503 and feeds.json()["kind"] == "redis-unavailable"
        metrics = client.get("/metrics")
        assert metrics.status_code == 200  # a scrape never fails; it says what it could not read
        assert 'vigie_component_up{component="redis"} 0.0' in metrics.text
        assert 'vigie_component_up{component="elasticsearch"} 0.0' in metrics.text
        # A query that does not parse is the client's fault whatever the state of the services.
        assert client.get("/api/search", params={"q": "(Idleb"}).status_code == 400


def test_writes_beyond_the_rate_limit_are_429_with_retry_after(lonely_api: ApiServer) -> None:
    with lonely_api.client() as client:
        body = {"url": "https://news.example.org/rss.xml"}
        first = client.post("/api/feeds", json=body, headers=lonely_api.auth)
        assert first.status_code == 503  # let through: Redis is what is missing
        # Guessing tokens is limited in a bucket of its own (two a minute here)...
        for guess in ("guess-guess-guess-1", "guess-guess-guess-2"):
            assert client.post("/api/feeds", json=body, headers={"Authorization": f"Bearer {guess}"}).status_code == 401
        limited = client.post("/api/feeds", json=body, headers={"Authorization": "Bearer guess-guess-guess-3"})
        assert limited.status_code == 429
        assert limited.json()["kind"] == "rate-limited" and 1 <= int(limited.headers["retry-after"]) <= 30
        # ...which never spends the real client's writes: its second write goes through, its third is limited.
        assert client.post("/api/feeds", json=body, headers=lonely_api.auth).status_code == 503
        limited = client.delete("/api/feeds/0123456789abcdef", headers=lonely_api.auth)
        assert limited.status_code == 429 and limited.json()["kind"] == "rate-limited"
        assert client.get("/api/search", params={"q": "(x"}).status_code == 400  # reads are not limited
