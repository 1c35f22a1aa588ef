"""What rebuilds the stories' candidate index from Elasticsearch (index.stories.StoryStore.keys_since,
latest_seen), against the real Elasticsearch: every living story's search keys as written, the stories
written since a time, those merged away since then, and none last seen before the horizon asked."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.stories import StoryDraft, StoryStore
from ingest.stories import Merge, StoryCentroid, StoryFeatures

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)


def draft(story_id: str, names: list[str], *, hours: float = 0) -> StoryDraft:
    features = StoryFeatures(article_id=story_id, time=T0 + timedelta(hours=hours), language="fr", title=story_id,
                             terms={"fr:cessez-le-feu": 0.5, "fr:réfugié": 0.5},
                             names={name: 1 / len(names) for name in names}, numbers=frozenset({"3"}))
    return StoryDraft(StoryCentroid.founded_by(story_id, features))


def test_the_search_keys_of_living_stories_and_of_those_merged_since(es: Elasticsearch, settings: Settings) -> None:
    store = StoryStore(es, settings.index_prefix)
    store.ensure_ready()
    assert store.latest_seen() is None
    old, idlib, sochi = draft("s-old", ["alep"], hours=-200), draft("s-idlib", ["idlib", "ankara"]), \
        draft("s-sochi", ["idlib", "sotchi"], hours=2)
    written_at = datetime(2026, 11, 3, tzinfo=timezone.utc)
    store.save([old, idlib, sochi], [], [], written_at, refresh=True)
    everything = {keys.story_id: keys for keys in store.keys_since(None, T0 - timedelta(hours=72))}
    assert set(everything) == {"s-idlib", "s-sochi"}  # s-old was last seen before the horizon
    keys = everything["s-idlib"]
    assert (keys.names, keys.terms, keys.numbers) == (tuple(idlib.written_keys["names"]),  # type: ignore[index]
                                                      tuple(idlib.written_keys["terms"]),  # type: ignore[index]
                                                      ("3",))
    assert set(keys.names) == {"idlib", "ankara"} and keys.first_seen == keys.last_seen == T0
    assert keys.merged_into is None
    assert store.latest_seen() == T0 + timedelta(hours=2)
    # Later, s-sochi is merged into s-idlib: both are written again then.
    later = written_at + timedelta(hours=5)
    store.save([idlib], [], [Merge("s-sochi", "s-idlib", "a-3", 0.6)], later, refresh=True)
    since = {keys.story_id: keys.merged_into for keys in store.keys_since(later - timedelta(minutes=1), None)}
    assert since == {"s-idlib": None, "s-sochi": "s-idlib"}
    assert {keys.story_id for keys in store.keys_since(None, None)} == {"s-old", "s-idlib"}
    assert store.latest_seen() == T0  # a story merged away is not living
    # Paged: every story once.
    assert [keys.story_id for keys in store.keys_since(None, None, page=1)] == ["s-idlib", "s-old"]
