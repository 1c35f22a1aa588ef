"""The other way of evaluating alerts, measured against the compiled matcher (bench/alerts.py) and
used by the agreement tests: one ``msearch`` of every rule restricted to a batch's article ids."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from elasticsearch import Elasticsearch

from index.alerts import AlertRule
from index.client import call
from index.mappings import articles_alias
from index.search import LemmaVariants, search_body


def rule_query(rule: AlertRule, lemma_variants: LemmaVariants | None = None) -> dict[str, Any]:
    """The Elasticsearch query of the alert's saved search (``vigie search``'s own body)."""
    return search_body(rule.search_request(), rule.lemma_variants(lemma_variants))["query"]


def msearch_matches(es: Elasticsearch, prefix: str, queries: Sequence[tuple[str, dict[str, Any]]],
                    article_ids: Sequence[str], chunk: int = 1000) -> set[tuple[str, str]]:
    """(alert id, article id) pairs: every rule's query (``rule_query``) restricted to ``article_ids``,
    in ``msearch`` requests of ``chunk`` searches. The articles must have been refreshed."""
    pairs: set[tuple[str, str]] = set()
    ids = list(article_ids)
    for start in range(0, len(queries), chunk):
        part = queries[start : start + chunk]
        searches: list[dict[str, Any]] = []
        for _, query in part:
            searches.append({"index": articles_alias(prefix)})
            searches.append({"query": {"bool": {"must": [query], "filter": [{"ids": {"values": ids}}]}},
                             "size": len(ids), "_source": False})
        response = call(es, f"evaluating {len(part)} alerts", lambda: es.msearch(searches=searches))
        for (alert_id, _), result in zip(part, response["responses"]):
            if "error" in result:
                raise RuntimeError(f"alert {alert_id}: {result['error']}")
            pairs.update((alert_id, hit["_id"]) for hit in result["hits"]["hits"])
    return pairs
