"""Search ranking on the labelled ranking set (tests/index/search-relevance), per search body.

    .venv/bin/python bench/search_quality.py [--misses]

Starts its own Redis and Elasticsearch (bench.common.bench_services), indexes the labelled story stream
(tests/ingest/stories, both parts, analysed by the shipped analyser) and runs every query of the
ranking set with each body variant:
- summed: each word's alternatives (title, text, lemma variants, folded, known identity) summed in a
  ``bool`` ``should`` (the body before the best-field change);
- best field: the same alternatives as ``dis_max`` (tie_breaker 0), and with tie_breaker 0.1 and 0.3;
- shipped: ``index.search.search_body`` as it is.
Printed: precision@5, recall@10, MRR and nDCG@10 per variant, dev and held-out separately (the
held-out queries are never used to choose a body), and how many queries' top ten (ids in order)
differ from the summed body's. ``--misses``: per query, the variants' RR.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import bench_services, machine_load, quality_arguments, write_result  # noqa: E402
from bench.search_bodies import fields_by_max, fields_summed  # noqa: E402


def _query_only(transform: Any) -> Any:
    def variant(body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "query": transform(body["query"])}
    return variant


VARIANTS: dict[str, Any] = {
    "summed (before)": _query_only(fields_summed),
    "best field": _query_only(lambda query: fields_by_max(query, 0.0)),
    "best field, tie 0.1": _query_only(lambda query: fields_by_max(query, 0.1)),
    "best field, tie 0.3": _query_only(lambda query: fields_by_max(query, 0.3)),
    "shipped": None,
}


def main() -> None:
    args = quality_arguments(__doc__, "per query, each variant's reciprocal rank")
    from elasticsearch import Elasticsearch

    from conf.settings import load_settings
    from tests.index.search_ranking import index_stream, load_queries, ranked_ids, score_queries, stream_analysed
    from vigie.queries import lemma_variants

    analysed = stream_analysed()
    variants = lemma_variants(load_settings().query_lemma_languages)
    with bench_services() as services:
        es = Elasticsearch(services.settings.es_url, request_timeout=120)
        prefix = services.settings.index_prefix
        index_stream(es, prefix, analysed)
        result: dict[str, Any] = {"load": machine_load(), "parts": {}}
        print(f"{len(analysed)} articles indexed; {machine_load()}\n")
        for part in ("dev", "heldout"):
            queries = load_queries(part)
            print(f"{part}: {len(queries)} queries\n")
            print("| variant | precision@5 | recall@10 | MRR | nDCG@10 | top ten differs from summed |")
            print("|---|---:|---:|---:|---:|---:|")
            before = [ranked_ids(es, prefix, item.query, variants, VARIANTS["summed (before)"]) for item in queries]
            per_query: dict[str, list[float]] = {}
            result["parts"][part] = {}
            for name, variant in VARIANTS.items():
                scores, each = score_queries(es, prefix, queries, variants, variant)
                differ = sum(ranked_ids(es, prefix, item.query, variants, variant) != ranked
                             for item, ranked in zip(queries, before))
                result["parts"][part][name] = {**scores.to_dict(), "top_ten_differs": differ}
                print(f"| {name} | {scores.precision_at_5:.3f} | {scores.recall_at_10:.3f} | {scores.mrr:.3f} | "
                      f"{scores.ndcg_at_10:.3f} | {differ} of {len(queries)} |")
                for query, values in each:
                    per_query.setdefault(query, []).append(values[2])
            if args.misses:
                print("\nper query, RR: " + " / ".join(VARIANTS))
                for query, values in per_query.items():
                    print(f"  {query!r}: " + " / ".join(f"{value:.2f}" for value in values))
            print()
        es.close()
    print(f"written {write_result('search_quality', result)}")


if __name__ == "__main__":
    main()
