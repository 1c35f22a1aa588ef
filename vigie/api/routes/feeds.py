"""`/api/feeds`: the followed feeds and their health, as `vigie feeds add|list|remove` shows them.

The registry is the one the poller reads (state.registry): a feed added here is polled at once by
the running `vigie scheduler`; a feed removed stops being polled, its articles stay in the index.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from conf.logs import log_event
from vigie.api.context import ApiContext, context
from vigie.api.errors import problems
from vigie.api.schemas import FeedIn, FeedOut
from vigie.api.security import write_access
from vigie.deletion import remove_feed as removed_feed

log = logging.getLogger("vigie.api")

router = APIRouter(prefix="/api", tags=["feeds"])

FeedId = Annotated[str, Path(pattern="^[0-9a-f]{16}$", description="The feed id (`id` in the list).")]


@router.get("/feeds", response_model=list[FeedOut], responses=problems(503), summary="Followed feeds and their health")
def list_feeds(ctx: ApiContext = Depends(context)) -> list[dict[str, Any]]:
    """Every followed feed: status, last success, last error, failures in a row, next poll, items seen."""
    return [feed.describe() for feed in ctx.registry.all()]


@router.get("/feeds/{feed_id}", response_model=FeedOut, responses=problems(404, 422, 503), summary="One feed")
def get_feed(feed_id: FeedId, ctx: ApiContext = Depends(context)) -> dict[str, Any]:
    return ctx.registry.find(feed_id).describe()


@router.post("/feeds", status_code=201, response_model=FeedOut, dependencies=[Depends(write_access)],
             responses=problems(401, 409, 422, 429, 503), summary="Follow a feed")
def add_feed(body: FeedIn, response: Response, ctx: ApiContext = Depends(context)) -> dict[str, Any]:
    """Follow the feed at ``url`` (http or https); it is polled right away by the running scheduler."""
    feed = ctx.registry.add(body.url, name=body.name, interval=body.interval)
    log_event(log, "api.feed_added", feed=feed.url, feed_id=feed.feed_id)
    response.headers["Location"] = f"/api/feeds/{feed.feed_id}"
    return feed.describe()


@router.delete("/feeds/{feed_id}", response_model=FeedOut, dependencies=[Depends(write_access)],
               responses=problems(401, 404, 422, 429, 503), summary="Stop following a feed")
def remove_feed(feed_id: FeedId, purge: Annotated[bool, Query(description="Delete the feed's articles too.")] = False,
                ctx: ApiContext = Depends(context)) -> dict[str, Any]:
    """Stop following a feed; answers what it was. Its articles stay in the index unless ``purge``
    (then ``articles_deleted`` says how many were deleted)."""
    feed, deleted = removed_feed(ctx.registry, ctx.store() if purge else None, feed_id)
    log_event(log, "api.feed_removed", feed=feed.url, feed_id=feed.feed_id, articles_deleted=deleted)
    return {**feed.describe(), "articles_deleted": deleted}
