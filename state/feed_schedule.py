"""When to poll each feed next, from how it behaved: a pure policy, no Redis, no Celery, no clock.

Every function takes the feed's ``FeedHealth`` and the time (UNIX seconds) and returns the next one.

- Adaptive interval (when the user fixed none), always within ``[min_interval, max_interval]``:
  halved when at least half of a poll's items are new (items may be slipping past between polls),
  multiplied by 1.5 when nothing changed (nothing new, or a 304), kept otherwise. The first success
  says nothing about rhythm (every item is new then) and keeps the interval.
- Failures: exponential backoff with full jitter. The ceiling is ``interval × 2^(failures-1)``,
  capped at ``backoff_max`` (permanent errors such as 404 or not-a-feed climb four times faster);
  the delay is drawn uniformly between ``min_interval`` and the ceiling, so feeds that broke together
  do not come back together. ``Retry-After`` is honoured up to ``backoff_max`` (a server asking for a
  week does not silence a feed for a week). The first success afterwards returns to the interval.
- Quiet: a feed that used to publish (``QUIET_MIN_GAPS`` gaps between polls that found something
  new) and has found nothing new for more than ``max(QUIET_FACTOR × its median gap, QUIET_FLOOR)``.
  An hourly feed is quiet after a day of silence, a weekly podcast after four weeks.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, fields, replace
from typing import Any

#: Gaps between new items remembered per feed (enough for a stable median, small to store).
MAX_GAPS = 20
QUIET_MIN_GAPS = 3
QUIET_FACTOR = 4.0
QUIET_FLOOR = 24 * 3600.0
#: Share of a poll's items that must be new for the interval to halve.
BUSY_RATIO = 0.5
SLOWER = 1.5
FASTER = 0.5
#: Permanent errors (404, not-a-feed) back off this many doublings ahead of transient ones.
PERMANENT_HEAD_START = 2


@dataclass(frozen=True, slots=True)
class ScheduleBounds:
    """The configured limits (``poll_min_interval``, ``poll_max_interval``, ``poll_interval``, ``backoff_max``)."""

    min_interval: float
    max_interval: float
    default_interval: float
    backoff_max: float

    def __post_init__(self) -> None:
        if not 0 < self.min_interval <= self.max_interval:
            raise ValueError("need 0 < min_interval <= max_interval")
        if self.backoff_max < self.min_interval:
            raise ValueError("backoff_max must be at least min_interval")

    def clamp(self, interval: float) -> float:
        return min(max(interval, self.min_interval), self.max_interval)


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """What Vigie knows about one feed's behaviour. Times are UNIX seconds; JSON-friendly fields only."""

    interval: float  # current poll interval (adaptive, or the user's)
    next_poll: float
    last_poll: float | None = None
    last_success: float | None = None  # last poll that got an answer (200 parsed, or 304)
    last_new_item: float | None = None  # last poll that found at least one new item
    last_error_kind: str | None = None  # the latest error, kept after recovery as history
    last_error_message: str | None = None
    last_error_at: float | None = None
    consecutive_failures: int = 0
    items_seen: int = 0  # new items found over the feed's life
    new_item_gaps: tuple[float, ...] = ()  # seconds between polls that found new items, oldest first
    quiet: bool = False  # is_quiet() as of the last poll

    def __post_init__(self) -> None:
        # Stored as JSON, the gaps come back as a list.
        if not isinstance(self.new_item_gaps, tuple):
            object.__setattr__(self, "new_item_gaps", tuple(float(gap) for gap in self.new_item_gaps))

    def to_dict(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in fields(self)} | {
            "new_item_gaps": list(self.new_item_gaps)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeedHealth:
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def new_health(bounds: ScheduleBounds, *, now: float, interval: float | None = None) -> FeedHealth:
    """A feed just added: due now, at the default (or the user's) interval."""
    return FeedHealth(interval=bounds.clamp(interval if interval is not None else bounds.default_interval),
                      next_poll=now)


def median_gap(state: FeedHealth) -> float | None:
    return statistics.median(state.new_item_gaps) if state.new_item_gaps else None


def is_quiet(state: FeedHealth, now: float) -> bool:
    """True when a feed that used to publish has been silent far beyond its usual rhythm."""
    if state.last_new_item is None or len(state.new_item_gaps) < QUIET_MIN_GAPS:
        return False
    usual = statistics.median(state.new_item_gaps)
    return now - state.last_new_item > max(QUIET_FACTOR * usual, QUIET_FLOOR)


def _adapted(state: FeedHealth, *, new_items: int, total_items: int, bounds: ScheduleBounds,
             fixed_interval: float | None) -> float:
    if fixed_interval is not None:
        return bounds.clamp(fixed_interval)
    interval = bounds.clamp(state.interval)
    if state.last_success is None:
        return interval  # the first answer: every item is new, which says nothing about rhythm
    if new_items == 0:
        return bounds.clamp(interval * SLOWER)
    if total_items and new_items / total_items >= BUSY_RATIO:
        return bounds.clamp(interval * FASTER)
    return interval


def after_success(state: FeedHealth, *, new_items: int, total_items: int, now: float, bounds: ScheduleBounds,
                  fixed_interval: float | None = None) -> FeedHealth:
    """A poll that was read: ``new_items`` of its ``total_items`` had never been seen."""
    gaps = state.new_item_gaps
    last_new = state.last_new_item
    if new_items > 0:
        if last_new is not None:
            gaps = (*gaps, max(0.0, now - last_new))[-MAX_GAPS:]
        last_new = now
    interval = _adapted(state, new_items=new_items, total_items=total_items, bounds=bounds,
                        fixed_interval=fixed_interval)
    updated = replace(state, interval=interval, next_poll=now + interval, last_poll=now, last_success=now,
                      last_new_item=last_new, consecutive_failures=0, items_seen=state.items_seen + max(0, new_items),
                      new_item_gaps=gaps)
    return replace(updated, quiet=is_quiet(updated, now))


def after_not_modified(state: FeedHealth, *, now: float, bounds: ScheduleBounds,
                       fixed_interval: float | None = None) -> FeedHealth:
    """A 304: the feed answered and nothing changed."""
    return after_success(state, new_items=0, total_items=0, now=now, bounds=bounds, fixed_interval=fixed_interval)


def backoff_ceiling(interval: float, failures: int, bounds: ScheduleBounds, *, transient: bool = True) -> float:
    """The longest wait after ``failures`` failures in a row: non-decreasing, never above ``backoff_max``."""
    if failures <= 0:
        return bounds.clamp(interval)
    doublings = failures - 1 + (0 if transient else PERMANENT_HEAD_START)
    base = max(bounds.min_interval, interval)
    return min(bounds.backoff_max, base * 2.0 ** min(doublings, 64))


def after_failure(state: FeedHealth, *, error_kind: str, error_message: str = "", transient: bool,
                  retry_after: float | None, now: float, bounds: ScheduleBounds,
                  rng: random.Random) -> FeedHealth:
    """A poll that failed: remember why and back off (jittered, honouring ``Retry-After``)."""
    failures = state.consecutive_failures + 1
    ceiling = backoff_ceiling(state.interval, failures, bounds, transient=transient)
    delay = rng.uniform(min(bounds.min_interval, ceiling), ceiling)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after, bounds.backoff_max))
    updated = replace(state, next_poll=now + delay, last_poll=now, last_error_kind=error_kind,
                      last_error_message=error_message, last_error_at=now, consecutive_failures=failures)
    return replace(updated, quiet=is_quiet(updated, now))
