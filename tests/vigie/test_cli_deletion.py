"""Deleting data end to end with the real `vigie` command, Redis and Elasticsearch: a feed with its
articles, one article, old notifications and dead letters (the scheduler's sweep); and the CLI's
refusal of feeds and webhooks aimed at Vigie's own services (row 1 of the hardening issue)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import redis
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.notifications import NotificationStore
from ingest.notification_records import DELIVERED, PENDING, Matched, Notification, notification_id
from index.store import ArticleStore
from state.deadletter import DLQ_KEY, DeadLetters
from tests.index.factories import analysed
from tests.support.processes import run_vigie, vigie_json
from worker.retention import RetentionSweep

FEED = "http://news.example.org/rss.xml"
OTHER = "http://other.example.org/rss.xml"


def stored_ids(es: Elasticsearch, settings: Settings) -> set[str]:
    es.indices.refresh(index=f"{settings.index_prefix}-*")
    hits = es.search(index=f"{settings.index_prefix}-articles", query={"match_all": {}}, size=100)["hits"]["hits"]
    return {hit["_id"] for hit in hits}


def test_feeds_remove_purge_and_articles_delete(env: dict[str, str], settings: Settings, es: Elasticsearch) -> None:
    articles = ArticleStore(es, settings.index_prefix)
    articles.ensure_ready()
    articles.index_batch([analysed("feed-one-000001", feed=FEED), analysed("feed-one-000002", feed=FEED),
                          analysed("other-00000001", feed=OTHER), analysed("other-00000002", feed=OTHER)], refresh=True)
    vigie_json(["feeds", "add", FEED, "--keep-dead"], env)  # no server behind them: dead, followed anyway
    vigie_json(["feeds", "add", OTHER, "--keep-dead"], env)
    kept = run_vigie(["feeds", "remove", OTHER], env, check=True)
    assert "removed" in kept.stdout and stored_ids(es, settings) >= {"other-00000001", "other-00000002"}
    purged = run_vigie(["feeds", "remove", FEED, "--purge", "--json"], env, check=True)
    assert '"articles_deleted": 2' in purged.stdout
    assert "feed.articles_deleted" in purged.stderr and FEED in purged.stderr and "count=2" in purged.stderr
    assert stored_ids(es, settings) == {"other-00000001", "other-00000002"}
    deleted = run_vigie(["articles", "delete", "other-00000001"], env, check=True)
    assert "deleted article other-00000001" in deleted.stdout and "article.deleted" in deleted.stderr
    assert stored_ids(es, settings) == {"other-00000002"}
    again = run_vigie(["articles", "delete", "other-00000001"], env)
    assert again.returncode == 1 and "no article has the id 'other-00000001'" in again.stderr


def test_the_cli_refuses_feeds_and_webhooks_aimed_at_vigies_own_services(env: dict[str, str], settings: Settings) -> None:
    feed = run_vigie(["feeds", "add", f"http://127.0.0.1:{settings.redis_port}/"], env)
    assert feed.returncode == 1 and "Redis" in feed.stderr
    alert = run_vigie(["alerts", "add", "into es", "--query", "turquie",
                       "--webhook", f"http://localhost:{settings.es_port}/{settings.index_prefix}-x/_doc"], env)
    assert alert.returncode == 1 and "Elasticsearch" in alert.stderr
    metadata = run_vigie(["alerts", "add", "metadata", "--query", "turquie", "--webhook", "http://[fd00:ec2::254]/"], env)
    assert metadata.returncode == 1 and "metadata" in metadata.stderr


def notification(article: str, state: str, created: datetime) -> Notification:
    return Notification(notification_id=notification_id("a", article), alert_id="a", alert_name="A", article_id=article,
                        title=article, url=None, feed=None, language="fr", published=None, matched=Matched(),
                        mode="immediate", state=state, created_at=created)


def test_the_schedulers_sweep_applies_the_retention_settings(env: dict[str, str], es: Elasticsearch,
                                                            redis_client: redis.Redis) -> None:
    settings = Settings(**{key[6:].lower(): value for key, value in env.items() if key.startswith("VIGIE_")},
                        notification_retention_days=30, dead_letter_retention_days=7)
    now = datetime.now(timezone.utc)
    store = NotificationStore(es, settings.index_prefix)
    store.create([notification("old-delivered", DELIVERED, now - timedelta(days=31)),
                  notification("old-pending", PENDING, now - timedelta(days=31)),
                  notification("recent", DELIVERED, now - timedelta(days=29))])
    letters = DeadLetters(redis_client)
    redis_client.delete(DLQ_KEY)
    old = letters.add(task="vigie.process_items", payload=[], article_ids=["x1"], error_kind="k", error="e", attempts=3)
    recent = letters.add(task="vigie.process_items", payload=[], article_ids=["x2"], error_kind="k", error="e", attempts=3)
    aged = {**old.to_dict(), "failed_at": (now - timedelta(days=8)).isoformat()}
    redis_client.hset(DLQ_KEY, old.entry_id, json.dumps(aged))
    es.indices.refresh(index=store.index)
    RetentionSweep(settings, redis_client).tick(now.timestamp())
    es.indices.refresh(index=store.index)
    left = {item.article_id for item in store.recent(None, limit=10)}
    assert left == {"old-pending", "recent"}
    assert [entry.entry_id for entry in letters.entries()] == [recent.entry_id]
