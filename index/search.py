"""Searching articles: the query language compiled to Elasticsearch, filters, highlights, collapse."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from elasticsearch import Elasticsearch

from index.client import call
from index.mappings import articles_alias
from index.query import And, MatchAll, Node, Not, Or, Term, name_runs, parse_query
from index.stories import COLLAPSE_FIELD, attach_stories
from ingest.name_keys import search_fold
from ingest.models import Entity, TopicMatch

#: Lemma phrases of a piece of query text, one per language that lemmatises it differently.
LemmaVariants = Callable[[str], Iterable[str]]

_ENTITY_TYPES = ("person", "location", "organization", "misc")


@dataclass(frozen=True)
class SearchFilters:
    languages: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    article_ids: tuple[str, ...] = ()
    all_topics: bool = False  # every one of ``topics`` (default: any of them)
    min_topic_score: float | None = None  # the topics count only with at least this score
    #: only articles of these exact feed URLs (``--tag``: the feeds in the tag, resolved by the caller
    #: from the registry); None: no such restriction; an empty tuple: nothing matches
    feed_urls: tuple[str, ...] | None = None


#: How hits are ordered: newest first, by relevance, or ``auto`` (the default of the CLI, the API and
#: the web page): relevance when the query has words to rank by, newest first when it is empty or only
#: filters (topic:, lang:, feed:, domain: and the filter options), where relevance means nothing.
Sort = Literal["auto", "relevance", "date"]
_FILTER_FIELDS = frozenset({"topic", "language", "feed", "domain"})


def _only_filters(node: Node) -> bool:
    if isinstance(node, MatchAll):
        return True
    if isinstance(node, (And, Or)):
        return all(_only_filters(item) for item in node.items)
    if isinstance(node, Not):
        return _only_filters(node.item)
    return isinstance(node, Term) and node.field in _FILTER_FIELDS


def effective_sort(request: SearchRequest) -> Literal["relevance", "date"]:
    """The order ``request`` is served in: its own, or for ``auto`` the rule above."""
    if request.sort != "auto":
        return request.sort
    return "date" if _only_filters(parse_query(request.query)) else "relevance"


@dataclass(frozen=True)
class SearchRequest:
    query: str = ""
    filters: SearchFilters = field(default_factory=SearchFilters)
    sort: Sort = "auto"
    collapse: bool = False  # one hit per story (per near-duplicate cluster for an article without one)
    collapse_copies: bool = False  # one hit per near-duplicate cluster only
    limit: int = 10
    offset: int = 0
    #: Count the matches exactly only up to this many; past it the total is a lower bound (relation
    #: "gte"), which lets Elasticsearch skip the matches that cannot reach the page where the scoring
    #: allows it, instead of counting every one (docs/performance.md, growth). 0: always exact (stats,
    #: alerts and backtests keep the default; `vigie search` and the API pass VIGIE_SEARCH_TOTAL_LIMIT).
    total_limit: int = 0


@dataclass(frozen=True)
class SearchHit:
    article_id: str
    title: str
    url: str | None
    feed: str | None
    language: str
    published: str | None
    indexed_at: str | None
    score: float | None
    highlights: dict[str, list[str]]
    topics: tuple[TopicMatch, ...]
    entities: tuple[Entity, ...]
    cluster_id: str | None
    text_source: str | None
    story_id: str | None = None
    story: dict[str, Any] | None = None  # {"id", "headline", "size"} (index.stories.attach_stories)
    feed_title: str | None = None  # how people know the feed: its name, else its own title (the registry)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.article_id,
            "title": self.title,
            "url": self.url,
            "feed": self.feed,
            "language": self.language,
            "published": self.published,
            "indexed_at": self.indexed_at,
            "score": self.score,
            "highlights": self.highlights,
            "topics": [topic.to_dict() for topic in self.topics],
            "entities": [entity.to_dict() for entity in self.entities],
            "cluster_id": self.cluster_id,
            "text_source": self.text_source,
            "story": self.story,
            "feed_title": self.feed_title,
        }


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: tuple[SearchHit, ...]
    took_ms: int
    query: str
    #: "eq": ``total`` is exact; "gte": at least ``total`` match (the request's ``total_limit`` was reached)
    total_relation: Literal["eq", "gte"] = "eq"

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "total": self.total, "total_relation": self.total_relation,
                "took_ms": self.took_ms, "hits": [hit.to_dict() for hit in self.hits]}


def _phrase(field_name: str, text: str, boost: float = 1.0) -> dict[str, Any]:
    return {"match_phrase": {field_name: {"query": text, "boost": boost}}}


#: How the search scores a word's alternatives (its phrase in title and text, its lemma variants, its
#: folded form, a known entity's id): by the best one, plus this share of the others (``dis_max``).
#: Summed instead (a ``bool`` ``should``), their loose upper bound per block keeps Elasticsearch's
#: block-max WAND from skipping, so every match of a frequent word is scored and the search time grows
#: with the index (docs/performance.md, growth); by the best one it stops once the page and the
#: total limit are settled. The ranking of the two, measured on the labelled ranking set
#: (tests/index/search-relevance, bench/search_quality.py): docs/quality.md, "Search ranking".
FIELDS_TIE_BREAKER = 0.0


def _alternatives(should: list[dict[str, Any]], tie_breaker: float | None) -> dict[str, Any]:
    """Any of ``should``: scored by the best (``dis_max``) with a ``tie_breaker``, else summed."""
    if tie_breaker is None:
        return {"bool": {"should": should, "minimum_should_match": 1}}
    return {"dis_max": {"queries": should, "tie_breaker": tie_breaker}}


def _word_clauses(term: Term, fields: Sequence[tuple[str, float]], lemma_variants: LemmaVariants | None,
                  lemmas: bool) -> list[dict[str, Any]]:
    should: list[dict[str, Any]] = []
    if term.prefix:
        for name, boost in fields:
            should.append({"match_phrase_prefix": {name: {"query": term.text, "boost": boost, "max_expansions": 50}}})
    else:
        for name, boost in fields:
            should.append(_phrase(name, term.text, boost))
        if lemmas and lemma_variants is not None:
            for variant in dict.fromkeys(lemma_variants(term.text)):
                if variant:
                    should.append(_phrase("lemmas", variant, 0.8))
    return should


def compile_query(node: Node, lemma_variants: LemmaVariants | None = None,
                  tie_breaker: float | None = None) -> dict[str, Any]:
    """The Elasticsearch query for a parsed Vigie query. Each word's alternatives are summed, or with
    ``tie_breaker`` scored by the best one (``dis_max``), as ``search_body`` does (FIELDS_TIE_BREAKER);
    which articles match is the same either way."""
    if isinstance(node, MatchAll):
        return {"match_all": {}}
    if isinstance(node, And):
        must = _and_clauses(node.items, lemma_variants, tie_breaker)
        must_not = [compile_query(item.item, lemma_variants, tie_breaker)
                    for item in node.items if isinstance(item, Not)]
        return {"bool": {"must": must or [{"match_all": {}}], "must_not": must_not}}
    if isinstance(node, Or):
        return {"bool": {"should": [compile_query(item, lemma_variants, tie_breaker) for item in node.items],
                         "minimum_should_match": 1}}
    if isinstance(node, Not):
        return {"bool": {"must": [{"match_all": {}}],
                         "must_not": [compile_query(node.item, lemma_variants, tie_breaker)]}}
    return _term_query(node, lemma_variants, tie_breaker)


def _and_clauses(items: tuple[Node, ...], lemma_variants: LemmaVariants | None,
                 tie_breaker: float | None = None) -> list[dict[str, Any]]:
    """The clauses of an AND's non-negated items; a run of words naming a known entity
    (``index.query.name_runs``) matches its words or the entity's id."""
    must: list[dict[str, Any]] = []
    for start, stop, identity in name_runs(items, _known_entity_id):
        if identity is None:
            if not isinstance(items[start], Not):
                must.append(compile_query(items[start], lemma_variants, tie_breaker))
            continue
        must.append({"bool": {"should": [
            {"bool": {"must": [compile_query(word, lemma_variants, tie_breaker) for word in items[start:stop]]}},
            {"term": {"entity_ids": {"value": identity, "boost": 1.5}}},
        ], "minimum_should_match": 1}})
    return must


def _term_query(term: Term, lemma_variants: LemmaVariants | None,
                tie_breaker: float | None = None) -> dict[str, Any]:
    name = term.field
    if name is None:
        should = _word_clauses(term, (("title", 2.0), ("text", 1.0)), lemma_variants, lemmas=True)
        if not term.prefix:
            # Accents and case folded ("Etats-Unis" finds "États-Unis"), and a known entity's other
            # names ("Putin" finds "Poutine", "Idlib" finds "Idleb").
            should.append(_phrase("folded", search_fold(term.text), 0.9))
            should.extend(_identity_clauses(term.text))
        return _alternatives(should, tie_breaker)
    if name in ("title", "text"):
        return _alternatives(_word_clauses(term, ((name, 1.0),), lemma_variants, lemmas=False), tie_breaker)
    if name in _ENTITY_TYPES:
        return _alternatives(_word_clauses(term, ((f"entities.{name}.text", 1.0),), None, lemmas=False), tie_breaker)
    if name == "entity":
        should = _word_clauses(term, tuple((f"entities.{kind}.text", 1.0) for kind in _ENTITY_TYPES), None,
                               lemmas=False)
        should.extend(_entity_identity(term.text))
        return _alternatives(should, tie_breaker)
    if name == "topic":
        return {"term": {"topic_names": term.text.lower()}}
    if name == "language":
        return {"term": {"language": term.text.lower()}}
    if name == "feed":
        return {"term": {"feed": term.text}}
    if name == "domain":
        return {"term": {"source_domain": term.text.lower()}}
    raise ValueError(f"unknown field {name!r}")  # parse_query only produces the fields above


def _known_entity_id(text: str) -> str | None:
    """The id of the known entity a query word or phrase names, if any (the bundled knowledge base:
    loaded once per process, or its on-disk query index where the process installed one)."""
    from ingest.entity_query_index import query_entity_id

    return query_entity_id(text)


def _identity_clauses(text: str) -> list[dict[str, Any]]:
    identity = _known_entity_id(text)
    return [{"term": {"entity_ids": {"value": identity, "boost": 1.5}}}] if identity else []


def _entity_identity(text: str) -> list[dict[str, Any]]:
    """``entity:`` and ``--entity``: by id ("Q7747"), by any known name, by a folded name seen."""
    return [{"term": {"entity_ids": text}}, *_identity_clauses(text), _phrase("entity_names", search_fold(text))]


def _topic_clause(names: list[str], min_score: float | None) -> dict[str, Any]:
    """Any of ``names``; with ``min_score``, on one topic entry (nested), so the score is that topic's."""
    if min_score is None:
        return {"terms": {"topic_names": names}}
    # a parent's name also selects its children's entries ("politics" with score >= x: elections too)
    return {"nested": {"path": "topics", "query": {"bool": {"filter": [
        {"bool": {"should": [{"terms": {"topics.name": names}}, {"terms": {"topics.parent": names}}],
                  "minimum_should_match": 1}},
        {"range": {"topics.score": {"gte": min_score}}},
    ]}}}}


def _filters(filters: SearchFilters) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = []
    if filters.languages:
        clauses.append({"terms": {"language": sorted({code.strip().lower() for code in filters.languages})}})
    if filters.topics:
        names = [topic.lower() for topic in filters.topics]
        for group in ([[name] for name in names] if filters.all_topics else [names]):
            clauses.append(_topic_clause(group, filters.min_topic_score))
    for entity in filters.entities:
        clauses.append({"bool": {"should": [
            {"term": {"entity_keys": entity.lower()}},
            *(_phrase(f"entities.{kind}.text", entity) for kind in _ENTITY_TYPES),
            *_entity_identity(entity),
        ], "minimum_should_match": 1}})
    if filters.feeds:
        clauses.append({"bool": {"should": [
            {"terms": {"feed": list(filters.feeds)}},
            {"terms": {"source_domain": [feed.lower() for feed in filters.feeds]}},
        ], "minimum_should_match": 1}})
    if filters.since or filters.until:
        window: dict[str, str] = {}
        if filters.since:
            window["gte"] = filters.since.isoformat()
        if filters.until:
            window["lte"] = filters.until.isoformat()
        # An article without a publication date is placed by when Vigie fetched it.
        clauses.append({"bool": {"should": [
            {"range": {"published": window}},
            {"bool": {"must_not": [{"exists": {"field": "published"}}], "filter": [{"range": {"fetched_at": window}}]}},
        ], "minimum_should_match": 1}})
    if filters.article_ids:
        clauses.append({"ids": {"values": list(filters.article_ids)}})
    if filters.feed_urls is not None:
        clauses.append({"terms": {"feed": list(filters.feed_urls)}})
    return clauses


def search_body(request: SearchRequest, lemma_variants: LemmaVariants | None = None, *,
                tie_breaker: float | None = FIELDS_TIE_BREAKER) -> dict[str, Any]:
    """The whole search request body (exposed for the API bench and tests). ``tie_breaker``: how each
    word's field alternatives are scored (``compile_query``); the benches compare other values."""
    node = parse_query(request.query)
    body: dict[str, Any] = {
        "query": {"bool": {"must": [compile_query(node, lemma_variants, tie_breaker)],
                           "filter": _filters(request.filters)}},
        "size": request.limit,
        "from": request.offset,
        "track_total_hits": request.total_limit if request.total_limit > 0 else True,
        "_source": {"excludes": ["lemmas", "text", "signature_bands", "folded", "entity_names"]},
        "highlight": {
            "pre_tags": ["<mark>"],
            "post_tags": ["</mark>"],
            "fields": {
                "title": {"number_of_fragments": 0},
                "text": {"fragment_size": 160, "number_of_fragments": 3},
            },
        },
    }
    if effective_sort(request) == "date":
        body["sort"] = [{"published": {"order": "desc", "missing": "_last"}}, {"indexed_at": "desc"}]
    if request.collapse:
        body["collapse"] = {"field": COLLAPSE_FIELD}
    elif request.collapse_copies:
        body["collapse"] = {"field": "cluster_id"}
    return body


def _hit(raw: dict[str, Any]) -> SearchHit:
    source = raw.get("_source", {})
    return SearchHit(
        article_id=raw["_id"],
        title=source.get("title", ""),
        url=source.get("url"),
        feed=source.get("feed"),
        language=source.get("language", "und"),
        published=source.get("published"),
        indexed_at=source.get("indexed_at"),
        score=raw.get("_score"),
        highlights=raw.get("highlight", {}),
        topics=tuple(TopicMatch.from_dict(topic) for topic in source.get("topics", [])),
        entities=tuple(Entity.from_dict(entity) for entity in source.get("entity_list", [])),
        cluster_id=source.get("cluster_id"),
        text_source=source.get("text_source"),
        story_id=source.get("story_id"),
    )


def search(es: Elasticsearch, prefix: str, request: SearchRequest,
           lemma_variants: LemmaVariants | None = None,
           feed_titles: Mapping[str, str] | None = None) -> SearchResult:
    """Run ``request`` against the articles alias of ``prefix``; ``feed_titles`` (feed URL -> the name
    people know it by) fills each hit's ``feed_title``."""
    body = search_body(request, lemma_variants)
    response = call(es, f"searching for {request.query!r}",
                    lambda: es.search(index=articles_alias(prefix), **body))
    found = [_hit(raw) for raw in response["hits"]["hits"]]
    if feed_titles:
        found = [replace(hit, feed_title=feed_titles.get(hit.feed or "")) for hit in found]
    hits = attach_stories(es, prefix, found)
    total = response["hits"]["total"]
    return SearchResult(
        total=int(total["value"]),
        total_relation="gte" if total.get("relation") == "gte" else "eq",
        hits=hits,
        took_ms=int(response.get("took", 0)),
        query=request.query,
    )
