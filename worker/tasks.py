"""The article tasks. Each reads like a sentence: fetch the full texts, analyse, store (or defer), alert.

``process_items`` takes a batch of new feed items from the poller; ``index_articles`` carries analysed
articles that could not be stored yet (Elasticsearch down or busy) and retries with capped
exponential backoff before handing them to the dead-letter list. What happens after a write (alert
matching, notifications, webhooks, digests) is in worker.alert_tasks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from index.errors import IndexUnavailable
from ingest.articles import article_from_item, needs_page
from ingest.extract import main_text
from ingest.fingerprint import signature
from ingest.models import Analysis, AnalyzedArticle, Article, FeedItem
from ingest.poll import fetch_article_page
from vigie.logs import log_event
from worker.app import INDEX_QUEUE, app
from worker.counters import count_indexed
from worker.alert_tasks import alert
from worker.story_tasks import assign_stories
from worker.retries import BROKER_ERRORS, backoff_seconds, current_runtime
from worker.runtime import Runtime

log = logging.getLogger("vigie.worker")

PAGE_THREADS = 4


# -- fetch ---------------------------------------------------------------------------------------


def _article(rt: Runtime, item: FeedItem, fetched_at: datetime) -> Article:
    if not (rt.settings.fetch_full_text and needs_page(item)):
        return article_from_item(item, fetched_at=fetched_at)
    assert item.url is not None
    page = fetch_article_page(rt.fetcher, item.url)
    if page.error is not None:
        log_event(log, "article.page_failed", logging.WARNING, article=item.article_id, url=item.url,
                  kind=page.error.kind, error=page.error.message)
        return article_from_item(item, fetched_at=fetched_at, page_error=f"{page.error.kind}: {page.error.message}")
    text = main_text(page.html or "", item.url)
    if not text:
        reason = "no article text found in the page"
        log_event(log, "article.page_empty", logging.WARNING, article=item.article_id, url=item.url)
        return article_from_item(item, fetched_at=fetched_at, page_error=reason)
    return article_from_item(item, fetched_at=fetched_at, page_text=text)


def articles_for(rt: Runtime, items: Sequence[FeedItem]) -> list[Article]:
    """The article of each item, fetching article pages (a few at a time) where the feed has no text."""
    fetched_at = datetime.now(timezone.utc)
    with ThreadPoolExecutor(max_workers=PAGE_THREADS) as pool:
        return list(pool.map(lambda item: _article(rt, item, fetched_at), items))


# -- analyse -------------------------------------------------------------------------------------


def analysed_article(article: Article, analysis: Analysis) -> AnalyzedArticle:
    return AnalyzedArticle(article, analysis, signature=signature(analysis.text))


def analyse(rt: Runtime, items: Sequence[FeedItem], articles: Sequence[Article]) -> list[AnalyzedArticle]:
    """Analyse the batch through nlp.pipe; an article that breaks the analyser goes to dead letters alone."""
    try:
        analyses = rt.analyzer.analyze_many(articles)
        return [analysed_article(article, analysis) for article, analysis in zip(articles, analyses)]
    except Exception:  # noqa: BLE001 - isolate the article that fails; the others go on
        log.exception("batch analysis failed; analysing one by one")
    done: list[AnalyzedArticle] = []
    for item, article in zip(items, articles):
        try:
            done.append(analysed_article(article, rt.analyzer.analyze(article)))
        except Exception as error:  # noqa: BLE001
            rt.dead_letters.add(
                task=process_items.name, payload=[item.to_dict()], article_ids=[item.article_id],
                error_kind="analysis-failed", error=f"{type(error).__name__}: {error}", attempts=1,
            )
            log_event(log, "article.dead_lettered", logging.ERROR, article=item.article_id,
                      feed=item.feed_url, kind="analysis-failed", error=str(error))
    return done


# -- store ---------------------------------------------------------------------------------------


def store(rt: Runtime, analysed: Sequence[AnalyzedArticle], attempt: int) -> dict[str, int]:
    """Write ``analysed``; defer what Elasticsearch could not take now; dead-letter what it refused."""
    if not analysed:
        return {"indexed": 0, "deferred": 0, "rejected": 0}
    by_id = {item.article.article_id: item for item in analysed}
    try:
        outcome = rt.store.index_batch(analysed)
    except IndexUnavailable as error:
        defer(rt, list(analysed), attempt, str(error))
        return {"indexed": 0, "deferred": len(analysed), "rejected": 0}
    for article_id in outcome.indexed:
        item = by_id[article_id]
        log_event(
            log, "article.indexed", article=article_id, feed=item.article.feed_url,
            language=item.analysis.language, source=item.article.text_source,
            entities=len(item.analysis.entities), topics=",".join(t.name for t in item.analysis.topics) or "-",
        )
    count_indexed(rt.redis, [by_id[article_id].article.fetched_at for article_id in outcome.indexed])
    if outcome.retry:
        defer(rt, [by_id[article_id] for article_id in outcome.retry], attempt, "Elasticsearch was busy (429)")
    for article_id, reason in outcome.rejected:
        item = by_id[article_id]
        rt.dead_letters.add(
            task=index_articles.name, payload=[item.to_dict()], article_ids=[article_id],
            error_kind="index-rejected", error=reason, attempts=attempt + 1,
        )
        log_event(log, "article.dead_lettered", logging.ERROR, article=article_id,
                  feed=item.article.feed_url, kind="index-rejected", error=reason)
    if outcome.indexed:
        assign_stories(rt, [by_id[article_id] for article_id in outcome.indexed], outcome.documents)
        # Matched against the very documents written (no second shaping).
        alert(rt, list(outcome.indexed), lambda: [outcome.documents[article_id] for article_id in outcome.indexed])
    return {"indexed": len(outcome.indexed), "deferred": len(outcome.retry), "rejected": len(outcome.rejected)}


def defer(rt: Runtime, analysed: list[AnalyzedArticle], attempt: int, reason: str) -> None:
    """Queue ``analysed`` for another try later, or dead-letter it once the retries are spent."""
    ids = [item.article.article_id for item in analysed]
    payload = [item.to_dict() for item in analysed]
    if attempt >= rt.settings.max_retries:
        rt.dead_letters.add(
            task=index_articles.name, payload=payload, article_ids=ids,
            error_kind="index-unavailable", error=reason, attempts=attempt + 1,
        )
        for item in analysed:
            log_event(log, "article.dead_lettered", logging.ERROR, article=item.article.article_id,
                      feed=item.article.feed_url, kind="index-unavailable", error=reason)
        return
    delay = backoff_seconds(attempt, rt.settings.retry_backoff_max)
    index_articles.apply_async(args=[payload, attempt + 1], countdown=delay, queue=INDEX_QUEUE)
    log_event(log, "articles.deferred", logging.WARNING, articles=len(ids), attempt=attempt + 1,
              retry_in_s=round(delay, 1), reason=reason, first_article=ids[0])


# -- tasks ---------------------------------------------------------------------------------------


def _dead_letter_on_surprise(rt: Runtime, task: str, payload: list[dict[str, Any]], ids: list[str],
                             error: Exception, attempt: int) -> dict[str, int]:
    """An error nobody planned for (a bug, an unforeseen refusal) sends the payload to the dead-letter
    list at once, rather than leaving it unacknowledged until the visibility timeout, again and again."""
    log.exception("task failed unexpectedly; payload dead-lettered", extra={"task_name": task, "articles": len(ids)})
    rt.dead_letters.add(task=task, payload=payload, article_ids=ids, error_kind="unexpected-error",
                        error=f"{type(error).__name__}: {error}", attempts=attempt + 1)
    return {"indexed": 0, "deferred": 0, "rejected": len(ids)}


@app.task(name="vigie.process_items", acks_on_failure_or_timeout=False)
def process_items(items: list[dict[str, Any]]) -> dict[str, int]:
    """New feed items → full texts → analysis → index."""
    rt = current_runtime()
    try:
        feed_items = [FeedItem.from_dict(data) for data in items]
        articles = articles_for(rt, feed_items)
        analysed = analyse(rt, feed_items, articles)
        return store(rt, analysed, attempt=0)
    except BROKER_ERRORS:
        raise
    except Exception as error:  # noqa: BLE001
        ids = [str(data.get("article_id")) for data in items]
        return _dead_letter_on_surprise(rt, process_items.name, items, ids, error, 0)


@app.task(name="vigie.index_articles", acks_on_failure_or_timeout=False)
def index_articles(payload: list[dict[str, Any]], attempt: int = 1) -> dict[str, int]:
    """Analysed articles waiting for Elasticsearch: try again, defer again, or dead-letter."""
    rt = current_runtime()
    try:
        analysed = [AnalyzedArticle.from_dict(data) for data in payload]
        return store(rt, analysed, attempt=attempt)
    except BROKER_ERRORS:
        raise
    except Exception as error:  # noqa: BLE001
        ids = [str(data.get("article", {}).get("article_id")) for data in payload]
        return _dead_letter_on_surprise(rt, index_articles.name, payload, ids, error, attempt)


