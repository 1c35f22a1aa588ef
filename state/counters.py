"""Pipeline counters kept in Redis, so that every poller and worker process adds to the same figures.

- articles per stage: ``polled`` (items read in feed responses, repeats included), ``queued`` (new
  or changed items sent to the workers: the seen-set's accepted counter), ``indexed`` (documents
  written, re-deliveries included) and ``dead_lettered``;
- failed polls per feed;
- notification messages per delivery channel (``webhook``, ``email``) and outcome (``sent``: accepted
  by the receiver or the SMTP server; ``retried``: a transient failure, tried again later; ``failed``:
  attempts spent or a permanent refusal, dead-lettered), a digest counting as one message;
- the time from an article's fetch by a worker (``Article.fetched_at``) to its indexing, as a
  histogram: per-bucket counts, a sum and a count in one hash.

`GET /metrics` reads them (``read_*``). Counting is best effort: a Redis error is logged and
swallowed, so a figure can come out short but an article is never held back or retried for it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

import redis

from state.seen import ACCEPTED_KEY

log = logging.getLogger("vigie.counters")

STAGE_KEYS = {
    "polled": "vigie:stats:polled",
    "queued": ACCEPTED_KEY,
    "indexed": "vigie:stats:indexed",
    "dead_lettered": "vigie:stats:dead_lettered",
}
FEED_ERRORS_KEY = "vigie:stats:feed_errors"  # hash: feed id -> failed polls
LATENCY_KEY = "vigie:stats:fetched_to_indexed"  # hash: "le=<bound>" -> count (not cumulative), "sum", "count"
NOTIFY_KEY = "vigie:stats:notifications"  # hash: "<channel>:<outcome>" -> messages
NOTIFY_OUTCOMES = ("sent", "retried", "failed")
#: Upper bounds (seconds) of the fetched-to-indexed histogram buckets.
LATENCY_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


def _bucket_field(seconds: float) -> str:
    for bound in LATENCY_BUCKETS:
        if seconds <= bound:
            return f"le={bound}"
    return "le=+Inf"


def count_stage(client: redis.Redis, stage: str, amount: int) -> None:
    """Add ``amount`` articles to ``stage`` (one of STAGE_KEYS)."""
    if amount <= 0:
        return
    try:
        client.incrby(STAGE_KEYS[stage], amount)
    except redis.RedisError as error:
        log.warning("counter.lost stage=%s amount=%d error=%s", stage, amount, error)


def count_feed_error(client: redis.Redis, feed_id: str) -> None:
    try:
        client.hincrby(FEED_ERRORS_KEY, feed_id, 1)
    except redis.RedisError as error:
        log.warning("counter.lost feed=%s error=%s", feed_id, error)


def count_notification(client: redis.Redis, channel: str, outcome: str, amount: int = 1) -> None:
    """A message to ``channel`` (webhook, email) ended in ``outcome`` (one of NOTIFY_OUTCOMES)."""
    try:
        client.hincrby(NOTIFY_KEY, f"{channel}:{outcome}", amount)
    except redis.RedisError as error:
        log.warning("counter.lost channel=%s outcome=%s error=%s", channel, outcome, error)


def count_indexed(client: redis.Redis, fetched_at: Iterable[datetime | None], now: datetime | None = None) -> None:
    """Articles just indexed: count them and record how long each took since it was fetched."""
    now = now or datetime.now(timezone.utc)
    moments = list(fetched_at)
    if not moments:
        return
    try:
        with client.pipeline(transaction=False) as pipe:
            pipe.incrby(STAGE_KEYS["indexed"], len(moments))
            for moment in moments:
                if moment is None:
                    continue
                seconds = max(0.0, (now - moment).total_seconds())
                pipe.hincrby(LATENCY_KEY, _bucket_field(seconds), 1)
                pipe.hincrbyfloat(LATENCY_KEY, "sum", seconds)
                pipe.hincrby(LATENCY_KEY, "count", 1)
            pipe.execute()
    except redis.RedisError as error:
        log.warning("counter.lost stage=indexed amount=%d error=%s", len(moments), error)


# -- reading (the API's /metrics) ---------------------------------------------------------------------


@dataclass(frozen=True)
class LatencyHistogram:
    buckets: tuple[tuple[str, int], ...]  # ("0.25", cumulative count) ... ("+Inf", count)
    total: float
    count: int


def read_stage_counts(client: redis.Redis) -> dict[str, int]:
    values = client.mget(list(STAGE_KEYS.values()))
    return {stage: int(value or 0) for stage, value in zip(STAGE_KEYS, values)}


def read_feed_errors(client: redis.Redis) -> dict[str, int]:
    return {key.decode(): int(value) for key, value in client.hgetall(FEED_ERRORS_KEY).items()}


def read_index_latency(client: redis.Redis) -> LatencyHistogram:
    raw = {key.decode(): value for key, value in client.hgetall(LATENCY_KEY).items()}
    cumulative, buckets = 0, []
    for bound in (*(str(bound) for bound in LATENCY_BUCKETS), "+Inf"):
        cumulative += int(raw.get(f"le={bound}", 0))
        buckets.append((bound, cumulative))
    return LatencyHistogram(buckets=tuple(buckets), total=float(raw.get("sum", 0.0)), count=int(raw.get("count", 0)))


def read_notification_counts(client: redis.Redis) -> dict[tuple[str, str], int]:
    """(channel, outcome) -> messages; every outcome of the webhook and e-mail channels, zero included."""
    counts = {(channel, outcome): 0 for channel in ("webhook", "email") for outcome in NOTIFY_OUTCOMES}
    for key, value in client.hgetall(NOTIFY_KEY).items():
        channel, _, outcome = key.decode().partition(":")
        counts[(channel, outcome)] = int(value)
    return counts
