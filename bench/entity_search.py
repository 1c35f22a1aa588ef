"""What identity expansion costs a search: the same searches with and without it, in one run.

    .venv/bin/python bench/entity_search.py [--docs 10000] [--clients 10] [--seconds 10] [--rounds 3]

A query word or phrase that names a known entity ("Putin", "Idlib", "Etats-Unis") also matches the
entity's id (``index.search``: a ``term`` on ``entity_ids``), and ``entity:`` matches by id, by any
known name and by the folded names seen. This bench measures that expansion where it happens,
in Elasticsearch:

1. its own Redis and Elasticsearch (``bench.common.bench_services``);
2. ``--docs`` synthetic analysed articles (``bench.api.analysed_articles``: real news paragraphs,
   their lemmas, random persons and places) whose entities carry their knowledge-base identity, as
   the analysis gives them ("Vladimir Poutine" → Q7747), written through ``ArticleStore.index_batch``;
3. a mix of searches naming entities in another spelling than the texts' and plain words, each
   built twice by ``index.search.search_body``: as the API builds it (expansion on) and with the
   knowledge-base lookup switched off in this process (expansion off: the body a search had before
   identities);
4. ``--clients`` concurrent clients send each set straight to ``_search`` for ``--seconds``, the two
   sets alternating over ``--rounds`` rounds (load drifts); p50, p95 and requests/s of each.

The API adds the same work to both (its overhead is what bench/api.py measures). Results also go to
bench/results/entity_search.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.api import analysed_articles, combined, load  # noqa: E402
from bench.common import bench_services, machine_load, write_result  # noqa: E402

#: (query, entity filter): names as the synthetic texts do not write them, then plain words.
SEARCHES: list[tuple[str, tuple[str, ...]]] = [
    ("Putin", ()),
    ("Idlib", ()),
    ("Erdoğan", ()),
    ("Moscow", ()),
    ("Macron cessez-le-feu", ()),
    ("", ("Poutine",)),
    ("", ("Q7747",)),
    ("ministre", ()),
    ('"cessez-le-feu"', ()),
]


def identified(items):  # type: ignore[no-untyped-def]
    """The articles with their entities identified by the knowledge base, as the analysis does."""
    from ingest.entity_kb import default_kb

    kb = default_kb()
    done = []
    for item in items:
        entities = []
        for entity in item.analysis.entities:
            known = kb.lookup(entity.text)
            entities.append(replace(entity, id=known.id, name=known.name, variants=(entity.text,))
                            if known is not None else entity)
        done.append(replace(item, analysis=replace(item.analysis, entities=tuple(entities))))
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0, help="per round and set")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import httpx

    import index.search as search_module
    from index.client import connect
    from index.mappings import articles_alias
    from index.search import SearchFilters, SearchRequest, search_body
    from index.store import ArticleStore
    from vigie.queries import lemma_variants

    print(f"building {args.docs} analysed articles; {machine_load()}", flush=True)
    items = identified(analysed_articles(args.docs))
    result: dict[str, object] = {"docs": args.docs, "clients": args.clients, "seconds": args.seconds}
    with bench_services() as services:
        settings = services.settings
        store = ArticleStore(connect(settings.es_url, timeout=120), settings.index_prefix)
        store.ensure_ready()
        for i in range(0, len(items), 500):
            outcome = store.index_batch(items[i : i + 500])
            assert not outcome.rejected and not outcome.retry, outcome
        store.refresh()
        variants = lemma_variants(settings.query_lemma_languages)
        path = f"/{articles_alias(settings.index_prefix)}/_search"
        known_entity_id = search_module._known_entity_id

        def bodies(expansion: bool) -> list[tuple[str, str, bytes]]:
            search_module._known_entity_id = known_entity_id if expansion else (lambda text: None)
            try:
                made = []
                for query, entities in SEARCHES:
                    request = SearchRequest(query=query, filters=SearchFilters(entities=entities), limit=10)
                    made.append(("POST", path, json.dumps(search_body(request, variants if query else None)).encode()))
                return made
            finally:
                search_module._known_entity_id = known_entity_id

        sets = {"on": bodies(True), "off": bodies(False)}
        hits: dict[str, list[int]] = {}
        for name, requests in sets.items():
            hits[name] = [httpx.post(settings.es_url + p, content=body, headers={"Content-Type": "application/json"}
                                     ).json()["hits"]["total"]["value"] for _, p, body in requests]
        for (query, entities), on, off in zip(SEARCHES, hits["on"], hits["off"]):
            print(f"  {query or '(all)'!r} entity={list(entities)}: {on} hits with expansion, {off} without", flush=True)
        result["hits"] = {"searches": [f"{q} {list(e)}" for q, e in SEARCHES], **hits}

        from vigie.services import embedded_services

        es_pid = next(service.status()["pid"] for service in embedded_services(settings)
                      if service.status()["service"] == "elasticsearch")
        processes = {"elasticsearch": int(es_pid), "bench": os.getpid()}
        result["load_before"] = machine_load()
        rounds: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
        for _ in range(args.rounds):
            for name in ("off", "on"):
                rounds[name].append(load(sets[name], settings.es_url, args.clients, args.seconds, processes))
        result["load_after"] = machine_load()
    figures = {name: combined(values) for name, values in rounds.items()}
    result.update(expansion_on=figures["on"], expansion_off=figures["off"],
                  p95_ratio=round(figures["on"]["p95_ms"] / figures["off"]["p95_ms"], 3),
                  rps_ratio=round(figures["on"]["rps"] / figures["off"]["rps"], 3))
    print("\n| identity expansion | requests/s | p50 ms | p95 ms | requests | errors | CPU ms/request: Elasticsearch |\n"
          "|---|---:|---:|---:|---:|---:|---:|")
    for name in ("off", "on"):
        f = figures[name]
        print(f"| {name} | {f['rps']:,.0f} | {f['p50_ms']:.1f} | {f['p95_ms']:.1f} | {f['requests']:,.0f} | "
              f"{f['errors']:.0f} | {f['elasticsearch_cpu_ms']:.2f} |")
    print(f"\np95 on/off: {result['p95_ratio']}; requests/s on/off: {result['rps_ratio']}; "
          f"load before: {result['load_before']}; after: {result['load_after']}")
    write_result("entity_search", result)


if __name__ == "__main__":
    main()
