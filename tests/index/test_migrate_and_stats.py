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

    # A worker that keeps indexing during the migration: half its writes while the copy runs (the
    # migration's progress hook holds the copy until they are in), the rest while it goes on.
    copy_started = threading.Event()
    first_half_written = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            assert copy_started.wait(120), "the migration never started copying"
            for i in range(60):
                store.index_batch([analysed(f"live-{i}", title=f"Pendant {i}")])
                if i == 29:
                    first_half_written.set()
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
            first_half_written.set()

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "copy" and not copy_started.is_set():
            copy_started.set()
            assert first_half_written.wait(120), "the writer did not write while the copy ran"

    thread = threading.Thread(target=writer)
    thread.start()
    report = migrate(es, prefix, progress=progress)
    thread.join(120)
    assert not thread.is_alive() and errors == []
    assert report is not None and report.source == old and report.target == articles_index(prefix, ARTICLES_VERSION)
    assert current_index(es, prefix) == report.target
    # The writes overlapped the copy, as the indices show: the first 30 landed in the old index after
    # the copy's snapshot was taken (the copy moved only the 1200 older ones), and the catch-up moved them.
    es.indices.refresh(index=old)
    during = [f"live-{i}" for i in range(30)]
    assert es.count(index=old, query={"ids": {"values": during}})["count"] == 30
    assert report.copied == 1200 and report.caught_up >= 30, report
    es.indices.refresh(index=report.target)
    assert es.count(index=report.target, query={"ids": {"values": during}})["count"] == 30
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
