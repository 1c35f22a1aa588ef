"""Analysed articles written together: each analysis task puts its batch with those waiting
(state.staged), then writes what waits, VIGIE_WRITE_BATCH_MAX at a time, unless another writer is at
it. One writer at a time, under a lease renewed while it writes (worker.lease): while it writes, the
other processes analyse, and their batches join the next write instead of each paying its own
near-duplicate lookup and bulk request. When writing keeps up (the usual case: the analysis is far
slower), a write takes one task's batch, as before; when it falls behind, writes grow.

No lost wakeup: a task that finds the lease held leaves its articles waiting, and every writer looks
at the waiting list again after giving the lease back. A writer killed mid-write leaves what it took
in its own list; the next writer puts it back first (``StagedArticles.reclaim``), and the scheduler's
sweep queues a write when articles wait and nobody holds the lease (``queue_write_if_waiting``).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import redis
from redis.exceptions import LockError

from conf.logs import log_event
from ingest.models import AnalyzedArticle
from state.pending import PendingArticles
from state.staged import STAGED_TASK, WRITER_LEASE_KEY, StagedArticles
from worker.lease import RenewedLock

log = logging.getLogger("vigie.worker")

#: Seconds a writer's lease lasts unless renewed (renewed every third of it while it writes): a dead
#: writer's articles wait at most this long for the next writer.
WRITER_LEASE_SECONDS = 10.0

#: Writes a batch of analysed articles (worker.tasks.store); raises a broker error to leave the batch
#: to the next writer.
Write = Callable[[list[AnalyzedArticle]], object]
#: Hands on a batch that could not be written for an unforeseen reason (the dead letters).
Refuse = Callable[[list[dict], list[str], BaseException], None]


def stage(client: redis.Redis, analysed: Sequence[AnalyzedArticle]) -> None:
    """``analysed`` join the articles waiting to be written; their pending records now name the
    waiting list as what carries them (state.pending: the sweep leaves them to the writers).

    What waits is what the write reads (``staged_record``): not the article's raw body, which only the
    analysis reads (the document keeps the clean text)."""
    if not analysed:
        return
    pending = PendingArticles(client)
    ids = [item.article.article_id for item in analysed]
    moving = pending.moving(ids, STAGED_TASK, time.time())
    StagedArticles(client).put([orjson.dumps(staged_record(item)) for item in analysed], also=moving)
    # which process analysed which articles (the write, and its "article.indexed" lines, may be another's)
    log_event(log, "articles.staged", articles=",".join(ids),
              feeds=",".join(sorted({item.article.feed_url for item in analysed})))


def staged_record(item: AnalyzedArticle) -> dict[str, Any]:
    """The analysed article as it waits to be written: ``AnalyzedArticle.to_dict`` without the raw body
    (an HTML page for an article read from its page, the feed's text otherwise), which nothing after the
    analysis reads. The body is a third of an article read from its feed's text and most of one read from
    its page; every waiting article is written to Redis, to its append-only file, and read back."""
    record = item.to_dict()
    record["article"]["body"] = ""
    return record


def write_waiting(client: redis.Redis, write: Write, refuse: Refuse, most: int) -> int:
    """Write what waits, ``most`` articles at a time, while this process can hold the writers' lease;
    returns how many articles it took. Returns at once when another writer holds the lease."""
    staged = StagedArticles(client)
    lock = RenewedLock(client, WRITER_LEASE_KEY, lease=WRITER_LEASE_SECONDS, wait=0)
    taken = 0
    while staged.waiting():
        if not lock.acquire():
            return taken  # the holder looks at the list again once it gives the lease back
        token = uuid.uuid4().hex
        try:
            back = staged.reclaim(token)
            if back:
                log_event(log, "articles.write_reclaimed", level=logging.WARNING, articles=back)
            while batch := staged.take(token, most):
                taken += len(batch)
                _write_batch(batch, write, refuse)
                staged.finish(token)
        finally:
            try:
                lock.release()
            except LockError:  # the lease ran out meanwhile: another writer may have reclaimed our batch
                log_event(log, "articles.write_lease_lost", level=logging.WARNING, lease=WRITER_LEASE_SECONDS)
    return taken


def _write_batch(batch: Sequence[bytes], write: Write, refuse: Refuse) -> None:
    """One write of what was taken: the last copy of an article wins (a task delivered twice)."""
    by_id: dict[str, AnalyzedArticle] = {}
    broken: list[dict] = []
    for raw in batch:
        try:
            item = AnalyzedArticle.from_dict(orjson.loads(raw))
        except (ValueError, KeyError, TypeError) as error:  # not written by ``stage``: keep it, as it came
            broken.append({"raw": raw.decode("utf-8", "replace"), "error": f"{type(error).__name__}: {error}"})
            continue
        by_id[item.article.article_id] = item
    if broken:
        refuse(broken, [], ValueError(f"{len(broken)} waiting articles could not be read"))
    if not by_id:
        return
    analysed = list(by_id.values())
    try:
        write(analysed)
    except (redis.RedisError, ConnectionError):
        raise  # left in this writer's list: the next writer writes it
    except Exception as error:  # noqa: BLE001 - a bug or an unforeseen refusal: dead-lettered, not retried forever
        refuse([item.to_dict() for item in analysed], list(by_id), error)
