"""The search ranking set (tests/index/search-relevance) and its scores.

The labelled story stream (tests/ingest/stories, both parts) is analysed by the shipped analyser and
indexed; each query of the set runs through ``index.search.search_body`` (with the shipped way of
scoring each word's field alternatives, or another ``tie_breaker``) and its first ten hits are scored against the articles judged relevant: precision@5,
recall@10, reciprocal rank of the first relevant hit, nDCG@10 (binary gains), averaged over queries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from elasticsearch import Elasticsearch

from index.mappings import articles_alias
from index.search import FIELDS_TIE_BREAKER, LemmaVariants, SearchRequest, search_body
from index.store import ArticleStore
from ingest.models import AnalyzedArticle
from tests.ingest.stories_stream import PARTS, load_stream

SET_DIR = Path(__file__).resolve().parent / "search-relevance"
DEPTH = 10

@dataclass(frozen=True)
class RankingQuery:
    query: str
    kind: str
    relevant: frozenset[str]


@dataclass(frozen=True)
class RankingScores:
    queries: int
    precision_at_5: float
    recall_at_10: float
    mrr: float
    ndcg_at_10: float

    def to_dict(self) -> dict[str, float]:
        return {"queries": self.queries, "precision@5": round(self.precision_at_5, 3),
                "recall@10": round(self.recall_at_10, 3), "MRR": round(self.mrr, 3),
                "nDCG@10": round(self.ndcg_at_10, 3)}


def load_queries(part: str) -> list[RankingQuery]:
    """The queries of ``part`` ("dev" or "heldout"); relevant: every article of their stories."""
    stories: dict[str, set[str]] = {}
    for stream_part in PARTS:
        for item in load_stream(stream_part):
            stories.setdefault(item.story, set()).add(item.article_id)
    rows = yaml.safe_load((SET_DIR / f"{part}.yaml").read_text(encoding="utf-8"))
    return [RankingQuery(row["query"], row["kind"], frozenset().union(*(stories[name] for name in row["stories"])))
            for row in rows]


def stream_analysed() -> list[AnalyzedArticle]:
    """Every article of the story stream, analysed as Vigie ships."""
    from tests.ingest.analyzers import shipped_analyzer

    items = [item for part in PARTS for item in load_stream(part)]
    analyses = shipped_analyzer().analyze_many([item.article() for item in items])
    return [AnalyzedArticle(item.article(), analysis) for item, analysis in zip(items, analyses)]


def index_stream(es: Elasticsearch, prefix: str, analysed: Sequence[AnalyzedArticle]) -> None:
    store = ArticleStore(es, prefix)
    store.ensure_ready()
    store.index_batch(list(analysed), refresh=True)


def ranked_ids(es: Elasticsearch, prefix: str, query: str, lemma_variants: LemmaVariants | None,
               tie_breaker: float | None = FIELDS_TIE_BREAKER) -> list[str]:
    """The first DEPTH hits of ``query``; ``tie_breaker`` as ``search_body`` takes it (None: summed)."""
    body = search_body(SearchRequest(query=query, sort="relevance", limit=DEPTH), lemma_variants,
                       tie_breaker=tie_breaker)
    body.pop("highlight", None)
    body["_source"] = False
    response = es.search(index=articles_alias(prefix), **body)
    return [hit["_id"] for hit in response["hits"]["hits"]]


def score_one(ranked: Sequence[str], relevant: frozenset[str]) -> tuple[float, float, float, float]:
    top = list(ranked)[:DEPTH]
    precision = sum(item in relevant for item in top[:5]) / 5
    recall = sum(item in relevant for item in top) / len(relevant)
    reciprocal = next((1 / rank for rank, item in enumerate(top, 1) if item in relevant), 0.0)
    dcg = sum(1 / math.log2(rank + 1) for rank, item in enumerate(top, 1) if item in relevant)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(relevant), DEPTH) + 1))
    return precision, recall, reciprocal, dcg / ideal


def score_ranked(queries: Sequence[RankingQuery], rankings: Sequence[Sequence[str]],
                 ) -> tuple[RankingScores, list[tuple[str, tuple[float, float, float, float]]]]:
    """The averages over ``queries`` (each ranked as in ``rankings``), and each query's own
    (precision@5, recall@10, RR, nDCG@10)."""
    each = [(item.query, score_one(ranked, item.relevant)) for item, ranked in zip(queries, rankings)]
    count = len(each)
    sums = [sum(values[index] for _, values in each) for index in range(4)]
    return RankingScores(count, *(value / count for value in sums)), each


def score_queries(es: Elasticsearch, prefix: str, queries: Sequence[RankingQuery],
                  lemma_variants: LemmaVariants | None, tie_breaker: float | None = FIELDS_TIE_BREAKER,
                  ) -> tuple[RankingScores, list[tuple[str, tuple[float, float, float, float]]]]:
    """``score_ranked`` of ``queries`` run with ``tie_breaker``."""
    return score_ranked(queries, [ranked_ids(es, prefix, item.query, lemma_variants, tie_breaker)
                                  for item in queries])
