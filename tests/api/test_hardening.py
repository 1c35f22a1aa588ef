"""The hardening issue's rows that involve the API, against the real Redis and Elasticsearch of the
session fixtures (the app runs in this process, its services do not)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import httpx
import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from conf.limits import webhook_limits
from conf.settings import Settings
from index.alerts import AlertInvalid, new_rule
from index.notifications import Matched, Notification, NotificationStore, notification_id
from ingest.webhook import WebhookError, WebhookSender
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
