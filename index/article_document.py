"""The document an analysed article becomes in the articles index: a typed record.

``article_document`` is the only place that shapes it; ``ArticleDocument.to_dict`` is the bulk body
(and the ``_source`` Elasticsearch keeps), ``ArticleDocument.from_source`` the record of a document
read back. What alerts are matched against, and what per-story alerts read the story from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from ingest.fingerprint import bands
from ingest.models import AnalyzedArticle, Entity, TopicMatch
from ingest.name_keys import search_fold

_ENTITY_FIELD = {"PERSON": "person", "LOCATION": "location", "ORGANIZATION": "organization", "MISC": "misc"}
ENTITY_KINDS = tuple(_ENTITY_FIELD.values())


def entity_ref(entity: Entity) -> str:
    """What entity facets count: "id<TAB>canonical name" (one row per real-world entity, shown by its
    name), or the key of an entity analysed before identities existed."""
    return f"{entity.id}\t{entity.name or entity.text}" if entity.id else entity.key


@dataclass(frozen=True)
class ArticleDocument:
    """One article as indexed. ``entities`` holds, by kind, the entities as the nested field stores
    them (text, key, ref, mentions); ``story_id`` is set once the article's story is assigned."""

    article_id: str
    url: str | None = None
    feed: str | None = None
    source_domain: str | None = None
    title: str = ""
    text: str = ""
    lemmas: str = ""
    language: str = "und"
    language_confidence: float | None = None
    text_source: str | None = None
    fetch_error: str | None = None
    published: str | None = None
    fetched_at: str | None = None
    indexed_at: str | None = None
    entity_list: tuple[Entity, ...] = ()
    entities: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    entity_keys: tuple[str, ...] = ()
    entity_ids: tuple[str, ...] = ()
    entity_refs: tuple[str, ...] = ()
    entity_names: tuple[str, ...] = ()
    folded: str = ""
    topics: tuple[TopicMatch, ...] = ()
    topic_names: tuple[str, ...] = ()
    signature: str | None = None
    signature_bands: tuple[str, ...] = ()
    cluster_id: str | None = None
    story_key: str | None = None
    warnings: tuple[str, ...] = ()
    story_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The bulk body: the ``_source`` of the article's document."""
        document: dict[str, Any] = {
            "article_id": self.article_id,
            "url": self.url,
            "feed": self.feed,
            "source_domain": self.source_domain,
            "title": self.title,
            "text": self.text,
            "lemmas": self.lemmas,
            "language": self.language,
            "language_confidence": self.language_confidence,
            "text_source": self.text_source,
            "fetch_error": self.fetch_error,
            "published": self.published,
            "fetched_at": self.fetched_at,
            "indexed_at": self.indexed_at,
            "entity_list": [entity.to_dict() for entity in self.entity_list],
            "entities": {kind: [dict(entity) for entity in found] for kind, found in self.entities.items()},
            "entity_keys": list(self.entity_keys),
            "entity_ids": list(self.entity_ids),
            "entity_refs": list(self.entity_refs),
            "entity_names": list(self.entity_names),
            "folded": self.folded,
            "topics": [topic.to_dict() for topic in self.topics],
            "topic_names": list(self.topic_names),
            "signature": self.signature,
            "signature_bands": list(self.signature_bands),
            "cluster_id": self.cluster_id,
            "story_key": self.story_key,
            "warnings": list(self.warnings),
        }
        if self.story_id:
            document["story_id"] = self.story_id
        return document

    @classmethod
    def from_source(cls, source: Mapping[str, Any]) -> ArticleDocument:
        """The record of a stored document (``_source``); fields a document of an older version lacks
        take their defaults."""
        entities = source.get("entities") or {}
        return cls(
            article_id=source["article_id"], url=source.get("url"), feed=source.get("feed"),
            source_domain=source.get("source_domain"), title=source.get("title") or "",
            text=source.get("text") or "", lemmas=source.get("lemmas") or "",
            language=source.get("language") or "und", language_confidence=source.get("language_confidence"),
            text_source=source.get("text_source"), fetch_error=source.get("fetch_error"),
            published=source.get("published"), fetched_at=source.get("fetched_at"),
            indexed_at=source.get("indexed_at"),
            entity_list=tuple(Entity.from_dict(entity) for entity in source.get("entity_list") or ()),
            entities={kind: tuple(found or ()) for kind, found in entities.items()},
            entity_keys=tuple(source.get("entity_keys") or ()), entity_ids=tuple(source.get("entity_ids") or ()),
            entity_refs=tuple(source.get("entity_refs") or ()),
            entity_names=tuple(source.get("entity_names") or ()), folded=source.get("folded") or "",
            topics=tuple(TopicMatch.from_dict(topic) for topic in source.get("topics") or ()),
            topic_names=tuple(source.get("topic_names") or ()), signature=source.get("signature"),
            signature_bands=tuple(source.get("signature_bands") or ()), cluster_id=source.get("cluster_id"),
            story_key=source.get("story_key"), warnings=tuple(source.get("warnings") or ()),
            story_id=source.get("story_id"),
        )


def article_document(item: AnalyzedArticle, indexed_at: datetime | None = None,
                     cluster_id: str | None = None) -> ArticleDocument:
    """The Elasticsearch document of one analysed article (the only place that shapes it)."""
    article, analysis = item.article, item.analysis
    entities: dict[str, list[dict[str, Any]]] = {name: [] for name in ENTITY_KINDS}
    for entity in analysis.entities:
        entities[_ENTITY_FIELD[entity.label]].append(
            {"text": entity.text, "key": entity.key, "ref": entity_ref(entity), "mentions": entity.mentions}
        )
    return ArticleDocument(
        article_id=article.article_id,
        url=article.url,
        feed=article.feed_url,
        source_domain=urlsplit(article.url).hostname if article.url else None,
        title=analysis.title or article.title,
        text=analysis.text,
        lemmas=analysis.lemmas,
        language=analysis.language,
        language_confidence=analysis.language_confidence,
        text_source=article.text_source,
        fetch_error=article.fetch_error,
        published=article.published.isoformat() if article.published else None,
        fetched_at=article.fetched_at.isoformat() if article.fetched_at else None,
        indexed_at=(indexed_at or datetime.now(timezone.utc)).isoformat(),
        entity_list=tuple(analysis.entities),
        entities={kind: tuple(found) for kind, found in entities.items()},
        entity_keys=tuple(sorted({entity.key for entity in analysis.entities if entity.key})),
        entity_ids=tuple(sorted({entity.id for entity in analysis.entities if entity.id})),
        entity_refs=tuple(sorted({entity_ref(entity) for entity in analysis.entities if entity_ref(entity)})),
        entity_names=tuple(search_fold(" | ".join(dict.fromkeys((entity.name or entity.text, *entity.variants))))
                           for entity in analysis.entities),
        folded=search_fold(f"{analysis.title or article.title}\n\n{analysis.text}"),
        topics=tuple(analysis.topics),
        # a child's parent too ("elections" -> "politics"): a filter or an alert on a parent covers its children
        topic_names=tuple(dict.fromkeys(name for topic in analysis.topics for name in (topic.name, topic.parent)
                                        if name)),
        signature=item.signature or None,
        signature_bands=tuple(bands(item.signature)),
        cluster_id=cluster_id or article.article_id,
        story_key=cluster_id or article.article_id,  # becomes the story id once assigned (index.stories)
        warnings=tuple(analysis.warnings),
    )
