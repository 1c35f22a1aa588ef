"""From a feed item to the article that gets analysed: which text to use, and why.

A feed may carry the full content, only a summary, or nothing but a link. The worker fetches the
article page when the item has no full content; when that fails the article is still indexed from its
summary, marked ``text_source="summary"`` with the reason in ``fetch_error``.
"""

from __future__ import annotations

from datetime import datetime

from ingest.models import Article, FeedItem

#: Feeds often put a few words in content:encoded ("Read more…"); below this it is not full content.
MIN_CONTENT_CHARS = 400


def needs_page(item: FeedItem) -> bool:
    """True when the item lacks its full text and has a link where the text may be found."""
    has_content = item.content is not None and len(item.content) >= MIN_CONTENT_CHARS
    return not has_content and bool(item.url)


def article_from_item(
    item: FeedItem,
    *,
    fetched_at: datetime,
    page_text: str | None = None,
    page_error: str | None = None,
) -> Article:
    """The article for ``item``: its content, else the page text the worker extracted, else the summary."""
    common = dict(
        article_id=item.article_id,
        title=item.title,
        feed_url=item.feed_url,
        url=item.url,
        published=item.published,
        fetched_at=fetched_at,
        language_hint=item.language_hint,
    )
    if item.content and len(item.content) >= MIN_CONTENT_CHARS:
        return Article(body=item.content, is_html=True, text_source="content", **common)  # type: ignore[arg-type]
    if page_text:
        return Article(body=page_text, is_html=False, text_source="page", **common)  # type: ignore[arg-type]
    body = item.content if item.content and len(item.content) > len(item.summary) else item.summary
    return Article(body=body, is_html=True, text_source="summary", fetch_error=page_error, **common)  # type: ignore[arg-type]
