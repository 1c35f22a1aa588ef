"""Near-duplicate clusters: a syndicated copy joins the cluster of the first copy Vigie indexed.

Candidates come from Elasticsearch by shared MinHash band keys (one multi-search per batch), then are
confirmed on estimated similarity (ingest.fingerprint). Copies inside one batch are compared directly.
Two copies indexed at the same instant by two workers may each start a cluster; the next copy joins
one of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from elasticsearch import Elasticsearch

from index.client import call
from index.mappings import articles_alias
from ingest.fingerprint import bands, similarity, THRESHOLD
from ingest.models import AnalyzedArticle

CANDIDATES = 20
#: Most documents the one-search lookup reads for a batch; beyond, each article is looked up alone.
UNION_PAGE = 1000


def _best(signature: str, candidates: Sequence[tuple[str, str, str]]) -> str | None:
    """The cluster of the most similar candidate (article id, signature, cluster id), if similar enough."""
    best_score, best_cluster = THRESHOLD, None
    for _, other, cluster in candidates:
        score = similarity(signature, other)
        if score >= best_score and (best_cluster is None or score > best_score):
            best_score, best_cluster = score, cluster
    return best_cluster


def assign_clusters(es: Elasticsearch, prefix: str, items: Sequence[AnalyzedArticle]) -> dict[str, str]:
    """The cluster id of each article of the batch (its own id when it has no near duplicate)."""
    clusters = {item.article.article_id: item.article.article_id for item in items}
    with_signature = [item for item in items if item.signature]
    if not with_signature:
        return clusters
    found = _candidates_in_one_search(es, prefix, with_signature)
    unsure = [index for index, candidates in enumerate(found) if candidates is None]
    if unsure:
        for index, candidates in zip(unsure, _candidates_per_article(es, prefix, [with_signature[i] for i in unsure])):
            found[index] = candidates
    seen_in_batch: list[tuple[str, str, str]] = []
    for item, indexed in zip(with_signature, found):
        article_id = item.article.article_id
        cluster = _best(item.signature, indexed) or _best(item.signature, seen_in_batch)
        if cluster is not None:
            clusters[article_id] = cluster
        seen_in_batch.append((article_id, item.signature, clusters[article_id]))
    return clusters


def _candidate(hit: dict[str, Any]) -> tuple[str, str, str]:
    source = hit["_source"]
    return hit["_id"], source.get("signature") or "", source.get("cluster_id") or hit["_id"]


def _candidates_in_one_search(es: Elasticsearch, prefix: str,
                              items: Sequence[AnalyzedArticle]) -> list[list[tuple[str, str, str]] | None]:
    """Each article's candidates, as ``_candidates_per_article`` finds them, from one search for every
    band key of the batch (one request instead of one search per article: the write path's main cost).

    The search returns the oldest documents of the union of the articles' candidates, in the order
    the per-article search sorts them. Each article's list is its part of that page, cut at
    ``CANDIDATES``: exact when the page holds the whole union, or when the article has
    ``CANDIDATES`` documents in it (they are then its oldest). Otherwise None: that article is
    looked up alone."""
    keys = {item.article.article_id: set(bands(item.signature)) for item in items}
    page = min(CANDIDATES * len(items), UNION_PAGE)
    response = call(es, f"looking for near duplicates of {len(items)} articles (first {items[0].article.article_id})",
                    lambda: es.search(
                        index=articles_alias(prefix), size=page, track_total_hits=page + 1,
                        source=["signature", "signature_bands", "cluster_id"],
                        query={"bool": {"filter": [{"terms": {"signature_bands": sorted(set().union(*keys.values()))}}]}},
                        sort=[{"indexed_at": "asc"}]))
    hits = response["hits"]["hits"]
    whole = response["hits"]["total"]["value"] <= len(hits)
    found: list[list[tuple[str, str, str]] | None] = []
    for item in items:
        article_id, mine = item.article.article_id, keys[item.article.article_id]
        shared = [hit for hit in hits
                  if hit["_id"] != article_id and mine.intersection(hit["_source"].get("signature_bands") or ())]
        found.append([_candidate(hit) for hit in shared[:CANDIDATES]] if whole or len(shared) >= CANDIDATES else None)
    return found


def _candidates_per_article(es: Elasticsearch, prefix: str,
                            items: Sequence[AnalyzedArticle]) -> list[list[tuple[str, str, str]]]:
    """Each article's ``CANDIDATES`` oldest documents sharing a band key with it (one multi-search)."""
    searches: list[dict[str, Any]] = []
    for item in items:
        searches.append({"index": articles_alias(prefix)})
        searches.append({
            "size": CANDIDATES,
            "_source": ["signature", "cluster_id"],
            "query": {"bool": {
                "filter": [{"terms": {"signature_bands": bands(item.signature)}}],
                "must_not": [{"ids": {"values": [item.article.article_id]}}],
            }},
            "sort": [{"indexed_at": "asc"}],
        })
    response = call(es, f"looking for near duplicates of {len(items)} articles (first {items[0].article.article_id})",
                    lambda: es.msearch(searches=searches))
    return [[_candidate(hit) for hit in result.get("hits", {}).get("hits", [])] if "error" not in result else []
            for result in response["responses"]]
