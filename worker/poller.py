"""The poller process (`vigie scheduler`): polls each feed when due and queues its new articles.

A pool of threads polls due feeds side by side, so one slow or broken feed never delays the others
(each fetch is bounded by the total timeout). New items from every feed go into one batcher, which
queues a task when it holds ``batch_size`` items or its oldest item has waited ``batch_wait``
seconds: workers get batches worth sending through ``nlp.pipe`` and one bulk request, and a lone
item still leaves within half a second. Items are remembered as seen only once queued: if the poller
dies in between, the next poll queues them again and the index, keyed by article id, holds each once.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import redis

from conf.limits import fetch_limits
from conf.logs import log_event
from conf.settings import Settings
from ingest.fetch import Fetcher
from ingest.models import FeedItem
from ingest.poll import FeedPoll, fetch_feed
from state.counters import count_feed_error, count_stage
from state.registry import Feed, FeedRegistry, bounds_from
from state.pending import PendingArticles
from state.seen import SeenArticles
from worker.app import app
from worker.digests import AlertClock
from worker.pending_sweep import PendingSweep, queue_batch
from worker.queues import PROCESS_ITEMS
from worker.retention import RetentionSweep
from worker.retries import send_task

log = logging.getLogger("vigie.poller")

TICK_SECONDS = 0.25


class Batcher:
    """Groups new items by count and time, then hands each batch to ``send`` (which queues it)."""

    def __init__(self, send: Callable[[list[FeedItem]], None], size: int, wait: float) -> None:
        self.send = send
        self.size = size
        self.wait = wait
        self._items: list[FeedItem] = []
        self._oldest: float | None = None
        self._lock = threading.Lock()

    def add(self, items: Sequence[FeedItem]) -> None:
        full: list[list[FeedItem]] = []
        with self._lock:
            # The same story carried by two feeds polled at the same moment is queued once.
            pending = {item.article_id for item in self._items}
            fresh = [item for item in items if item.article_id not in pending]
            if not self._items and fresh:
                self._oldest = time.monotonic()
            self._items.extend(fresh)
            while len(self._items) >= self.size:
                full.append(self._items[: self.size])
                self._items = self._items[self.size :]
                self._oldest = time.monotonic() if self._items else None
        for batch in full:
            self.send(batch)

    def flush(self, force: bool = False) -> None:
        """Send what waited ``wait`` seconds (everything when ``force``)."""
        with self._lock:
            if not self._items or self._oldest is None:
                return
            if not force and time.monotonic() - self._oldest < self.wait:
                return
            batch, self._items, self._oldest = self._items, [], None
        self.send(batch)

    def due_in(self) -> float | None:
        with self._lock:
            return None if self._oldest is None else max(0.0, self.wait - (time.monotonic() - self._oldest))


def send_batch(items: list[dict[str, object]], task_id: str) -> None:
    """Queue one batch of feed items (as dicts) for the analysis, as task ``task_id``."""
    send_task(PROCESS_ITEMS, items, task_id)


class Poller:
    def __init__(self, settings: Settings, fetcher: Fetcher, client: redis.Redis) -> None:
        self.settings = settings
        self.fetcher = fetcher
        self.registry = FeedRegistry(client, bounds_from(settings))
        self.seen = SeenArticles(client, settings.seen_ttl_days)
        self.stop_event = threading.Event()
        self.in_flight: dict[str, Future[None]] = {}
        self.batcher = Batcher(self.queue, settings.batch_size, settings.batch_wait)
        self.alert_clock = AlertClock(settings, self.queue_task)
        self.retention = RetentionSweep(settings, client)
        self.pending = PendingArticles(client)
        self.pending_sweep = PendingSweep(client, send_task)

    def queue(self, batch: list[FeedItem]) -> None:
        """Queue one batch for the workers (pending until indexed: worker.pending_sweep), then remember
        its items as seen."""
        try:
            queue_batch(send_batch, self.pending, [item.to_dict() for item in batch], time.time())
        except Exception as error:  # noqa: BLE001 - broker down: the items stay unseen and come back
            log_event(log, "articles.queue_failed", logging.ERROR, articles=len(batch), error=str(error),
                      first_article=batch[0].article_id)
            return
        self.seen.accept(batch)
        for item in batch:
            log_event(log, "article.queued", article=item.article_id, feed=item.feed_url, url=item.url)

    def queue_task(self, name: str, args: list[object]) -> None:
        """Queue a periodic alert task (worker.digests)."""
        app.send_task(name, args=args)

    def poll(self, feed: Feed) -> FeedPoll:
        """Poll one feed: fetch, queue what is new, record health. Never raises for the feed."""
        poll = fetch_feed(self.fetcher, feed.url, etag=feed.etag, last_modified=feed.last_modified)
        new: list[FeedItem] = []
        new_here = 0  # new to this feed, whether or not another feed carried them first
        if poll.ok and poll.items:
            new = self.seen.unseen(poll.items)
            self.batcher.add(new)
            new_here = self.seen.new_to_feed(feed.feed_id, poll.items, time.time())
        if poll.ok:
            count_stage(self.registry.redis, "polled", len(poll.items))
        elif poll.error is not None:
            count_feed_error(self.registry.redis, feed.feed_id)
        updated = self.registry.record(feed, poll, new_items=new_here, now=time.time())
        if poll.ok:
            log_event(log, "feed.polled", feed=feed.url, status=poll.status,
                      not_modified=poll.not_modified, items=len(poll.items), new=len(new), new_here=new_here,
                      warnings=len(poll.warnings), next_in_s=round(updated.health.next_poll - time.time()))
        else:
            assert poll.error is not None
            log_event(log, "feed.failed", logging.WARNING, feed=feed.url, status=poll.status,
                      kind=poll.error.kind, error=poll.error.message,
                      failures=updated.health.consecutive_failures,
                      next_in_s=round(updated.health.next_poll - time.time()))
        return poll

    def _poll_safely(self, feed: Feed) -> None:
        try:
            self.poll(feed)
        except redis.RedisError as error:
            # The feed stays claimed until its lease ends, then it is polled again.
            log_event(log, "feed.poll_interrupted", logging.ERROR, feed=feed.url, error=f"Redis: {error}")
        except Exception:  # noqa: BLE001 - a bug with one feed must not stop the others
            log.exception("feed.poll_crashed feed=%s", feed.url)

    def run(self) -> None:
        threads = self.settings.poll_threads
        lease = self.settings.total_timeout * 2 + 30
        log_event(log, "poller.started", threads=threads, redis=self.settings.redis_url)
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="poll") as pool:
            while not self.stop_event.is_set():
                self.in_flight = {key: future for key, future in self.in_flight.items() if not future.done()}
                free = threads - len(self.in_flight)
                try:
                    due = self.registry.claim_due(time.time(), limit=free, lease=lease) if free > 0 else []
                except redis.RedisError as error:
                    log_event(log, "poller.redis_unavailable", logging.ERROR, error=str(error), retry_in_s=2)
                    self.stop_event.wait(2.0)
                    continue
                for feed in due:
                    self.in_flight[feed.feed_id] = pool.submit(self._poll_safely, feed)
                self.batcher.flush()
                self.alert_clock.tick(time.time())
                self.retention.tick(time.time())
                self.pending_sweep.tick(time.time())
                if not due:
                    wait = self.batcher.due_in()
                    self.stop_event.wait(TICK_SECONDS if wait is None else min(TICK_SECONDS, wait + 0.01))
        # Leaving the pool waited for the polls in flight: queue what they found.
        self.batcher.flush(force=True)
        log_event(log, "poller.stopped")


def run_poller(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM; polls in flight finish (each is bounded by the total timeout)."""
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10, socket_connect_timeout=5)
    with Fetcher(fetch_limits(settings)) as fetcher:
        poller = Poller(settings, fetcher, client)

        def stop(signum: int, _frame: object) -> None:
            log_event(log, "poller.stopping", signal=signal.Signals(signum).name)
            poller.stop_event.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        poller.run()
