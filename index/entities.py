"""An entity's page: who or what it is, and how the news names it (``vigie entities show``, the API).

One search request: the articles holding the entity's id, with aggregations for the languages,
mentions per day and co-occurring entities, and the latest articles (whose entity lists give the
forms the press wrote it in).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from elasticsearch import Elasticsearch

from index.client import call
from index.mappings import articles_alias
from ingest.name_keys import search_fold

_ID = re.compile(r"^(Q[1-9][0-9]*|v:[a-z0-9-]+|gn:[0-9]+)$")
_SAMPLE = 200  # latest articles read for the variants seen


def resolve_entity_id(es: Elasticsearch, prefix: str, name: str) -> str | None:
    """The id a name designates: an id as given, a name the knowledge base knows, else the id most
    often carried by the indexed entities of that (folded) name."""
    if _ID.match(name):
        return name
    from ingest.entity_kb import default_kb

    found = default_kb().lookup(name)
    if found is not None:
        return found.id
    response = call(es, f"looking up entity {name!r}", lambda: es.search(
        index=articles_alias(prefix), size=20, track_total_hits=False,
        query={"match_phrase": {"entity_names": search_fold(name)}}, _source=["entity_list"]))
    folded = search_fold(name)
    counts: Counter[str] = Counter()
    for hit in response["hits"]["hits"]:
        for entity in hit["_source"].get("entity_list") or []:
            forms = [entity.get("name") or "", entity.get("text") or "", *(entity.get("variants") or [])]
            if entity.get("id") and any(search_fold(form) == folded for form in forms):
                counts[entity["id"]] += 1
    return counts.most_common(1)[0][0] if counts else None


def entity_profile(es: Elasticsearch, prefix: str, name: str, *, latest: int = 10,
                   related: int = 10) -> dict[str, Any] | None:
    """The entity's id, name, label, variants seen, languages, mentions per day, co-occurring
    entities and latest articles; None when no article names it."""
    identity = resolve_entity_id(es, prefix, name)
    if identity is None:
        return None
    request = {
        "query": {"term": {"entity_ids": identity}},
        "size": _SAMPLE,
        "track_total_hits": True,
        "sort": [{"published": {"order": "desc", "missing": "_last"}}, {"fetched_at": {"order": "desc"}}],
        "_source": ["article_id", "title", "url", "language", "published", "entity_list"],
        "aggs": {
            "languages": {"terms": {"field": "language", "size": 50}},
            "days": {"date_histogram": {"field": "published", "calendar_interval": "day", "min_doc_count": 1,
                                        "format": "yyyy-MM-dd", "order": {"_key": "desc"}}},
            "related": {"terms": {"field": "entity_refs", "size": related + 1}},
        },
    }
    response = call(es, f"profiling entity {identity}", lambda: es.search(index=articles_alias(prefix), **request))
    total = int(response["hits"]["total"]["value"])
    if total == 0:
        return None
    variants: Counter[str] = Counter()
    display, label = identity, ""
    articles = []
    for hit in response["hits"]["hits"]:
        source = hit["_source"]
        for entity in source.get("entity_list") or []:
            if entity.get("id") == identity:
                display, label = entity.get("name") or entity.get("text") or display, entity.get("label", label)
                for form in entity.get("variants") or [entity.get("text")]:
                    if form:
                        variants[form] += 1
        if len(articles) < latest:
            articles.append({"id": source["article_id"], "title": source.get("title"), "url": source.get("url"),
                             "language": source.get("language"), "published": source.get("published")})
    aggs = response["aggregations"]
    co_occurring = []
    for bucket in aggs["related"]["buckets"]:
        other, tab, other_name = str(bucket["key"]).partition("\t")
        if other != identity:
            co_occurring.append({"id": other if tab else None, "name": other_name if tab else other,
                                 "articles": bucket["doc_count"]})
    return {
        "id": identity,
        "name": display,
        "label": label,
        "articles": total,
        "variants": [{"text": text, "articles": count} for text, count in variants.most_common()],
        "languages": [{"language": b["key"], "articles": b["doc_count"]} for b in aggs["languages"]["buckets"]],
        "days": [{"day": b["key_as_string"], "articles": b["doc_count"]} for b in aggs["days"]["buckets"]][:60],
        "co_occurring": co_occurring[:related],
        "latest": articles,
    }
