"""Accepted articles not yet indexed (and, with stories on, put into their story) or dead-lettered,
with the broker message that carries each.

The Redis transport of Celery takes a message off its queue (BRPOP) before it records it as
unacknowledged: a worker killed between the two (``kill -9``, an out-of-memory kill, a machine lost)
loses the message, and acknowledgement late or a visibility timeout cannot bring it back. So every
batch the scheduler queues is written here first, by article id, with the id of the task that
carries it; the article leaves when it is indexed or dead-lettered, and a deferred write (Elasticsearch
down or busy) moves it to the task that carries the retry. With stories on, an indexed article moves to
the story message that carries its features (worker.story_tasks), recorded before that message is
sent, and leaves once the story consumer has put it into its story (``done_by``) or dead-lettered it.
Articles replayed from the dead letters (`vigie dlq retry`) wait here too, with the item their task
takes back (``kind``: a feed item, an analysed article, story features). The scheduler's sweep
(``worker.pending_sweep``) queues again what no queue and no worker holds any more.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import redis

PENDING_KEY = "vigie:pending"  # hash: article id -> {"task", "at", "requeued", "kind"}
PENDING_ITEMS_KEY = "vigie:pending:items"  # hash: article id -> its item (read only to queue it again)
PENDING_AT_KEY = "vigie:pending:at"  # sorted set: article id, scored by when its task was queued
ABSENT_KEY = "vigie:pending:absent"  # set: task ids the last sweep found in no queue and with no worker


@dataclass(frozen=True, slots=True)
class PendingArticle:
    article_id: str
    task_id: str  # the message that carries the article now
    queued_at: float  # when that message was queued (epoch seconds)
    requeued: int = 0  # how many times the sweep queued it again
    #: What its item is: "" for a feed item (queued again for the analysis), else the name of the task
    #: that takes it (an analysed article or story features replayed from the dead letters)
    kind: str = ""


class PendingArticles:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def add(self, task_id: str, items: Sequence[dict[str, Any]], now: float, kind: str = "",
            article_ids: Sequence[str] | None = None) -> None:
        """``items`` are carried by ``task_id``: feed items as dicts, each with its ``article_id``; or,
        with ``kind`` (the task that takes them back), any items, whose ``article_ids`` are given in
        their order."""
        if not items:
            return
        ids = [str(item["article_id"]) for item in items] if article_ids is None else list(article_ids)
        if len(ids) != len(items):
            raise ValueError(f"{len(items)} pending items for task {task_id} with {len(ids)} article ids")
        with self.redis.pipeline() as pipe:
            for article_id, item in zip(ids, items):
                _carry(pipe, article_id, task_id, now, kind=kind)
                pipe.hset(PENDING_ITEMS_KEY, article_id, json.dumps(item))
            pipe.execute()

    def moved(self, article_ids: Iterable[str], task_id: str, now: float) -> None:
        """The articles are carried by ``task_id`` from now on (a retry queued); those no longer pending
        are left out."""
        ids = list(article_ids)
        if not ids:
            return
        write = self.moving(ids, task_id, now)
        with self.redis.pipeline() as pipe:
            write(pipe)
            pipe.execute()

    def moving(self, article_ids: Iterable[str], task_id: str, now: float) -> Callable[[redis.client.Pipeline], None]:
        """``moved`` to run in the caller's transaction (``MULTI``), with what else it writes there: the
        articles' entries are read now, and written by the function returned, given the pipeline."""
        ids = list(article_ids)
        found = self.redis.hmget(PENDING_KEY, ids) if ids else []

        def write(pipe: redis.client.Pipeline) -> None:
            for article_id, raw in zip(ids, found):
                if raw is None:
                    continue
                entry = json.loads(raw)
                _carry(pipe, article_id, task_id, now, int(entry.get("requeued", 0)), str(entry.get("kind", "")))

        return write

    def requeued(self, articles: Sequence[PendingArticle], task_id: str, now: float) -> None:
        """``articles`` were queued again by the sweep, in ``task_id``."""
        with self.redis.pipeline() as pipe:
            for article in articles:
                _carry(pipe, article.article_id, task_id, now, article.requeued + 1, article.kind)
            pipe.execute()

    def done(self, article_ids: Iterable[str]) -> None:
        """Indexed or dead-lettered: nothing more to watch."""
        ids = list(article_ids)
        if not ids:
            return
        with self.redis.pipeline() as pipe:
            pipe.hdel(PENDING_KEY, *ids)
            pipe.hdel(PENDING_ITEMS_KEY, *ids)
            pipe.zrem(PENDING_AT_KEY, *ids)
            pipe.execute()

    def done_by(self, task_id: str, article_ids: Iterable[str]) -> list[str]:
        """Those of ``article_ids`` still carried by ``task_id`` are done (one that moved on to a retry's
        message stays pending); returns them."""
        ids = list(article_ids)
        if not ids:
            return []
        finished = [article_id for article_id, raw in zip(ids, self.redis.hmget(PENDING_KEY, ids))
                    if raw is not None and json.loads(raw).get("task") == task_id]
        self.done(finished)
        return finished

    def queued_before(self, before: float, limit: int = 2000) -> list[PendingArticle]:
        """The pending articles whose task was queued before ``before``, oldest first."""
        ids = [raw.decode() for raw in self.redis.zrangebyscore(PENDING_AT_KEY, "-inf", before, start=0, num=limit)]
        if not ids:
            return []
        found = []
        for article_id, raw in zip(ids, self.redis.hmget(PENDING_KEY, ids)):
            if raw is None:  # done meanwhile
                continue
            entry = json.loads(raw)
            found.append(PendingArticle(article_id, entry["task"], float(entry["at"]), int(entry.get("requeued", 0)),
                                        str(entry.get("kind", ""))))
        return found

    def items(self, article_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The items of ``article_ids`` (those still pending), in that order."""
        return list(self.items_by_id(article_ids).values())

    def items_by_id(self, article_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The items of ``article_ids`` still pending, by article id (whatever their kind)."""
        if not article_ids:
            return {}
        return {article_id: json.loads(raw) for article_id, raw
                in zip(article_ids, self.redis.hmget(PENDING_ITEMS_KEY, list(article_ids))) if raw is not None}

    def count(self) -> int:
        return int(self.redis.hlen(PENDING_KEY))

    def absent_before(self, task_ids: Iterable[str]) -> set[str]:
        """Of ``task_ids``, those the previous sweep also found absent."""
        ids = list(task_ids)
        if not ids:
            return set()
        return {task for task, member in zip(ids, self.redis.smismember(ABSENT_KEY, ids)) if member}

    def remember_absent(self, task_ids: Iterable[str]) -> None:
        """What this sweep found absent, for the next one (and nothing older)."""
        ids = list(task_ids)
        with self.redis.pipeline() as pipe:
            pipe.delete(ABSENT_KEY)
            if ids:
                pipe.sadd(ABSENT_KEY, *ids)
            pipe.execute()


def _carry(pipe: redis.client.Pipeline, article_id: str, task_id: str, now: float, requeued: int = 0,
           kind: str = "") -> None:
    """Record, in ``pipe``, that ``task_id`` (queued at ``now``) carries the article."""
    entry: dict[str, Any] = {"task": task_id, "at": now}
    if requeued:
        entry["requeued"] = requeued
    if kind:
        entry["kind"] = kind
    pipe.hset(PENDING_KEY, article_id, json.dumps(entry))
    pipe.zadd(PENDING_AT_KEY, {article_id: now})
