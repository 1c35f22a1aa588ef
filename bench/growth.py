"""How the write path, the near-duplicate lookup, story assignment and search grow with the index.

    .venv/bin/python bench/growth.py [--sizes 10000 100000 500000] [--batches 20] [--search-rounds 5]

On Redis and Elasticsearch of its own (heap VIGIE_ES_HEAP=1g), the articles index is filled with
synthetic analysed articles (~600 words of real news paragraphs, entities, topics, dates over a year,
each with a random near-duplicate signature of its own), written by bulk straight through index/
(``helpers.bulk`` of ``index.article_document`` documents: fast), up to each of ``--sizes``. At each
size:
- write path: ``--batches`` batches of 16 new articles (real signatures) through
  ``ArticleStore.index_batch`` (near-duplicate lookup, shaping, bulk): docs/s;
- near-duplicate lookup: the time ``index.dedup.assign_clusters`` takes per batch (median, ms);
- story assignment: ``worker.story_assignment.assign`` per batch (median, ms; the story index holds the
  stories of the measured batches only: the fill articles have none);
- search: bench/api.py's 8 searches through ``index.search.search`` (what the API runs: totals
  counted exactly up to VIGIE_SEARCH_TOTAL_LIMIT), ``--search-rounds`` times each: p95 (ms); beside it, interleaved
  search by search in the same loop, the same searches with exact totals (``total_limit=0``, the
  body before that setting): their p95 and the ratio of the two, which the machine's load moves
  little. bench/search_bodies.py splits a search's time further (highlight, collapse, profile) on
  an index it keeps between runs.
Each size is measured once Elasticsearch has finished merging what the fill wrote.
The last line of the table gives each figure's growth from the first size to the last.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.api import SEARCHES, analysed_articles  # noqa: E402
from bench.common import bench_services, machine_load, percentile, write_result  # noqa: E402

FILL_CHUNK = 1000


def fill(es, index: str, base: list, start: int, stop: int) -> None:  # type: ignore[no-untyped-def]
    from elasticsearch import helpers

    from index.article_document import article_document
    from ingest.fingerprint import bands

    rng = random.Random(start)
    for chunk in range(start, stop, FILL_CHUNK):
        actions = []
        for number in range(chunk, min(stop, chunk + FILL_CHUNK)):
            item = base[number % len(base)]
            article = replace(item.article, article_id=f"fill-{number}",
                              published=item.article.published + timedelta(minutes=number % 997))
            signature = "".join(f"{rng.getrandbits(31):08x}" for _ in range(64))
            document = article_document(replace(item, article=article, signature=signature)).to_dict()
            document["signature_bands"] = bands(signature)
            actions.append({"_index": index, "_id": article.article_id, "_source": document})
        helpers.bulk(es.options(request_timeout=300), actions, chunk_size=500)


def bench_requests() -> list:  # type: ignore[type-arg]
    """bench/api.py's 8 searches as the API runs them (10 hits each)."""
    from index.search import SearchFilters, SearchRequest
    from vigie.cli.options import parse_when

    return [SearchRequest(query=query, filters=SearchFilters(
        languages=tuple(params.get("lang", ())), topics=tuple(params.get("topic", ())),  # type: ignore[arg-type]
        since=parse_when(str(params["since"])) if "since" in params else None),
        sort=str(params.get("sort", "relevance")), collapse=params.get("collapse") == "true", limit=10)  # type: ignore[arg-type]
        for query, params in SEARCHES]


def settle(es, index: str, timeout: float = 600) -> None:  # type: ignore[no-untyped-def]
    """Wait until Elasticsearch has no merge running on ``index``: right after a bulk fill, its
    background merges would be measured along with the searches."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        merges = es.indices.stats(index=index, metric="merge")["_all"]["total"]["merges"]
        if merges["current"] == 0:
            return
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 500_000])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--search-rounds", type=int, default=5,
                        help="times each of the 8 searches runs per size (more: a steadier p95)")
    args = parser.parse_args()

    from elasticsearch import Elasticsearch

    import index.dedup as dedup
    from bench.index import analysed_articles as fresh_articles
    from index.search import search
    from index.store import ArticleStore
    from vigie.queries import lemma_variants
    from worker.runtime import Runtime
    from worker.story_assignment import assign

    print(f"building the articles; {machine_load()}", flush=True)
    base = analysed_articles(2000)
    measured = fresh_articles(16 * args.batches * len(args.sizes))
    rows = []
    with bench_services(VIGIE_ES_HEAP="1g") as services:
        settings = services.settings
        es = Elasticsearch(settings.es_url, request_timeout=300)
        store = ArticleStore(es, settings.index_prefix)
        index = store.ensure_ready()
        runtime = Runtime(settings)
        variants = lemma_variants(settings.query_lemma_languages)
        requests = bench_requests()
        lookups: list[float] = []
        assign_clusters = dedup.assign_clusters

        def timed(*call_args, **call_kwargs):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return assign_clusters(*call_args, **call_kwargs)
            finally:
                lookups.append(time.perf_counter() - started)

        import index.store as store_module
        store_module.assign_clusters = timed  # type: ignore[assignment]
        filled = 0
        for round_, size in enumerate(args.sizes):
            started = time.perf_counter()
            target = max(filled, size - 16 * args.batches * round_)  # the measured batches count too
            fill(es, index, base, filled, target)
            filled = target
            store.refresh()
            settle(es, index)
            print(f"filled to {store.count():,} documents in {time.perf_counter() - started:.0f} s; {machine_load()}",
                  flush=True)
            lookups.clear()
            stories: list[float] = []
            batch_items = measured[round_ * 16 * args.batches:(round_ + 1) * 16 * args.batches]
            written = 0.0
            for i in range(0, len(batch_items), 16):
                batch = batch_items[i:i + 16]
                began = time.perf_counter()
                outcome = store.index_batch(batch)
                written += time.perf_counter() - began
                assert not outcome.rejected and not outcome.retry, outcome
                began = time.perf_counter()
                assign(runtime, batch, {key: doc.cluster_id or key for key, doc in outcome.documents.items()})
                stories.append(time.perf_counter() - began)
            store.refresh()
            timings: list[float] = []
            exact_timings: list[float] = []
            for _ in range(args.search_rounds):
                for request in requests:  # the body of the API now, then the exact count of before
                    for timed_list, total_limit in ((timings, settings.search_total_limit), (exact_timings, 0)):
                        began = time.perf_counter()
                        search(es, settings.index_prefix, replace(request, total_limit=total_limit),
                               variants if request.query else None)
                        timed_list.append(time.perf_counter() - began)
            row = {"size": store.count(), "docs_s": round(len(batch_items) / written, 1),
                   "lookup_ms": round(statistics.median(lookups) * 1000, 1),
                   "story_ms": round(statistics.median(stories) * 1000, 1),
                   "search_p95_ms": round(percentile(timings, 0.95) * 1000, 1),
                   "search_exact_p95_ms": round(percentile(exact_timings, 0.95) * 1000, 1),
                   "load": machine_load()}
            rows.append(row)
            print(row, flush=True)
        es.close()
    print("\n| documents | write path docs/s | near-duplicate lookup per batch (ms) | story assignment per batch (ms) "
          "| search p95 (ms) | search p95, exact totals (ms) | exact / limited | load |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['size']:,} | {row['docs_s']} | {row['lookup_ms']} | {row['story_ms']} | {row['search_p95_ms']} "
              f"| {row['search_exact_p95_ms']} | {row['search_exact_p95_ms'] / row['search_p95_ms']:.2f} × "  # type: ignore[operator]
              f"| {row['load']} |")
    first, last = rows[0], rows[-1]
    print(f"| growth first → last | {first['docs_s'] / last['docs_s']:.2f} × slower | "  # type: ignore[operator]
          f"{last['lookup_ms'] / first['lookup_ms']:.2f} × | {last['story_ms'] / first['story_ms']:.2f} × | "  # type: ignore[operator]
          f"{last['search_p95_ms'] / first['search_p95_ms']:.2f} × | "  # type: ignore[operator]
          f"{last['search_exact_p95_ms'] / first['search_exact_p95_ms']:.2f} × | | |")  # type: ignore[operator]
    print(f"written {write_result('growth', {'rows': rows})}")


if __name__ == "__main__":
    main()
