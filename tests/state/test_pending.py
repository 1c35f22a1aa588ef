"""Accepted articles waiting to be indexed, with the task that carries each (state.pending), on a real Redis."""

from __future__ import annotations

import pytest
import redis

from state.pending import PendingArticles


def _items(*numbers: int) -> list[dict[str, object]]:
    return [{"article_id": f"art-{n}", "feed_url": "http://f/one.xml", "title": f"Title {n}"} for n in numbers]


@pytest.mark.integration
def test_articles_wait_on_their_task_until_done_and_follow_a_retry(redis_client: redis.Redis) -> None:
    pending = PendingArticles(redis_client)
    pending.add("task-1", _items(1, 2, 3), now=1000.0)
    pending.add("task-2", _items(4), now=1100.0)
    assert pending.count() == 4
    assert [(a.article_id, a.task_id, a.queued_at) for a in pending.queued_before(1050.0)] == [
        ("art-1", "task-1", 1000.0), ("art-2", "task-1", 1000.0), ("art-3", "task-1", 1000.0)]
    assert pending.items(["art-3", "art-1", "art-9"]) == [_items(3)[0], _items(1)[0]]  # art-9: never pending

    pending.done(["art-1"])  # indexed
    pending.moved(["art-2", "art-1"], "retry-1", now=1200.0)  # a deferred write; art-1 is no longer pending
    assert pending.count() == 3
    assert {(a.article_id, a.task_id) for a in pending.queued_before(2000.0)} == {
        ("art-2", "retry-1"), ("art-3", "task-1"), ("art-4", "task-2")}
    assert [a.article_id for a in pending.queued_before(1150.0)] == ["art-3", "art-4"]

    [article] = [a for a in pending.queued_before(1050.0) if a.article_id == "art-3"]
    pending.requeued([article], "again-1", now=1300.0)
    [again] = [a for a in pending.queued_before(2000.0) if a.article_id == "art-3"]
    assert (again.task_id, again.queued_at, again.requeued) == ("again-1", 1300.0, 1)
    assert pending.items(["art-3"]) == _items(3)  # the feed item, kept as it was queued
    pending.done(["art-2", "art-3", "art-4"])
    assert pending.count() == 0 and pending.items(["art-2", "art-3", "art-4"]) == []


@pytest.mark.integration
def test_the_absent_tasks_of_one_sweep_are_remembered_for_the_next_only(redis_client: redis.Redis) -> None:
    pending = PendingArticles(redis_client)
    pending.remember_absent(["a", "b"])
    assert pending.absent_before(["a", "c"]) == {"a"}
    pending.remember_absent(["c"])
    assert pending.absent_before(["a", "b", "c"]) == {"c"}
    pending.remember_absent(())
    assert pending.absent_before(["c"]) == set()
