"""The story consumer's work, attributed: its CPU in the end-to-end bench, or its steps alone.

    .venv/bin/python bench/stories_cpu.py --articles 400 --ner-sample 50 --latency-seconds 5
    # = bench/e2e.py --stories both --pairs 1 with the same arguments (the tables are printed by it,
    # bench/cpu.py: CPU per article by group of processes and Elasticsearch's time by index)
    .venv/bin/python bench/stories_cpu.py replay [--articles 800 [--distinct | --news] | --labelled] [--no-profile]
    # the story consumer's steps alone, in this process (``replay``)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cpu import es_index_stats, es_stats_delta, print_es_table, process_cpu  # noqa: E402


# -- replay: the story consumer's work alone, every Elasticsearch request attributed ------------------


class RequestLedger:
    """Elasticsearch requests by kind (method and path, ids left out): count, and the JVM's CPU
    during each (requests are made one at a time, so the JVM's CPU in between is its own idling)."""

    def __init__(self, es_pid: int | None) -> None:
        self.es_pid = es_pid
        self.rows: dict[str, list[float]] = {}
        self.enabled = False
        self.section = ""  # which side's requests (rows are keyed "section: kind")

    def wrap(self, transport: Any) -> None:
        original = transport.perform_request

        def perform_request(method: str, target: str, *args: Any, **kwargs: Any) -> Any:
            if not self.enabled:
                return original(method, target, *args, **kwargs)
            before = process_cpu(self.es_pid)
            try:
                return original(method, target, *args, **kwargs)
            finally:
                kind = f"{method} {_kind_of(target)}"
                body = kwargs.get("body")
                if isinstance(body, (list, tuple)) and target.startswith("/_bulk"):
                    # bulk: by what it writes (index or update, into which index)
                    kinds = sorted({f"{op}:{meta.get('_index', '?').split('-', 1)[-1]}" for line in body
                                    if isinstance(line, dict) and len(line) == 1
                                    for op, meta in line.items() if op in ("index", "update", "delete")
                                    and isinstance(meta, dict)})
                    kind += f" ({', '.join(kinds)})"
                row = self.rows.setdefault(f"{self.section}: {kind}" if self.section else kind, [0, 0.0])
                row[0] += 1
                row[1] += process_cpu(self.es_pid) - before

        transport.perform_request = perform_request


def _kind_of(target: str) -> str:
    path = target.split("?", 1)[0].strip("/").split("/")
    named = [part if part.startswith("_") else ("{index}" if i == 0 else "{id}") for i, part in enumerate(path)]
    return "/" + "/".join(named) + (f" ({path[0].split('-', 1)[-1]})" if path and not path[0].startswith("_") else "")


def replay(articles_count: int, batch: int, labelled: bool = False, distinct: bool = False,
           profiled: bool = True, guessed: bool = True, news: bool = False, candidate_index: bool = True) -> None:
    """Index ``articles_count`` bench articles (analysis stood in for, as bench/index.py does), then run
    the story consumer's steps on them batch by batch in this process; print the CPU of each side
    (this process, Elasticsearch, Redis) per article and Elasticsearch's CPU by request kind.
    ``labelled``: the labelled story stream instead (tests/ingest/stories, both parts in stream order,
    analysed by the shipped analyser): stories of 1 to 6 articles, as news runs, where the bench's
    streams make a few big stories. Also printed: the article documents written per article (1 + the
    articles re-indexed to mark their story) and the stories made. ``profiled``: the consumer's steps
    run under cProfile (its table printed last), which about doubles their Python CPU. ``guessed``: the
    indexing side guesses the story an original joins (``worker.story_guess.guess_stories``), as the
    worker does; off, originals are written with the story they would found (the code before the
    guess), for a comparison in one run. The stories and memberships indexes are refreshed before each
    batch (the service refreshes them every ``STORIES_REFRESH_SECONDS``, 5 s, some five batches at the
    end-to-end bench's pace): their refreshing and merging here are several times the service's."""
    import cProfile
    import importlib
    import pstats
    import time

    from bench.common import bench_services, machine_load
    from bench.index import analysed_articles
    from index.stories import StoryStore
    from vigie.services import embedded_services
    from worker.runtime import Runtime
    from worker.story_guess import index_articles_with_stories
    from worker.story_tasks import assign_payload, story_payload

    if labelled:
        from tests.index.search_ranking import stream_analysed

        items = stream_analysed()
    else:
        items = analysed_articles(articles_count, distinct=distinct, news=news)
    # A worker's pool processes have spaCy's French and English language data from the models their
    # parent loaded; this process loads no model. The story features read the stop words through that
    # data (ingest.stories), so it is imported before the clocks start, or the first batch's indexing
    # side would carry some 3 s of CPU (French's tokenizer exceptions compiled) that the worker never spends.
    for language in ("en", "fr"):
        importlib.import_module(f"spacy.lang.{language}")

    with bench_services(VIGIE_STORIES="true",
                        VIGIE_STORY_CANDIDATE_INDEX="true" if candidate_index else "false") as services:
        redis_service, es_service = embedded_services(services.settings)
        es_pid, redis_pid = es_service.pid(), redis_service.pid()  # type: ignore[union-attr]
        rt = Runtime(services.settings)
        ledger = RequestLedger(es_pid)
        ledger.wrap(rt.es.transport)
        rt.store.ensure_ready()
        stories_index = StoryStore(rt.es, services.settings.index_prefix)
        stories_index.ensure_ready()
        print(f"replay: {len(items)} articles in batches of {batch}, {'with' if guessed else 'without'} "
              f"the indexing side's guess, candidates {'from Redis' if candidate_index else 'searched in Elasticsearch'}; "
              f"{machine_load()}")
        batches = [items[start:start + batch] for start in range(0, len(items), batch)]
        stats_before = es_index_stats(rt.es, services.settings.index_prefix)
        me = psutil.Process()
        profile = cProfile.Profile()
        index_cpu = [0.0, 0.0, 0.0]
        story_cpu = [0.0, 0.0, 0.0]
        seconds = 0.0

        def cpu_now() -> tuple[float, float, float]:
            return process_cpu(me.pid), process_cpu(es_pid), process_cpu(redis_pid)

        def add(total: list[float], before: tuple[float, float, float]) -> None:
            for slot, (start, end) in enumerate(zip(before, cpu_now())):
                total[slot] += end - start

        # Batch by batch, as in the service (the consumer keeps up with indexing): a copy whose original
        # has its story is written with it.
        for part in batches:
            stories_index.refresh()
            ledger.enabled, ledger.section = True, "indexing"
            before = cpu_now()
            outcome, guess = (index_articles_with_stories(rt, part) if guessed
                              else (rt.store.index_batch(part, with_stories=True), None))
            # The story message the indexing task queues (its features, the story written, the guess's
            # candidates, the entities written), taken by the consumer's own code.
            payload = story_payload([item for item in part if item.article.article_id in outcome.documents],
                                    outcome.documents, outcome.stories, guess)
            add(index_cpu, before)
            ledger.section = "consumer"
            before = cpu_now()
            started = time.perf_counter()
            if profiled:
                profile.enable()
            assign_payload(rt, payload)
            if profiled:
                profile.disable()
            seconds += time.perf_counter() - started
            add(story_cpu, before)
            ledger.enabled = False
        cpu0, cpu1 = (0.0, 0.0, 0.0), tuple(index_cpu)
        cpu2, cpu3 = (0.0, 0.0, 0.0), tuple(story_cpu)
        features = batches
        n = len(items)
        print(f"indexing (the pool's part, copies written with their story), CPU ms per article: bench {1000 * (cpu1[0] - cpu0[0]) / n:.1f}, "
              f"elasticsearch {1000 * (cpu1[1] - cpu0[1]) / n:.1f}, redis {1000 * (cpu1[2] - cpu0[2]) / n:.1f}")
        print(f"story consumer's steps, CPU ms per article: consumer {1000 * (cpu3[0] - cpu2[0]) / n:.1f}, "
              f"elasticsearch {1000 * (cpu3[1] - cpu2[1]) / n:.1f}, redis {1000 * (cpu3[2] - cpu2[2]) / n:.1f} "
              f"({seconds:.1f} s for {len(features)} batches; {machine_load()})")
        written = es_stats_delta(stats_before, es_index_stats(rt.es, services.settings.index_prefix), n)
        stories = StoryStore(rt.es, services.settings.index_prefix)
        stories.refresh()
        made = rt.es.count(index=stories.index, query={"bool": {"must_not": {"exists": {"field": "merged_into"}}}})
        print(f"article documents written per article: {written.get('articles', {}).get('docs_indexed', 0.0):.2f}; "
              f"{made['count']} stories for {n} articles")
        if candidate_index:
            from worker.story_search import candidate_index as index_of

            index = index_of(rt)
            assert index is not None
            used = sum(int(rt.redis.memory_usage(key) or 0) for key in rt.redis.scan_iter(index.namespace + "*",
                                                                                            count=1000))
            print(f"candidate index in Redis: {index.size()} stories, {used / 2**20:.2f} MiB "
                  f"(MEMORY USAGE of its keys), {used / max(index.size(), 1) / 1024:.1f} KiB a story")
        print_es_table({"story consumer's steps and indexing": written})
        print("Elasticsearch CPU during the indexing side's and the consumer's requests, by kind "
              "(ms per article, requests per batch):")
        for kind, (count, cpu) in sorted(ledger.rows.items(), key=lambda row: -row[1][1]):
            print(f"  {1000 * cpu / n:7.2f} ms  {count / len(features):6.2f}/batch  {kind}")
        if profiled:
            pstats.Stats(profile).sort_stats("tottime").print_stats(30)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "replay":
        import argparse

        parser = argparse.ArgumentParser(description="the story consumer's work alone, attributed")
        parser.add_argument("mode")
        parser.add_argument("--articles", type=int, default=800)
        parser.add_argument("--batch", type=int, default=16)
        parser.add_argument("--labelled", action="store_true",
                            help="the labelled story stream (tests/ingest/stories) instead of --articles bench articles")
        parser.add_argument("--distinct", action="store_true",
                            help="bench articles drawn at random from the paragraph pool (bench/e2e.py --distinct)")
        parser.add_argument("--news", action="store_true",
                            help="bench articles shaped like news (bench/e2e.py --news)")
        parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True,
                            help="the consumer's steps under cProfile, its table printed (--no-profile: CPU figures only)")
        parser.add_argument("--guess", action=argparse.BooleanOptionalAction, default=True,
                            help="the indexing side guesses the story an original joins, as the worker does "
                                 "(--no-guess: the code before, for comparison)")
        parser.add_argument("--candidate-index", action=argparse.BooleanOptionalAction, default=True,
                            help="candidate stories from the index kept in Redis, as the worker does by default "
                                 "(--no-candidate-index: searched in Elasticsearch, VIGIE_STORY_CANDIDATE_INDEX=false)")
        args = parser.parse_args()
        replay(args.articles, args.batch, args.labelled, args.distinct, args.profile, args.guess, news=args.news,
               candidate_index=args.candidate_index)
        return
    sys.argv = [sys.argv[0], "--stories", "both", *sys.argv[1:]]
    from bench.e2e import main as e2e_main

    e2e_main()


if __name__ == "__main__":
    main()
