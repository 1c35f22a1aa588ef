"""VIGIE_SEEN_TTL_DAYS: the real `vigie scheduler` remembers each accepted article id for that many
days (the seen key carries the TTL the setting says), and an id whose key expired is new again: the
next poll that carries it queues it once more."""

from __future__ import annotations

import base64
import json

import pytest
import redis

from tests.support.feeds import FeedServer, make_story
from tests.support.processes import VIGIE, Background, run_vigie, wait_until
from state.seen import ACCEPTED_KEY, SEEN_PREFIX
from worker.queues import ANALYZE_QUEUE

pytestmark = pytest.mark.integration

TTL_DAYS = 3


def queued_ids(client: redis.Redis) -> list[str]:
    """The article ids of every vigie.process_items task waiting in the queue (no worker runs here)."""
    ids: list[str] = []
    for raw in client.lrange(ANALYZE_QUEUE, 0, -1):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        ids += [item["article_id"] for item in args[0]]
    return sorted(ids)


def accepted(client: redis.Redis) -> int:
    return int(client.get(ACCEPTED_KEY) or 0)


def test_seen_ids_carry_the_configured_ttl_and_an_expired_id_is_queued_again(
        env: dict[str, str], redis_client: redis.Redis, feed_server: FeedServer) -> None:
    stories = [make_story(n, prefix="ttl") for n in range(2)]
    url = feed_server.publish("ttl", stories)
    env = {**env, "VIGIE_SEEN_TTL_DAYS": str(TTL_DAYS), "VIGIE_POLL_MIN_INTERVAL": "1"}
    run_vigie(["feeds", "add", url, "--interval", "1"], env, check=True)
    scheduler = Background("scheduler", [VIGIE, "scheduler"], env).start()
    try:
        assert scheduler.wait_for_line("poller.started", timeout=60), scheduler.output()
        assert wait_until(lambda: accepted(redis_client) == 2, timeout=60), scheduler.output()[-3000:]
        keys = sorted(key.decode() for key in redis_client.scan_iter(match=SEEN_PREFIX + "*"))
        assert len(keys) == 2
        first_ids = [key.removeprefix(SEEN_PREFIX) for key in keys]
        assert queued_ids(redis_client) == first_ids
        for key in keys:
            ttl = redis_client.ttl(key)
            assert TTL_DAYS * 86400 - 120 <= ttl <= TTL_DAYS * 86400, (key, ttl)

        # The feed is polled again and again (304 while it is unchanged): nothing is queued twice.
        polls = feed_server.requests["/feed/ttl.xml"]
        assert wait_until(lambda: feed_server.requests["/feed/ttl.xml"] >= polls + 2, timeout=30)
        assert accepted(redis_client) == 2 and queued_ids(redis_client) == first_ids

        # One id's memory runs out (Redis expires the key itself, as it would after TTL_DAYS)...
        expired, kept = keys
        redis_client.pexpire(expired, 1)
        assert wait_until(lambda: not redis_client.exists(expired), timeout=10, interval=0.05)
        # ... and the next poll that reads the feed (it changed: one more story) queues it again.
        feed_server.append("ttl", make_story(2, prefix="ttl"))
        assert wait_until(lambda: accepted(redis_client) >= 4, timeout=60), scheduler.output()[-3000:]
        assert accepted(redis_client) == 4  # the new story and the forgotten one; not the remembered one
        queued = queued_ids(redis_client)
        expired_id, kept_id = expired.removeprefix(SEEN_PREFIX), kept.removeprefix(SEEN_PREFIX)
        assert queued.count(expired_id) == 2 and queued.count(kept_id) == 1 and len(queued) == 4
        assert TTL_DAYS * 86400 - 120 <= redis_client.ttl(expired) <= TTL_DAYS * 86400
    finally:
        scheduler.stop()
