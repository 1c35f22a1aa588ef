"""Memory of a real worker (proportional and unique set sizes, not summed RSS) and how fast a pool
process that was killed is replaced, with the models loaded in the pool processes or in their parent.

    .venv/bin/python bench/memory.py [--articles 200] [--load-in children parent] [--kills 3]

For each ``--load-in`` mode, on fresh Redis and Elasticsearch:
1. a real worker (`vigie worker --concurrency 2`, the fr and en models, the entity knowledge base)
   starts with ``VIGIE_WORKER_LOAD_MODELS`` set to the mode;
2. ``--articles`` articles of ~600 words are queued as the poller queues them, and the run waits until
   every one is searchable (so the children have analysed, and written to, what they touch);
3. PSS, USS and RSS of the article worker's Celery process (the pool's parent, "parent") and each
   pool process are read from /proc/<pid>/smaps_rollup: PSS shares each shared page among the
   processes mapping it, so the PSS of the processes add up to what they cost the machine; the story
   consumer and the `vigie worker` process above it (stories on) are read too, and printed beside;
4. ``--kills`` times, one pool process gets SIGKILL; the time from the kill to the replacement's
   ``worker.process_ready`` line is the replacement time (null: none up within 60 s, the kills
   stop there), and the run notes whether Celery logged
   "Timed out waiting for UP message" (it kills a child that is not up within 4 s);
5. after the kills, one more batch is queued and the time until it is searchable is noted.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import articles, bench_services, machine_load, write_result  # noqa: E402
from tests.support.processes import start_worker, worker_tree  # noqa: E402

_READY = re.compile(r"worker\.process_ready.*\bpid=(\d+)")


def memory_of(pid: int) -> dict[str, float]:
    """PSS, USS (private clean + dirty) and RSS of one process, in MB."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            fields[name.strip()] = int(parts[0])  # kB
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return {"pss": fields.get("Pss", 0) / 1024, "uss": uss / 1024, "rss": fields.get("Rss", 0) / 1024}


def pool_pids(top: int) -> list[int]:
    """The article worker's pool processes (not the story consumer, nor the Celery process above them)."""
    return list(worker_tree(top).pool)


def ready_pids(lines: list[str]) -> list[int]:
    return [int(match.group(1)) for line in lines if (match := _READY.search(line))]


def wait_for_count(es, alias: str, expected: int, timeout: float) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if es.indices.exists_alias(name=alias):
            es.indices.refresh(index=alias)
            if int(es.count(index=alias)["count"]) >= expected:
                return time.monotonic() - started
        time.sleep(0.25)
    raise RuntimeError(f"only part of the {expected} articles were indexed within {timeout} s")


def run(mode: str, count: int, kills: int) -> dict[str, object]:
    from elasticsearch import Elasticsearch

    from tests.support.pipeline import feed_items, send
    from worker.app import create_app

    stories = [story for _, story in articles(count + 16, prefix=f"memory-{mode}")]
    items = feed_items(stories)
    with bench_services(VIGIE_WORKER_LOAD_MODELS=mode, VIGIE_STORIES="true") as services:
        es = Elasticsearch(services.settings.es_url, request_timeout=60)
        alias = f"{services.settings.index_prefix}-articles"
        app = create_app(services.settings)
        started = time.monotonic()
        worker = start_worker(services.env, concurrency=2)
        start_seconds = time.monotonic() - started
        try:
            send(app, items[:count])
            feed_seconds = wait_for_count(es, alias, count, timeout=900)
            parent = worker.pid
            tree = worker_tree(parent)
            assert tree.article_worker is not None and len(tree.pool) == 2, tree
            # The article worker (its Celery process, the "parent" of the pool, and the pool processes),
            # then what runs beside it: the story consumer and `vigie worker` above both.
            memory = {"parent": memory_of(tree.article_worker)} | {
                f"child{n}": memory_of(pid) for n, pid in enumerate(tree.pool)}
            beside = {name: memory_of(pid) for name, pid in (("story_consumer", tree.story_consumer),
                                                               ("vigie_worker", tree.top))
                      if pid is not None and pid != tree.article_worker}
            total = {key: round(sum(entry[key] for entry in memory.values()), 1) for key in ("pss", "uss", "rss")}
            whole = {key: round(total[key] + sum(entry[key] for entry in beside.values()), 1)
                     for key in ("pss", "uss", "rss")}
            replacements: list[float | None] = []
            timed_out_before = worker.output().count("Timed out waiting for UP message")
            for _ in range(kills):
                known = set(ready_pids(list(worker.lines))) | set(pool_pids(parent))
                victim = pool_pids(parent)[0]
                killed_at = time.monotonic()
                os.kill(victim, signal.SIGKILL)
                replaced = None
                while time.monotonic() - killed_at < 60:
                    fresh = [pid for pid in ready_pids(list(worker.lines)) if pid not in known]
                    if fresh:
                        replaced = time.monotonic() - killed_at
                        break
                    time.sleep(0.01)
                replacements.append(round(replaced, 3) if replaced is not None else None)
                if replaced is None:  # the baseline: each replacement is killed before it is up
                    break
                # Let Celery settle (the replacement's UP message, a possible kill for a late one).
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and len(pool_pids(parent)) != 2:
                    time.sleep(0.1)
            timed_out = worker.output().count("Timed out waiting for UP message") - timed_out_before
            send(app, items[count:])
            after_kill_seconds = wait_for_count(es, alias, count + 16, timeout=300)
        finally:
            worker.stop()
            app.close()
            es.close()
    return {
        "mode": mode, "articles": count, "start_s": round(start_seconds, 2), "feed_s": round(feed_seconds, 2),
        "memory_mb": {name: {key: round(value, 1) for key, value in entry.items()} for name, entry in memory.items()},
        "total_mb": total,
        "beside_mb": {name: {key: round(value, 1) for key, value in entry.items()} for name, entry in beside.items()},
        "whole_worker_mb": whole, "replacement_s": replacements, "up_timeouts": timed_out,
        "next_batch_after_kills_s": round(after_kill_seconds, 2), "load": machine_load(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--load-in", nargs="+", choices=("children", "parent"), default=["children", "parent"])
    parser.add_argument("--kills", type=int, default=3)
    args = parser.parse_args()
    print(f"memory bench, {args.articles} articles, modes {args.load_in}; {machine_load()}")
    results = []
    for mode in args.load_in:
        result = run(mode, args.articles, args.kills)
        results.append(result)
        print(f"\n== models loaded in {mode} ({result['load']})")
        print(f"worker start {result['start_s']} s; {args.articles} articles indexed in {result['feed_s']} s")
        for name, entry in result["memory_mb"].items():  # type: ignore[union-attr]
            print(f"  {name:7} PSS {entry['pss']:7.1f} MB  USS {entry['uss']:7.1f} MB  RSS {entry['rss']:7.1f} MB")
        total = result["total_mb"]
        print(f"  all     PSS {total['pss']:7.1f} MB  USS {total['uss']:7.1f} MB  RSS {total['rss']:7.1f} MB (summed: "
              "the article worker)")  # type: ignore[index]
        for name, entry in result["beside_mb"].items():  # type: ignore[union-attr]
            print(f"  beside it, {name}: PSS {entry['pss']:7.1f} MB  USS {entry['uss']:7.1f} MB  RSS {entry['rss']:7.1f} MB")
        whole = result["whole_worker_mb"]
        print(f"  the whole `vigie worker`: PSS {whole['pss']:7.1f} MB  USS {whole['uss']:7.1f} MB")  # type: ignore[index]
        print(f"replacement after kill -9: {result['replacement_s']} s; "
              f"'Timed out waiting for UP message' {result['up_timeouts']} times; "
              f"next batch of 16 indexed {result['next_batch_after_kills_s']} s after it was queued")
    print(f"\nwritten {write_result('memory', {'runs': results})}")


if __name__ == "__main__":
    main()
