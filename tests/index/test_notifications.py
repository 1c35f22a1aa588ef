"""Notifications: one per (alert, article) whatever happens, and their delivery state."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.notifications import NotificationStore
from ingest.models import TopicMatch
from ingest.notification_records import Matched, Notification, notification_id
from ingest.webhook import digest_payload, match_payload, payload_bytes
from tests.index.factories import make_notification


def make(alert: str, article: str, *, mode: str = "immediate", created: datetime | None = None) -> Notification:
    return make_notification(
        alert, article, url=f"https://example.org/{article}", created_at=created, mode=mode,
        matched=Matched(topics=(TopicMatch("migration", 0.8, ("migrant",)),), terms=("Turquie",),
                        highlights={"text": ["la <mark>Turquie</mark>"]}),
    )


def test_the_id_is_a_function_of_alert_and_article_only() -> None:
    assert notification_id("a1", "x") == notification_id("a1", "x") != notification_id("a2", "x")
    assert len(notification_id("a1", "x")) == 32


def test_the_body_is_the_same_bytes_every_time() -> None:
    item = make("a1", "x")
    assert payload_bytes(match_payload(item)) == payload_bytes(match_payload(item))
    body = match_payload(item)
    assert body["alert"] == {"id": "a1", "name": "alert a1"} and body["article_id"] == "x"
    assert body["matched_topics"][0]["name"] == "migration" and body["matched_terms"] == ["Turquie"]
    assert body["highlights"] == {"text": ["la <mark>Turquie</mark>"]}
    end = datetime(2026, 11, 25, 13, tzinfo=timezone.utc)
    digest = digest_payload("a1", "alert a1", "d1", end, [make("a1", "y"), item])
    assert digest["count"] == 2 and digest["type"] == "digest" and digest["period_end"] == end.isoformat()


@pytest.mark.integration
def test_created_once_then_recognised(es: Elasticsearch, settings: Settings) -> None:
    store = NotificationStore(es, settings.index_prefix)
    first = store.create([make("a1", "x"), make("a1", "y")])
    again = store.create([make("a1", "x"), make("a2", "x")])  # the article x seen again, and by another alert
    assert len(first.created) == 2 and not first.existing
    assert [item.article_id for item in again.created] == ["x"] and again.created[0].alert_id == "a2"
    assert again.existing == (notification_id("a1", "x"),)
    store.refresh()
    assert len(store.recent(limit=10)) == 3 and len(store.recent("a1")) == 2


@pytest.mark.integration
def test_delivery_states(es: Elasticsearch, settings: Settings) -> None:
    store = NotificationStore(es, settings.index_prefix)
    item = make("a1", "x")
    store.create([item])
    due = datetime.now(timezone.utc) + timedelta(seconds=30)
    store.record_failure(item.notification_id, 1, "server-error: 500", due)
    current = store.get(item.notification_id)
    assert current is not None and (current.state, current.attempts, current.due_at) == ("pending", 1, due)
    store.mark_failed(item.notification_id, 2, "http-404")
    assert store.get(item.notification_id).state == "failed"  # type: ignore[union-attr]
    assert store.reset(item.notification_id)
    assert (store.get(item.notification_id).state, store.get(item.notification_id).attempts) == ("pending", 0)  # type: ignore[union-attr]
    store.mark_delivered(item.notification_id, 1)
    assert store.get(item.notification_id).state == "delivered"  # type: ignore[union-attr]
    assert not store.reset(item.notification_id)  # only a failed one can be replayed


@pytest.mark.integration
def test_digest_and_stale_queries(es: Elasticsearch, settings: Settings) -> None:
    store = NotificationStore(es, settings.index_prefix)
    old = datetime.now(timezone.utc) - timedelta(hours=2)
    store.create([make("d1", "x", mode="hourly", created=old), make("d1", "y", mode="hourly"),
                  make("i1", "z", created=old)])
    end = datetime.now(timezone.utc) - timedelta(hours=1)
    assert [item.article_id for item in store.pending_digests(end)] == ["x"]
    assert [item.article_id for item in store.stale_pending(end)] == ["z"]
    store.mark_many_delivered([notification_id("d1", "x")], "digest-1", 1)
    assert store.pending_digests(end) == []
    assert store.get(notification_id("d1", "x")).digest_id == "digest-1"  # type: ignore[union-attr]
