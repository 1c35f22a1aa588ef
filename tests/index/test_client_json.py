"""JSON to and from Elasticsearch (index.client): orjson where it can, the standard library where it
refuses, the same documents either way, through the real engine."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from elasticsearch.serializer import JsonSerializer, NdjsonSerializer

from conf.settings import Settings
from index.client import SERIALIZERS, OrjsonNdjsonSerializer, OrjsonSerializer, connect

DOCUMENT = {"title": "Poutine reçoit Erdogan à Idleb — «cessez-le-feu»", "names": ["Путин", "أردوغان"],
            "score": 0.1 + 0.2, "tiny": 2e-9, "count": 3, "when": datetime(2026, 12, 2, 4, 5, 6, 789, tzinfo=timezone.utc),
            "day": date(2026, 12, 2), "nested": {"a": [1, 2, None], "flag": True}, 7: "an integer key"}


def test_documents_are_written_as_the_standard_library_writes_them() -> None:
    mine, theirs = OrjsonSerializer().dumps(DOCUMENT), JsonSerializer().dumps(DOCUMENT)
    assert json.loads(mine) == json.loads(theirs)  # numbers may be spelt otherwise: 2e-9, 2e-09
    assert OrjsonSerializer().loads(theirs) == json.loads(theirs)


def test_what_orjson_refuses_goes_through_the_standard_library() -> None:
    lone_surrogate, huge = {"text": "broken \ud800 text"}, {"n": 2**70}
    assert OrjsonSerializer().dumps(lone_surrogate) == JsonSerializer().dumps(lone_surrogate)
    assert OrjsonSerializer().dumps(huge) == JsonSerializer().dumps(huge)
    assert OrjsonSerializer().loads(b'{"n": 1180591620717411303424}') == {"n": 2**70}
    lines = [{"index": {"_id": "1"}}, lone_surrogate, {"index": {"_id": "2"}}, DOCUMENT]
    assert OrjsonNdjsonSerializer().dumps(lines).count(b"\n") == NdjsonSerializer().dumps(lines).count(b"\n") == 4


def test_the_client_uses_them_for_json_and_ndjson() -> None:
    assert set(SERIALIZERS) == {"application/json", "application/x-ndjson"}
    client = connect("http://127.0.0.1:9")
    serializers = client.transport.serializers.serializers
    assert isinstance(serializers["application/json"], OrjsonSerializer)
    assert isinstance(serializers["application/x-ndjson"], OrjsonNdjsonSerializer)
    # The compatibility media types the client sends are served by the same serializers.
    assert any(isinstance(serializer, OrjsonNdjsonSerializer) for mimetype, serializer in serializers.items()
               if "vnd.elasticsearch+x-ndjson" in mimetype)


@pytest.mark.integration
def test_a_document_comes_back_from_the_real_engine_as_it_went_in(settings: Settings) -> None:
    es = connect(settings.es_url)
    index = f"{settings.index_prefix}-json-round-trip"
    es.options(ignore_status=404).indices.delete(index=index)
    try:
        es.indices.create(index=index, settings={"number_of_shards": 1, "number_of_replicas": 0})
        sent = {key: value for key, value in DOCUMENT.items() if key != 7}
        es.bulk(operations=[{"index": {"_index": index, "_id": "bulk"}}, sent], refresh=True)
        es.index(index=index, id="single", document=sent, refresh=True)
        expected = json.loads(JsonSerializer().dumps(sent))
        assert es.get(index=index, id="bulk")["_source"] == expected
        assert es.get(index=index, id="single")["_source"] == expected
        hits = es.search(index=index, query={"match": {"title": "cessez"}})["hits"]["hits"]
        assert sorted(hit["_id"] for hit in hits) == ["bulk", "single"]
    finally:
        es.options(ignore_status=404).indices.delete(index=index)
