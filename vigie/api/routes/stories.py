"""`GET /api/stories` and `GET /api/stories/{id}`: `vigie stories` and `vigie stories show` over HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from index.stories import articles_of_stories
from index.trends import story_detail, story_listing, subject_trends
from ingest.trends import params_from
from vigie.api.context import ApiContext, context
from vigie.api.errors import ApiProblem, problems
from vigie.api.routes.search import parse_moment
from vigie.api.schemas import checked_json
from vigie.api.story_schemas import StoriesArticles, StoryDetail, StoryList

router = APIRouter(prefix="/api", tags=["stories"])

StoryId = Annotated[str, Path(min_length=1, max_length=64, description="The story id (`story.id` of a search hit).")]


def _params(ctx: ApiContext):  # type: ignore[no-untyped-def]
    settings = ctx.settings
    return params_from(settings.trend_window_hours, settings.trend_baseline_hours, settings.trend_min_articles,
                       settings.trend_tail_probability, settings.trend_trending_probability)


@router.get("/stories", response_model=StoryList, responses=problems(400, 422, 503),
            summary="Stories, most recently active first, or what is breaking")
def list_stories(
    since: Annotated[str | None, Query(max_length=64, description="Active since: 7d, 12h, 30m or an ISO date.")] = None,
    breaking: Annotated[bool, Query(description="Only stories breaking or trending now.")] = False,
    topic: Annotated[str | None, Query(max_length=64, description="Only stories about this topic.")] = None,
    entity: Annotated[str | None, Query(max_length=256, description="Only stories naming this entity.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    ctx: ApiContext = Depends(context),
) -> Response:
    rows = story_listing(ctx.es, ctx.prefix, _params(ctx), since=parse_moment("since", since), breaking=breaking,
                         topic=topic or None, entity=entity or None, limit=limit)
    subjects = subject_trends(ctx.es, ctx.prefix, _params(ctx)) if breaking else []
    return checked_json(StoryList, {"stories": rows, "subjects": subjects})


@router.get("/stories/articles", response_model=StoriesArticles, responses=problems(422, 503),
            summary="The first articles of several stories, by language and source")
def stories_articles(
    ids: Annotated[str, Query(min_length=1, max_length=64 * 50,
                              description="Story ids, comma-separated (at most 50).")],
    limit: Annotated[int, Query(ge=1, le=50, description="Articles per story, the first ones in time.")] = 8,
    ctx: ApiContext = Depends(context),
) -> Response:
    story_ids = [story for story in ids.split(",") if story][:50]
    return checked_json(StoriesArticles, {"stories": articles_of_stories(ctx.es, ctx.prefix, story_ids, limit)})


@router.get("/stories/{story_id}", response_model=StoryDetail, responses=problems(404, 422, 503),
            summary="One story with its articles by language and source")
def get_story(story_id: StoryId, ctx: ApiContext = Depends(context)) -> Response:
    row = story_detail(ctx.es, ctx.prefix, story_id, _params(ctx))
    if row is None:
        raise ApiProblem(404, "not-found", f"no story has the id {story_id!r}")
    return checked_json(StoryDetail, row)
