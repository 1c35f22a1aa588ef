"""`GET /metrics`: Prometheus text, from this process and from what the pipeline keeps in Redis.

In this process: the latency of every API request (a histogram per method, route template and
status). Read at each scrape, cheaply: articles per stage and the fetched-to-indexed latency
(``state.counters``), documents in the index, tasks waiting per queue, dead-letter entries, feeds
per status, failed polls and failures in a row per feed, notification messages per delivery channel
(webhook, email) and outcome (sent, retried, failed). A source that cannot be read is skipped
and reported by ``vigie_component_up{component=...} 0``, so a scrape never fails for it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conf.logs import redacted_url
from state.counters import read_feed_errors, read_index_latency, read_notification_counts, read_stage_counts
from state.deadletter import DLQ_KEY
from state.pending import PENDING_KEY
from vigie.api.context import ApiContext
from worker.queues import QUEUES

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
REQUEST_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PipelineCollector(Collector):
    """Figures read from Redis and Elasticsearch at scrape time."""

    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("vigie_component_up", "Whether this scrape could read the component.",
                               labels=["component"])
        redis_ok = True
        try:
            yield from self._from_redis()
        except Exception:  # noqa: BLE001 - reported by vigie_component_up
            redis_ok = False
        up.add_metric(["redis"], 1.0 if redis_ok else 0.0)
        try:
            documents = self.ctx.store().count()
            gauge = GaugeMetricFamily("vigie_index_documents", "Articles in the Elasticsearch index.")
            gauge.add_metric([], documents)
            yield gauge
            up.add_metric(["elasticsearch"], 1.0)
        except Exception:  # noqa: BLE001
            up.add_metric(["elasticsearch"], 0.0)
        yield up

    def _from_redis(self) -> Iterator[Metric]:
        client = self.ctx.redis
        stages = read_stage_counts(client)
        articles = CounterMetricFamily(
            "vigie_articles", "Articles per pipeline stage since the Redis data began: polled (items read in "
            "feeds, repeats included), queued (new or changed), indexed (writes, re-deliveries included), "
            "dead_lettered.", labels=["stage"])
        for stage, value in stages.items():
            articles.add_metric([stage], value)

        with client.pipeline(transaction=False) as pipe:
            for queue in QUEUES:
                pipe.llen(queue)
            pipe.hlen(DLQ_KEY)
            pipe.hlen(PENDING_KEY)
            *depths, dead, waiting = pipe.execute()
        queues = GaugeMetricFamily("vigie_queue_depth", "Tasks waiting in a Celery queue.", labels=["queue"])
        for queue, depth in zip(QUEUES, depths):
            queues.add_metric([queue], depth)
        dead_letters = GaugeMetricFamily("vigie_dead_letter_entries", "Entries in the dead-letter list.")
        dead_letters.add_metric([], dead)
        pending = GaugeMetricFamily(
            "vigie_pending_articles", "Articles queued by the scheduler and not yet indexed (with stories on, "
            "put into their story) or dead-lettered (state.pending): a queue's backlog, or articles whose "
            "broker message was lost, which the scheduler's sweep queues again.")
        pending.add_metric([], waiting)

        latency = read_index_latency(client)
        histogram = HistogramMetricFamily(
            "vigie_fetched_to_indexed_seconds",
            "Seconds from an article's fetch by a worker to its indexing (analysis, queueing and retries).")
        histogram.add_metric([], [(bound, float(count)) for bound, count in latency.buckets], sum_value=latency.total)

        feeds = self.ctx.registry.all()
        errors = read_feed_errors(client)
        now = time.time()
        by_status = GaugeMetricFamily("vigie_feeds", "Followed feeds per health status.", labels=["status"])
        counts = {"new": 0, "ok": 0, "failing": 0, "quiet": 0}
        failures = GaugeMetricFamily("vigie_feed_consecutive_failures", "Failed polls in a row, per feed.",
                                     labels=["feed_id", "url"])
        failed_polls = CounterMetricFamily("vigie_feed_errors", "Failed polls per feed since it was followed.",
                                           labels=["feed_id", "url"])
        for feed in feeds:
            status = feed.status(now)
            counts[status] = counts.get(status, 0) + 1
            failures.add_metric([feed.feed_id, redacted_url(feed.url)], feed.health.consecutive_failures)
            failed_polls.add_metric([feed.feed_id, redacted_url(feed.url)], errors.get(feed.feed_id, 0))
        for status, count in counts.items():
            by_status.add_metric([status], count)
        notifications = CounterMetricFamily(
            "vigie_notification_messages", "Alert messages (a match, or a digest) per delivery channel (webhook, "
            "email) and outcome: sent (accepted by the receiver or the SMTP server), retried (a transient "
            "failure, tried again later), failed (attempts spent or refused: dead-lettered).",
            labels=["channel", "outcome"])
        for (channel, outcome), value in sorted(read_notification_counts(client).items()):
            notifications.add_metric([channel, outcome], value)
        yield from (articles, queues, dead_letters, pending, histogram, by_status, failures, failed_polls, notifications)


class ApiMetrics:
    """The registry `/metrics` renders: this process's request histogram and the pipeline figures."""

    def __init__(self, ctx: ApiContext) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Histogram(
            "vigie_api_request_duration_seconds", "Time to answer an API request, per route template.",
            ["method", "route", "status"], buckets=REQUEST_BUCKETS, registry=self.registry)
        self.registry.register(PipelineCollector(ctx))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RequestTimer:
    """ASGI middleware observing each request's duration under its route template (not its path, so
    article ids do not become labels). Server-Sent Event streams are left out: they last for minutes."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500
        streaming = False

        async def timed_send(message: Message) -> None:
            nonlocal status, streaming
            if message["type"] == "http.response.start":
                status = message["status"]
                streaming = any(name == b"content-type" and value.startswith(b"text/event-stream")
                                for name, value in message.get("headers", []))
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            if not streaming:
                route = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                self.metrics.requests.labels(scope["method"], template, str(status)).observe(
                    time.perf_counter() - began)
