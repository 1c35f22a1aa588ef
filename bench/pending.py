"""What keeping accepted articles pending costs (state.pending, worker.pending_sweep), on a real Redis.

    .venv/bin/python bench/pending.py [--articles 2000] [--rounds 3] [--json]

Articles of about 600 words (bench.common.articles), as feed items in batches of 16 like the
scheduler's, against the Redis that `vigie services start` runs:

- queueing: the batches sent as Celery messages (``send_task``, the baseline: what the scheduler did
  before) against ``queue_batch`` (the pending record, then the same message), alternated round by round;
- the worker's side: ``PendingArticles.done`` for a batch of 16, against the message's own send;
  with stories on, instead: the indexing task moves the batch to its story message (``moved``), and
  the story consumer ends its wait (``done_by``); each on half of the batches;
- the sweep over a backlog: every batch still waiting in the queue, queued over the last two
  minutes, so that the older half has been pending for over a minute and is looked for (from the
  queue's oldest end); against a bare ``LRANGE`` of the whole queue.

Each figure is the median over ``--rounds``; the queue is emptied between runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402

from bench.common import articles, bench_services  # noqa: E402
from state.pending import ABSENT_KEY, PENDING_AT_KEY, PENDING_ITEMS_KEY, PENDING_KEY, PendingArticles  # noqa: E402
from tests.support.pipeline import feed_items  # noqa: E402
from worker.app import create_app  # noqa: E402
from worker.pending_sweep import SWEEP_SECONDS, PendingSweep, queue_batch, task_sender  # noqa: E402
from worker.queues import ANALYZE_QUEUE, PROCESS_ITEMS  # noqa: E402

BATCH = 16
#: The backlog's batches were queued over this many seconds: those older than a minute (the sweep's
#: threshold), half of them, are the ones the sweep looks for
BACKLOG_SECONDS = 2 * SWEEP_SECONDS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000, help="articles queued per run (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per figure, the median is kept (default 3)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    args = parser.parse_args()

    stories = [story for _, story in articles(args.articles, prefix="pending")]
    batches = [[item.to_dict() for item in feed_items(stories[i:i + BATCH])] for i in range(0, len(stories), BATCH)]
    megabytes = sum(len(json.dumps(batch)) for batch in batches) / 1e6
    with bench_services() as services:
        client = redis.Redis.from_url(services.settings.redis_url)
        app = create_app(services.settings)
        pending = PendingArticles(client)

        def send(items: list[dict[str, object]], task_id: str) -> None:
            app.send_task(PROCESS_ITEMS, args=[items], task_id=task_id)

        def empty() -> None:
            client.delete(ANALYZE_QUEUE, PENDING_KEY, PENDING_ITEMS_KEY, PENDING_AT_KEY, ABSENT_KEY)

        bare, recorded, done, storied, sweep, scan = [], [], [], [], [], []
        for _ in range(args.rounds):
            empty()
            started = time.perf_counter()
            for batch in batches:
                app.send_task(PROCESS_ITEMS, args=[batch])
            bare.append(time.perf_counter() - started)
            empty()
            now = time.time()
            started = time.perf_counter()
            for number, batch in enumerate(batches):  # queued over the last two minutes, oldest first
                queue_batch(send, pending, batch, now - BACKLOG_SECONDS * (1 - number / len(batches)))
            recorded.append(time.perf_counter() - started)

            started = time.perf_counter()
            start = 0
            while chunk := client.lrange(ANALYZE_QUEUE, start, start + 199):
                start += len(chunk)
            scan.append(time.perf_counter() - started)
            sweeper = PendingSweep(client, task_sender(app))
            started = time.perf_counter()
            assert sweeper.sweep(now) == 0  # every batch waits in the queue: none is lost
            sweep.append(time.perf_counter() - started)

            started = time.perf_counter()
            for batch in batches[::2]:
                pending.done(str(item["article_id"]) for item in batch)
            done.append((time.perf_counter() - started) / len(batches[::2]))
            started = time.perf_counter()
            for number, batch in enumerate(batches[1::2]):
                ids = [str(item["article_id"]) for item in batch]
                pending.moved(ids, f"story-{number}", time.time())
                pending.done_by(f"story-{number}", ids)
            storied.append((time.perf_counter() - started) / len(batches[1::2]))
            assert pending.count() == 0
        empty()
        app.close()

    count = len(batches)
    figures = {
        "articles": len(stories), "batches": count, "payload_mb": round(megabytes, 1),
        "send_ms_per_batch": round(statistics.median(bare) / count * 1000, 3),
        "queue_batch_ms_per_batch": round(statistics.median(recorded) / count * 1000, 3),
        "queue_batch_over_send": round(statistics.median(recorded) / statistics.median(bare), 2),
        "done_ms_per_batch": round(statistics.median(done) * 1000, 3),
        "done_over_send": round(statistics.median(done) * count / statistics.median(bare), 2),
        "story_wait_ms_per_batch": round(statistics.median(storied) * 1000, 3),
        "story_wait_over_send": round(statistics.median(storied) * count / statistics.median(bare), 2),
        "sweep_backlog_ms": round(statistics.median(sweep) * 1000, 1),
        "lrange_backlog_ms": round(statistics.median(scan) * 1000, 1),
        "sweep_over_lrange": round(statistics.median(sweep) / statistics.median(scan), 2),
        "rounds": args.rounds,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{figures['articles']} articles in {count} batches of {BATCH} ({figures['payload_mb']} MB of feed items), "
          f"median of {args.rounds} rounds\n")
    print("| step | ms | ratio |")
    print("| --- | ---: | ---: |")
    print(f"| send a batch (`send_task`, before) | {figures['send_ms_per_batch']} | 1 |")
    print(f"| record it pending, then send it (`queue_batch`) | {figures['queue_batch_ms_per_batch']} | "
          f"{figures['queue_batch_over_send']} × send |")
    print(f"| the worker ends the wait of a batch (`done`) | {figures['done_ms_per_batch']} | "
          f"{figures['done_over_send']} × send |")
    print(f"| with stories on: moved to the story message, then ended by the story consumer (`moved`, `done_by`) | "
          f"{figures['story_wait_ms_per_batch']} | {figures['story_wait_over_send']} × send |")
    print(f"| a bare `LRANGE` of the backlog (all {count} batches) | {figures['lrange_backlog_ms']} | 1 |")
    print(f"| the sweep over that backlog (none lost) | {figures['sweep_backlog_ms']} | "
          f"{figures['sweep_over_lrange']} × `LRANGE` |")


if __name__ == "__main__":
    main()
