"""Every Elasticsearch mapping of Vigie, versioned. Nothing else defines index structure.

Articles live in ``<prefix>-articles-v<N>`` behind the alias ``<prefix>-articles``; an index template
gives any ``<prefix>-articles-v*`` index the current mapping, so `vigie index migrate` can create the
next version, copy into it and swap the alias without downtime. Rollover (index.rollover) adds backing
indices ``<prefix>-articles-v<N>-000002``, ``-000003``... behind the same alias, the newest one its
write index; the template gives them the mapping too.

The local distribution has no analysis-common module, so only the ``standard`` analyzer and the
``lowercase`` filter are used. Language awareness comes from the ``lemmas`` field, filled by spaCy.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

# --- layout: shards and replicas of every Vigie index (VIGIE_ES_SHARDS, VIGIE_ES_REPLICAS) -----------


@dataclass(frozen=True)
class IndexLayout:
    """How many primary shards and replicas each new Vigie index gets. One node: 1 and 0 (a replica
    could never be allocated, the index would stay yellow); a cluster of three: 1 replica, so that a
    node lost loses no data."""

    shards: int = 1
    replicas: int = 0

    def settings(self) -> dict[str, int]:
        return {"number_of_shards": self.shards, "number_of_replicas": self.replicas}


_layout = IndexLayout()


def use_layout(layout: IndexLayout) -> None:
    """Set the layout of the indices this process creates: called once at start-up from the settings
    (the CLI's group, the worker's Celery app), before any index is created."""
    global _layout
    _layout = layout


def index_layout() -> IndexLayout:
    return _layout


#: Bump when the article mapping changes; `vigie index migrate` moves data to the new version.
ARTICLES_VERSION = 2  # 2: entity_ids, entity_refs, entity_names, folded (issue 13); topics.iptc, iptc_top, parent (issue 17)

LOWERCASE_NORMALIZER = {"lowercase": {"type": "custom", "filter": ["lowercase"]}}

_TEXT = {"type": "text", "analyzer": "standard"}
_KEYWORD = {"type": "keyword", "ignore_above": 512}
# ref: "id<TAB>canonical name" when the entity has an id (facets grouped by identity), else its key.
_ENTITY = {"properties": {"text": _TEXT, "key": _KEYWORD, "ref": _KEYWORD, "mentions": {"type": "integer"}}}

ARTICLE_PROPERTIES: dict[str, Any] = {
    "article_id": {"type": "keyword"},
    "url": {"type": "keyword", "ignore_above": 2048},
    "feed": {"type": "keyword", "ignore_above": 2048},
    "source_domain": {"type": "keyword", "normalizer": "lowercase"},
    "title": {**_TEXT, "fields": {"raw": {"type": "keyword", "ignore_above": 512}}},
    "text": _TEXT,
    # spaCy lemmas of title and text, so "réfugiés" finds "réfugié" without language analyzers.
    "lemmas": _TEXT,
    "language": {"type": "keyword"},
    "language_confidence": {"type": "float"},
    "text_source": {"type": "keyword"},
    "fetch_error": {"type": "keyword", "index": False},
    "published": {"type": "date"},
    "fetched_at": {"type": "date"},
    "indexed_at": {"type": "date"},
    # For display, the merged entities as the analysis returned them.
    "entity_list": {"type": "object", "enabled": False},
    # For search and aggregations: per type, the text (analysed) and the normalised key.
    "entities": {
        "properties": {
            "person": _ENTITY,
            "location": _ENTITY,
            "organization": _ENTITY,
            "misc": _ENTITY,
        }
    },
    "entity_keys": _KEYWORD,  # every entity key of any type, for --entity filters and facets
    # Identity (ingest.entity_kb): every entity's id (Wikidata QID or Vigie id), and its canonical
    # name and the forms the article writes it in, folded in Python (no asciifolding here).
    "entity_ids": _KEYWORD,
    "entity_refs": _KEYWORD,  # every entity's ref (see _ENTITY), for facets by identity
    "entity_names": _TEXT,
    # Title and text folded (case and accents), so "Etats-Unis" finds "États-Unis".
    "folded": _TEXT,
    # Nested so that "migration with score >= 0.5" is one condition on one topic.
    "topics": {
        "type": "nested",
        "properties": {
            "name": {"type": "keyword"},
            "score": {"type": "float"},
            "evidence": {"type": "keyword", "index": False},
            # v2: the IPTC Media Topics codes of the topic and of its top-level subject, its parent topic
            "iptc": {"type": "keyword"},
            "iptc_top": {"type": "keyword"},
            "parent": {"type": "keyword"},
        },
    },
    # The names of the article's topics and of their parents: filtering on a parent finds its children.
    "topic_names": {"type": "keyword"},
    # Near-duplicate detection (index.dedup): SimHash of the text and its LSH bands.
    "signature": {"type": "keyword"},
    "signature_bands": {"type": "keyword"},
    "cluster_id": {"type": "keyword"},
    "warnings": {"type": "keyword", "index": False},
}

# --- stories (index.stories): the article's story, a copy of its membership ----------------------
# Additive: ArticleStore.ensure_ready puts them on an existing articles index too. ``story_key`` is
# what search collapses on: the story the article is expected to end in when it is written with
# stories on (index.stories.expected_stories), else its near-duplicate cluster; its story once
# assigned (the local Elasticsearch has no scripting, so no runtime field can choose between them).
ARTICLE_STORY_PROPERTIES: dict[str, Any] = {"story_id": {"type": "keyword"}, "story_key": {"type": "keyword"}}
ARTICLE_PROPERTIES.update(ARTICLE_STORY_PROPERTIES)


def articles_alias(prefix: str) -> str:
    return f"{prefix}-articles"


def articles_index(prefix: str, version: int = ARTICLES_VERSION) -> str:
    return f"{prefix}-articles-v{version}"


def articles_template_name(prefix: str) -> str:
    return f"{prefix}-articles"


def articles_template(prefix: str, version: int = ARTICLES_VERSION) -> dict[str, Any]:
    """The index template body for every ``<prefix>-articles-v*`` index."""
    return {
        "index_patterns": [f"{prefix}-articles-v*"],
        "priority": 100,
        "template": {
            "settings": {
                **index_layout().settings(),
                "refresh_interval": "1s",
                "analysis": {"normalizer": LOWERCASE_NORMALIZER},
            },
            "mappings": {
                "dynamic": "strict",
                "_meta": {"vigie_mapping_version": version},
                "properties": ARTICLE_PROPERTIES,
            },
        },
        "_meta": {"vigie_mapping_version": version, "description": "Vigie articles"},
    }


# --- alerts and their notifications (index.alerts, index.notifications) ---------------------------

#: Bump when the alert or notification mapping changes (recorded in each index's ``_meta``).
ALERTS_VERSION = 1

ALERT_PROPERTIES: dict[str, Any] = {
    "alert_id": {"type": "keyword"},
    "name": {"type": "keyword", "ignore_above": 200},
    "name_key": {"type": "keyword", "ignore_above": 200},  # lower-cased: names are unique ignoring case
    "topics": {"type": "keyword"},
    "all_topics": {"type": "boolean"},
    "query": {"type": "keyword", "index": False},
    # The lemma variants of the query's words, computed once when the rule is stored, so that workers
    # need no lemma tables: {word: [variant, ...]}.
    "query_lemmas": {"type": "object", "enabled": False},
    "entities": {"type": "keyword", "ignore_above": 512},
    "languages": {"type": "keyword"},
    "feeds": {"type": "keyword", "ignore_above": 2048},
    "tags": {"type": "keyword", "ignore_above": 512},  # feed tags, any of them (added to older indexes)
    "min_score": {"type": "float"},
    "delivery": {
        "properties": {
            "webhook": {"type": "keyword", "index": False},
            "secret": {"type": "keyword", "index": False},
            "mode": {"type": "keyword"},  # immediate, hourly, daily
            "email": {"type": "keyword", "index": False},  # the address of an e-mailed alert
        }
    },
    "paused": {"type": "boolean"},
    "created_at": {"type": "date"},
    "updated_at": {"type": "date"},
    # Per-story alerts (index.story_alerts)
    "per_story": {"type": "boolean"},
    "story_updates": {"type": "integer"},
    "story_new_language": {"type": "boolean"},
}

NOTIFICATION_PROPERTIES: dict[str, Any] = {
    "notification_id": {"type": "keyword"},
    "alert_id": {"type": "keyword"},
    "alert_name": {"type": "keyword", "ignore_above": 200},
    "article_id": {"type": "keyword"},
    "title": {"type": "text", "analyzer": "standard"},
    "url": {"type": "keyword", "index": False},
    "feed": {"type": "keyword", "ignore_above": 2048},
    "language": {"type": "keyword"},
    "published": {"type": "date"},
    # Why it matched, as sent to the receiver: kept whole, never searched.
    "matched": {"type": "object", "enabled": False},
    "mode": {"type": "keyword"},  # immediate, hourly, daily, or none (no webhook)
    "state": {"type": "keyword"},  # pending, delivered, failed, stored
    "attempts": {"type": "integer"},
    "last_error": {"type": "keyword", "index": False},
    "created_at": {"type": "date"},
    "due_at": {"type": "date"},
    "delivered_at": {"type": "date"},
    "digest_id": {"type": "keyword"},
    # The story of a per-story notification (index.story_alerts): id, headline, size, languages, why.
    "story_id": {"type": "keyword"},
    "story": {"type": "object", "enabled": False},
}


def alerts_index(prefix: str) -> str:
    return f"{prefix}-alerts"


def notifications_index(prefix: str) -> str:
    return f"{prefix}-notifications"


def small_index(properties: dict[str, Any], description: str, version: int = ALERTS_VERSION) -> dict[str, Any]:
    """The body of a small Vigie index (alerts, notifications, stories, entity merges): the layout's shards and
    replicas, a strict mapping carrying its version. Its properties are a copy: a caller may change the
    body without changing the module's mappings."""
    return {
        "settings": {**index_layout().settings(), "refresh_interval": "1s"},
        "mappings": {
            "dynamic": "strict",
            "_meta": {"vigie_mapping_version": version, "description": description},
            "properties": copy.deepcopy(properties),
        },
    }


def alerts_index_body() -> dict[str, Any]:
    """Settings and mappings of ``<prefix>-alerts``: one document per alert rule, by alert id."""
    return small_index(ALERT_PROPERTIES, "Vigie alert rules")


def notifications_index_body() -> dict[str, Any]:
    """Settings and mappings of ``<prefix>-notifications``: one document per (alert, article)."""
    return small_index(NOTIFICATION_PROPERTIES, "Vigie notifications")


# --- stories (index.stories): story records and memberships ---------------------------------------

STORIES_VERSION = 1
#: How often the stories and memberships indexes are refreshed (s). Every story an article joins is
#: written again (its centroid and search keys), so at one second the index wrote a segment a second,
#: merged them, and the candidate search read across them all. An assigner finds the stories written
#: since the last refresh in its own memory (worker.story_memory.RECENT_SECONDS) and reads memberships
#: by id (at once); listings of stories and of their articles may be this late.
STORIES_REFRESH_SECONDS = 5

STORY_PROPERTIES: dict[str, Any] = {
    "story_id": {"type": "keyword"},
    "headline": {"type": "text", "analyzer": "standard", "fields": {"raw": {"type": "keyword", "ignore_above": 512}}},
    "headline_article": {"type": "keyword"},
    "languages": {"type": "keyword"},
    "sources": _KEYWORD,
    "size": {"type": "integer"},
    "first_seen": {"type": "date"},
    "last_seen": {"type": "date"},
    "updated_at": {"type": "date"},
    "top_entities": _KEYWORD,
    "top_topics": {"type": "keyword"},
    # For candidate search: the centroid's strongest names, words ("lang:lemma") and figures.
    "names": _KEYWORD,
    "terms": _KEYWORD,
    "numbers": {"type": "keyword"},
    "merged_into": {"type": "keyword"},
    "merges": {"type": "object", "enabled": False},  # [{absorbed, by_article, score, at}]
    # Kept whole, never searched: the centroid, and the tallies the record's lists come from. The
    # centroid (thousands of words and names with their weights) is written packed
    # (``centroid_packed``: its JSON compressed with zlib, in base64, index.stories): a story is
    # written again each time an article joins it, and as one value instead of thousands the
    # document is less than half the bytes to parse, store, merge and read back (docs/performance.md).
    # ``centroid``: how stories written before 2026-12-06 keep it (read as they are).
    "centroid": {"type": "object", "enabled": False},
    "centroid_packed": {"type": "binary"},
    "tallies": {"type": "object", "enabled": False},
}

STORY_MEMBER_PROPERTIES: dict[str, Any] = {
    "article_id": {"type": "keyword"},
    "story_id": {"type": "keyword"},
    "language": {"type": "keyword"},
    "source": _KEYWORD,
    "time": {"type": "date"},
    "reason": {"type": "keyword"},  # new, similar, near-duplicate
    "score": {"type": "float"},
    "assigned_at": {"type": "date"},
}


def stories_index(prefix: str) -> str:
    return f"{prefix}-stories"


def members_index(prefix: str) -> str:
    return f"{prefix}-story-members"


def stories_index_body() -> dict[str, Any]:
    """Settings and mappings of ``<prefix>-stories``: one document per story, by story id, refreshed
    every ``STORIES_REFRESH_SECONDS``."""
    body = small_index(STORY_PROPERTIES, "Vigie stories", STORIES_VERSION)
    body["settings"]["refresh_interval"] = f"{STORIES_REFRESH_SECONDS}s"
    return body


def story_members_index_body() -> dict[str, Any]:
    """Settings and mappings of ``<prefix>-story-members``: one document per article, its story,
    refreshed every ``STORIES_REFRESH_SECONDS``.

    Read by id (real time, refresh or not) on every assignment, searched to list a story's articles
    (the Stories page, ``vigie stories show``), for trends and to move them after a merge (refreshed
    first). At one second it wrote a segment a second while stories were assigned; with no interval
    set, Elasticsearch refreshed it only while searched, which is every second again for 30 s after
    each search (the Stories page open) and after the index is created."""
    body = small_index(STORY_MEMBER_PROPERTIES, "Vigie story memberships", STORIES_VERSION)
    body["settings"]["refresh_interval"] = f"{STORIES_REFRESH_SECONDS}s"
    return body
