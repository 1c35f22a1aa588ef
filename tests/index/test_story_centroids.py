"""A story's centroid as it is kept: packed (its JSON compressed, in base64: ``centroid_packed``) and
read back exact; a story written before centroids were packed read as it is, and packed when written
again; a packed centroid that cannot be read named with its story. Against the real Elasticsearch."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import orjson
import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.errors import IndexRejected
from index.mappings import stories_index, stories_index_body
from index.stories import StoryDraft, StoryStore, packed_centroid, unpacked_centroid
from ingest.stories import StoryCentroid, StoryFeatures


def _centroid(seed: int, words: int = 400) -> StoryCentroid:
    """A centroid of many words and names with weights no short decimal writes exactly."""
    rng = random.Random(seed)
    features = StoryFeatures(f"a{seed}", datetime(2026, 12, 6, 1, tzinfo=timezone.utc), "fr", "Accord sur Idleb",
                             {f"fr:mot{i}": rng.random() / 3 for i in range(words)},
                             {f"person:nom{i}": rng.random() * 7 for i in range(words // 10)},
                             frozenset({"2020", "3,5"}), source="depeche.example")
    centroid = StoryCentroid.founded_by(f"s-{seed}", features)
    later = StoryFeatures(f"b{seed}", features.time + timedelta(hours=2), "en", "Idlib deal",
                          {"en:truce": 0.1 + rng.random()}, {"person:nom1": 1 / 3}, frozenset({"2020"}))
    return centroid.with_member(later)  # weights averaged over two articles, two languages


def test_a_packed_centroid_reads_back_exact_and_is_smaller() -> None:
    centroid = _centroid(1)
    packed = packed_centroid(centroid)
    assert StoryCentroid.from_dict(unpacked_centroid({"centroid_packed": packed})) == centroid
    assert len(packed) < len(orjson.dumps(centroid.to_dict())) / 1.5
    draft = StoryDraft(centroid)
    document = draft.document(datetime(2026, 12, 6, 2, tzinfo=timezone.utc))
    assert "centroid" not in document and document["centroid_packed"] == packed
    assert StoryDraft.from_source(document).centroid == centroid
    # A story written before centroids were packed keeps it whole: read as it is.
    old = {**document, "centroid": centroid.to_dict()}
    del old["centroid_packed"]
    assert StoryDraft.from_source(old).centroid == centroid


def test_a_packed_centroid_that_cannot_be_read_names_its_story() -> None:
    with pytest.raises(IndexRejected, match="s-broken"):
        unpacked_centroid({"story_id": "s-broken", "centroid_packed": "bm90IHpsaWI="})


@pytest.mark.integration
def test_stories_written_before_packing_are_read_and_packed_when_written_again(
        es: Elasticsearch, settings: Settings) -> None:
    index = stories_index(settings.index_prefix)
    old_body = stories_index_body()
    del old_body["mappings"]["properties"]["centroid_packed"]  # the mapping before 2026-12-06
    es.indices.create(index=index, **old_body)
    centroid = _centroid(2)
    old_document = StoryDraft(centroid).document(datetime(2026, 12, 5, tzinfo=timezone.utc))
    old_document["centroid"] = centroid.to_dict()
    del old_document["centroid_packed"]
    es.index(index=index, id=centroid.story_id, document=old_document, refresh=True)

    store = StoryStore(es, settings.index_prefix)
    store.ensure_ready()  # the strict mapping gains the packed field
    assert es.indices.get_mapping(index=index)[index]["mappings"]["properties"]["centroid_packed"] == {"type": "binary"}
    read = store.drafts([centroid.story_id])[centroid.story_id]
    assert read.centroid == centroid

    store.save([read], [], [], datetime(2026, 12, 6, tzinfo=timezone.utc))
    source = es.get(index=index, id=centroid.story_id)["_source"]
    assert "centroid" not in source and source["centroid_packed"] == packed_centroid(centroid)
    assert store.drafts([centroid.story_id])[centroid.story_id].centroid == centroid
    store.refresh()
    listed = es.search(index=index, query={"match_all": {}})["hits"]["hits"]
    assert [hit["_id"] for hit in listed] == [centroid.story_id]
    assert [record.story_id for record in store.list()] == [centroid.story_id]
