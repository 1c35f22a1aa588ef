"""Near-duplicate clusters: a syndicated copy joins the cluster of the first copy Vigie indexed.

Candidates are the 20 oldest articles sharing a MinHash band key with the article (ties by article
id), confirmed on estimated similarity (ingest.fingerprint). Copies inside one batch are compared
directly. Two copies indexed at the same instant by two workers may each start a cluster; the next
copy joins one of them.

The candidates come from Elasticsearch (one multi-search per batch), or, given a store of recent band
keys (``RecentBands``, Redis-backed: state.recent_bands), from it for every article whose bands it
knows or Elasticsearch holds no document of (one search per batch tells which): the same candidates,
so the same clusters, without one search per article. The store is told what was written only after
Elasticsearch took it (``ArticleStore.index_batch``).
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from elasticsearch import Elasticsearch

from index.client import call
from index.mappings import articles_alias
from ingest.fingerprint import (
    BatchSignatures,
    RecentBandRecord,
    RecentCopy,
    THRESHOLD,
    bands,
    first_best,
    similarities,
)
from ingest.models import AnalyzedArticle

CANDIDATES = 20


def _best(signature: str, candidates: Sequence[tuple[str, str, str]]) -> str | None:
    """The cluster of the most similar candidate (article id, signature, cluster id), if similar enough."""
    found = first_best(similarities(signature, [other for _, other, _ in candidates]), THRESHOLD)
    return None if found is None else candidates[found][2]


class RecentAnswer(Protocol):
    """What the store of recent band keys answers for a batch (state.recent_bands.RecentBandAnswer)."""

    @property
    def known(self) -> Set[str]:
        """The bands it answers for: it lists every article indexed with them (its oldest ones)."""

    @property
    def reserved(self) -> Set[str]:
        """Bands never seen before this batch (known once Elasticsearch confirms it holds none)."""

    @property
    def best(self) -> Mapping[str, str]:
        """Article id -> cluster of its most similar candidate among its known bands (as ``_best``
        chooses among the oldest CANDIDATES of them but itself), when one is similar enough."""

    @property
    def previous(self) -> Mapping[str, str]:
        """Article id -> its signature as last recorded (a batch article written before)."""


class RecentBands(Protocol):
    """Recent band keys (state.recent_bands): what it knows of a batch's bands, and what was written."""

    def lookup(self, token: str, band_keys: Sequence[str], articles: Sequence[tuple[str, str]], *,
               candidates: int, threshold: float) -> RecentAnswer | None:
        """Marks the batch in flight on its bands; chooses each article's (id, signature) best
        candidate among the bands it knows. Raises when the store cannot be reached (then the batch
        is not written); None: Elasticsearch answers for the whole batch."""

    def record(self, record: RecentBandRecord) -> None:
        """After the bulk write: adds the written articles, clears the batch's in-flight mark."""

    def forget(self, article_ids: Sequence[str]) -> None:
        """Deleted articles are no longer candidates."""


@dataclass(frozen=True)
class ClusterPlan:
    """The clusters of a batch and, with a store of recent band keys, what to tell it after the write."""

    clusters: dict[str, str]
    token: str = ""
    looked_up: frozenset[str] = frozenset()
    confirmed: frozenset[str] = frozenset()
    refused: frozenset[str] = frozenset()
    previous: dict[str, str] | None = None  # article id -> its signature as last recorded
    answered_recently: int = 0  # articles whose candidates came from the recent band keys

    def record(self, items: Sequence[AnalyzedArticle], written: Sequence[str], indexed_at: datetime) -> RecentBandRecord:
        """What the store records once ``written`` (article ids) are in Elasticsearch."""
        done = set(written)
        ms = epoch_ms(indexed_at)
        copies = []
        for item in items:
            article_id = item.article.article_id
            if article_id not in done or not item.signature:
                continue
            keys = tuple(dict.fromkeys(bands(item.signature)))
            before = (self.previous or {}).get(article_id, "")
            dropped = tuple(key for key in dict.fromkeys(bands(before)) if key not in keys)
            copies.append(RecentCopy(article_id, ms, item.signature, self.clusters[article_id], keys, dropped))
        return RecentBandRecord(token=self.token, written=tuple(copies), confirmed=self.confirmed,
                                refused=self.refused, released=self.looked_up)


def epoch_ms(moment: datetime) -> int:
    """``moment`` in epoch milliseconds, truncated as Elasticsearch stores a date."""
    return calendar.timegm(moment.utctimetuple()) * 1000 + moment.microsecond // 1000


def _search(item: AnalyzedArticle) -> dict[str, Any]:
    return {
        "size": CANDIDATES,
        # From doc values: reading "_source" (or even "_id") decompresses each hit's whole stored article.
        "_source": False, "stored_fields": "_none_", "docvalue_fields": ["article_id", "signature", "cluster_id"],
        "query": {"bool": {
            "filter": [{"terms": {"signature_bands": bands(item.signature)}}],
            "must_not": [{"ids": {"values": [item.article.article_id]}}],
        }},
        # article id breaks ties (a batch shares one indexed_at): the order Redis keeps (state.recent_bands)
        "sort": [{"indexed_at": "asc"}, {"article_id": "asc"}],
    }


def _candidate(fields: dict[str, list[str]]) -> tuple[str, str, str]:
    """(article id, signature, cluster id) of a hit's doc values."""
    article_id = fields["article_id"][0]
    return article_id, (fields.get("signature") or [""])[0], (fields.get("cluster_id") or [article_id])[0]


def _indexed_candidates(es: Elasticsearch, prefix: str,
                        items: Sequence[AnalyzedArticle]) -> dict[str, list[tuple[str, str, str]]]:
    """The candidates (article id, signature, cluster id) of each of ``items``, from Elasticsearch."""
    if not items:
        return {}
    searches: list[dict[str, Any]] = []
    for item in items:
        searches.append({"index": articles_alias(prefix)})
        searches.append(_search(item))
    response = call(es, f"looking for near duplicates of {len(items)} articles (first {items[0].article.article_id})",
                    lambda: es.msearch(searches=searches))
    found: dict[str, list[tuple[str, str, str]]] = {}
    for item, result in zip(items, response["responses"]):
        hits = result.get("hits", {}).get("hits", []) if "error" not in result else []
        found[item.article.article_id] = [_candidate(hit["fields"]) for hit in hits]
    return found


def _bands_indexed(es: Elasticsearch, prefix: str, band_keys: Sequence[str], first: str) -> set[str]:
    """Which of ``band_keys`` some indexed article has (one search, no hits returned)."""
    if not band_keys:
        return set()
    keys = sorted(band_keys)
    response = call(es, f"looking up {len(keys)} band keys of near duplicates (batch of {first})",
                    lambda: es.search(index=articles_alias(prefix), size=0, track_total_hits=False,
                                      query={"terms": {"signature_bands": keys}},
                                      # "map": count the few matching documents' values, not build the
                                      # field's global ordinals over the whole index after each refresh
                                      aggs={"bands": {"terms": {"field": "signature_bands", "include": keys,
                                                                "size": len(keys), "execution_hint": "map"}}}))
    return {bucket["key"] for bucket in response["aggregations"]["bands"]["buckets"]}


def _choose(items: Sequence[AnalyzedArticle], candidates: dict[str, list[tuple[str, str, str]]],
            chosen: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each article's cluster: its best candidate's (``chosen`` already, for the articles the store of
    recent band keys answered for), else the best of the batch's articles before it, else its own."""
    clusters = {item.article.article_id: item.article.article_id for item in items}
    batch = BatchSignatures(len(items))  # the batch's signatures, each read once
    for item in items:
        if not item.signature:
            continue
        article_id = item.article.article_id
        if chosen is not None and article_id not in candidates:
            cluster = chosen.get(article_id) or batch.best(item.signature, THRESHOLD)
        else:
            cluster = (_best(item.signature, candidates.get(article_id, []))
                       or batch.best(item.signature, THRESHOLD))
        if cluster is not None:
            clusters[article_id] = cluster
        batch.add(item.signature, clusters[article_id])
    return clusters


def assign_clusters(es: Elasticsearch, prefix: str, items: Sequence[AnalyzedArticle],
                    recent: RecentBands | None = None) -> ClusterPlan:
    """The cluster id of each article of the batch (its own id when it has no near duplicate), and,
    with ``recent``, what to record there once the batch is written."""
    with_signature = [item for item in items if item.signature]
    if not with_signature or recent is None:
        return ClusterPlan(_choose(items, _indexed_candidates(es, prefix, with_signature)))
    token = uuid.uuid4().hex
    keys = list(dict.fromkeys(key for item in with_signature for key in bands(item.signature)))
    known = recent.lookup(token, keys, [(item.article.article_id, item.signature) for item in with_signature],
                          candidates=CANDIDATES, threshold=THRESHOLD)
    if known is None:
        return ClusterPlan(_choose(items, _indexed_candidates(es, prefix, with_signature)))
    first = with_signature[0].article.article_id
    # Should Elasticsearch fail from here on, the batch's in-flight mark stays on its bands until they
    # expire: they are left to Elasticsearch, never answered from what Redis may have missed.
    indexed = _bands_indexed(es, prefix, [key for key in keys if key not in known.known], first)
    asked = [item for item in with_signature if any(key in indexed for key in bands(item.signature))]
    candidates = _indexed_candidates(es, prefix, asked)
    return ClusterPlan(_choose(items, candidates, known.best), token=token, looked_up=frozenset(keys),
                       confirmed=frozenset(set(known.reserved) - indexed),
                       refused=frozenset(set(known.reserved) & indexed),
                       previous=dict(known.previous), answered_recently=len(with_signature) - len(asked))
