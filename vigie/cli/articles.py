"""`vigie articles`: what can be done to one indexed article from the command line."""

from __future__ import annotations

import click

from conf.logs import configure_logging
from conf.settings import load_settings
from index.client import connect
from index.store import ArticleStore
from state.client import connect as connect_redis
from state.recent_bands import recent_bands_for
from vigie.cli.output import emit, json_option
from vigie.deletion import delete_article


@click.group()
def articles() -> None:
    """Indexed articles."""


@articles.command("delete")
@click.argument("article_id")
@json_option
def delete(article_id: str, as_json: bool) -> None:
    """Remove the article ARTICLE_ID (the `id` of a search hit) from the index."""
    settings = load_settings()
    configure_logging(settings.log_level)  # the deletion is logged (stderr)
    recent = recent_bands_for(settings, connect_redis(settings.redis_url))  # its near-duplicate bands too
    delete_article(ArticleStore(connect(settings.es_url), settings.index_prefix, recent=recent), article_id)
    emit({"id": article_id, "deleted": True}, as_json, lambda data: f"deleted article {data['id']}")
