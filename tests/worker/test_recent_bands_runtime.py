"""The worker's write path uses recent band keys in Redis unless VIGIE_DUPLICATE_RECENT_HOURS is 0."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from ingest.fingerprint import signature
from state.recent_bands import RecentBandsInRedis
from tests.index.factories import analysed
from worker.runtime import Runtime

pytestmark = pytest.mark.integration

TEXT = " ".join(f"mot{number % 97} suite{number % 13} fin{number}" for number in range(120))


def test_the_worker_store_finds_a_wire_copy_through_redis(es: Elasticsearch, settings: Settings) -> None:
    rt = Runtime(settings)
    assert isinstance(rt.store.recent, RecentBandsInRedis)
    original = analysed("wire", text=TEXT, signature=signature(TEXT))
    copy_text = "AFP " + TEXT[:-40]
    first = rt.store.index_batch([original])
    copy = rt.store.index_batch([analysed("copy", text=copy_text, signature=signature(copy_text))])
    assert first.documents["wire"].cluster_id == "wire"
    assert copy.documents["copy"].cluster_id == "wire"
    assert copy.recent_lookups == 1  # found without refresh: Redis knows what Elasticsearch took


def test_zero_hours_keeps_the_lookup_in_elasticsearch(es: Elasticsearch, settings: Settings) -> None:
    rt = Runtime(settings.model_copy(update={"duplicate_recent_hours": 0.0}))
    assert rt.store.recent is None
    outcome = rt.store.index_batch([analysed("wire", text=TEXT, signature=signature(TEXT))])
    assert outcome.indexed == ("wire",) and outcome.recent_lookups == 0
