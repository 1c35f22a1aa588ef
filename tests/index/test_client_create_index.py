"""index.client.create_index on the real Elasticsearch: an index another process created a moment ago
is searchable when create_index returns, although Elasticsearch calls it "yellow" while its primary
is still initializing."""

from __future__ import annotations

import threading
import time

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.client import create_index

pytestmark = pytest.mark.integration


def test_an_index_created_elsewhere_a_moment_ago_is_searchable_when_create_index_returns(
        es: Elasticsearch, settings: Settings) -> None:
    for attempt in range(5):
        index = f"{settings.index_prefix}-created-elsewhere-{attempt}"
        # "Another process": the creation returns at once, its primary shard still initializing.
        es.indices.create(index=index, settings={"number_of_shards": 1, "number_of_replicas": 0},
                          wait_for_active_shards="0")
        assert create_index(es, index) is False  # it exists: not created by this call
        assert es.search(index=index, size=0)["hits"]["total"]["value"] == 0  # no 503
        es.indices.delete(index=index)


def test_create_index_waits_for_a_primary_not_yet_placed(es: Elasticsearch, settings: Settings) -> None:
    """The window the CI met: the index exists, its primary is not even assigned yet (the allocator
    places it a moment after the creation is published), and Elasticsearch already calls it yellow
    with no shard initializing. A filter matching no node holds the primary unassigned; a thread lifts
    it 1.5 s later. create_index returns only once the primary is active, and the search after it
    answers."""
    index = f"{settings.index_prefix}-not-yet-placed"
    es.indices.create(index=index, wait_for_active_shards="0", settings={
        "number_of_shards": 1, "number_of_replicas": 0, "index.routing.allocation.include._name": "no-such-node"})
    try:
        health = es.cluster.health(index=index, wait_for_no_initializing_shards=True, timeout="5s")
        assert health["active_primary_shards"] == 0 and health["initializing_shards"] == 0, health
        lifted = threading.Timer(1.5, lambda: es.indices.put_settings(
            index=index, settings={"index.routing.allocation.include._name": None}))
        lifted.start()
        started = time.monotonic()
        assert create_index(es, index) is False
        waited = time.monotonic() - started
        lifted.join()
        assert waited >= 1.4, f"create_index returned after {waited:.2f} s, before the primary was placed"
        assert es.search(index=index, size=0)["hits"]["total"]["value"] == 0  # no 503
    finally:
        es.indices.delete(index=index, ignore_unavailable=True)
