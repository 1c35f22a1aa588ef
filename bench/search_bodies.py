"""Where a search's time goes on a large index, and the exact-count body against the limited one.

    .venv/bin/python bench/search_bodies.py --home DIR --size 200000 [--rounds 10] [--profile] [--stop]

``--home DIR`` keeps this bench's Redis and Elasticsearch, and the index it filled, in DIR between
runs (its ports are written to DIR/bench-env.json): the first run starts them and fills the articles
index as bench/growth.py does, a later run with the same DIR starts them again if they are stopped
and only fills what is missing, so a second measurement at 500,000 documents costs seconds, not the
fill's quarter of an hour. ``--stop`` stops them at the end (DIR stays: delete it to free the disk).
Heap VIGIE_ES_HEAP (default 1g).

bench/api.py's 8 searches are timed in these variants, interleaved round after round (a change in the
machine's load hits every variant alike), through Elasticsearch's search API with the body
``index.search.search_body`` builds:
- exact: ``track_total_hits: true``, every match counted (the body before VIGIE_SEARCH_TOTAL_LIMIT);
- limited: ``track_total_hits: 10000`` (``--limit``), the default of `vigie search` and the API;
- exact, no highlight / limited, no highlight: what highlighting the page's hits costs;
- limited, no collapse: what collapsing costs (only the collapsed search differs);
- limited, tie 0.1: each word's field alternatives as ``dis_max`` with a tie_breaker of 0.1 (the shipped
  body uses 0, ``index.search.FIELDS_TIE_BREAKER``: docs/quality.md's "Search ranking");
- limited, fields summed: the same alternatives summed in a ``bool`` ``should`` (the body before).
Every body is built by ``search_body`` (its ``tie_breaker``); the variants only change what follows.
Printed: each variant's p95 and median over all searches (wall time, ms) and per search the median of
Elasticsearch's own ``took``; the exact/limited ratio of p95 is the figure that resists the load.
``--profile``: each search once more with ``profile: true`` in the exact and limited bodies: the time
of the query, its collector and the fetch phase (highlight included) on the shard.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import VIGIE, machine_load, percentile, write_result  # noqa: E402
from vigie.services.processes import free_port  # noqa: E402

VARIANTS = ("exact", "limited", "exact, no highlight", "limited, no highlight", "limited, no collapse",
            "limited, tie 0.1", "limited, fields summed")
#: The ``search_body`` tie_breaker of the variants that do not use the shipped one (None: summed).
TIE_BREAKERS: dict[str, float | None] = {"limited, tie 0.1": 0.1, "limited, fields summed": None}


def services_env(home: Path) -> dict[str, str]:
    """The environment of the services kept in ``home``: the same ports on every run."""
    home.mkdir(parents=True, exist_ok=True)
    saved = home / "bench-env.json"
    if saved.exists():
        kept = json.loads(saved.read_text())
    else:
        kept = {"VIGIE_HOME": str(home.resolve()), "VIGIE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
                "VIGIE_ES_URL": f"http://127.0.0.1:{free_port()}", "VIGIE_INDEX_PREFIX": "bench"}
        saved.write_text(json.dumps(kept, indent=2))
    root = Path(__file__).resolve().parents[1]
    env = {key: value for key, value in os.environ.items() if not key.startswith("VIGIE_")}
    env.update(VIGIE_CACHE_DIR=str(root / ".cache"), VIGIE_LOG_LEVEL="INFO",
               VIGIE_ES_HEAP=os.environ.get("VIGIE_ES_HEAP", "1g"), **kept)
    return env


def variant_body(request: Any, lemma_variants: Any, variant: str, limit: int) -> dict[str, Any]:
    """``search_body`` of ``request`` as ``variant`` runs it."""
    from index.search import FIELDS_TIE_BREAKER, search_body

    body = search_body(request, lemma_variants if request.query else None,
                       tie_breaker=TIE_BREAKERS.get(variant, FIELDS_TIE_BREAKER))
    body["track_total_hits"] = True if variant.startswith("exact") else limit
    if "no highlight" in variant:
        body.pop("highlight", None)
    if "no collapse" in variant:
        body.pop("collapse", None)
    return body


def profile_summary(response: dict[str, Any]) -> str:
    parts = []
    for shard in response["profile"]["shards"]:
        for searched in shard["searches"]:
            query = sum(item["time_in_nanos"] for item in searched["query"]) / 1e6
            collectors = "; ".join(f"{item['name']} {item['time_in_nanos'] / 1e6:.1f}"
                                   for item in searched["collector"])
            parts.append(f"query {query:.1f} ms, collector {collectors} ms")
        fetch = shard.get("fetch")
        if fetch:
            parts.append(f"fetch {fetch['time_in_nanos'] / 1e6:.1f} ms")
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--limit", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--stop", action="store_true")
    args = parser.parse_args()

    from elasticsearch import Elasticsearch

    from bench.api import analysed_articles
    from bench.growth import bench_requests, fill, settle
    from conf.settings import Settings
    from index.mappings import articles_alias
    from index.store import ArticleStore
    from vigie.queries import lemma_variants

    env = services_env(args.home)
    subprocess.run([VIGIE, "services", "start"], env=env, check=True, capture_output=True)
    settings = Settings(**{key[6:].lower(): value for key, value in env.items() if key.startswith("VIGIE_")})  # type: ignore[arg-type]
    es = Elasticsearch(settings.es_url, request_timeout=300)
    try:
        store = ArticleStore(es, settings.index_prefix)
        index = store.ensure_ready()
        store.refresh()
        have = store.count()
        if have < args.size:
            started = time.perf_counter()
            print(f"filling from {have:,} to {args.size:,}; {machine_load()}", flush=True)
            fill(es, index, analysed_articles(2000), have, args.size)
            store.refresh()
            settle(es, index)
            print(f"filled in {time.perf_counter() - started:.0f} s", flush=True)
        size = store.count()
        variants = lemma_variants(settings.query_lemma_languages)
        requests = bench_requests()
        bodies = [{variant: variant_body(request, variants, variant, args.limit) for variant in VARIANTS}
                  for request in requests]
        alias = articles_alias(settings.index_prefix)
        print(f"{size:,} documents; {machine_load()}", flush=True)
        for body in bodies:  # warm the caches once, every variant
            for variant in VARIANTS:
                es.search(index=alias, **body[variant])
        wall: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
        took: dict[str, list[list[int]]] = {variant: [[] for _ in bodies] for variant in VARIANTS}
        totals: dict[str, list[str]] = {variant: [""] * len(bodies) for variant in VARIANTS}
        load_before = machine_load()
        for _ in range(args.rounds):
            for number, body in enumerate(bodies):
                for variant in VARIANTS:
                    began = time.perf_counter()
                    response = es.search(index=alias, **body[variant])
                    wall[variant].append(time.perf_counter() - began)
                    took[variant][number].append(int(response["took"]))
                    total = response["hits"]["total"]
                    totals[variant][number] = f"{total['value']}{'+' if total['relation'] == 'gte' else ''}"
        load_after = machine_load()
        print(f"\n{args.rounds} rounds of {len(bodies)} searches per variant; before: {load_before}; "
              f"after: {load_after}\n")
        print("| variant | p95 (ms) | median (ms) | " + " | ".join(
            f"{request.query or '(all)'} took (ms)" for request in requests) + " |")
        print("|---|---:|---:|" + "---:|" * len(requests))
        result: dict[str, Any] = {"size": size, "load_before": load_before, "load_after": load_after,
                                  "variants": {}}
        for variant in VARIANTS:
            p95 = percentile(wall[variant], 0.95) * 1000
            middle = statistics.median(wall[variant]) * 1000
            per_search = [statistics.median(values) for values in took[variant]]
            result["variants"][variant] = {"p95_ms": round(p95, 1), "median_ms": round(middle, 1),
                                           "took_ms": per_search, "totals": totals[variant]}
            print(f"| {variant} | {p95:.1f} | {middle:.1f} | " + " | ".join(
                f"{value:g} ({count})" for value, count in zip(per_search, totals[variant])) + " |")
        ratio = result["variants"]["exact"]["p95_ms"] / result["variants"]["limited"]["p95_ms"]
        result["exact_over_limited_p95"] = round(ratio, 2)
        print(f"\nexact / limited p95: {ratio:.2f} ×")
        if args.profile:
            print("\nprofile (one run each, on the shard):")
            for request, body in zip(requests, bodies):
                for variant in ("exact", "limited"):
                    response = es.search(index=alias, profile=True, **body[variant])
                    print(f"  {request.query or '(all)'!r} {variant}: {profile_summary(response)}", flush=True)
        print(f"written {write_result('search_bodies', result)}")
    finally:
        es.close()
        if args.stop:
            subprocess.run([VIGIE, "services", "stop"], env=env, capture_output=True)


if __name__ == "__main__":
    main()
