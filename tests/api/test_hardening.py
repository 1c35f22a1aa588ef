"""The hardening issue's rows that involve the API, against the real Redis and Elasticsearch of the
session fixtures (the app runs in this process, its services do not)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import datetime, timezone

import httpx
import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from conf.limits import webhook_limits
from conf.settings import Settings
from index.alerts import AlertInvalid, new_rule
from index.store import ArticleStore
from index.notifications import NotificationStore
from ingest.notification_records import Matched, Notification, notification_id
from ingest.webhook import WebhookError, WebhookSender
from state.registry import registry_for
from tests.index.factories import analysed
from vigie.alert_store import alert_store_for
from vigie.api.app import create_app
from vigie.api.token import api_token


@pytest.fixture()
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as test_client:
        yield test_client


def auth(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(settings).value}"}


# -- row 1: an alert webhook cannot write into Elasticsearch --------------------------------------------


def test_a_webhook_into_elasticsearch_is_refused_at_creation_and_at_delivery(settings: Settings, es: Elasticsearch,
                                                                             client: TestClient) -> None:
    es.indices.create(index=f"{settings.index_prefix}-victim")
    for host in ("127.0.0.1", "2130706433", "[::1]", "localhost"):
        target = f"http://{host}:{settings.es_port}/{settings.index_prefix}-victim/_doc?refresh=true"
        with pytest.raises(AlertInvalid, match="Elasticsearch"):
            alert_store_for(settings).add(new_rule("into es", query="turquie", webhook=target))
        answer = client.post("/api/alerts", headers=auth(settings),
                             json={"name": "into es", "query": "turquie", "webhook": target})
        assert answer.status_code == 422 and "Elasticsearch" in answer.json()["message"], answer.text
        with WebhookSender(webhook_limits(settings)) as sender, pytest.raises(WebhookError) as error:
            sender.post(target, b'{"planted": true}', secret="s" * 32, idempotency_key="k", alert="a")
        assert error.value.kind == "blocked-address" and not error.value.transient
    es.indices.refresh(index=f"{settings.index_prefix}-victim")
    assert es.count(index=f"{settings.index_prefix}-victim")["count"] == 0
    redis_target = f"http://127.0.0.1:{settings.redis_port}/"
    answer = client.post("/api/feeds", headers=auth(settings), json={"url": redis_target})
    assert answer.status_code == 422 and "Redis" in answer.json()["message"]


def test_webhook_error_texts_are_shown_only_with_the_token(settings: Settings, es: Elasticsearch,
                                                          client: TestClient) -> None:
    store = NotificationStore(es, settings.index_prefix)
    item = Notification(notification_id=notification_id("a", "art"), alert_id="a", alert_name="A", article_id="art",
                        title="t", url=None, feed=None, language="fr", published=None, matched=Matched(),
                        mode="immediate", state="pending", created_at=datetime.now(timezone.utc))
    store.create([item])
    store.record_failure(item.notification_id, 1, "http://intranet/hook answered HTTP 500: internal secret "
                                                   "stack trace", datetime.now(timezone.utc))
    es.indices.refresh(index=f"{settings.index_prefix}-*")
    public = client.get("/api/notifications").json()
    assert public and "internal secret" not in httpx.Response(200, json=public).text
    assert public[0]["last_error"] and "token" in public[0]["last_error"]
    private = client.get("/api/notifications", headers=auth(settings)).json()
    assert "internal secret" in private[0]["last_error"]


# -- rows 3 and 5: bounded bodies, the token before the body, refused writes in their own bucket ---------


def asgi_call(app: object, method: str, path: str, headers: dict[str, str], chunks: list[bytes]) -> tuple[int, list[int]]:
    """One request straight through the ASGI app: its status and the sizes of the body chunks it pulled."""
    pulled: list[int] = []
    sent: list[dict[str, object]] = []
    pending = list(chunks)

    async def receive() -> dict[str, object]:
        if not pending:
            return {"type": "http.disconnect"}
        chunk = pending.pop(0)
        pulled.append(len(chunk))
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "method": method, "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "scheme": "http", "http_version": "1.1",
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80),
             "headers": [(b"host", b"127.0.0.1"), *((k.lower().encode(), v.encode()) for k, v in headers.items())]}
    asyncio.run(app(scope, receive, send))  # type: ignore[operator]
    return int(next(m["status"] for m in sent if m["type"] == "http.response.start")), pulled  # type: ignore[call-overload]


def test_a_huge_body_without_a_token_is_refused_before_a_byte_is_read(settings: Settings) -> None:
    app = create_app(settings)
    chunk = b"[" + b"1," * (128 * 1024)
    status, pulled = asgi_call(app, "POST", "/api/feeds", {"content-type": "application/json"}, [chunk] * 200)
    assert status == 401 and pulled == []


def test_a_body_over_the_limit_is_refused_while_it_is_read(settings: Settings) -> None:
    assert settings.api_max_body_bytes == 256 * 1024
    app = create_app(settings)
    token = {"authorization": f"Bearer {api_token(settings).value}", "content-type": "application/json"}
    chunks = [b" " * 64 * 1024] * 200  # 12.5 MiB, no Content-Length: counted as it arrives
    status, pulled = asgi_call(app, "POST", "/api/feeds", token, chunks)
    assert status == 413 and sum(pulled) <= 256 * 1024 + 64 * 1024
    status, pulled = asgi_call(app, "POST", "/api/feeds", {**token, "content-length": str(50 * 2**20)}, chunks)
    assert status == 413 and pulled == []
    small = create_app(settings.model_copy(update={"api_max_body_bytes": 50}))
    body = b'{"url": "http://example.org/a-feed-with-a-rather-long-address/that/goes/on/and/on/rss.xml"}'
    assert asgi_call(small, "POST", "/api/feeds", token, [body])[0] == 413


def test_requests_without_the_token_do_not_spend_the_clients_writes(settings: Settings, client: TestClient) -> None:
    statuses = [client.delete("/api/feeds/0123456789abcdef").status_code for _ in range(12)]
    assert set(statuses) <= {401, 429} and statuses[0] == 401 and statuses[-1] == 429
    answer = client.delete("/api/feeds/0123456789abcdef", headers=auth(settings))
    assert answer.status_code == 404, answer.text
    refused = client.post("/api/feeds", json={"url": "http://example.org/feed"})
    assert refused.status_code == 429  # the refused bucket is still empty: guessing stays limited


# -- row 4: credentials in URLs are never shown ---------------------------------------------------------


def test_credentials_in_urls_are_redacted_wherever_shown_and_the_stored_url_keeps_them(
        settings: Settings, es: Elasticsearch, client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    feed_url = "http://reader:hunter2pass@news.example.org/rss.xml?token=s3cr3tvalue&page=2"
    hook = "https://hook-user:hookpass99@hooks.example.org/notify?api_key=k3yvalue"
    with caplog.at_level(logging.INFO):
        added = client.post("/api/feeds", headers=auth(settings), json={"url": feed_url})
    assert added.status_code == 201, added.text
    created = client.post("/api/alerts", headers=auth(settings),
                          json={"name": "creds", "query": "turquie", "webhook": hook})
    assert created.status_code == 201, created.text
    articles = ArticleStore(es, settings.index_prefix)
    articles.ensure_ready()
    articles.index_batch([analysed("a" * 16, feed=feed_url, text="Turquie")], refresh=True)
    shown = [client.get(path).text for path in ("/api/feeds", "/api/alerts", "/api/facets", "/api/search?q=turquie",
                                                "/metrics")]
    shown.append(caplog.text)
    for secret in ("hunter2pass", "s3cr3tvalue", "hookpass99", "k3yvalue"):
        assert all(secret not in text for text in shown), secret
    assert "news.example.org/rss.xml" in shown[0] and "page=2" in shown[0] and "hooks.example.org" in shown[1]
    assert "news.example.org" in shown[2] and "news.example.org" in shown[3] and "news.example.org" in shown[4]
    assert registry_for(settings).find(added.json()["id"]).url == feed_url
    rule = alert_store_for(settings).get("creds")
    assert rule.delivery.webhook == hook


# -- row 9: the small items ------------------------------------------------------------------------------


def test_the_small_items(settings: Settings, client: TestClient) -> None:
    wrong = client.put("/api/feeds")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, POST"
    assert client.patch("/api/alerts/some-alert").status_code == 401  # a real route: the token first
    assert set(client.put("/api/alerts/some-alert").headers["allow"].split(", ")) == {"DELETE", "GET", "PATCH"}
    refused = client.post("/api/feeds", json={"url": "http://example.org/feed"})
    assert refused.status_code == 401 and str(settings.home) not in refused.text and "api-token" in refused.text
    host = client.get("/health", headers={"host": "attacker.example"})
    assert host.status_code == 400 and host.json()["kind"] == "invalid-host"
    for query in ("*", "**", "***"):
        answer = client.get("/api/search", params={"q": query})
        assert answer.status_code == 400 and answer.json()["kind"] == "query-syntax", query
    nan = client.post("/api/feeds", headers={**auth(settings), "content-type": "application/json"},
                      content=b'{"url": "http://example.org/nan-feed", "interval": NaN}')
    assert nan.status_code == 422 and "finite" in nan.json()["message"] and "604800" not in nan.json()["message"]
    for control in ("\u202e", "\u202d", "\u2066", "\u200f"):
        answer = client.post("/api/alerts", headers=auth(settings), json={"name": f"cv{control}fdp.exe", "query": "x"})
        assert answer.status_code == 422 and "bidirectional" in answer.json()["message"], repr(control)
    with pytest.raises(AlertInvalid, match="bidirectional"):
        alert_store_for(settings).add(new_rule("evil\u202ename", query="x"))


# -- deletion through the API -----------------------------------------------------------------------------


def test_the_api_deletes_an_article_and_purges_a_feed(settings: Settings, es: Elasticsearch,
                                                       client: TestClient) -> None:
    feed_url = "http://purge.example.org/rss.xml"
    articles = ArticleStore(es, settings.index_prefix)
    articles.ensure_ready()
    articles.index_batch([analysed("purge-0000000001", feed=feed_url), analysed("purge-0000000002", feed=feed_url),
                          analysed("keep-00000000001", feed="http://keep.example.org/rss.xml")], refresh=True)
    assert client.delete("/api/articles/keep-00000000001").status_code == 401
    assert client.delete("/api/articles/keep-00000000001", headers=auth(settings)).json() == {
        "id": "keep-00000000001", "deleted": True}
    assert client.get("/api/articles/keep-00000000001").status_code == 404
    assert client.delete("/api/articles/keep-00000000001", headers=auth(settings)).status_code == 404
    feed = client.post("/api/feeds", headers=auth(settings), json={"url": feed_url}).json()
    purged = client.delete(f"/api/feeds/{feed['id']}", params={"purge": "true"}, headers=auth(settings))
    assert purged.status_code == 200 and purged.json()["articles_deleted"] == 2
    assert client.get("/api/articles/purge-0000000001").status_code == 404
    assert client.get("/api/feeds").json() == []
