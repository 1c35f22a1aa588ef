"""Two worker hosts on one broker: two `vigie worker` processes, each with its own node name (-n) and
its own VIGIE_HOME, share the queue; one is killed with its whole process group mid-stream, and its
unacknowledged tasks come back to the other (acks late, visibility timeout). The articles index is
rolled over mid-stream too, so redelivered articles already written before the rollover must be
rewritten where they are, not copied into the new write index: 0 lost, 0 duplicated, counted by id."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.rollover import RolloverPolicy, alias_members, rollover
from tests.support.feeds import make_story
from tests.support.pipeline import count, feed_items, send, wait_for_count
from tests.support.processes import VIGIE, Background
from tests.support.quiescence import settled
from tests.support.services import TEST_HOME

pytestmark = [pytest.mark.integration, pytest.mark.long(70)]

ARTICLES = 600
INDEXED = re.compile(r"article\.indexed.*?article=(\S+)")


def _host(env: dict[str, str], name: str, home: Path) -> Background:
    """Start a worker host without waiting for it: both hosts load their models at the same time.

    Two pool processes each, as `vigie worker` runs by default: once host A is killed, host B does the
    rest of the stream on both cores, not one. The visibility timeout (30 s) is well above what one
    task of 8 articles takes on a loaded machine: under 15 s, a task still running on host B was
    once given back and done twice. Host A's tasks come back 30-40 s after the kill, while host B
    still works through the stream."""
    home.mkdir(parents=True, exist_ok=True)
    return Background(name, [VIGIE, "worker", "--concurrency", "2", "-n", f"{name}@%h"],
                      {**env, "VIGIE_HOME": str(home), "VIGIE_VISIBILITY_TIMEOUT": "30"}).start()


def _ready(*hosts: Background) -> None:
    for worker in hosts:
        if not worker.wait_for_line("ready.", timeout=180):
            output = worker.output()
            for host in hosts:
                host.stop()
            raise AssertionError(f"worker {worker.name} did not become ready:\n{output[-4000:]}")


def _indexed_by(worker: Background) -> set[str]:
    return {match.group(1) for line in worker.output().splitlines() if (match := INDEXED.search(line))}


def test_two_worker_hosts_share_the_work_and_one_killed_loses_nothing(
        env: dict[str, str], settings: Settings, app: Celery, es: Elasticsearch, redis_client: redis.Redis) -> None:
    homes = TEST_HOME / f"hosts-{settings.index_prefix}"
    items = feed_items([make_story(n, words=120, prefix="hosts") for n in range(ARTICLES)])
    host_a = _host(env, "host-a", homes / "a")
    host_b = _host(env, "host-b", homes / "b")
    _ready(host_a, host_b)
    try:
        assert "host-a@" in host_a.output() and "host-b@" in host_b.output()  # their own node names
        send(app, items, batch=8)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not (_indexed_by(host_a) and _indexed_by(host_b)):
            time.sleep(0.5)
        assert _indexed_by(host_a) and _indexed_by(host_b), "both hosts take tasks from the one queue"

        # Mid-stream: the write index rolls over, then host A dies with its pool (kill -9 the group).
        rolled = rollover(es, settings.index_prefix, RolloverPolicy(), force=True)
        assert rolled is not None and rolled.rolled_over
        done_by_a = _indexed_by(host_a)
        host_a.kill_group()
        at_kill = count(es, settings)
        assert at_kill < ARTICLES, "the stream ended before the kill; the test proves nothing"

        assert wait_for_count(es, settings, ARTICLES, timeout=600) >= ARTICLES, host_b.output()[-4000:]
        settled(redis_client, lambda: count(es, settings), timeout=300)
        alias = f"{settings.index_prefix}-articles"
        es.indices.refresh(index=alias)
        hits = es.search(index=alias, size=ARTICLES + 100, source=False, query={"match_all": {}})["hits"]["hits"]
        ids = [hit["_id"] for hit in hits]
        assert len(ids) == len(set(ids)) == ARTICLES, "each article exactly once across the backing indices"
        assert set(ids) == {item.article_id for item in items}
        assert len(alias_members(es, settings.index_prefix)[0]) == 2
        redone = _indexed_by(host_b) & done_by_a
        print(f"FIGURES two worker hosts: host-a indexed {len(done_by_a)} before kill -9, "
              f"{at_kill}/{ARTICLES} in the index at the kill, host-b {len(_indexed_by(host_b))} "
              f"(of which {len(redone)} redelivered from host-a); {len(ids)} documents, {len(set(ids))} ids, "
              f"{len(ids) - len(set(ids))} duplicates; 2 backing indices")
    finally:
        host_a.stop(timeout=30)
        host_b.stop(timeout=30)
        logs = TEST_HOME / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for worker in (host_a, host_b):
            (logs / f"test_worker_hosts-{worker.name}.log").write_text(worker.output())
