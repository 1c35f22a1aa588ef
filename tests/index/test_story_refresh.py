"""How often the indexes of stories are refreshed, against the real Elasticsearch: the stories index
every ``STORIES_REFRESH_SECONDS`` (a story written is read by id at once, searchable after a refresh),
the memberships only while searched (tests/index/test_story_members.py); either, created refreshing
every second as before, is moved to its interval."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.mappings import (STORIES_REFRESH_SECONDS, members_index, stories_index, stories_index_body,
                            story_members_index_body)
from index.stories import Membership, StoryDraft, StoryStore
from ingest.stories import StoryCentroid, StoryFeatures

pytestmark = pytest.mark.integration


def _interval(es: Elasticsearch, index: str) -> str | None:
    """The index's refresh interval, None if it sets none (refreshed only while searched)."""
    value = es.indices.get_settings(index=index)[index]["settings"]["index"].get("refresh_interval")
    return None if value is None else str(value)


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


@pytest.mark.parametrize(("name", "body", "expected"), [
    (stories_index, stories_index_body, f"{STORIES_REFRESH_SECONDS}s"),
    (members_index, story_members_index_body, None),  # refreshed only while searched (since 2026-12-02)
])
def test_an_index_of_stories_created_refreshing_every_second_is_moved_to_its_interval(
        es: Elasticsearch, settings: Settings, name: Callable[[str], str], body: Callable[[], dict[str, Any]],
        expected: str | None) -> None:
    index = name(settings.index_prefix)
    old = body()
    old["settings"]["refresh_interval"] = "1s"  # memberships until 2026-12-02, stories until 12-03
    es.indices.create(index=index, **old)
    assert _interval(es, index) == "1s"
    StoryStore(es, settings.index_prefix).ensure_ready()
    assert _interval(es, index) == expected
