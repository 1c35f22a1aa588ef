"""Analysed articles waiting to be written (state.staged), on a real Redis."""

from __future__ import annotations

import pytest
import redis

from state.pending import PendingArticles
from state.staged import STAGED_KEY, STAGED_TASK, WRITERS_KEY, StagedArticles


def _payloads(*numbers: int) -> list[bytes]:
    return [f'{{"n": {n}}}'.encode() for n in numbers]


@pytest.mark.integration
def test_a_writer_takes_the_oldest_and_finishes_them(redis_client: redis.Redis) -> None:
    staged = StagedArticles(redis_client)
    staged.put(_payloads(1, 2, 3))
    staged.put(_payloads(4, 5))
    assert staged.waiting() == 5
    assert staged.take("w1", 4) == _payloads(1, 2, 3, 4)
    assert staged.waiting() == 5  # taken, not finished: still counted
    assert redis_client.llen(STAGED_KEY) == 1 and redis_client.smembers(WRITERS_KEY) == {b"w1"}
    staged.finish("w1")
    assert staged.waiting() == 1
    assert staged.take("w2", 4) == _payloads(5)
    staged.finish("w2")
    assert staged.take("w3", 4) == [] and staged.waiting() == 0
    assert not redis_client.exists(WRITERS_KEY)


@pytest.mark.integration
def test_a_dead_writer_s_articles_come_back_first_in_their_order(redis_client: redis.Redis) -> None:
    staged = StagedArticles(redis_client)
    staged.put(_payloads(1, 2, 3, 4))
    assert staged.take("dead", 3) == _payloads(1, 2, 3)  # then its process is killed
    staged.put(_payloads(5))
    assert staged.reclaim("next") == 3
    assert staged.reclaim("next") == 0  # nothing twice
    assert staged.take("next", 10) == _payloads(1, 2, 3, 4, 5)
    # the reclaiming writer's own list is never taken back from it
    assert staged.reclaim("next") == 0 and staged.waiting() == 5


@pytest.mark.integration
def test_staged_articles_are_marked_carried_by_the_waiting_list_in_the_same_transaction(
        redis_client: redis.Redis) -> None:
    pending = PendingArticles(redis_client)
    pending.add("task-1", [{"article_id": "a1"}, {"article_id": "a2"}], now=1000.0)
    staged = StagedArticles(redis_client)
    # a2 was written meanwhile by another delivery (done): it is not made pending again
    moving = pending.moving(["a1", "a2"], STAGED_TASK, 1100.0)
    pending.done(["a2"])
    staged.put(_payloads(1, 2), also=moving)
    found = {article.article_id: article.task_id for article in pending.queued_before(2000.0)}
    assert found["a1"] == STAGED_TASK and staged.waiting() == 2
    # moving read a2's entry before it was done: a2 waits again, on the list, which does hold a copy of
    # it (the write of that copy ends the wait): never pending on a task that no longer carries it
    assert found["a2"] == STAGED_TASK
