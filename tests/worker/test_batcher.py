"""The poller's batcher: batches by count and by time, each item once."""

from __future__ import annotations

from ingest.models import FeedItem
from tests.support.processes import wait_until
from worker.poller import Batcher


def item(n: int) -> FeedItem:
    return FeedItem(article_id=f"a{n}", feed_url="http://127.0.0.1/f.xml", url=None, title=str(n), summary="")


def test_full_batches_leave_at_once_and_the_rest_after_the_wait() -> None:
    sent: list[list[str]] = []
    # A window wide enough that a loaded machine cannot pass it between add() and the first flush().
    batcher = Batcher(lambda batch: sent.append([i.article_id for i in batch]), size=3, wait=5.0)
    batcher.add([item(n) for n in range(7)])
    assert sent == [["a0", "a1", "a2"], ["a3", "a4", "a5"]]
    batcher.flush()
    assert len(sent) == 2  # a6 has not waited long enough
    assert 0 < (batcher.due_in() or 0) <= 5.0
    assert wait_until(lambda: batcher.due_in() == 0, timeout=30, interval=0.1)
    batcher.flush()
    assert sent[-1] == ["a6"] and batcher.due_in() is None


def test_same_article_from_two_feeds_is_queued_once() -> None:
    sent: list[list[str]] = []
    batcher = Batcher(lambda batch: sent.append([i.article_id for i in batch]), size=10, wait=5)
    batcher.add([item(1), item(2)])
    batcher.add([item(2), item(3)])
    batcher.flush(force=True)
    assert sent == [["a1", "a2", "a3"]]
