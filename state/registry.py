"""The feed registry: which feeds Vigie follows, their health and when each is polled next.

Stored in Redis, which runs with append-only persistence, so the registry survives a restart of
everything. One hash holds each feed as JSON; a sorted set orders feed ids by next poll time, which
is all the poller needs to find what is due. The scheduling policy itself (backoff, adaptive interval,
quiet detection) is pure and lives in state.feed_schedule.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import redis

from conf.limits import FetchLimits, fetch_limits
from conf.logs import redacted_url
from conf.settings import Settings
from ingest.errors import VigieError
from ingest.identity import canonical_url
from state.feed_schedule import (
    FeedHealth,
    ScheduleBounds,
    after_failure,
    after_not_modified,
    after_success,
    is_quiet,
    new_health,
)
from state.seen import FEED_ITEMS_PREFIX

if TYPE_CHECKING:  # the fetch layer (httpx, httpcore, feedparser) only when a feed is added or polled
    from ingest.poll import FeedPoll
    from ingest.transport import AddressPolicy

FEEDS_KEY = "vigie:feeds"
DUE_KEY = "vigie:feeds:due"


class FeedNotFound(VigieError):
    kind = "feed-not-found"


class FeedExists(VigieError):
    kind = "feed-exists"


class AmbiguousFeed(VigieError):
    kind = "ambiguous-feed"


def feed_id_for(url: str) -> str:
    """A feed's id: a short hash of its canonical URL (so the same feed cannot be added twice)."""
    return hashlib.sha1(canonical_url(url).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Feed:
    feed_id: str
    url: str
    name: str | None
    interval: float | None  # fixed by the user; None lets the interval adapt to the feed's rhythm
    added_at: float
    etag: str | None
    last_modified: str | None
    health: FeedHealth
    title: str | None = None  # the feed's own title, from its last successful poll
    tags: tuple[str, ...] = ()  # the user's folders (OPML folders on import; nested ones as "News/World")

    @property
    def display_name(self) -> str:
        """How people see the feed: the name they gave it, else its own title, else its URL."""
        return self.name or self.title or redacted_url(self.url)

    @property
    def quiet(self) -> bool:
        return is_quiet(self.health, time.time())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Feed:
        values = dict(data)
        values["health"] = FeedHealth.from_dict(values["health"])
        values["tags"] = tuple(values.get("tags") or ())  # records written before tags have none
        return cls(**values)

    def describe(self, now: float | None = None) -> dict[str, Any]:
        """What `vigie feeds list` shows: the feed, its health and when it is polled next."""
        now = time.time() if now is None else now
        health = self.health

        def stamp(value: float | None) -> str | None:  # to the second: people read these
            return datetime.fromtimestamp(int(value), timezone.utc).isoformat() if value else None

        return {
            "id": self.feed_id,
            "url": redacted_url(self.url),  # shown: the stored URL keeps its credentials
            "name": self.name,
            "title": self.title,
            "display_name": self.display_name,
            "tags": list(self.tags),
            "interval": self.interval if self.interval is not None else health.interval,
            "adaptive": self.interval is None,
            "last_success": stamp(health.last_success),
            "last_error": (
                {"kind": health.last_error_kind, "message": health.last_error_message}
                if health.last_error_kind else None
            ),
            "consecutive_failures": health.consecutive_failures,
            "next_poll": stamp(health.next_poll),
            "items_seen": health.items_seen,
            "status": self.status(now),
        }

    def status(self, now: float) -> str:
        if self.health.consecutive_failures:
            return "failing"
        if is_quiet(self.health, now):
            return "quiet"
        if self.health.last_success is None:
            return "new"
        return "ok"


def bounds_from(settings: Settings) -> ScheduleBounds:
    return ScheduleBounds(
        min_interval=settings.poll_min_interval,
        max_interval=settings.poll_max_interval,
        default_interval=settings.poll_interval,
        backoff_max=settings.backoff_max,
    )


class FeedRegistry:
    def __init__(self, client: redis.Redis, bounds: ScheduleBounds, rng: random.Random | None = None,
                 policy: AddressPolicy | None = None, limits: FetchLimits | None = None) -> None:
        """``policy``: the addresses a feed may resolve to, checked when it is added; or ``limits``, the
        fetch limits it is made from when first needed (None and None: not checked)."""
        self.redis = client
        self.bounds = bounds
        self.rng = rng or random.Random()
        self._policy = policy
        self._limits = limits

    @property
    def policy(self) -> AddressPolicy | None:
        """The addresses a feed may resolve to, checked when it is added."""
        if self._policy is None and self._limits is not None:
            # the fetch layer: 0.04 s of CPU of `vigie search`, which only reads the registry (measured, see
            # docs/performance.md "CLI start-up")
            from ingest.transport import fetch_policy

            self._policy = fetch_policy(self._limits)
        return self._policy

    # -- people ------------------------------------------------------------------------------------

    def add(self, url: str, *, name: str | None = None, interval: float | None = None,
            exist_ok: bool = False, poll_now: bool = True, title: str | None = None,
            tags: tuple[str, ...] = ()) -> Feed:
        """Follow ``url``. Raises FeedExists unless ``exist_ok``; then the feed is only made due now."""
        from ingest.fetch import validate_feed_url  # with the fetch layer: see ``policy``

        validate_feed_url(url, self.policy)
        feed_id = feed_id_for(url)
        now = time.time()
        existing = self.get(feed_id)
        if existing is not None:
            if not exist_ok:
                raise FeedExists(f"the feed {url} is already followed (id {feed_id}).")
            if poll_now:
                self.redis.zadd(DUE_KEY, {feed_id: now})
            return existing
        if interval is not None:
            interval = min(max(interval, self.bounds.min_interval), self.bounds.max_interval)
        health = new_health(self.bounds, now=now, interval=interval)
        feed = Feed(feed_id=feed_id, url=url, name=name, interval=interval, added_at=now,
                    etag=None, last_modified=None, health=health, title=title,
                    tags=tuple(dict.fromkeys(tag.strip() for tag in tags if tag.strip())))
        self._save(feed, next_poll=now if poll_now else health.next_poll)
        return feed

    def remove(self, url_or_id: str) -> Feed:
        feed = self.find(url_or_id)
        with self.redis.pipeline() as pipe:
            pipe.hdel(FEEDS_KEY, feed.feed_id)
            pipe.zrem(DUE_KEY, feed.feed_id)
            pipe.delete(FEED_ITEMS_PREFIX + feed.feed_id)
            pipe.execute()
        return feed

    def find(self, url_or_id: str) -> Feed:
        """A feed by id, URL, the name given to it or its own title (names and titles compared without
        case); a name two feeds share is an error listing them."""
        feed = self.get(url_or_id) or self.get(feed_id_for(url_or_id) if "://" in url_or_id else url_or_id)
        if feed is not None:
            return feed
        wanted = " ".join(url_or_id.split()).casefold()
        named = [candidate for candidate in self.all()
                 if wanted and wanted in {" ".join((candidate.name or "").split()).casefold(),
                                          " ".join((candidate.title or "").split()).casefold()}]
        if len(named) == 1:
            return named[0]
        if named:
            listed = "; ".join(f"{candidate.feed_id} <{redacted_url(candidate.url)}>" for candidate in named)
            raise AmbiguousFeed(f"{len(named)} followed feeds are named {url_or_id!r}: {listed}; "
                                "name one by its id or URL.")
        raise FeedNotFound(f"no followed feed is {url_or_id!r} (by id, URL, name or title; see `vigie feeds list`).")

    def rename(self, url_or_id: str, name: str) -> Feed:
        """Give a feed the name people see (its own title stays as the feed document says)."""
        feed = self.find(url_or_id)
        cleaned = " ".join(name.split())
        if not cleaned:
            raise VigieError(f"a feed's new name cannot be empty (feed {redacted_url(feed.url)}).", kind="invalid-name")
        return self._update(feed.feed_id, lambda current: replace(current, name=cleaned)) or feed

    def set_tags(self, url_or_id: str, tags: tuple[str, ...]) -> Feed:
        feed = self.find(url_or_id)
        cleaned = tuple(dict.fromkeys(tag.strip() for tag in tags if tag.strip()))
        return self._update(feed.feed_id, lambda current: replace(current, tags=cleaned)) or feed

    def poll_now(self, url_or_id: str) -> Feed:
        """Make a feed due now: the running poller reads it on its next tick."""
        feed = self.find(url_or_id)
        self.redis.zadd(DUE_KEY, {feed.feed_id: time.time()})
        return feed

    def _update(self, feed_id: str, change: Any) -> Feed | None:
        """Rewrite one record, keeping its place in the poll schedule; None if it was removed meanwhile."""
        current = self.get(feed_id)
        if current is None:
            return None
        updated = change(current)
        self.redis.hset(FEEDS_KEY, feed_id, json.dumps(updated.to_dict()))
        return updated

    def get(self, feed_id: str) -> Feed | None:
        raw = self.redis.hget(FEEDS_KEY, feed_id)
        return Feed.from_dict(json.loads(raw)) if raw else None

    def get_by_url(self, url: str) -> Feed | None:
        return self.get(feed_id_for(url))

    def all(self) -> list[Feed]:
        feeds = [Feed.from_dict(json.loads(raw)) for raw in self.redis.hvals(FEEDS_KEY)]
        return sorted(feeds, key=lambda feed: (feed.name or feed.url).lower())

    def tags_by_url(self) -> dict[str, tuple[str, ...]]:
        """Feed URL -> its tags, for the feeds that have some: what alerts with tags match articles by."""
        return {feed.url: feed.tags for feed in self.all() if feed.tags}

    def titles(self) -> dict[str, str]:
        """Feed URL -> the name people see (name, else own title), for feeds that have one: how search
        hits and facets name their feed."""
        return {feed.url: feed.name or feed.title for feed in self.all() if feed.name or feed.title}

    # -- the poller ----------------------------------------------------------------------------------

    def claim_due(self, now: float, limit: int, lease: float) -> list[Feed]:
        """Feeds due by ``now``, at most ``limit``; each is pushed ``lease`` seconds ahead so that a
        second poller (or this one, on its next tick) does not poll it again while it is in flight."""
        ids = [value.decode() for value in self.redis.zrangebyscore(DUE_KEY, "-inf", now, start=0, num=limit)]
        claimed: list[Feed] = []
        for feed_id in ids:
            # ZADD XX GT moves the score only forward: two pollers cannot both claim the same feed.
            changed = self.redis.zadd(DUE_KEY, {feed_id: now + lease}, xx=True, gt=True, ch=True)
            if changed:
                feed = self.get(feed_id)
                if feed is not None:
                    claimed.append(feed)
        return claimed

    def next_due_in(self, now: float) -> float | None:
        first = self.redis.zrange(DUE_KEY, 0, 0, withscores=True)
        return max(0.0, first[0][1] - now) if first else None

    def record(self, feed: Feed, poll: FeedPoll, *, new_items: int, now: float) -> Feed:
        """Update ``feed`` after a poll: validators, health and next poll time."""
        current = self.get(feed.feed_id)
        if current is None:  # removed while it was being polled
            return feed
        if poll.not_modified:
            health = after_not_modified(current.health, now=now, bounds=self.bounds, fixed_interval=current.interval)
        elif poll.ok:
            health = after_success(current.health, new_items=new_items, total_items=len(poll.items), now=now,
                                   bounds=self.bounds, fixed_interval=current.interval)
        else:
            assert poll.error is not None
            health = after_failure(current.health, error_kind=poll.error.kind, error_message=poll.error.message,
                                   transient=poll.error.transient, retry_after=poll.retry_after, now=now,
                                   bounds=self.bounds, rng=self.rng)
        updated = replace(
            current,
            url=poll.permanent_redirect or current.url,
            etag=poll.etag if poll.ok else current.etag,
            last_modified=poll.last_modified if poll.ok else current.last_modified,
            health=health,
            title=(poll.title or current.title) if poll.ok else current.title,
        )
        self._save(updated, next_poll=health.next_poll)
        return updated

    def _save(self, feed: Feed, *, next_poll: float) -> None:
        with self.redis.pipeline() as pipe:
            pipe.hset(FEEDS_KEY, feed.feed_id, json.dumps(feed.to_dict()))
            pipe.zadd(DUE_KEY, {feed.feed_id: next_poll})
            pipe.execute()


def registry_for(settings: Settings) -> FeedRegistry:
    return FeedRegistry(redis.Redis.from_url(settings.redis_url), bounds_from(settings),
                        limits=fetch_limits(settings))
