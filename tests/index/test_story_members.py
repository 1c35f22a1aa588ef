"""The story members index (index.stories.StoryStore), against the real Elasticsearch: read by id on
every assignment and searched to list a story's articles, it is refreshed every
``STORIES_REFRESH_SECONDS``, listed or not, and a search after a refresh finds every membership
written."""

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


def test_memberships_are_not_refreshed_every_second_while_written_and_listed(
        es: Elasticsearch, settings: Settings) -> None:
    """With the Stories page open (a story's articles listed every moment), the memberships index still
    refreshes every ``STORIES_REFRESH_SECONDS`` only: a membership is read by id at once, listed after
    the next refresh."""
    stories = StoryStore(es, settings.index_prefix)
    stories.ensure_ready()
    members = members_index(settings.index_prefix)
    stories.refresh()
    before = _refreshes(es, members)
    for batch in range(8):
        stories.save([], [_membership(f"a{batch}-{n}", "s-brest") for n in range(5)], [], stored={
            f"a{batch}-{n}": "s-brest" for n in range(5)})
        assert len(stories.memberships([f"a{batch}-{n}" for n in range(5)])) == 5  # read by id: at once
        stories.members_of("s-brest")  # a listing: kept a refresh every second going when none was set
        time.sleep(0.6)
    # One a second (4 or more in these 5 s) while searched, with none set or with "1s"; here the
    # scheduled one (at most one in 5 s) and the one a first read by id of a document not yet refreshed
    # may make.
    assert _refreshes(es, members) - before <= 2
    stories.refresh()
    assert {member["article_id"] for member in stories.members_of("s-brest")} == {
        f"a{batch}-{n}" for batch in range(8) for n in range(5)}
