"""`GET /api/articles/{id}`: one article as stored, with its entities (and their spans in the text)
and its topics (with their evidence)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response

from conf.logs import redacted_url
from vigie.api.context import ApiContext, context
from vigie.api.errors import ApiProblem, problems
from vigie.api.schemas import ArticleOut, checked_json
from vigie.api.security import write_access
from vigie.deletion import ArticleNotFound, delete_article

router = APIRouter(prefix="/api", tags=["articles"])

ArticleId = Annotated[str, Path(min_length=1, max_length=512, description="The article id (`id` of a search hit).")]


def article_out(article_id: str, source: dict[str, Any]) -> dict[str, Any]:
    """The stored document, less what only search needs (lemmas, signatures)."""
    return {
        "id": source.get("article_id") or article_id,
        "title": source.get("title") or "",
        "url": source.get("url"),
        "feed": redacted_url(source["feed"]) if source.get("feed") else None,
        "source_domain": source.get("source_domain"),
        "language": source.get("language") or "und",
        "language_confidence": source.get("language_confidence"),
        "text_source": source.get("text_source"),
        "fetch_error": source.get("fetch_error"),
        "published": source.get("published"),
        "fetched_at": source.get("fetched_at"),
        "indexed_at": source.get("indexed_at"),
        "text": source.get("text") or "",
        "entities": source.get("entity_list") or [],
        "topics": source.get("topics") or [],
        "cluster_id": source.get("cluster_id"),
        "warnings": source.get("warnings") or [],
    }


@router.delete("/articles/{article_id}", dependencies=[Depends(write_access)], responses=problems(401, 404, 422, 429, 503),
               summary="Delete one article")
def remove_article(article_id: ArticleId, ctx: ApiContext = Depends(context)) -> dict[str, Any]:
    """Remove the article from the index (`vigie articles delete`)."""
    try:
        delete_article(ctx.store(), article_id)
    except ArticleNotFound as error:
        raise ApiProblem(404, "not-found", str(error)) from None
    return {"id": article_id, "deleted": True}


@router.get("/articles/{article_id}", response_model=ArticleOut, responses=problems(404, 422, 503),
            summary="One article with its entities and topics")
def get_article(article_id: ArticleId, ctx: ApiContext = Depends(context)) -> Response:
    source = ctx.store().get(article_id)
    if source is None:
        raise ApiProblem(404, "not-found", f"no article has the id {article_id!r}")
    return checked_json(ArticleOut, article_out(article_id, source))
