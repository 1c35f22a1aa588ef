"""The story features crossing the queue from the indexing task to the story consumer (JSON), with
what the indexing task adds: the story an article's document was written with (``STORED_KEY``), the
candidates its guess searched (``SEARCHED_KEY``, worker.story_guess) and the entities the document was
written with (``ENTITIES_KEY``: what the same-story merges read, worker.entity_merges)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from index.article_document import ArticleDocument
from ingest.models import AnalyzedArticle, Entity
from ingest.stories import StoryFeatures, features_of
from worker.story_guess import StoryGuess

#: In a queued article's features: the story its document was written with (index.store), if any.
STORED_KEY = "stored_story"
#: In a queued article's features: [when, [story ids]], the candidates the indexing task's guess
#: searched (``guess_stories``), if it searched.
SEARCHED_KEY = "searched"
#: In a queued article's features: the entities its document was written with (``Entity.to_dict``).
#: The consumer read them back by id before (a real-time read of an article just written, which makes
#: Elasticsearch refresh the articles' shard first, and a read of the alias); messages queued before
#: carry none, and their articles' entities are still read.
ENTITIES_KEY = "entity_list"


def features_to_dict(features: StoryFeatures) -> dict[str, Any]:
    """JSON for the story queue (floats survive the round trip exactly: same features, same stories)."""
    return {"article_id": features.article_id, "time": features.time.isoformat(), "language": features.language,
            "title": features.title, "terms": dict(features.terms), "names": dict(features.names),
            "numbers": sorted(features.numbers), "cluster_id": features.cluster_id, "source": features.source,
            "entities": list(features.entities), "topics": list(features.topics)}


def features_from_dict(data: Mapping[str, Any]) -> StoryFeatures:
    return StoryFeatures(
        article_id=str(data["article_id"]), time=datetime.fromisoformat(data["time"]), language=str(data["language"]),
        title=str(data.get("title") or ""), terms=dict(data.get("terms") or {}), names=dict(data.get("names") or {}),
        numbers=frozenset(data.get("numbers") or ()), cluster_id=str(data.get("cluster_id") or ""),
        source=str(data.get("source") or ""), entities=tuple(data.get("entities") or ()),
        topics=tuple(data.get("topics") or ()))



def queued_features(analysed: Sequence[AnalyzedArticle], documents: Mapping[str, ArticleDocument],
                    guess: StoryGuess | None = None) -> list[StoryFeatures]:
    """The story features of articles just written, with their near-duplicate clusters; those the
    guess computed are taken from it (only the cluster differs)."""
    known = guess.features if guess is not None else {}
    result = []
    for item in analysed:
        article_id = item.article.article_id
        document = documents.get(article_id)
        cluster = (document.cluster_id if document is not None else None) or ""
        found = known.get(article_id)
        result.append(features_of(item, cluster) if found is None else replace(found, cluster_id=cluster or article_id))
    return result


def with_stored(payload: dict[str, Any], stored: Mapping[str, str]) -> dict[str, Any]:
    story = stored.get(payload["article_id"])
    return {**payload, STORED_KEY: story} if story else payload


def with_entities(payload: dict[str, Any], entities: Mapping[str, Sequence[Entity]]) -> dict[str, Any]:
    found = entities.get(payload["article_id"])
    return {**payload, ENTITIES_KEY: [entity.to_dict() for entity in found]} if found is not None else payload


def message_of(features: Sequence[StoryFeatures], stored: Mapping[str, str] | None = None,
               entities: Mapping[str, Sequence[Entity]] | None = None) -> list[dict[str, Any]]:
    """A story message: each article's features, with the story its document was written with and the
    entities it was written with, where known."""
    return [with_entities(with_stored(features_to_dict(item), stored or {}), entities or {}) for item in features]


def entities_of(payload: Sequence[Mapping[str, Any]]) -> dict[str, tuple[Entity, ...]]:
    return {str(item["article_id"]): tuple(Entity.from_dict(entity) for entity in item[ENTITIES_KEY])
            for item in payload if item.get(ENTITIES_KEY) is not None}


def stored_of(payload: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {str(item["article_id"]): str(item[STORED_KEY]) for item in payload if item.get(STORED_KEY)}


def searched_of(payload: Sequence[Mapping[str, Any]]) -> dict[str, tuple[float, list[str]]]:
    return {str(item["article_id"]): (float(item[SEARCHED_KEY][0]), [str(story) for story in item[SEARCHED_KEY][1]])
            for item in payload if item.get(SEARCHED_KEY)}

