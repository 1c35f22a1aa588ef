"""Sending feed items through the real pipeline as the poller does, and counting what was indexed."""

from __future__ import annotations

import time

import redis
from celery import Celery
from elasticsearch import Elasticsearch

from ingest.models import FeedItem
from state.pending import PendingArticles
from tests.support.feeds import Story
from conf.settings import Settings
from worker.pending_sweep import queue_batch, task_sender
from worker.queues import PROCESS_ITEMS


def feed_items(stories: list[Story], feed_url: str = "http://127.0.0.1/feed.xml") -> list[FeedItem]:
    return [
        FeedItem(article_id=f"t-{story.guid.rsplit(':', 1)[1]}", feed_url=feed_url, url=None, title=story.title,
                 summary=story.text[:200], content=story.content_html(), published=story.published, guid=story.guid)
        for story in stories
    ]


def count(es: Elasticsearch, settings: Settings) -> int:
    alias = f"{settings.index_prefix}-articles"
    if not es.indices.exists_alias(name=alias):
        return 0
    es.indices.refresh(index=alias)
    return int(es.count(index=alias)["count"])


def queue_length(client: redis.Redis, queue: str = "vigie.analyze") -> int:
    return int(client.llen(queue))


def wait_for_count(es: Elasticsearch, settings: Settings, expected: int, timeout: float,
                   interval: float = 0.25) -> int:
    """The number of articles searchable once it reaches ``expected`` (or at ``timeout``), asked every
    ``interval`` seconds (a refresh and a count: cheap, and a test does not wait a second for nothing)."""
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline:
        seen = count(es, settings)
        if seen >= expected:
            return seen
        time.sleep(interval)
    return seen


def send(app: Celery, items: list[FeedItem], batch: int = 16) -> None:
    """Queue items as the poller does: batches of ``batch`` for vigie.process_items."""
    for i in range(0, len(items), batch):
        app.send_task("vigie.process_items", args=[[item.to_dict() for item in items[i : i + batch]]])


def send_pending(app: Celery, client: redis.Redis, items: list[FeedItem], batch: int = 16) -> list[str]:
    """Queue items as the scheduler does: batches of ``batch``, each recorded as pending until indexed
    (worker.pending_sweep), so that the scheduler's sweep queues again a batch the broker lost. Returns
    the task ids."""
    send, pending = task_sender(app), PendingArticles(client)
    return [queue_batch(lambda payload, task_id: send(PROCESS_ITEMS, payload, task_id), pending,
                        [item.to_dict() for item in items[i : i + batch]], time.time())
            for i in range(0, len(items), batch)]
