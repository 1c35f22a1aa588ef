"""How often the indexes of stories are refreshed, against the real Elasticsearch: the stories and the
memberships every ``STORIES_REFRESH_SECONDS`` (a story written is read by id at once, searchable after
a refresh; the memberships: tests/index/test_story_members.py); either, created as before (refreshing
every second, or the memberships only while searched), is moved to it."""

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


def test_the_indexes_of_stories_are_created_refreshing_every_few_seconds(es: Elasticsearch, settings: Settings) -> None:
    assert STORIES_REFRESH_SECONDS > 1
    stories = StoryStore(es, settings.index_prefix)
    stories.ensure_ready()
    assert _interval(es, stories.index) == _interval(es, stories.members) == f"{STORIES_REFRESH_SECONDS}s"
    features = StoryFeatures("a1", datetime(2026, 12, 3, 8, tzinfo=timezone.utc), "fr", "Grève à Brest",
                             {"fr:grève": 1.0}, {"place:brest": 1.0}, frozenset(), source="ouest.example")
    draft = StoryDraft(StoryCentroid.founded_by("s-brest", features))
    draft.count(features)
    stories.save([draft], [Membership("a1", "s-brest", features, "new", 1.0)], [])
    assert set(stories.drafts(["s-brest"])) == {"s-brest"}  # read by id: at once
    stories.refresh()
    assert [record.story_id for record in stories.list()] == ["s-brest"]


@pytest.mark.parametrize(("name", "body", "before"), [
    (stories_index, stories_index_body, "1s"),  # until 2026-12-03
    (members_index, story_members_index_body, "1s"),  # until 2026-12-02
    (members_index, story_members_index_body, None),  # refreshed only while searched, until 2026-12-03
])
def test_an_index_of_stories_created_as_before_is_moved_to_its_interval(
        es: Elasticsearch, settings: Settings, name: Callable[[str], str], body: Callable[[], dict[str, Any]],
        before: str | None) -> None:
    index = name(settings.index_prefix)
    old = body()
    if before is None:
        del old["settings"]["refresh_interval"]
    else:
        old["settings"]["refresh_interval"] = before
    es.indices.create(index=index, **old)
    assert _interval(es, index) == before
    StoryStore(es, settings.index_prefix).ensure_ready()
    assert _interval(es, index) == f"{STORIES_REFRESH_SECONDS}s"
