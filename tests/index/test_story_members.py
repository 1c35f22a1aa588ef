"""The story members index (index.stories.StoryStore), against the real Elasticsearch: read by id on
every assignment and searched only to list a story's articles, it is refreshed only while searched,
and a search still finds every membership written."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.mappings import members_index
from index.stories import Membership, StoryStore
from ingest.stories import StoryFeatures

pytestmark = pytest.mark.integration


def _membership(article_id: str, story_id: str) -> Membership:
    features = StoryFeatures(article_id, datetime(2026, 12, 2, 8, tzinfo=timezone.utc), "fr", "Grève à Brest", {},
                             {}, frozenset(), source="ouest.example")
    return Membership(article_id, story_id, features, "similar", 0.5)


def _refreshes(es: Elasticsearch, index: str) -> int:
    return int(es.indices.stats(index=index, metric="refresh")["indices"][index]["total"]["refresh"]["total"])


def test_memberships_are_refreshed_only_while_searched_and_a_search_finds_them_all(
        es: Elasticsearch, settings: Settings) -> None:
    stories = StoryStore(es, settings.index_prefix)
    stories.ensure_ready()
    members = members_index(settings.index_prefix)
    assert "refresh_interval" not in es.indices.get_settings(index=members)[members]["settings"]["index"]
    # Idle after one second without a search (30 s by default), so that the test need not wait.
    es.indices.put_settings(index=members, settings={"index.search.idle.after": "1s"})
    time.sleep(2.5)
    before = _refreshes(es, members)
    for batch in range(8):
        stories.save([], [_membership(f"a{batch}-{n}", "s-brest") for n in range(5)], [], stored={
            f"a{batch}-{n}": "s-brest" for n in range(5)})
        assert len(stories.memberships([f"a{batch}-{n}" for n in range(5)])) == 5  # read by id: at once
        time.sleep(0.6)
    # One a second (4 or more in these 5 s) with "refresh_interval": "1s"; at most the one a first read
    # by id of a document not yet refreshed may make.
    assert _refreshes(es, members) - before <= 2
    assert {member["article_id"] for member in stories.members_of("s-brest")} == {
        f"a{batch}-{n}" for batch in range(8) for n in range(5)}

