"""From a feed item to the article that gets analysed, and from its analysis to the stored record.

A feed may carry the full content, only a summary, or nothing but a link. ``article_for`` fetches the
article page when the item has no full content and extracts its main text; when that fails the article
is still indexed from its summary, marked ``text_source="summary"`` with the reason in
``fetch_error``. ``analysed_article`` adds the near-duplicate signature of the analysed text.
"""

from __future__ import annotations

import logging
from datetime import datetime

from conf.logs import log_event
from ingest.extract import main_text, without_headline
from ingest.fetch import Fetcher
from ingest.fingerprint import signature
from ingest.models import Analysis, AnalyzedArticle, Article, FeedItem
from ingest.poll import fetch_article_page

log = logging.getLogger("vigie.worker")

#: Feeds often put a few words in content:encoded ("Read more…"); below this it is not full content.
MIN_CONTENT_CHARS = 400


def full_content(item: FeedItem) -> str | None:
    """The item's content when it is the whole article (not a teaser), else None."""
    if item.content is not None and len(item.content) >= MIN_CONTENT_CHARS:
        return item.content
    return None


def needs_page(item: FeedItem) -> bool:
    """True when the item lacks its full text and has a link where the text may be found."""
    return full_content(item) is None and bool(item.url)


def article_for(item: FeedItem, fetcher: Fetcher | None, *, fetched_at: datetime) -> Article:
    """The article of ``item``: its full content; else the main text of its page, fetched with
    ``fetcher`` (None: pages are not fetched); else its summary, with why the page gave nothing."""
    if fetcher is None or not needs_page(item):
        return article_from_item(item, fetched_at=fetched_at)
    assert item.url is not None
    page = fetch_article_page(fetcher, item.url)
    if page.error is not None:
        log_event(log, "article.page_failed", logging.WARNING, article=item.article_id, url=item.url,
                  kind=page.error.kind, error=page.error.message)
        return article_from_item(item, fetched_at=fetched_at, page_error=f"{page.error.kind}: {page.error.message}")
    text = main_text(page.html or "", item.url)
    if not text:
        log_event(log, "article.page_empty", logging.WARNING, article=item.article_id, url=item.url)
        return article_from_item(item, fetched_at=fetched_at, page_error="no article text found in the page")
    # The page repeats its headline above the text: stored once, as the title, not again in the body.
    return article_from_item(item, fetched_at=fetched_at, page_text=without_headline(text, item.title))


def article_from_item(
    item: FeedItem,
    *,
    fetched_at: datetime,
    page_text: str | None = None,
    page_error: str | None = None,
) -> Article:
    """The article for ``item``: its full content, else the extracted ``page_text``, else the summary."""
    common = dict(
        article_id=item.article_id,
        title=item.title,
        feed_url=item.feed_url,
        url=item.url,
        published=item.published,
        fetched_at=fetched_at,
        language_hint=item.language_hint,
    )
    content = full_content(item)
    if content is not None:
        return Article(body=content, is_html=True, text_source="content", **common)  # type: ignore[arg-type]
    if page_text:
        return Article(body=page_text, is_html=False, text_source="page", **common)  # type: ignore[arg-type]
    body = item.content if item.content and len(item.content) > len(item.summary) else item.summary
    return Article(body=body, is_html=True, text_source="summary", fetch_error=page_error, **common)  # type: ignore[arg-type]


def analysed_article(article: Article, analysis: Analysis) -> AnalyzedArticle:
    """The record that is stored: the article, its analysis and the near-duplicate signature of its text."""
    return AnalyzedArticle(article, analysis, signature=signature(analysis.text))
