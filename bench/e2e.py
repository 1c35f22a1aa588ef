"""Articles per second through the whole running service, against bare spaCy NER; then the latency
from a feed item being fetched to it being searchable, at half that rate.

    .venv/bin/python bench/e2e.py [--articles 5000] [--words 600] [--concurrency 2] [--stories on|off|both]
                                  [--pairs N] [--distinct | --news] [--json]

1. bare NER: the same French and English models, loaded the way the worker loads them (NER only),
   ``nlp.pipe`` over the texts of ``--ner-sample`` of the same articles, one process: the baseline;
2. end to end: ``--articles`` articles of about ``--words`` words on 50 local feeds; a real poller
   (`vigie scheduler`) and a real Celery worker (``--concurrency`` processes) on the project's own
   Redis and Elasticsearch; timed from the feeds being registered to the last article searchable;
3. latency: new items appear on 10 feeds polled every second, at half the rate measured in 2, for
   ``--latency-seconds``; for each item, the time from the first feed response that carried it to the
   moment a search finds it (the index refreshes every second, which is part of the latency).
With ``--stories both``, 2 and 3 run twice on fresh services, story assignment off then on, and the
ratio of the two rates is printed (target >= 0.90). With stories on, it also prints how long after the
last article was searchable every article had its story (the story consumer works behind indexing),
and with ``--news`` the B-cubed precision, recall and F1 of those stories against the stream's events.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    FeedServer,
    articles,
    bench_services,
    machine_load,
    measure_latency,
    news_stream,
    start_pipeline,
    write_result,
)
from bench.cpu import (  # noqa: E402
    CpuMeter,
    cpu_ms_per_article,
    es_index_stats,
    es_stats_delta,
    print_cpu_table,
    print_es_table,
)


def bare_ner_rate(sample: list[tuple[str, str]]) -> tuple[float, float]:
    """(articles/s, words/s) of NER alone over ``sample`` (language, text), one process."""
    from ingest.ner import load_ner_pipeline
    from conf.settings import Settings

    models = Settings().models
    pipelines = {lang: load_ner_pipeline(models[lang], lang, 1_000_000) for lang in ("fr", "en")}
    by_language: dict[str, list[str]] = {"fr": [], "en": []}
    for language, text in sample:
        by_language[language].append(text)
    for language, texts in by_language.items():  # warm-up
        list(pipelines[language].pipe(texts[:5]))
    started = time.perf_counter()
    for language, texts in by_language.items():
        for _ in pipelines[language].pipe(texts, batch_size=16):
            pass
    seconds = time.perf_counter() - started
    words = sum(len(text.split()) for _, text in sample)
    return len(sample) / seconds, words / seconds


def _count(es, alias: str) -> int:  # type: ignore[no-untyped-def]
    from elasticsearch import ApiError

    try:
        return int(es.count(index=alias)["count"]) if es.indices.exists_alias(name=alias) else 0
    except ApiError as error:
        if error.status_code == 503:  # the index was just created: its shard is not searchable yet
            return 0
        raise


def _story_shape(es, index: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Living stories (not merged into another), the size of the largest, and how many hold one article."""
    es.indices.refresh(index=index)
    living = {"bool": {"must_not": {"exists": {"field": "merged_into"}}}}
    response = es.search(index=index, query=living, size=0, track_total_hits=True,
                         aggs={"largest": {"max": {"field": "size"}},
                               "single": {"filter": {"term": {"size": 1}}}})
    return {"stories": int(response["hits"]["total"]["value"]),
            "largest": int(response["aggregations"]["largest"]["value"] or 0),
            "single": int(response["aggregations"]["single"]["doc_count"])}


def _members(es, index: str) -> int:  # type: ignore[no-untyped-def]
    """Memberships written (readable by id at once; counted after a refresh)."""
    from elasticsearch import ApiError

    try:
        if not es.indices.exists(index=index):
            return 0
        es.indices.refresh(index=index)
        return int(es.count(index=index)["count"])
    except ApiError:
        return 0


def _story_quality(es, prefix: str, load_set: list, truth: dict[str, str]) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def,type-arg]
    """B-cubed precision, recall and F1 of the stories the service made of ``load_set`` against the
    events of its stream (``truth``, by guid), over all its articles and within each language. Each
    article's story is its membership, followed through merges to the story that lives on."""
    from elasticsearch.helpers import scan

    from index.stories import StoryStore
    from tests.ingest.stories_stream import bcubed

    language_of = {story.guid: language for language, story in load_set}
    guid_of: dict[str, str] = {}
    for hit in scan(es, index=f"{prefix}-articles", query={"query": {"match_all": {}}}, _source=["article_id", "url"]):
        guid = str(hit["_source"].get("url") or "").rpartition("/page/")[2]
        if guid in language_of:
            guid_of[hit["_source"]["article_id"]] = guid
    predicted = {guid_of[article]: story for article, story in StoryStore(es, prefix).memberships(sorted(guid_of)).items()}
    missing = len(language_of) - len(predicted)
    if missing:
        raise SystemExit(f"{missing} articles of the stream have no story: cannot score the stories")
    scores = {"all": bcubed({guid: truth[guid] for guid in predicted}, predicted)}
    for language in sorted(set(language_of.values())):
        mine = {guid: story for guid, story in predicted.items() if language_of[guid] == language}
        scores[language] = bcubed({guid: truth[guid] for guid in mine}, mine)
    return {part: {"articles": score.articles, "precision": round(score.precision, 3), "recall": round(score.recall, 3),
                   "f1": round(score.f1, 3)} for part, score in scores.items()}


def run_service(load_set: list, latency_set: list, args: argparse.Namespace, ner_articles_s: float,  # type: ignore[type-arg]
                stories: bool, truth: dict[str, str] | None = None) -> dict[str, object]:
    """The end-to-end and latency parts on fresh services, with story assignment on or off. With
    ``truth`` (each article's event, by guid) and stories on, the stories made are scored against it."""
    from elasticsearch import Elasticsearch

    from state.registry import registry_for
    from vigie.services import embedded_services

    result: dict[str, object] = {}
    label = ("stories on" + ("" if args.candidate_index else ", candidates searched in Elasticsearch")) if stories else "stories off"
    with bench_services(VIGIE_POLL_MIN_INTERVAL="1", VIGIE_WORKER_CONCURRENCY=str(args.concurrency),
                        VIGIE_STORIES="true" if stories else "false",
                        VIGIE_STORY_CANDIDATE_INDEX="true" if args.candidate_index else "false") as services:
        es = Elasticsearch(services.settings.es_url, request_timeout=30)
        alias = f"{services.settings.index_prefix}-articles"
        server = FeedServer()
        worker, scheduler = start_pipeline(services.env, args.concurrency)
        registry = registry_for(services.settings)
        try:
            # Warm-up: one article through the whole path, so model loading is not timed.
            warm = server.publish("warmup", [story for _, story in latency_set[:1]])
            registry.add(warm, interval=3600)
            while _count(es, alias) < 1:
                time.sleep(0.2)
    
            redis_service, es_service = embedded_services(services.settings)
            meter = CpuMeter(worker.pid, scheduler.pid, es_service.pid(), redis_service.pid())  # type: ignore[union-attr]
            per_feed = -(-len(load_set) // args.feeds)
            urls = [server.publish(f"load{f}", [story for _, story in load_set[f * per_feed:(f + 1) * per_feed]])
                    for f in range(args.feeds)]
            es_before = es_index_stats(es, services.settings.index_prefix)
            cpu_before = meter.snapshot()
            started = time.monotonic()
            for url in urls:
                registry.add(url, interval=3600)
            target = len(load_set) + 1
            peak_rss = 0
            while _count(es, alias) < target:
                time.sleep(0.5)
                # `vigie worker`, the Celery worker and its pool, the story consumer
                tree = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
                peak_rss = max(peak_rss, sum(p.memory_info().rss for p in tree))
            seconds = time.monotonic() - started
            rate = len(load_set) / seconds
            print(f"{label}: end to end: {len(load_set)} articles in {seconds:.1f} s = {rate:.1f} articles/s "
                  f"= {rate / ner_articles_s:.2f} × bare NER; worker RSS peak {peak_rss / 2**20:.0f} MB")
            result.update(e2e_seconds=round(seconds, 1), e2e_articles_s=round(rate, 2),
                          e2e_ratio_to_bare_ner=round(rate / ner_articles_s, 3),
                          worker_peak_rss_mb=round(peak_rss / 2**20), load_after_e2e=machine_load())
            if stories:
                # Stories are assigned by the story consumer after indexing: how far behind it ended.
                members = f"{services.settings.index_prefix}-story-members"
                while _members(es, members) < target:
                    time.sleep(0.2)
                lag = time.monotonic() - started - seconds
                print(f"{label}: every article had its story {lag:.1f} s after the last was searchable")
                result.update(story_lag_s=round(lag, 1))
            # CPU of each process over the timed part (and, stories on, until every story was assigned)
            cpu = cpu_ms_per_article(cpu_before, meter.snapshot(), len(load_set))
            es_rows = es_stats_delta(es_before, es_index_stats(es, services.settings.index_prefix), len(load_set))
            print_cpu_table({label: cpu})
            print_es_table({label: es_rows})
            result.update(cpu_ms_per_article=cpu, es_per_article=es_rows)
            if stories:
                # The stream's shape, as clustering saw it (after the CPU was read).
                shape = _story_shape(es, f"{services.settings.index_prefix}-stories")
                print(f"{label}: {shape['stories']} stories for {len(load_set)} articles: the largest holds "
                      f"{shape['largest']} articles, {shape['single']} hold one")
                result.update(stories_made=shape)
                if truth is not None:
                    quality = _story_quality(es, services.settings.index_prefix, load_set, truth)
                    events = len({truth[story.guid] for _, story in load_set})
                    for part, score in quality.items():
                        print(f"{label}: B-cubed against the stream's {events} events, {part} "
                              f"({score['articles']:.0f} articles): precision {score['precision']:.3f}, "
                              f"recall {score['recall']:.3f}, F1 {score['f1']:.3f}")
                    result.update(story_bcubed=quality, events=events)
    
            # Latency at half the measured rate.
            half = rate / 2
            latency = measure_latency(es, alias, server, registry, [story for _, story in latency_set[1:]],
                                      rate=half, seconds=args.latency_seconds)
            print(f"{label}: latency fetched → searchable at {half:.1f} articles/s: p50 {latency['p50']:.2f} s, "
                  f"p95 {latency['p95']:.2f} s ({latency['articles']} articles, {latency['missing']} not found within 30 s)")
            result.update(latency_rate_articles_s=round(half, 2), latency_p50_s=round(latency["p50"], 2),
                          latency_p95_s=round(latency["p95"], 2), latency_articles=latency["articles"],
                          latency_missing=latency["missing"], load_end=machine_load())
        finally:
            scheduler.stop()
            worker.stop()
            server.close()
    return result


def _keep_cpu(part: dict[str, object], label: str, cpu_runs: dict, es_runs: dict) -> None:  # type: ignore[type-arg]
    cpu_runs.setdefault(label, []).append(part["cpu_ms_per_article"])
    es_runs.setdefault(label, []).append(part["es_per_article"])


def _mean_rows(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = {key for row in rows for key in row}
    return {key: round(sum(row.get(key, 0.0) for row in rows) / len(rows), 3) for key in sorted(keys)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--words", type=int, default=600)
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--ner-sample", type=int, default=600)
    parser.add_argument("--latency-seconds", type=float, default=60.0)
    parser.add_argument("--stories", choices=["on", "off", "both"], default="on",
                        help="story assignment in the worker; both: one run each, compared")
    parser.add_argument("--pairs", type=int, default=1,
                        help="with --stories both: off/on pairs, run in the order off on on off ... (ABBA), so "
                             "that a machine load drifting during the runs weighs on both alike")
    parser.add_argument("--distinct", action="store_true",
                        help="articles drawn at random from the paragraph pool, few near-duplicates of one another "
                             "(by default most articles are near-duplicates: a stream of wire copies)")
    parser.add_argument("--news", action="store_true",
                        help="a stream shaped like news: many events of unequal size, each told by several outlets "
                             "in their own words, a fifth of the articles wire copies (bench/common.py news_articles)")
    parser.add_argument("--candidate-index", action=argparse.BooleanOptionalAction, default=True,
                        help="with stories on: candidate stories from the index kept in Redis, the default "
                             "(--no-candidate-index: searched in Elasticsearch, VIGIE_STORY_CANDIDATE_INDEX=false)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.distinct and args.news:
        parser.error("--distinct and --news are two different streams: choose one")

    truth: dict[str, str] | None = None  # a news stream's events, by guid: what its stories are scored against
    if args.news:
        stream = news_stream(args.articles + 2000, words=args.words)
        made = [(language, story) for language, story, _ in stream]
        truth = {story.guid: event for _, story, event in stream}
    else:
        made = articles(args.articles + 2000, words=args.words, distinct=args.distinct)
    load_set, latency_set = made[: args.articles], made[args.articles :]
    words_per_article = sum(len(story.text.split()) for _, story in load_set) / len(load_set)
    print(f"{len(load_set)} articles of {words_per_article:.0f} words on average; {machine_load()}")

    sample = [(lang, story.title + "\n\n" + story.text) for lang, story in load_set[: args.ner_sample]]
    ner_articles_s, ner_words_s = bare_ner_rate(sample)
    print(f"bare NER, 1 process: {ner_articles_s:.1f} articles/s ({ner_words_s:,.0f} words/s)")

    result: dict[str, object] = {"articles": len(load_set), "words_per_article": round(words_per_article),
                                 "bare_ner_articles_s": round(ner_articles_s, 2),
                                 "bare_ner_words_s": round(ner_words_s), "load_before": machine_load()}
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.stories]
    cpu_runs: dict[str, list[dict[str, float]]] = {}
    es_runs: dict[str, list[dict[str, dict[str, float]]]] = {}
    if args.stories == "both" and args.pairs > 1:
        order = [stories for pair in range(args.pairs) for stories in ((False, True) if pair % 2 == 0 else (True, False))]
        rates: dict[bool, list[float]] = {False: [], True: []}
        for number, stories in enumerate(order):
            part = run_service(load_set, latency_set, args, ner_articles_s, stories, truth)
            rates[stories].append(float(part["e2e_articles_s"]))  # type: ignore[arg-type]
            _keep_cpu(part, "stories on" if stories else "stories off", cpu_runs, es_runs)
            result.update({f"{key}_{'on' if stories else 'off'}_{number}": value for key, value in part.items()})
        ratio = sum(rates[True]) / sum(rates[False])
        result.update(e2e_articles_s=rates[False], e2e_articles_s_stories=rates[True], stories_on_off_ratio=round(ratio, 3),
                      order=["on" if stories else "off" for stories in order])
        print(f"articles/s with stories off: {', '.join(f'{r:.1f}' for r in rates[False])}; "
              f"on: {', '.join(f'{r:.1f}' for r in rates[True])} (order {' '.join(result['order'])})")  # type: ignore[arg-type]
        print(f"articles/s with stories on / off (sums): {ratio:.2f}")
        modes = []
    for stories in modes:
        part = run_service(load_set, latency_set, args, ner_articles_s, stories, truth)
        _keep_cpu(part, "stories on" if stories else "stories off", cpu_runs, es_runs)
        result.update({f"{key}{'_stories' if stories and len(modes) > 1 else ''}": value for key, value in part.items()})
    if len(modes) > 1:
        ratio = float(result["e2e_articles_s_stories"]) / float(result["e2e_articles_s"])  # type: ignore[arg-type]
        result["stories_on_off_ratio"] = round(ratio, 3)
        print(f"articles/s with stories on / off: {ratio:.2f}")
    if cpu_runs:
        cpu = {label: _mean_rows(rows) for label, rows in cpu_runs.items()}
        es_rows = {label: {index: _mean_rows([run.get(index, {}) for run in runs])
                           for index in sorted({index for run in runs for index in run})}
                   for label, runs in es_runs.items()}
        print(f"CPU per article, mean of the runs of each mode ({machine_load()}):")
        print_cpu_table(cpu)
        print_es_table(es_rows)
        result.update(cpu_ms_per_article_by_mode=cpu, es_per_article_by_mode=es_rows)
    path = write_result("e2e", result)
    print(f"written {path}")


if __name__ == "__main__":
    main()
