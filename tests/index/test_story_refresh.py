"""How often the stories index is refreshed (index.mappings.STORIES_REFRESH_SECONDS), against the real
Elasticsearch: created with that interval, and an index created refreshing every second is moved to it;
a story written is read by id at once and searchable after a refresh."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.mappings import STORIES_REFRESH_SECONDS, stories_index, stories_index_body
from index.stories import Membership, StoryDraft, StoryStore
from ingest.stories import StoryCentroid, StoryFeatures

pytestmark = pytest.mark.integration


def _interval(es: Elasticsearch, index: str) -> str:
    return str(es.indices.get_settings(index=index)[index]["settings"]["index"]["refresh_interval"])


def test_the_stories_index_is_created_refreshing_every_few_seconds(es: Elasticsearch, settings: Settings) -> None:
    assert STORIES_REFRESH_SECONDS > 1
    stories = StoryStore(es, settings.index_prefix)
    stories.ensure_ready()
    assert _interval(es, stories.index) == f"{STORIES_REFRESH_SECONDS}s"
    features = StoryFeatures("a1", datetime(2026, 12, 3, 8, tzinfo=timezone.utc), "fr", "Grève à Brest",
                             {"fr:grève": 1.0}, {"place:brest": 1.0}, frozenset(), source="ouest.example")
    draft = StoryDraft(StoryCentroid.founded_by("s-brest", features))
    draft.count(features)
    stories.save([draft], [Membership("a1", "s-brest", features, "new", 1.0)], [])
    assert set(stories.drafts(["s-brest"])) == {"s-brest"}  # read by id: at once
    stories.refresh()
    assert [record.story_id for record in stories.list()] == ["s-brest"]


def test_a_stories_index_created_refreshing_every_second_is_moved_to_the_new_interval(
        es: Elasticsearch, settings: Settings) -> None:
    index = stories_index(settings.index_prefix)
    body = stories_index_body()
    body["settings"]["refresh_interval"] = "1s"  # as created before 2026-12-03
    es.indices.create(index=index, **body)
    assert _interval(es, index) == "1s"
    StoryStore(es, settings.index_prefix).ensure_ready()
    assert _interval(es, index) == f"{STORIES_REFRESH_SECONDS}s"
