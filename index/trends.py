"""Counting for trends (ingest.trends) in Elasticsearch: per story, entity and topic, the articles of
the recent window and of the baseline before it, in one aggregation each.

Stories count their memberships by article time (``<prefix>-story-members``: published, else
fetched); entities and topics count articles by ``published``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from elasticsearch import Elasticsearch

from index.client import call
from index.mappings import articles_alias
from index.rollover import alias_members, locate
from index.stories import members_index
from ingest.trends import Kind, Trend, TrendParams, assess, ordered

#: Subjects looked at per kind: the busiest in the recent window.
SUBJECTS = 200


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


def _aggregation(field: str, time_field: str, now: datetime, params: TrendParams) -> dict[str, Any]:
    window_start = now - timedelta(hours=params.window_hours)
    return {
        "subjects": {
            "terms": {"field": field, "size": SUBJECTS, "min_doc_count": params.min_articles},
            "aggs": {"first": {"min": {"field": time_field}}},
        },
        "baseline": {
            "filter": {"range": {time_field: {"gt": _iso(window_start - timedelta(hours=params.baseline_hours)),
                                              "lte": _iso(window_start)}}},
            "aggs": {"subjects": {"terms": {"field": field, "size": SUBJECTS * 5}}},
        },
    }


def _trends(es: Elasticsearch, index: str, kind: Kind, field: str, time_field: str, now: datetime,
            params: TrendParams) -> list[Trend]:
    window_start = now - timedelta(hours=params.window_hours)
    baseline_start = window_start - timedelta(hours=params.baseline_hours)
    query = {"range": {time_field: {"gt": _iso(baseline_start), "lte": _iso(now)}}}
    # Recent counts come from a filter inside; the baseline from its own filter.
    aggs = {"recent": {"filter": {"range": {time_field: {"gt": _iso(window_start), "lte": _iso(now)}}},
                       "aggs": {"subjects": _aggregation(field, time_field, now, params)["subjects"]}},
            "baseline": _aggregation(field, time_field, now, params)["baseline"]}
    response = call(es, f"counting recent articles per {kind}", lambda: es.options(ignore_status=404).search(
        index=index, query=query, size=0, aggs=aggs))
    if "aggregations" not in response.body:
        return []
    aggregations = response["aggregations"]
    baseline = {bucket["key"]: bucket["doc_count"] for bucket in aggregations["baseline"]["subjects"]["buckets"]}
    found = []
    for bucket in aggregations["recent"]["subjects"]["buckets"]:
        first = bucket["first"].get("value_as_string")
        started = datetime.fromisoformat(first.replace("Z", "+00:00")) if first else None
        trend = assess(kind, str(bucket["key"]), int(bucket["doc_count"]), int(baseline.get(bucket["key"], 0)),
                       started, params)
        if trend is not None:
            found.append(trend)
    return found


def story_trends(es: Elasticsearch, prefix: str, params: TrendParams, now: datetime | None = None) -> list[Trend]:
    return ordered(_trends(es, members_index(prefix), "story", "story_id", "time",
                           now or datetime.now(timezone.utc), params))


def trends(es: Elasticsearch, prefix: str, params: TrendParams, now: datetime | None = None) -> list[Trend]:
    """Everything breaking or trending now: stories, entities, topics."""
    now = now or datetime.now(timezone.utc)
    found = _trends(es, members_index(prefix), "story", "story_id", "time", now, params)
    found += _trends(es, articles_alias(prefix), "entity", "entity_keys", "published", now, params)
    found += _trends(es, articles_alias(prefix), "topic", "topic_names", "published", now, params)
    return ordered(found)


def story_listing(es: Elasticsearch, prefix: str, params: TrendParams, *, since: datetime | None = None,
                  breaking: bool = False, topic: str | None = None, entity: str | None = None, limit: int = 20,
                  now: datetime | None = None) -> list[dict[str, Any]]:
    """What `vigie stories` and `GET /api/stories` show: living stories, each with its trend (or None).

    ``breaking``: only the stories breaking or trending now, most surprising first; otherwise the most
    recently active first."""
    from index.stories import StoryStore

    store = StoryStore(es, prefix)
    now = now or datetime.now(timezone.utc)
    if not call(es, "looking up the stories index", lambda: es.indices.exists(index=store.index)):
        return []
    found = {trend.subject: trend for trend in story_trends(es, prefix, params, now)}
    if breaking:
        resolved = store.resolve(found)
        merged: dict[str, Trend] = {}
        for subject, trend in found.items():
            living = resolved.get(subject, subject)
            if living not in merged or trend.probability < merged[living].probability:
                merged[living] = trend
        records = store.records(list(merged))
        rows = [(records[story_id], merged[story_id]) for story_id in merged if story_id in records
                and not records[story_id].merged_into
                and (topic is None or topic in records[story_id].top_topics)
                and (entity is None or entity in records[story_id].top_entities)
                and (since is None or records[story_id].last_seen >= since)]
        rows.sort(key=lambda row: (row[1].level != "breaking", row[1].probability, row[0].story_id))
        return [{**record.to_dict(), "trend": trend.to_dict()} for record, trend in rows[:limit]]
    records = store.list(since=since, topic=topic, entity=entity, limit=limit)
    return [{**record.to_dict(), "trend": found[record.story_id].to_dict() if record.story_id in found else None}
            for record in records]


def subject_trends(es: Elasticsearch, prefix: str, params: TrendParams,
                   now: datetime | None = None) -> list[dict[str, Any]]:
    """Entities and topics breaking or trending now (what `vigie stories --breaking` adds to its stories)."""
    now = now or datetime.now(timezone.utc)
    alias = articles_alias(prefix)
    if not call(es, "looking up the articles alias", lambda: es.indices.exists_alias(name=alias)):
        return []
    found = _trends(es, alias, "entity", "entity_keys", "published", now, params)
    found += _trends(es, alias, "topic", "topic_names", "published", now, params)
    return [trend.to_dict() for trend in ordered(found)]


def story_detail(es: Elasticsearch, prefix: str, story_id: str, params: TrendParams,
                 now: datetime | None = None) -> dict[str, Any] | None:
    """What `vigie stories show` and `GET /api/stories/{id}` show: the record, its trend, its articles
    grouped by language and source. A merged story answers with its record and ``merged_into``."""
    from index.stories import StoryStore

    store = StoryStore(es, prefix)
    if not call(es, "looking up the stories index", lambda: es.indices.exists(index=store.index)):
        return None
    record = store.get(story_id)
    if record is None:
        return None
    members = store.members_of(story_id)
    titles: dict[str, dict[str, Any]] = {}
    if members:
        ids = [member["article_id"] for member in members]
        members_of_alias, write = alias_members(es, prefix)
        placed = locate(es, prefix, ids)  # several backing indices (rollover): each id where it lives
        fallback = write if len(members_of_alias) > 1 and write else articles_alias(prefix)
        response = call(es, f"reading the articles of story {story_id}", lambda: es.mget(
            docs=[{"_index": placed.get(article_id, fallback), "_id": article_id} for article_id in ids],
            source=["title", "url", "feed", "language", "published"]))
        titles = {doc["_id"]: doc["_source"] for doc in response["docs"] if doc.get("found")}
    articles = []
    for member in members:
        source = titles.get(member["article_id"], {})
        articles.append({"id": member["article_id"], "title": source.get("title") or "", "url": source.get("url"),
                         "language": member.get("language"), "source": member.get("source"),
                         "time": member.get("time"), "reason": member.get("reason"), "score": member.get("score")})
    by_language: dict[str, dict[str, list[str]]] = {}
    for article in articles:
        by_language.setdefault(article["language"] or "und", {}).setdefault(article["source"] or "-", []).append(
            article["id"])
    trend = next((t for t in story_trends(es, prefix, params, now) if t.subject == story_id), None)
    return {**record.to_dict(), "trend": trend.to_dict() if trend else None, "articles": articles,
            "by_language": by_language}
