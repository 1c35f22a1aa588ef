"""`GET /api/search` and `GET /api/facets`: `vigie search` and `vigie stats` over HTTP.

Same parameter names and meanings as the command line (``--lang`` is ``lang``, repeatable as
``?lang=fr&lang=en``; ``since``/``until`` take ``7d``, ``12h`` or an ISO date). The query goes
through the query language only (index.query): whatever ``q`` holds, Elasticsearch receives the
request index.search builds from the parsed query, never text of the caller's as query DSL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Annotated, Literal

import click
from fastapi import APIRouter, Depends, Query, Response
from pydantic import StringConstraints

from conf.logs import redacted_url
from index.query import parse_query
from index.search import SearchFilters, SearchRequest, search
from index.stats import VOLUME_INTERVALS, article_stats, query_volume
from ingest.trends import params_from, volume_spikes
from vigie.api.context import ApiContext, context
from vigie.api.errors import ApiProblem, problems
from vigie.api.schemas import EntityProfile, Facets, SearchResponse, Volume, checked_json
from vigie.cli.options import parse_when  # the command line's own parser: the same meaning
from vigie.search_filters import UnknownTopic, feed_titles, feeds_tagged, known_topic_names

router = APIRouter(prefix="/api", tags=["search"])

#: Elasticsearch's max_result_window: offset + limit beyond it is refused.
MAX_WINDOW = 10_000

Name = Annotated[str, StringConstraints(max_length=64)]
EntityName = Annotated[str, StringConstraints(max_length=256)]
FeedName = Annotated[str, StringConstraints(max_length=2048)]
QueryText = Annotated[str, Query(
    description="Vigie's query language (docs/query-language.md): words, \"phrases\", AND/OR/NOT, -word, "
                "(groups), prefix*, and fields such as person: topic: lang:. Empty: every article. "
                "Longer than 2000 characters, more than 64 terms or groups nested more than 10 deep: 400.")]


def parse_moment(name: str, value: str | None) -> datetime | None:
    """A `since`/`until` query parameter (7d, 12h, 30m or an ISO date) as `vigie search` reads it; empty: None."""
    if value is None or not value.strip():
        return None
    try:
        return parse_when(value)
    except click.BadParameter as error:
        raise ApiProblem(422, "invalid-request", f"invalid request: query.{name}: {error.message}",
                         errors=[{"location": f"query.{name}", "message": error.message}]) from None
    except (OverflowError, ValueError):
        message = f"{value!r} is too far in the past or the future"
        raise ApiProblem(422, "invalid-request", f"invalid request: query.{name}: {message}",
                         errors=[{"location": f"query.{name}", "message": message}]) from None


def search_filters(
    lang: Annotated[list[Name], Query(max_length=20, description="Only articles in this language (ISO 639-1); "
                                                               "repeatable.")] = [],  # noqa: B006
    topic: Annotated[list[Name], Query(max_length=20, description="Only articles about this topic; "
                                                                "repeatable.")] = [],  # noqa: B006
    entity: Annotated[list[EntityName], Query(max_length=20, description="Only articles naming this entity; "
                                                                        "repeatable.")] = [],  # noqa: B006
    feed: Annotated[list[FeedName], Query(max_length=10, description="Only articles from this feed URL or domain; "
                                                                    "repeatable.")] = [],  # noqa: B006
    since: Annotated[str | None, Query(max_length=64, description="Published since: 7d, 12h, 30m or an ISO "
                                                                  "date.")] = None,
    until: Annotated[str | None, Query(max_length=64, description="Published until: 7d, 12h, 30m or an ISO "
                                                                  "date.")] = None,
    tag: Annotated[list[Name], Query(max_length=20, description="Only articles from the feeds with this tag (an "
                                                              "OPML folder); repeatable: any of them.")] = [],  # noqa: B006
    ctx: ApiContext = Depends(context),
) -> SearchFilters:
    """The filters of `vigie search`, from query parameters; an unknown topic is a 422 listing the known ones."""
    try:
        checked_topics = known_topic_names(topic, ctx.topic_rules)
    except UnknownTopic as error:
        raise ApiProblem(422, "invalid-request", f"invalid request: query.topic: {error}",
                         errors=[{"location": "query.topic", "message": str(error)}]) from None
    return SearchFilters(languages=tuple(lang), topics=checked_topics, entities=tuple(entity), feeds=tuple(feed),
                         since=parse_moment("since", since), until=parse_moment("until", until),
                         feed_urls=feeds_tagged(ctx.registry, tag))


@router.get("/search", response_model=SearchResponse, responses=problems(400, 422, 503),
            summary="Search articles")
def search_articles(
    q: QueryText = "",
    filters: SearchFilters = Depends(search_filters),
    sort: Annotated[Literal["auto", "relevance", "date"], Query(
        description="relevance, date (newest first), or auto: relevance when q has words, newest first when q "
                    "is empty or only filters (topic:, lang:, feed:, domain:).")] = "auto",
    collapse: Annotated[bool, Query(description="One hit per story (per near-duplicate cluster without one).")] = False,
    collapse_copies: Annotated[bool, Query(description="One hit per near-duplicate cluster.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    offset: Annotated[int, Query(ge=0, le=MAX_WINDOW - 1,
                                 description=f"Hits to skip; offset + limit <= {MAX_WINDOW}.")] = 0,
    ctx: ApiContext = Depends(context),
) -> Response:
    """Articles matching ``q`` and the filters, with highlights, topics and entities."""
    if offset + limit > MAX_WINDOW:
        message = f"offset + limit must be at most {MAX_WINDOW}"
        raise ApiProblem(422, "invalid-request", f"invalid request: query.offset: {message}",
                         errors=[{"location": "query.offset", "message": message}])
    parse_query(q)  # a query that does not parse is a 400, whatever the state of Elasticsearch
    request = SearchRequest(query=q, filters=filters, sort=sort, collapse=collapse, collapse_copies=collapse_copies,
                            limit=limit, offset=offset, total_limit=ctx.settings.search_total_limit)
    store = ctx.store()
    result = search(store.es, ctx.prefix, request, ctx.lemma_variants() if q.strip() else None,
                    feed_titles=feed_titles(ctx.registry))
    shown = result.to_dict()
    shown["hits"] = [{**hit, "feed": redacted_url(hit["feed"]) if hit.get("feed") else hit.get("feed")}
                     for hit in shown["hits"]]
    return checked_json(SearchResponse, {**shown, "limit": limit, "offset": offset})


@router.get("/facets", response_model=Facets, responses=problems(400, 422, 503),
            summary="Counts per topic, entity, language, feed and day")
def facets(
    q: QueryText = "",
    filters: SearchFilters = Depends(search_filters),
    top: Annotated[int, Query(ge=1, le=100, description="Buckets per facet.")] = 10,
    ctx: ApiContext = Depends(context),
) -> Response:
    """What `vigie stats` prints, for the articles matching ``q`` and the filters."""
    parse_query(q)
    store = ctx.store()
    stats = article_stats(store.es, ctx.prefix, filters, q, top, ctx.lemma_variants() if q.strip() else None)
    titles = feed_titles(ctx.registry)
    stats["feeds"] = [{**bucket, "key": redacted_url(str(bucket["key"])), "title": titles.get(str(bucket["key"]))}
                      for bucket in stats["feeds"]]
    return checked_json(Facets, stats, exclude_none=True)


#: Without `since`, the span a volume chart covers, by bucket width.
VOLUME_SPAN = {"hour": timedelta(hours=48), "day": timedelta(days=30)}
#: Most buckets one volume request may ask for.
MAX_VOLUME_BUCKETS = 2000


@router.get("/volume", response_model=Volume, responses=problems(400, 422, 503),
            summary="Articles matching a query per hour or day, spikes marked")
def volume(
    q: QueryText = "",
    filters: SearchFilters = Depends(search_filters),
    interval: Annotated[Literal["hour", "day"], Query(description="Bucket width.")] = "hour",
    ctx: ApiContext = Depends(context),
) -> Response:
    """The same query and filters as `GET /api/search`, counted per bucket of publication time (without
    `since`: the last 48 hours, or 30 days by day). A bucket is a spike by the stories' trend test
    (ingest.trends): its count is improbable (Poisson tail below VIGIE_TREND_TAIL_PROBABILITY: breaking;
    below VIGIE_TREND_TRENDING_PROBABILITY: trending) under the mean of the query's own 24 buckets before
    it, with at least VIGIE_TREND_MIN_ARTICLES articles."""
    parse_query(q)
    until = filters.until or datetime.now(timezone.utc)
    try:
        since = filters.since or until - VOLUME_SPAN[interval]
    except OverflowError:
        message = "until is too far in the past"
        raise ApiProblem(422, "invalid-request", f"invalid request: query.until: {message}",
                         errors=[{"location": "query.until", "message": message}]) from None
    _, hours = VOLUME_INTERVALS[interval]
    if since >= until:
        raise ApiProblem(422, "invalid-request", "invalid request: query.since: since must be before until",
                         errors=[{"location": "query.since", "message": "since must be before until"}])
    if (until - since) / timedelta(hours=hours) > MAX_VOLUME_BUCKETS:
        message = f"at most {MAX_VOLUME_BUCKETS} buckets: narrow since/until or count by day"
        raise ApiProblem(422, "invalid-request", f"invalid request: query.interval: {message}",
                         errors=[{"location": "query.interval", "message": message}])
    store = ctx.store()
    rows = query_volume(store.es, ctx.prefix, replace(filters, since=since, until=until), q, interval,
                        ctx.lemma_variants() if q.strip() else None)
    settings = ctx.settings
    params = params_from(settings.trend_window_hours, settings.trend_baseline_hours, settings.trend_min_articles,
                         settings.trend_tail_probability, settings.trend_trending_probability)
    points = volume_spikes([row["count"] for row in rows], hours, params)
    rule = (f"a spike has at least {params.min_articles} articles in its {interval} and a chance below "
            f"{params.trending_probability:g} (trending) or {params.tail_probability:g} (breaking) under the "
            f"query's own mean over the 24 {interval}s before it")
    buckets = [{"key": row["key"], "count": point.count, "expected": round(point.expected, 3),
                "probability": point.probability, "level": point.level} for row, point in zip(rows, points)]
    return checked_json(Volume, {"interval": interval, "since": since.isoformat(), "until": until.isoformat(),
                                 "total": sum(row["count"] for row in rows), "rule": rule, "buckets": buckets})


@router.get("/entities/{name}", response_model=EntityProfile, responses=problems(404, 422, 503),
            summary="An entity by any of its names or its id: variants, languages, days, company, latest articles")
def entity(name: EntityName, latest: Annotated[int, Query(ge=1, le=100)] = 10,
           ctx: ApiContext = Depends(context)) -> Response:
    """What `vigie entities show NAME --json` prints ("Poutine", "Путин" and "Q7747" are one page)."""
    from index.entities import entity_profile

    store = ctx.store()
    profile = entity_profile(store.es, ctx.prefix, name, latest=latest)
    if profile is None:
        raise ApiProblem(404, "not-found", f"no article names {name!r}")
    return checked_json(EntityProfile, profile)
