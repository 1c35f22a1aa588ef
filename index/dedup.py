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
    searches: list[dict[str, Any]] = []
    for item in with_signature:
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
    response = call(es, f"looking for near duplicates of {len(with_signature)} articles",
                    lambda: es.msearch(searches=searches))
    seen_in_batch: list[tuple[str, str, str]] = []
    for item, result in zip(with_signature, response["responses"]):
        article_id = item.article.article_id
        hits = result.get("hits", {}).get("hits", []) if "error" not in result else []
        indexed = [(hit["_id"], hit["_source"].get("signature") or "", hit["_source"].get("cluster_id") or hit["_id"])
                   for hit in hits]
        cluster = _best(item.signature, indexed) or _best(item.signature, seen_in_batch)
        if cluster is not None:
            clusters[article_id] = cluster
        seen_in_batch.append((article_id, item.signature, clusters[article_id]))
    return clusters
