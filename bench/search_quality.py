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
from index.search import FIELDS_TIE_BREAKER  # noqa: E402

#: Each body variant: how ``index.search.search_body`` scores a word's field alternatives (its
#: ``tie_breaker``; None: summed).
VARIANTS: dict[str, float | None] = {
    "summed (before)": None,
    "best field": 0.0,
    "best field, tie 0.1": 0.1,
    "best field, tie 0.3": 0.3,
    "shipped": FIELDS_TIE_BREAKER,
}


def main() -> None:
    args = quality_arguments(__doc__, "per query, each variant's reciprocal rank")
    from elasticsearch import Elasticsearch

    from conf.settings import load_settings
    from tests.index.search_ranking import index_stream, load_queries, ranked_ids, score_ranked, stream_analysed
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
            rankings = {name: [ranked_ids(es, prefix, item.query, variants, tie_breaker) for item in queries]
                        for name, tie_breaker in VARIANTS.items()}
            before = rankings["summed (before)"]
            per_query: dict[str, list[float]] = {}
            result["parts"][part] = {}
            for name in VARIANTS:
                scores, each = score_ranked(queries, rankings[name])
                differ = sum(ranked != summed for ranked, summed in zip(rankings[name], before))
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
