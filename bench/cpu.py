"""Where the CPU of the end-to-end bench goes, process by process (bench/e2e.py prints it).

On a quiet machine the worker's pool saturates the cores, so every CPU-millisecond story assignment
adds anywhere (the story consumer, Elasticsearch's JVM, Redis, the indexing task that computes and
queues the features) comes off the articles/s. Wall-clock ratios under a shared load are noisy; CPU
time is not (much): this reads utime + stime of each process, its reaped children included
(``/proc/<pid>/stat`` through psutil), at the start and the end of the timed part of a run, and
gives CPU milliseconds per article per group of processes:

- ``worker pool``: the Celery worker's pool processes (analysis, indexing, queuing story features);
- ``worker main``: the Celery worker's parent (and `vigie worker`, which starts it and the consumer);
- ``story consumer``: the solo Celery worker taking ``vigie.stories``;
- ``elasticsearch``: the JVM; ``redis``; ``scheduler``: the poller; ``bench``: this process (the
  feed server answers in its threads) and its searches.

Elasticsearch's own per-index counters (time spent indexing, searching, merging, refreshing, and
documents indexed) split the JVM's share by index: ``es_index_stats``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psutil

GROUPS = ("worker pool", "worker main", "story consumer", "elasticsearch", "redis", "scheduler", "bench")


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def _group_of(process: psutil.Process) -> str:
    """Which group a process of the `vigie worker` tree belongs to: the story consumer takes the
    story queue; a pool process is forked by a Celery worker (its parent runs celery)."""
    try:
        if "vigie.stories" in process.cmdline():
            return "story consumer"
        parent = process.parent()
        if parent is not None and "celery" in " ".join(parent.cmdline()):
            return "worker pool"
    except psutil.Error:
        pass
    return "worker main"


@dataclass(frozen=True)
class Snapshot:
    """CPU seconds of each process (by pid, with its group) at one moment."""

    seconds: Mapping[int, tuple[str, float]]


class CpuMeter:
    """The processes of one bench run, found again at each snapshot (pool processes can be replaced)."""

    def __init__(self, worker_pid: int, scheduler_pid: int, es_pid: int | None, redis_pid: int | None) -> None:
        self.worker_pid = worker_pid
        self.scheduler_pid = scheduler_pid
        self.es_pid = es_pid
        self.redis_pid = redis_pid

    def _processes(self) -> list[tuple[str, psutil.Process]]:
        found: list[tuple[str, psutil.Process]] = []
        try:
            root = psutil.Process(self.worker_pid)
            found.append(("worker main", root))
            found += [(_group_of(child), child) for child in root.children(recursive=True)]
        except psutil.Error:
            pass
        for group, pid in (("elasticsearch", self.es_pid), ("redis", self.redis_pid)):
            if pid:
                try:
                    found.append((group, psutil.Process(pid)))
                except psutil.Error:
                    pass
        try:
            scheduler = psutil.Process(self.scheduler_pid)
            found += [("scheduler", scheduler), *(("scheduler", p) for p in scheduler.children(recursive=True))]
        except psutil.Error:
            pass
        found.append(("bench", psutil.Process()))
        return found

    def snapshot(self) -> Snapshot:
        seconds: dict[int, tuple[str, float]] = {}
        for group, process in self._processes():
            try:
                seconds[process.pid] = (group, _cpu_seconds(process))
            except psutil.Error:
                continue
        return Snapshot(seconds)


def cpu_ms_per_article(before: Snapshot, after: Snapshot, articles: int) -> dict[str, float]:
    """CPU ms per article of each group between two snapshots (a process born in between counts
    from zero; one that ended was reaped by its parent, whose children times then hold it)."""
    totals = {group: 0.0 for group in GROUPS}
    for pid, (group, seconds) in after.seconds.items():
        start = before.seconds.get(pid, (group, 0.0))[1]
        totals[group] += max(0.0, seconds - start)
    result = {group: round(1000 * value / max(1, articles), 2) for group, value in totals.items()}
    result["total"] = round(sum(result[group] for group in GROUPS), 2)
    return result


def es_index_stats(es: Any, prefix: str) -> dict[str, dict[str, int]]:
    """Elasticsearch's counters per index of ``prefix`` (cumulative since the node started): documents
    indexed, milliseconds indexing, searching (query + fetch), merging, refreshing; refreshes (Elasticsearch's
    own every second and those a real-time read by id of a document not yet refreshed forces)."""
    response = es.indices.stats(index=f"{prefix}-*", metric="indexing,search,merge,refresh,get")
    stats: dict[str, dict[str, int]] = {}
    for index, body in response["indices"].items():
        total = body["primaries"]
        stats[index] = {
            "docs_indexed": int(total["indexing"]["index_total"]),
            "index_ms": int(total["indexing"]["index_time_in_millis"]),
            "search_ms": int(total["search"]["query_time_in_millis"] + total["search"]["fetch_time_in_millis"]),
            "searches": int(total["search"]["query_total"]),
            "get_ms": int(total["get"]["time_in_millis"]),
            "merge_ms": int(total["merges"]["total_time_in_millis"]),
            "refresh_ms": int(total["refresh"]["total_time_in_millis"]),
            "refreshes": int(total["refresh"]["total"]),
        }
    return stats


def es_stats_delta(before: Mapping[str, Mapping[str, int]], after: Mapping[str, Mapping[str, int]],
                   articles: int) -> dict[str, dict[str, float]]:
    """Per index (its name without the prefix's rollover suffix), the counters' growth per article
    (documents indexed per article; milliseconds per article)."""
    result: dict[str, dict[str, float]] = {}
    for index, values in after.items():
        start = before.get(index, {})
        name = index.split("-", 1)[1] if "-" in index else index
        name = name.rsplit("-v", 1)[0] if name.startswith("articles") else name
        row = result.setdefault(name, {})
        for key, value in values.items():
            row[key] = round(row.get(key, 0.0) + (value - start.get(key, 0)) / max(1, articles), 3)
    return result


def print_cpu_table(rows: Mapping[str, Mapping[str, float]]) -> None:
    """One column per run label (``stories off``, ``stories on``), one row per group, then on - off."""
    labels = list(rows)
    width = max(len(group) for group in (*GROUPS, "total"))
    print("CPU ms per article".ljust(width) + "".join(f"{label:>14}" for label in labels)
          + ("   on - off" if {"stories off", "stories on"} <= set(labels) else ""))
    for group in (*GROUPS, "total"):
        line = group.ljust(width) + "".join(f"{rows[label].get(group, 0.0):>14.1f}" for label in labels)
        if {"stories off", "stories on"} <= set(labels):
            line += f"{rows['stories on'].get(group, 0.0) - rows['stories off'].get(group, 0.0):>11.1f}"
        print(line)


def print_es_table(rows: Mapping[str, Mapping[str, Mapping[str, float]]]) -> None:
    """Elasticsearch's per-index counters per article, for each run."""
    for label, indexes in rows.items():
        print(f"{label}: Elasticsearch per article (docs indexed; ms indexing / searching / get / merging / "
              f"refreshing; refreshes per 100 articles)")
        for index, values in sorted(indexes.items()):
            print(f"  {index:<22} {values.get('docs_indexed', 0):6.2f} docs  {values.get('index_ms', 0):7.2f} "
                  f"{values.get('search_ms', 0):7.2f} {values.get('get_ms', 0):7.2f} {values.get('merge_ms', 0):7.2f} "
                  f"{values.get('refresh_ms', 0):7.2f} {100 * values.get('refreshes', 0):7.1f}")


def process_cpu(pid: int | None) -> float:
    """CPU seconds of one process so far (0 if it is gone)."""
    if not pid:
        return 0.0
    try:
        return _cpu_seconds(psutil.Process(pid))
    except psutil.Error:
        return 0.0
