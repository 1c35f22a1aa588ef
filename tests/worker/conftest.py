"""Fixtures for pipeline tests: a real `celery worker` process and the local feed server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import redis
from celery import Celery
from elasticsearch import Elasticsearch

from ingest.models import FeedItem
from tests.conftest import TEST_HOME
from tests.support.feeds import FeedServer, Story, make_story
from tests.support.processes import Background, start_worker
from vigie.settings import Settings
from worker.app import create_app


@pytest.fixture()
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


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


def wait_for_count(es: Elasticsearch, settings: Settings, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline:
        seen = count(es, settings)
        if seen >= expected:
            return seen
        time.sleep(1)
    return seen


def send(app: Celery, items: list[FeedItem], batch: int = 16) -> None:
    """Queue items as the poller does: batches of ``batch`` for vigie.process_items."""
    for i in range(0, len(items), batch):
        app.send_task("vigie.process_items", args=[[item.to_dict() for item in items[i : i + batch]]])


@pytest.fixture()
def app(settings: Settings) -> Iterator[Celery]:
    """A Celery app on the test's Redis, to send tasks like the poller does."""
    app = create_app(settings)
    yield app
    app.close()


__all__ = ["count", "feed_items", "make_story", "queue_length", "send", "wait_for_count"]
