"""Migration to a new mapping version while writes go on, and the aggregations of `vigie stats`."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.mappings import ARTICLES_VERSION, articles_alias, articles_index
from index.migrate import current_index, migrate
from index.stats import article_stats
from index.store import ArticleStore
from tests.index.factories import analysed, person, place, topic

pytestmark = pytest.mark.integration


def test_migration_moves_every_document_while_writes_continue(es: Elasticsearch, settings: Settings) -> None:
    prefix = settings.index_prefix
    old = articles_index(prefix, 0)
    # An older deployment: version 0 of the mapping, behind the alias.
    es.indices.create(index=old, mappings={"dynamic": True, "properties": {"title": {"type": "text"}}},
                      settings={"number_of_replicas": 0}, aliases={articles_alias(prefix): {"is_write_index": True}})
    store = ArticleStore(es, prefix)
    store.index_batch([analysed(f"old-{i}", title=f"Ancien {i}") for i in range(1200)], refresh=True)

    writes_done = threading.Event()
    written: list[str] = []

    def writer() -> None:  # a worker that keeps indexing during the migration
        for i in range(60):
            store.index_batch([analysed(f"live-{i}", title=f"Pendant {i}")])
            written.append(f"live-{i}")
        writes_done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    report = migrate(es, prefix)
    thread.join()
    assert writes_done.is_set()
    assert report is not None and report.source == old and report.target == articles_index(prefix, ARTICLES_VERSION)
    assert current_index(es, prefix) == report.target
    es.indices.refresh(index=report.target)
    assert store.count() == 1200 + 60  # nothing lost, nothing twice
    assert store.get("live-59") is not None and store.get("old-0")["title"] == "Ancien 0"  # type: ignore[index]
    assert migrate(es, prefix) is None  # already there: nothing to do


def test_stats_count_per_topic_entity_language_feed_and_day(es: Elasticsearch, settings: Settings) -> None:
    store = ArticleStore(es, settings.index_prefix)
    store.ensure_ready()
    day1, day2 = datetime(2026, 11, 20, tzinfo=timezone.utc), datetime(2026, 11, 21, tzinfo=timezone.utc)
    store.index_batch([
        analysed("a", entities=(person("Erdogan"), place("Idleb")), topics=(topic("ceasefire"), topic("migration")),
                 published=day1, feed="http://127.0.0.1/a.xml"),
        analysed("b", entities=(person("Erdogan"),), topics=(topic("migration"),), published=day2,
                 feed="http://127.0.0.1/a.xml"),
        analysed("c", language="en", topics=(), published=day2, feed="http://127.0.0.1/b.xml"),
    ], refresh=True)
    stats = article_stats(es, settings.index_prefix)
    assert stats["total"] == 3
    assert {"key": "migration", "count": 2} in stats["topics"] and {"key": "ceasefire", "count": 1} in stats["topics"]
    assert stats["people"] == [{"key": "erdogan", "count": 2}]
    assert stats["languages"] == [{"key": "fr", "count": 2}, {"key": "en", "count": 1}]
    assert stats["feeds"][0] == {"key": "http://127.0.0.1/a.xml", "count": 2}
    assert stats["days"] == [{"key": "2026-11-21", "count": 2}, {"key": "2026-11-20", "count": 1}]
    only_fr = article_stats(es, settings.index_prefix, query="topic:migration")
    assert only_fr["total"] == 2
