"""index.client.create_index on the real Elasticsearch: an index another process created a moment ago
is searchable when create_index returns, although Elasticsearch calls it "yellow" while its primary
is still initializing."""

from __future__ import annotations

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
