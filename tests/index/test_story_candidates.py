"""Candidate search for story assignment (index.stories.StoryStore.candidate_ids), against the real
Elasticsearch: among many stories that share a common word and a common name with an article, the one
sharing most of its names comes back within the candidates kept, wherever it sits in the index."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.stories import CANDIDATES, StoryDraft, StoryStore
from ingest.stories import StoryCentroid, StoryFeatures

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)


def features(article_id: str, names: list[str], terms: list[str], *, minutes: int = 0) -> StoryFeatures:
    return StoryFeatures(article_id=article_id, time=T0 + timedelta(minutes=minutes), language="fr", title=article_id,
                         terms={f"fr:{term}": 1 / len(terms) for term in terms},
                         names={name: 1 / len(names) for name in names}, numbers=frozenset())


def test_the_story_sharing_most_names_is_among_the_candidates_of_a_busy_index(
        es: Elasticsearch, settings: Settings) -> None:
    stories = StoryStore(es, settings.index_prefix)
    stories.ensure_ready()
    # Three times as many stories as the candidates kept, each sharing with the article one common word
    # and one common name (a capital), then the article's own story, written last.
    busy = [StoryDraft(StoryCentroid.founded_by(f"s-other-{number:02d}", features(
        f"other-{number}", ["paris", f"minister {number}"], ["gouvernement", f"sujet{number}", "annoncer"])))
        for number in range(3 * CANDIDATES)]
    own = StoryDraft(StoryCentroid.founded_by("s-idleb", features(
        "first", ["paris", "idleb", "recep tayyip erdogan", "vladimir poutine"],
        ["gouvernement", "cessez-le-feu", "annoncer", "réfugié"])))
    stories.save(busy, [], [], refresh=True)
    stories.save([own], [], [], refresh=True)
    article = features("second", ["idleb", "recep tayyip erdogan", "vladimir poutine", "paris"],
                       ["cessez-le-feu", "gouvernement", "annoncer", "frontière"], minutes=30)
    [found] = stories.candidate_ids([article], window_hours=72)
    assert len(found) == CANDIDATES
    assert "s-idleb" in found  # with one constant-scored clause per field: the first 12 written, not it
    assert found[0] == "s-idleb"
