"""Deleting data, for the CLI and the API alike: a feed with its articles, one article. Each deletion
is logged with what it removed."""

from __future__ import annotations

import logging

from conf.logs import log_event
from index.store import ArticleStore
from ingest.errors import VigieError
from state.registry import Feed, FeedRegistry

log = logging.getLogger("vigie.deletion")


class ArticleNotFound(VigieError):
    kind = "not-found"


def remove_feed(registry: FeedRegistry, articles: ArticleStore | None, url_or_id: str) -> tuple[Feed, int | None]:
    """Stop following a feed; with ``articles``, remove its articles too (purge). The feed and how many
    articles were removed (None: not purged)."""
    feed = registry.find(url_or_id)
    deleted: int | None = None
    if articles is not None:  # first: if Elasticsearch fails, the feed is still there to purge again
        deleted = articles.delete_feed_articles(feed.url)
        log_event(log, "feed.articles_deleted", feed=feed.url, feed_id=feed.feed_id, count=deleted)
    registry.remove(feed.feed_id)
    log_event(log, "feed.removed", feed=feed.url, feed_id=feed.feed_id)
    return feed, deleted


def delete_article(articles: ArticleStore, article_id: str) -> None:
    """Remove one article from the index; ArticleNotFound when there is none."""
    if not articles.delete(article_id):
        raise ArticleNotFound(f"no article has the id {article_id!r}")
    log_event(log, "article.deleted", article=article_id)
