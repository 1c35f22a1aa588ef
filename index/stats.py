"""Counts per topic, entity, language, feed and day: one aggregation request."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from index.client import call
from index.mappings import articles_alias
from index.search import SearchFilters, SearchRequest, search_body


def article_stats(es: Elasticsearch, prefix: str, filters: SearchFilters | None = None, query: str = "",
                  top: int = 10, lemma_variants=None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Totals and top buckets; the same filters and query language as search."""
    body = search_body(SearchRequest(query=query, filters=filters or SearchFilters(), limit=0), lemma_variants)
    aggregations = {
        "topics": {"terms": {"field": "topic_names", "size": top}},
        # By identity: "Vladimir Poutine" and "Владимир Путин" are one row, named "Vladimir Putin".
        "entities": {"terms": {"field": "entity_refs", "size": top}},
        "people": {"terms": {"field": "entities.person.ref", "size": top}},
        "places": {"terms": {"field": "entities.location.ref", "size": top}},
        "organizations": {"terms": {"field": "entities.organization.ref", "size": top}},
        "languages": {"terms": {"field": "language", "size": 50}},
        "feeds": {"terms": {"field": "feed", "size": top}},
        "days": {"date_histogram": {"field": "published", "calendar_interval": "day", "min_doc_count": 1,
                                    "format": "yyyy-MM-dd", "order": {"_key": "desc"}}},
        "undated": {"missing": {"field": "published"}},
        "clusters": {"cardinality": {"field": "cluster_id"}},
    }
    request = {"query": body["query"], "size": 0, "track_total_hits": True, "aggs": aggregations}
    response = call(es, "computing article statistics",
                    lambda: es.search(index=articles_alias(prefix), **request))
    aggs = response["aggregations"]

    def buckets(name: str) -> list[dict[str, Any]]:
        return [{"key": bucket.get("key_as_string", bucket["key"]), "count": bucket["doc_count"]}
                for bucket in aggs[name]["buckets"]]

    def entity_buckets(name: str) -> list[dict[str, Any]]:
        rows = []
        for bucket in aggs[name]["buckets"]:
            identity, tab, display = str(bucket["key"]).partition("\t")
            rows.append({"key": display, "id": identity, "count": bucket["doc_count"]} if tab
                        else {"key": identity, "count": bucket["doc_count"]})
        return rows

    return {
        "total": int(response["hits"]["total"]["value"]),
        "stories": int(aggs["clusters"]["value"]),  # near-duplicate clusters (approximate count)
        "topics": buckets("topics"),
        "entities": entity_buckets("entities"),
        "people": entity_buckets("people"),
        "places": entity_buckets("places"),
        "organizations": entity_buckets("organizations"),
        "languages": buckets("languages"),
        "feeds": buckets("feeds"),
        "days": buckets("days")[:60],
        "undated": int(aggs["undated"]["doc_count"]),
    }


#: Bucket widths of a volume histogram, in Elasticsearch's fixed_interval and in hours.
VOLUME_INTERVALS = {"hour": ("1h", 1.0), "day": ("1d", 24.0)}


def query_volume(es: Elasticsearch, prefix: str, filters: SearchFilters, query: str, interval: str,
                 lemma_variants=None) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Articles matching ``query`` and ``filters`` per hour or day (by publication time), oldest first,
    with empty buckets between ``filters.since`` and ``filters.until`` (both required here)."""
    fixed, _ = VOLUME_INTERVALS[interval]
    if filters.since is None or filters.until is None:
        raise ValueError("a volume histogram needs both since and until")
    body = search_body(SearchRequest(query=query, filters=filters, limit=0), lemma_variants)
    bounds = {"min": filters.since.isoformat(), "max": filters.until.isoformat()}
    aggregations = {"volume": {"date_histogram": {"field": "published", "fixed_interval": fixed, "min_doc_count": 0,
                                                  "extended_bounds": bounds}}}
    request = {"query": body["query"], "size": 0, "track_total_hits": False, "aggs": aggregations}
    response = call(es, "computing a query's volume over time",
                    lambda: es.search(index=articles_alias(prefix), **request))
    return [{"key": bucket["key_as_string"], "count": bucket["doc_count"]}
            for bucket in response["aggregations"]["volume"]["buckets"]]
