"""Analysed articles written together (worker.staged_writes), on a real Redis: several "processes"
(threads here; the pipeline tests run real workers) stage their batches and write what waits, one
writer at a time; a writer killed mid-write loses nothing; a batch that cannot be written is handed on."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import replace

import orjson
import pytest
import redis

from ingest.models import AnalyzedArticle
from state.pending import PendingArticles
from state.staged import STAGED_KEY, STAGED_TASK, WRITER_LEASE_KEY, StagedArticles
from tests.index.factories import analysed
from worker.pending_sweep import PendingSweep
from worker.queues import WRITE_STAGED
from worker.staged_writes import stage, write_waiting


def _batch(first: int, size: int = 16) -> list[AnalyzedArticle]:
    return [analysed(f"staged-{n}", title=f"Title {n}", text=f"Text of article {n} about the harbour.")
            for n in range(first, first + size)]


class _Writes:
    """Stands for Elasticsearch: records each write's article ids, slowly."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.batches: list[list[str]] = []
        self.lock = threading.Lock()

    def __call__(self, batch: list[AnalyzedArticle]) -> None:
        time.sleep(self.seconds)
        with self.lock:
            self.batches.append([item.article.article_id for item in batch])

    def ids(self) -> list[str]:
        return [article_id for batch in self.batches for article_id in batch]


def _refuse_nothing(payload: list[dict], ids: list[str], error: BaseException) -> None:
    raise AssertionError(f"refused {ids}: {error}")


@pytest.mark.integration
def test_processes_writing_while_others_stage_join_their_batches_and_write_each_article_once(
        redis_client: redis.Redis) -> None:
    writes = _Writes(seconds=0.05)  # slower than the analysis here: writes fall behind, batches join
    taken: list[int] = []

    def process(number: int) -> None:
        client = redis.Redis(connection_pool=redis_client.connection_pool)
        for round_number in range(6):
            stage(client, _batch(1000 * number + 16 * round_number))
            taken.append(write_waiting(client, writes, _refuse_nothing, most=256))

    threads = [threading.Thread(target=process, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    expected = {item.article.article_id for number in range(4) for r in range(6) for item in _batch(1000 * number + 16 * r)}
    assert sorted(writes.ids()) == sorted(expected), "every staged article written exactly once"
    assert sum(taken) == len(expected)
    assert max(len(batch) for batch in writes.batches) > 16, (
        f"no write joined two tasks' batches: {[len(batch) for batch in writes.batches]}")
    assert len(writes.batches) < 24  # fewer writes than tasks
    assert StagedArticles(redis_client).waiting() == 0 and not redis_client.exists(WRITER_LEASE_KEY)


@pytest.mark.integration
def test_a_writer_killed_mid_write_loses_nothing(redis_client: redis.Redis) -> None:
    staged = StagedArticles(redis_client)
    stage(redis_client, _batch(0))
    staged.take("killed-writer", 256)  # took the batch, then its process died (its lease expired with it)
    stage(redis_client, _batch(16, 4))
    writes = _Writes()
    assert write_waiting(redis_client, writes, _refuse_nothing, most=8) == 20
    # the dead writer's batch first, in order, then the rest, 8 at a time
    assert writes.ids() == [f"staged-{n}" for n in range(20)]
    assert [len(batch) for batch in writes.batches] == [8, 8, 4]
    assert staged.waiting() == 0


@pytest.mark.integration
def test_what_waits_is_what_the_write_reads_without_the_raw_page(redis_client: redis.Redis) -> None:
    page = "<html><body>" + "<div class='ad'>Publicité</div>" * 2000 + "<p>Text of the article.</p></body></html>"
    item = replace(_batch(0, 1)[0], article=replace(_batch(0, 1)[0].article, body=page, is_html=True,
                                                     text_source="page"))
    stage(redis_client, [item])
    waiting = redis_client.lrange(STAGED_KEY, 0, -1)
    assert len(waiting) == 1 and b"Publicit" not in waiting[0]
    assert len(waiting[0]) < len(orjson.dumps(item.to_dict())) - len(page)  # the page is not in Redis
    writes: list[AnalyzedArticle] = []
    assert write_waiting(redis_client, writes.extend, _refuse_nothing, most=256) == 1
    # everything the write reads is there: the record as analysed, less the raw body
    assert writes == [replace(item, article=replace(item.article, body=""))]
    assert writes[0].analysis == item.analysis and writes[0].signature == item.signature


@pytest.mark.integration
def test_a_live_writer_is_left_alone_and_finds_what_was_staged_meanwhile(redis_client: redis.Redis) -> None:
    writes = _Writes()
    holder = redis_client.lock(WRITER_LEASE_KEY, timeout=30)
    assert holder.acquire(blocking=False)  # another process is writing
    stage(redis_client, _batch(0, 3))
    assert write_waiting(redis_client, writes, _refuse_nothing, most=256) == 0  # returns at once
    assert writes.batches == [] and StagedArticles(redis_client).waiting() == 3
    holder.release()
    # the holder looks at the list again after giving the lease back: here, the next write does
    assert write_waiting(redis_client, writes, _refuse_nothing, most=256) == 3


@pytest.mark.integration
def test_a_batch_that_cannot_be_written_is_handed_on_once_and_broker_trouble_leaves_it_waiting(
        redis_client: redis.Redis) -> None:
    refused: list[list[str]] = []

    def refuse(payload: list[dict], ids: list[str], error: BaseException) -> None:
        assert len(payload) == len(ids) and "no mapping" in str(error)
        refused.append(ids)

    def broken(batch: list[AnalyzedArticle]) -> None:
        raise RuntimeError("no mapping for this field")

    stage(redis_client, _batch(0, 2))
    assert write_waiting(redis_client, broken, refuse, most=256) == 2
    assert refused == [["staged-0", "staged-1"]] and StagedArticles(redis_client).waiting() == 0

    def redis_down(batch: list[AnalyzedArticle]) -> None:
        raise redis.ConnectionError("Redis went away")

    stage(redis_client, _batch(2, 2))
    with pytest.raises(redis.ConnectionError):
        write_waiting(redis_client, redis_down, refuse, most=256)
    assert StagedArticles(redis_client).waiting() == 2  # kept for the next writer
    writes = _Writes()
    assert write_waiting(redis_client, writes, _refuse_nothing, most=256) == 2
    assert writes.ids() == ["staged-2", "staged-3"]


@pytest.mark.integration
def test_staged_articles_are_never_requeued_and_the_sweep_queues_a_write_when_no_writer_holds_the_lease(
        redis_client: redis.Redis) -> None:
    pending = PendingArticles(redis_client)
    items = _batch(0, 3)
    pending.add("task-analysis", [{"article_id": item.article.article_id} for item in items], now=1000.0)
    stage(redis_client, items)
    assert {a.task_id for a in pending.queued_before(time.time() + 1)} == {STAGED_TASK}
    later = time.time() + 600  # long after: the articles would be candidates for the sweep
    sent: list[tuple[str, str]] = []
    sweep = PendingSweep(redis_client, lambda task, payload, task_id: sent.append((task, task_id)))
    holder = redis_client.lock(WRITER_LEASE_KEY, timeout=30)
    assert holder.acquire(blocking=False)
    assert sweep.sweep(now=later) == 0 and sent == []  # a writer is at it
    holder.release()
    for now in (later, later + 60):  # two sweeps: the articles are never found lost
        assert sweep.sweep(now=now) == 0
    assert [task for task, _ in sent] == [WRITE_STAGED, WRITE_STAGED]
    assert {a.task_id for a in pending.queued_before(later)} == {STAGED_TASK}
    assert pending.count() == 3
    uuid.UUID(sent[0][1])  # a task id of its own
