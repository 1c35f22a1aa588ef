"""The article tasks. Each reads like a sentence: fetch the full texts, analyse, store (or defer), alert.

``process_items`` takes a batch of new feed items from the poller, analyses it, puts it with the
analysed articles waiting to be written and writes what waits if no other process is at it
(worker.staged_writes: one write takes several tasks' batches when writing falls behind);
``index_articles`` carries analysed articles that could not be stored yet (Elasticsearch down or busy) and retries with capped
exponential backoff before handing them to the dead-letter list. What happens after a write (alert
matching, notifications, webhooks, digests) is in worker.alert_tasks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from conf.logs import log_event
from index.errors import IndexUnavailable
from ingest.articles import analysed_article, article_for
from ingest.fingerprint import signature
from ingest.models import AnalyzedArticle, Article, FeedItem
from ingest.reuse import ReusePlan
from state.counters import count_indexed
from worker.alert_tasks import alert
from worker.entity_merges import resolve_entities
from worker.app import app
from worker.memory import release_free_memory
from worker.queues import INDEX_QUEUE, PROCESS_ITEMS, WRITE_STAGED
from worker.retries import BROKER_ERRORS, Letter, after_outage, current_runtime, dead_letter, retry_later, unexpected
from worker.staged_writes import stage, write_waiting
from worker.story_guess import index_articles_with_stories
from worker.story_tasks import queue_stories
from worker.runtime import Runtime

log = logging.getLogger("vigie.worker")

PAGE_THREADS = 4


# -- fetch ---------------------------------------------------------------------------------------


def articles_for(rt: Runtime, items: Sequence[FeedItem]) -> list[Article]:
    """The article of each item, fetching article pages (a few at a time) where the feed has no text."""
    fetched_at = datetime.now(timezone.utc)
    with ThreadPoolExecutor(max_workers=PAGE_THREADS) as pool:
        fetcher = rt.fetcher if rt.settings.fetch_full_text else None
        return list(pool.map(lambda item: article_for(item, fetcher, fetched_at=fetched_at), items))


# -- analyse -------------------------------------------------------------------------------------


def analyse(rt: Runtime, items: Sequence[FeedItem], articles: Sequence[Article]) -> list[AnalyzedArticle]:
    """Analyse the batch through nlp.pipe; an article that breaks the analyser goes to dead letters alone."""
    try:
        analyses = rt.analyzer.analyze_many(articles, rt.recent_analyses, rt.settings.reuse_max_changed,
                                            on_reuse=_log_reuse)
        return [analysed_article(article, analysis) for article, analysis in zip(articles, analyses)]
    except Exception:  # noqa: BLE001 - isolate the article that fails; the others go on
        log.exception("batch analysis failed; analysing one by one")
    done: list[AnalyzedArticle] = []
    for item, article in zip(items, articles):
        try:
            done.append(analysed_article(article, rt.analyzer.analyze(article)))
        except Exception as error:  # noqa: BLE001
            dead_letter(rt, Letter(process_items.name, [item.to_dict()], [item.article_id]),
                        kind="analysis-failed", error=f"{type(error).__name__}: {error}", attempts=1,
                        event="article.dead_lettered", feed=item.feed_url)
    return done


def _log_reuse(article: Article, plan: ReusePlan) -> None:
    log_event(log, "article.analysis_reused", article=article.article_id, feed=article.feed_url,
              original=plan.original_id, changed=plan.changed, paragraphs_analysed=len(plan.to_analyse),
              language_kept=plan.language_kept)


# -- store ---------------------------------------------------------------------------------------


def store(rt: Runtime, analysed: Sequence[AnalyzedArticle], attempt: int) -> dict[str, int]:
    """Write ``analysed``; defer what Elasticsearch could not take now; dead-letter what it refused."""
    if not analysed:
        return {"indexed": 0, "deferred": 0, "rejected": 0}
    by_id = {item.article.article_id: item for item in analysed}
    try:
        outcome, guess = index_articles_with_stories(rt, analysed)
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
    if not rt.settings.stories:
        rt.pending.done(outcome.indexed)  # with stories on, they wait on the story message (queue_stories)
    if outcome.retry:
        defer(rt, [by_id[article_id] for article_id in outcome.retry], attempt, "Elasticsearch was busy (429)")
    for article_id, reason in outcome.rejected:
        item = by_id[article_id]
        dead_letter(rt, Letter(index_articles.name, [item.to_dict()], [article_id]), kind="index-rejected",
                    error=reason, attempts=attempt + 1, event="article.dead_lettered", feed=item.article.feed_url)
    if outcome.indexed:
        # Stories are assigned by the story consumer, a moment later (worker.story_tasks).
        queue_stories(rt, [by_id[article_id] for article_id in outcome.indexed], outcome.documents, outcome.stories,
                      guess)
        # Matched against the very documents written (no second shaping).
        alert(rt, list(outcome.indexed), lambda: [outcome.documents[article_id] for article_id in outcome.indexed])
    return {"indexed": len(outcome.indexed), "deferred": len(outcome.retry), "rejected": len(outcome.rejected)}


def defer(rt: Runtime, analysed: list[AnalyzedArticle], attempt: int, reason: str) -> None:
    """Queue ``analysed`` for another try later, or dead-letter it once the retries are spent."""
    ids = [item.article.article_id for item in analysed]
    payload = [item.to_dict() for item in analysed]

    def again(delay: float) -> None:
        # The articles wait on the retry's message now, not on this task's (state.pending).
        rt.pending.moved(ids, retry_later(index_articles, [payload, attempt + 1], delay, INDEX_QUEUE), time.time())

    after_outage(rt, attempt, letter=Letter(index_articles.name, payload, ids), error=reason, again=again,
                 event="articles.deferred", articles=len(ids), first_article=ids[0],
                 feeds=",".join(sorted({item.article.feed_url for item in analysed})))


# -- tasks ---------------------------------------------------------------------------------------


@app.task(name=PROCESS_ITEMS, acks_on_failure_or_timeout=False)
def process_items(items: list[dict[str, Any]]) -> dict[str, int]:
    """New feed items → full texts → analysis → index."""
    rt = current_runtime()
    try:
        feed_items = [FeedItem.from_dict(data) for data in items]
        articles = articles_for(rt, feed_items)
        analysed = resolve_entities(rt, analyse(rt, feed_items, articles))
        if rt.settings.write_batch_max <= 0:
            return store(rt, analysed, attempt=0)
        stage(rt.redis, analysed)  # from here on the articles wait in Redis, whatever becomes of this task
        return {"staged": len(analysed), "written": write_staged(rt)}
    except BROKER_ERRORS:
        raise
    except Exception as error:  # noqa: BLE001
        ids = [str(data.get("article_id")) for data in items]
        unexpected(rt, Letter(process_items.name, items, ids), error, attempts=1)
        return {"indexed": 0, "deferred": 0, "rejected": len(ids)}
    finally:
        signature.cache_clear()  # the batch's texts, signed twice (analysis, record): not kept past it
        release_free_memory()  # what the batch freed, back to the system (worker.memory)


def write_staged(rt: Runtime) -> int:
    """Write what waits (worker.staged_writes), unless another process is at it; returns how many
    articles this process took. Broker trouble here leaves them waiting: the next writer, or the
    write the scheduler's sweep queues, takes them."""
    def refuse(payload: list[dict[str, Any]], ids: list[str], error: BaseException) -> None:
        unexpected(rt, Letter(index_articles.name, payload, ids), error, attempts=1)

    try:
        return write_waiting(rt.redis, lambda batch: store(rt, batch, attempt=0), refuse, rt.settings.write_batch_max)
    except BROKER_ERRORS as error:
        log_event(log, "articles.write_postponed", level=logging.WARNING, error=str(error))
        return 0


@app.task(name=WRITE_STAGED, acks_on_failure_or_timeout=False)
def write_staged_articles() -> int:
    """Queued by the scheduler's sweep when analysed articles wait and no process writes them."""
    return write_staged(current_runtime())


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
        unexpected(rt, Letter(index_articles.name, payload, ids), error, attempts=attempt + 1)
        return {"indexed": 0, "deferred": 0, "rejected": len(ids)}


