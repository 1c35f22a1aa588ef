"""Which articles Vigie already accepted, so a re-poll queues only what is new or changed.

One Redis key per article id holds a fingerprint of what the feed said about it; an item is new when
its id is unknown, changed when the fingerprint differs. Keys expire after ``ttl_days`` so the set
does not grow forever (a feed that re-publishes an item older than that re-indexes it, by id, once).
The counter of accepted articles is what the load test compares with the index.

Each feed also keeps what it carried itself (one sorted set per feed, members scored by when the feed
last carried them, trimmed after ``ttl_days``): a feed's health counts the items new *to that feed*,
so two feeds carrying the same wire story both count it, whichever was polled first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import redis

from ingest.models import FeedItem

SEEN_PREFIX = "vigie:seen:"
ACCEPTED_KEY = "vigie:stats:accepted"
FEED_ITEMS_PREFIX = "vigie:feed-items:"


def fingerprint(item: FeedItem) -> str:
    digest = hashlib.blake2b(digest_size=12)
    for part in (item.title, item.url or "", item.summary, item.content or ""):
        digest.update(part.encode("utf-8", "replace"))
        digest.update(b"\x00")
    return digest.hexdigest()


class SeenArticles:
    def __init__(self, client: redis.Redis, ttl_days: int) -> None:
        self.redis = client
        self.ttl = ttl_days * 86400

    def unseen(self, items: Sequence[FeedItem]) -> list[FeedItem]:
        """The items that are new or changed since Vigie last accepted them."""
        if not items:
            return []
        known = self.redis.mget([SEEN_PREFIX + item.article_id for item in items])
        fresh: list[FeedItem] = []
        for item, stored in zip(items, known):
            if stored is None or stored.decode() != fingerprint(item):
                fresh.append(item)
        return fresh

    def accept(self, items: Sequence[FeedItem]) -> int:
        """Remember ``items`` as accepted (after they were queued). Returns how many were new ids."""
        if not items:
            return 0
        with self.redis.pipeline() as pipe:
            for item in items:
                pipe.set(SEEN_PREFIX + item.article_id, fingerprint(item), ex=self.ttl, get=True)
            previous = pipe.execute()
        new = sum(1 for value in previous if value is None)
        if new:
            self.redis.incrby(ACCEPTED_KEY, new)
        return new

    def new_to_feed(self, feed_id: str, items: Sequence[FeedItem], now: float) -> int:
        """How many of ``items`` (new ids or changed contents) the feed ``feed_id`` never carried before;
        remembers them all as carried now."""
        if not items:
            return 0
        key = FEED_ITEMS_PREFIX + feed_id
        members = {f"{item.article_id}:{fingerprint(item)}": now for item in items}
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, members, nx=True)
            pipe.zadd(key, members, xx=True)
            pipe.zremrangebyscore(key, "-inf", now - self.ttl)
            pipe.expire(key, self.ttl)
            added = pipe.execute()[0]
        return int(added)

    def accepted_count(self) -> int:
        return int(self.redis.get(ACCEPTED_KEY) or 0)
