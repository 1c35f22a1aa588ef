"""Articles whose broker message was lost are queued again (the scheduler's sweep, every minute).

Celery's Redis transport takes a message off its queue before it records it as unacknowledged; a
worker killed in between loses it, and nothing in the broker brings it back (state.pending says why).
``queue_batch`` records each batch's articles as pending before it queues the batch. Every
SWEEP_SECONDS the scheduler looks at the articles pending for longer than that: their task is looked
for in every Vigie queue and in the workers' unacknowledged messages (kombu's ``unacked`` hash); a
task found in neither by two sweeps in a row (a message moves from the one to the other, so one look
could miss it) is lost, and its articles are queued again in a new batch, each logged with its feed.
Queued again MAX_REQUEUES times and never indexed (with stories on, never put into its story), an
article goes to the dead letters. With stories on, an indexed article waits on its story message
(worker.story_tasks.queue_stories): a lost story message is found the same way, and its articles are
analysed and written again (by article id: one document) before they go into their story.

Queueing again does not duplicate anything: the analysis writes documents by article id.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Collection, Sequence
from typing import Any

import redis
from celery import Celery

from conf.logs import log_event
from state.deadletter import DeadLetters
from state.pending import PendingArticle, PendingArticles
from state.staged import STAGED_TASK, WRITER_LEASE_KEY, StagedArticles
from worker.queues import PROCESS_ITEMS, QUEUES, WRITE_STAGED

log = logging.getLogger("vigie.poller")

SWEEP_SECONDS = 60.0
MAX_REQUEUES = 3
#: kombu's Redis transport: the messages delivered to a worker and not acknowledged yet, by delivery tag
UNACKED = "unacked"
#: kombu names a queue's priority lists: the queue, this separator, the priority step
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)
_SCAN = 200  # messages read from a queue at a time
_OVERLAP = 20  # ... of which this many read again from the chunk before, when reading from the oldest end
# A Celery message's properties carry its task id as the correlation id (the body is base64: no quotes).
_TASK_ID = re.compile(rb'"correlation_id":\s*"([^"]+)"')

#: Queues a batch: (the feed items as dicts, the task id to give the message)
SendBatch = Callable[[list[dict[str, Any]], str], None]
#: Queues items for a named task: (the task's name, its items, the task id to give the message)
SendTask = Callable[[str, list[dict[str, Any]], str], None]


def task_sender(app: Celery) -> SendTask:
    """Queues items to a task through ``app``, as task ``task_id``: the analysis takes its feed items
    alone, the other tasks (indexing, stories) their items and their tries, counted from zero (a
    replay, or a message the sweep found lost)."""
    def send(task: str, items: list[dict[str, Any]], task_id: str) -> None:
        args = [] if task == WRITE_STAGED else [items] if task == PROCESS_ITEMS else [items, 0]
        app.send_task(task, args=args, task_id=task_id)
    return send


def queue_batch(send: SendBatch, pending: PendingArticles, items: Sequence[dict[str, Any]], now: float) -> str:
    """Record ``items`` as pending, then queue them in one task; returns its id. If queueing fails, the
    record is dropped and the error raised (the caller keeps the items unseen)."""
    payload = list(items)
    return _recorded_then_sent(pending, payload, [str(item["article_id"]) for item in payload], "", now,
                               lambda task_id: send(payload, task_id))


def queue_task(send: SendTask, pending: PendingArticles, task: str, items: Sequence[dict[str, Any]],
               article_ids: Sequence[str], now: float) -> str:
    """``queue_batch`` for the items of another task than the analysis (analysed articles, story
    features, replayed from the dead letters), ``article_ids`` in their order: recorded as pending with
    that task's name, then queued to it."""
    payload = list(items)
    return _recorded_then_sent(pending, payload, list(article_ids), task, now,
                               lambda task_id: send(task, payload, task_id))


def _recorded_then_sent(pending: PendingArticles, payload: list[dict[str, Any]], article_ids: list[str], kind: str,
                        now: float, send: Callable[[str], None]) -> str:
    task_id = str(uuid.uuid4())
    pending.add(task_id, payload, now, kind=kind, article_ids=article_ids)
    try:
        send(task_id)
    except Exception:
        pending.done(article_ids)
        raise
    return task_id


def task_ids_in_broker(client: redis.Redis, wanted: Collection[str] | None = None) -> set[str]:
    """The ids of the tasks waiting in a Vigie queue or held by a worker (kombu's ``unacked``). The
    queues are read before ``unacked``: a message a worker takes meanwhile is then there.

    With ``wanted``, ``unacked`` is read first as well, then each queue from its oldest end (where a
    backlog's oldest batches, those the sweep looks for, wait), no further than needed to find the
    wanted tasks not found yet; chunks overlap by _OVERLAP messages, so that the messages workers
    take meanwhile from that end do not leave one unread."""
    found = set() if wanted is None else _unacked_task_ids(client)
    missing = None if wanted is None else set(wanted) - found
    for queue in (*QUEUES, "celery"):
        for name in (queue, *(f"{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS)):
            if missing is None:
                start = 0
                while chunk := client.lrange(name, start, start + _SCAN - 1):
                    found.update(_task_ids(chunk))
                    start += len(chunk)
                continue
            end = -1
            while missing and (chunk := client.lrange(name, end - _SCAN + 1, end)):
                ids = _task_ids(chunk)
                found.update(ids)
                missing.difference_update(ids)
                if len(chunk) < _SCAN:
                    break
                end -= _SCAN - _OVERLAP
    return found | _unacked_task_ids(client)


def _unacked_task_ids(client: redis.Redis) -> set[str]:
    return {match.group(1).decode() for _, raw in client.hscan_iter(UNACKED, count=_SCAN)
            if (match := _TASK_ID.search(raw))}


def _task_ids(messages: list[bytes]) -> set[str]:
    return {match.group(1).decode() for raw in messages if (match := _TASK_ID.search(raw))}


class PendingSweep:
    """``tick(now)`` from the scheduler's loop: a sweep every SWEEP_SECONDS, its failures logged."""

    def __init__(self, client: redis.Redis, send: SendTask) -> None:
        self.client = client
        self.pending = PendingArticles(client)
        self.send = send  # each article goes back to the task that takes its item (``task_sender``)
        self.next_at = 0.0

    def tick(self, now: float) -> None:
        if now < self.next_at:
            return
        self.next_at = now + SWEEP_SECONDS
        try:
            self.sweep(now)
        except Exception as error:  # noqa: BLE001 - Redis or the broker down: the next sweep tries again
            log_event(log, "pending.sweep_failed", logging.WARNING, error=str(error))

    def sweep(self, now: float) -> int:
        """Queue again the articles whose task two sweeps in a row found nowhere; returns how many.
        Analysed articles waiting to be written are not lost (they wait in Redis, state.staged): if no
        process holds the writers' lease, a write is queued for them."""
        self._write_if_waiting()
        waiting = self.pending.queued_before(now - SWEEP_SECONDS)
        if not waiting:
            self.pending.remember_absent(())
            return 0
        tasks = {article.task_id for article in waiting} - {STAGED_TASK}
        absent = tasks - task_ids_in_broker(self.client, tasks)
        lost_tasks = self.pending.absent_before(absent)
        self.pending.remember_absent(absent - lost_tasks)
        lost: dict[str, list[PendingArticle]] = {}
        for article in waiting:
            if article.task_id in lost_tasks:
                lost.setdefault(article.task_id, []).append(article)
        by_kind: dict[tuple[str, str], list[PendingArticle]] = {}
        for task_id, articles in lost.items():
            for article in articles:
                by_kind.setdefault((task_id, article.kind), []).append(article)
        return sum(self._again(task_id, kind, articles, now) for (task_id, kind), articles in by_kind.items())

    def _write_if_waiting(self) -> None:
        """A write for the analysed articles waiting with no writer (the last one died mid-write, or
        broker trouble stopped it)."""
        if self.client.exists(WRITER_LEASE_KEY):
            return
        waiting = StagedArticles(self.client).waiting()
        if waiting:
            task_id = str(uuid.uuid4())
            self.send(WRITE_STAGED, [], task_id)
            log_event(log, "articles.write_queued", logging.WARNING, articles=waiting, task=task_id)

    def _again(self, lost_task: str, kind: str, articles: list[PendingArticle], now: float) -> int:
        task = kind or PROCESS_ITEMS
        spent = [article for article in articles if article.requeued >= MAX_REQUEUES]
        if spent:
            ids = [article.article_id for article in spent]
            items = self.pending.items(ids)
            entry = DeadLetters(self.client).add(
                task=task, payload=items, article_ids=ids, error_kind="lost-in-broker",
                error=f"queued {MAX_REQUEUES + 1} times, never indexed (or, with stories on, never put into its story)",
                attempts=MAX_REQUEUES + 1)
            self.pending.done(ids)
            log_event(log, "article.dead_lettered", logging.ERROR, entry=entry.entry_id, kind="lost-in-broker",
                      articles=",".join(ids), feeds=",".join(sorted({_feed_of(item) for item in items})))
        again = [article for article in articles if article.requeued < MAX_REQUEUES]
        kept = self.pending.items_by_id([article.article_id for article in again])
        # Done since this sweep read them (their records gone): nothing to queue, nor to keep.
        self.pending.done(article.article_id for article in again if article.article_id not in kept)
        again = [article for article in again if article.article_id in kept]
        if not again:
            return 0
        items = [kept[article.article_id] for article in again]
        task_id = str(uuid.uuid4())
        self.pending.requeued(again, task_id, now)  # recorded first: a failed send is found lost again
        self.send(task, items, task_id)
        for article, item in zip(again, items):
            log_event(log, "article.requeued", logging.WARNING, article=article.article_id,
                      feed=_feed_of(item), lost_task=lost_task, task=task_id, requeued=article.requeued + 1)
        return len(again)


def _feed_of(item: dict[str, Any]) -> str:
    """The feed of a pending item: a feed item's, an analysed article's, or story features' source."""
    article = item.get("article")
    feed = item.get("feed_url") or (article.get("feed_url") if isinstance(article, dict) else None) \
        or item.get("source")
    return str(feed or "-")
