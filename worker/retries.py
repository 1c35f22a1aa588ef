"""The one retry and dead-letter policy of every task.

Three budgets, never mixed:

- **outages**: Elasticsearch unavailable or busy. A task tries again ``VIGIE_MAX_RETRIES`` times, with
  capped exponential backoff (``VIGIE_RETRY_BACKOFF_MAX``), then its payload goes to the dead-letter
  list. Articles being indexed, alerts being evaluated, notifications and digests waiting to be
  delivered all spend this budget, never the next one.
- **webhook attempts**: a receiver that fails transiently is POSTed again, up to
  ``VIGIE_WEBHOOK_MAX_ATTEMPTS`` POSTs in all, waits capped at ``VIGIE_WEBHOOK_BACKOFF_MAX`` (longer
  when the receiver sends Retry-After, within that cap), then the notification fails and is
  dead-lettered. An e-mail (an alert with an address) spends the same budget: a 4xx reply or a
  connection that fails is sent again, a 5xx reply fails at once.
- **lost messages**: a batch whose broker message was lost (a worker killed between taking it off
  the queue and recording it as unacknowledged; its story message too, with stories on) is queued
  again by the scheduler's sweep,
  ``worker.pending_sweep.MAX_REQUEUES`` times, then dead-lettered there (kind ``lost-in-broker``: the
  scheduler has no worker runtime, so that one dead letter does not go through ``dead_letter``).

Broker errors are not the payload's fault: the task is delivered again. Anything else unforeseen
dead-letters the payload at once (``dead_letter``), rather than bringing the message back forever.
Every dead letter goes through ``dead_letter``, every delayed retry through ``retry_later``.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from celery import Task
from kombu.exceptions import OperationalError

from conf.logs import log_event
from conf.settings import Settings
from state.deadletter import DeadLetter, DeadLetters
from state.pending import PendingArticles
from worker.app import app
from worker.pending_sweep import queue_batch, queue_task, task_sender
from worker.queues import PROCESS_ITEMS
from worker.runtime import Runtime, runtime

log = logging.getLogger("vigie.worker")

#: The tasks that carry articles: their dead letters end the articles' wait (state.pending)
ARTICLE_TASKS = (PROCESS_ITEMS, "vigie.index_articles")

#: Broker trouble is not the payload's fault: let the task be delivered again.
BROKER_ERRORS = (redis.RedisError, OperationalError)


def current_runtime() -> Runtime:
    """The runtime of this worker process, built from the settings the worker started with."""
    settings: Settings = app.conf.vigie_settings
    return runtime(settings)


def backoff_seconds(attempt: int, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: about 1, 2, 4 ... seconds, never more than ``cap``."""
    base = min(cap, 2.0 ** attempt)
    return (rng or random).uniform(base / 2, base)


@dataclass(frozen=True, slots=True)
class Budget:
    """How many tries a kind of failure gets, and the longest wait between two."""

    limit: int
    backoff_max: float

    def spent(self, used: int) -> bool:
        """True when ``used`` tries (retries of an outage, POSTs of a webhook) are the last allowed."""
        return used >= self.limit

    def delay(self, used: int, retry_after: float | None = None) -> float:
        """Seconds before the next try: backoff, or the receiver's Retry-After when longer (both capped)."""
        delay = backoff_seconds(used, self.backoff_max)
        if retry_after:
            delay = max(delay, min(retry_after, self.backoff_max))
        return delay


def outage_budget(settings: Settings) -> Budget:
    return Budget(settings.max_retries, settings.retry_backoff_max)


def webhook_budget(settings: Settings) -> Budget:
    return Budget(settings.webhook_max_attempts, settings.webhook_backoff_max)


@dataclass(frozen=True, slots=True)
class Letter:
    """What a dead letter keeps: the task that takes ``payload`` back, and the articles concerned."""

    task: str
    payload: list[dict[str, Any]]
    article_ids: list[str]


def dead_letter(rt: Runtime, letter: Letter, *, kind: str, error: str, attempts: int,
                event: str = "dead_letter.added", **fields: Any) -> DeadLetter:
    """Keep ``letter`` in the dead-letter list until a person replays it (`vigie dlq retry`), and log
    ``event`` with ``fields`` (the feed, alert or notification concerned)."""
    entry = rt.dead_letters.add(task=letter.task, payload=letter.payload, article_ids=letter.article_ids,
                                error_kind=kind, error=error, attempts=attempts)
    if letter.task in ARTICLE_TASKS:
        rt.pending.done(letter.article_ids)  # kept here now, not waited for (state.pending)
    # The caller's fields (the feed, alert or notification) first: what the letter itself says wins,
    # so a caller's ``articles=<count>`` cannot collide with the letter's article ids.
    details = {**fields, "entry": entry.entry_id, "task": letter.task, "kind": kind,
               "articles": ",".join(letter.article_ids) or "-", "attempts": attempts, "error": error}
    log_event(log, event, logging.ERROR, **details)
    return entry


def retry_later(task: Task, args: list[Any], delay: float, queue: str) -> str:
    """Queue ``task`` again in ``delay`` seconds; returns the new task's id."""
    return str(task.apply_async(args=args, countdown=delay, queue=queue).id)


def after_outage(rt: Runtime, used: int, *, again: Callable[[float], None], letter: Letter, error: str,
                 kind: str = "index-unavailable", event: str, **fields: Any) -> str:
    """Elasticsearch could not be reached, ``used`` retries so far: ``again(delay)`` queues the next
    try and ``event`` is logged, or, the budget spent, the letter is dead-lettered. Returns "deferred"
    or "dead-lettered"."""
    budget = outage_budget(rt.settings)
    if budget.spent(used):
        dead_letter(rt, letter, kind=kind, error=error, attempts=used + 1, **fields)
        return "dead-lettered"
    delay = budget.delay(used)
    again(delay)
    log_event(log, event, logging.WARNING, attempt=used + 1, retry_in_s=round(delay, 1), reason=error, **fields)
    return "deferred"


def unexpected(rt: Runtime, letter: Letter, error: BaseException, attempts: int, **fields: Any) -> None:
    """An error nobody planned for (a bug, an unforeseen refusal): the payload is dead-lettered at once,
    rather than left unacknowledged until the visibility timeout, again and again."""
    log.exception("task failed unexpectedly; payload dead-lettered",
                  extra={"task_name": letter.task, "articles": ",".join(letter.article_ids) or "-"})
    dead_letter(rt, letter, kind="unexpected-error", error=f"{type(error).__name__}: {error}", attempts=attempts,
                **fields)


#: Tasks whose dead letters hold one item per article (in ``article_ids`` order): replayed, their
#: articles wait as pending (state.pending) until done, and the scheduler's sweep queues them again
#: to the same task if the replay's message is lost.
REPLAYED_PENDING = ("vigie.index_articles", "vigie.assign_story_features")


#: Queues items to a task, its tries counted from zero (a replay, or a message the sweep found lost).
send_task = task_sender(app)


def replay(letters: DeadLetters, entry_ids: list[str] | None = None) -> list[DeadLetter]:
    """Send entries back to their task (all when ``entry_ids`` is None); each leaves the list once queued."""
    wanted = entry_ids if entry_ids is not None else [entry.entry_id for entry in letters.entries()]
    replayed: list[DeadLetter] = []
    for entry_id in wanted:
        entry = letters.take(entry_id)
        if entry is None:
            continue
        # Attempts start again from zero: a person decided the cause is fixed.
        args: list[Any] = [entry.payload, 0] if entry.task == "vigie.index_articles" else [entry.payload]
        try:
            if entry.task == PROCESS_ITEMS:  # feed items wait as pending, like the scheduler's batches
                queue_batch(lambda items, task_id: send_task(PROCESS_ITEMS, items, task_id),
                            PendingArticles(letters.redis), entry.payload, time.time())
            elif entry.task in REPLAYED_PENDING and len(entry.article_ids) == len(entry.payload):
                # Analysed articles and story features wait as pending too, with their task's name.
                queue_task(send_task, PendingArticles(letters.redis), entry.task, entry.payload, entry.article_ids,
                           time.time())
            else:
                app.send_task(entry.task, args=args)
        except Exception:
            letters.redis.hset(letters.key, entry.entry_id, json.dumps(entry.to_dict()))  # not lost
            raise
        replayed.append(entry)
    return replayed
