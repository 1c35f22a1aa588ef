"""Search through the HTTP API against the same search sent straight to Elasticsearch, in one run.

    .venv/bin/python bench/api.py [--docs 10000] [--clients 10] [--seconds 15] [--rounds 3]

1. Redis and Elasticsearch of its own (`vigie services start` under .vigie-bench/, free ports);
2. ``--docs`` synthetic analysed articles (~600 words of real news paragraphs from the evaluation
   corpus, French and English, their lemmas from the lookup tables, random entities, topics and dates
   over a year) written through ``ArticleStore.index_batch``, the worker's write path; no NER model:
   the analysis is not what is measured here;
3. `vigie api` in its own process, as `vigie up` runs it (default settings: 12 languages of lemmas);
4. a mix of 8 searches (words, a word found through its lemma, a phrase, OR/NOT, a field, filters,
   date sort, collapse), 10 hits each with highlights, sent by ``--clients`` concurrent clients (threads with
   keep-alive connections) for ``--seconds``:
   a) through the API: ``GET /api/search?...``;
   b) straight to Elasticsearch: ``POST /<alias>/_search`` with ``index.search.search_body`` of the
      same request, the very body the API has Elasticsearch run (lemma variants computed beforehand).
   Each phase has a 3-second warm-up, not counted; the two paths alternate over ``--rounds`` rounds.
   The ratio is API / Elasticsearch requests per second.
Results also go to bench/results/api.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    VIGIE,
    Background,
    articles,
    bench_services,
    machine_load,
    percentile,
    write_result,
)

#: (query, filters as query parameters) — the same searches both ways.
SEARCHES: list[tuple[str, dict[str, object]]] = [
    ("ministre", {}),
    ("réfugié", {}),  # an inflection the texts do not hold: found through its lemma
    ('"cessez-le-feu"', {}),
    ("président OR minister", {"lang": ["fr", "en"]}),
    ("élections -police", {"sort": "date"}),
    ("person:Erdogan", {}),
    ("", {"topic": ["migration"], "sort": "date"}),
    ("migrants", {"collapse": "true", "since": "2026-03-01"}),
]
PEOPLE = ("Recep Tayyip Erdogan", "Vladimir Poutine", "Emmanuel Macron", "Olaf Scholz", "Giorgia Meloni")
PLACES = ("Idleb", "Moscou", "Paris", "Berlin", "Gaza", "Kyiv", "Lampedusa")
TOPICS = ("migration", "ceasefire", "diplomacy", "elections", "natural-disaster", "health")


def analysed_articles(count: int):  # type: ignore[no-untyped-def]
    from ingest.fingerprint import signature
    from ingest.lemmas import Lemmatizer
    from ingest.models import AnalyzedArticle, Analysis, Article, Entity, TopicMatch

    lemmatizer = Lemmatizer()
    lemmas_of: dict[tuple[str, str], str] = {}  # paragraphs repeat across articles: lemmatised once

    def lemmas(language: str, text: str) -> str:
        parts = []
        for paragraph in text.split("\n\n"):
            key = (language, paragraph)
            if key not in lemmas_of:
                lemmas_of[key] = " ".join(lemma for _, lemma in lemmatizer.words_of_text(paragraph, language))
            parts.append(lemmas_of[key])
        return " ".join(parts)

    rng = random.Random(8)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    made = []
    for number, (language, story) in enumerate(articles(count, prefix="api")):
        text = story.text
        entities = []
        for name, label in ((rng.choice(PEOPLE), "PERSON"), (rng.choice(PLACES), "LOCATION")):
            at = rng.randrange(0, max(1, len(text) - 200))
            entities.append(Entity(name, label, 2, ((at, at + len(name)),), name.lower()))  # type: ignore[arg-type]
        topics = tuple(TopicMatch(name, round(rng.uniform(0.3, 0.95), 2), (name,))
                       for name in rng.sample(TOPICS, 2))
        published = start + timedelta(minutes=rng.randrange(0, 330 * 24 * 60))
        article = Article(article_id=f"api-{number}", title=story.title, body=text, is_html=False,
                          text_source="content", feed_url=f"http://127.0.0.1/feed/{number % 40}.xml",
                          url=f"https://news{number % 25}.example.org/{number}", published=published,
                          fetched_at=published + timedelta(minutes=2))
        analysis = Analysis(language=language, language_confidence=0.99, title=story.title, text=text,
                            entities=tuple(entities), topics=topics, lemmas=lemmas(language, f"{story.title}\n\n{text}"))
        made.append(AnalyzedArticle(article, analysis, signature=signature(text)))
    return made


def load(requests: list[tuple[str, str, bytes | None]], base_url: str, clients: int, seconds: float,
         processes: dict[str, int], warmup: float = 3.0) -> dict[str, float]:
    """``clients`` threads cycling through ``requests`` for ``seconds`` (after ``warmup``), and the CPU
    time each of ``processes`` (name: pid) spent per request meanwhile: a figure the machine's other
    load disturbs far less than requests per second."""
    import httpx
    import psutil

    watched = {name: psutil.Process(pid) for name, pid in processes.items()}

    def seconds_of(process: psutil.Process) -> float:
        times = process.cpu_times()
        return times.user + times.system

    def cpu() -> dict[str, float]:
        # Elasticsearch's native controller is its child; the bench's child is the API, counted apart.
        return {name: seconds_of(process) + (sum(seconds_of(child) for child in process.children(recursive=True))
                                             if name == "elasticsearch" else 0.0)
                for name, process in watched.items()}

    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    begin = threading.Barrier(clients + 1)
    state = {"measuring": False, "stop": False}

    def client(number: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30, headers={"Content-Type": "application/json"}) as http:
            begin.wait()
            i = number
            while not state["stop"]:
                method, path, body = requests[i % len(requests)]
                i += 1
                sent = time.perf_counter()
                response = http.request(method, path, content=body)
                response.read()
                took = time.perf_counter() - sent
                if state["measuring"] and not state["stop"]:
                    if response.status_code == 200:
                        latencies[number].append(took)
                    else:
                        errors[number] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    begin.wait()
    time.sleep(warmup)
    state["measuring"] = True
    started, cpu_before = time.perf_counter(), cpu()
    time.sleep(seconds)
    state["stop"] = True
    elapsed, cpu_after = time.perf_counter() - started, cpu()
    for thread in threads:
        thread.join()
    everything = [value for values in latencies for value in values]
    figures = {"requests": len(everything), "errors": sum(errors), "rps": len(everything) / elapsed,
               "p50_ms": percentile(everything, 0.5) * 1000, "p95_ms": percentile(everything, 0.95) * 1000}
    for name in watched:
        figures[f"{name}_cpu_ms"] = (cpu_after[name] - cpu_before[name]) * 1000 / max(1, len(everything))
    return figures


def combined(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Several rounds as one: requests/s over all of them; the latencies of the median round."""
    ordered = sorted(rounds, key=lambda figures: figures["rps"])
    middle = ordered[len(ordered) // 2]
    cpu = {name: round(sum(r[name] for r in rounds) / len(rounds), 2) for name in rounds[0] if name.endswith("_cpu_ms")}
    return {"requests": sum(r["requests"] for r in rounds), "errors": sum(r["errors"] for r in rounds),
            "rps": round(sum(r["rps"] for r in rounds) / len(rounds), 1), "p50_ms": round(middle["p50_ms"], 1),
            "p95_ms": round(middle["p95_ms"], 1), "rounds_rps": [round(r["rps"], 1) for r in rounds], **cpu}  # type: ignore[dict-item]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=15.0, help="per round and path")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per path (load drifts)")
    args = parser.parse_args()

    import httpx

    from index.client import connect
    from index.mappings import articles_alias
    from index.search import SearchFilters, SearchRequest, search_body
    from index.store import ArticleStore
    from vigie.cli.options import parse_when
    from vigie.queries import lemma_variants
    from vigie.services.processes import free_port

    print(f"building {args.docs} analysed articles; {machine_load()}", flush=True)
    items = analysed_articles(args.docs)
    result: dict[str, object] = {"docs": args.docs, "clients": args.clients, "seconds": args.seconds}
    port = free_port()
    with bench_services(VIGIE_API_PORT=str(port), VIGIE_API_TOKEN="bench-token-" + "x" * 20) as services:
        settings = services.settings
        store = ArticleStore(connect(settings.es_url, timeout=120), settings.index_prefix)
        store.ensure_ready()
        started = time.perf_counter()
        for i in range(0, len(items), 500):
            outcome = store.index_batch(items[i : i + 500])
            assert not outcome.rejected and not outcome.retry, outcome
        store.refresh()
        assert store.count() == len(items)
        print(f"indexed {len(items)} articles in {time.perf_counter() - started:.0f} s", flush=True)

        api = Background("api", [VIGIE, "api"], services.env).start()
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/health", timeout=5).json().get("lemmas_loaded"):
                        break
                except (httpx.HTTPError, ValueError):
                    pass
                time.sleep(0.5)
            else:
                raise RuntimeError(f"the API did not start:\n{api.output()[-3000:]}")

            variants = lemma_variants(settings.query_lemma_languages)
            api_requests, es_requests = [], []
            for query, params in SEARCHES:
                api_requests.append(("GET", "/api/search?" + httpx.QueryParams({"q": query, **params}).__str__(), None))
                filters = SearchFilters(languages=tuple(params.get("lang", ())),  # type: ignore[arg-type]
                                        topics=tuple(params.get("topic", ())),  # type: ignore[arg-type]
                                        since=parse_when(str(params["since"])) if "since" in params else None)
                request = SearchRequest(query=query, filters=filters, sort=str(params.get("sort", "relevance")),  # type: ignore[arg-type]
                                        collapse=params.get("collapse") == "true", limit=10)
                body = search_body(request, variants if query else None)
                es_requests.append(("POST", f"/{articles_alias(settings.index_prefix)}/_search",
                                    json.dumps(body).encode()))
                hits_api = httpx.get(base + api_requests[-1][1]).json()["total"]
                hits_es = httpx.post(settings.es_url + es_requests[-1][1], content=es_requests[-1][2],
                                     headers={"Content-Type": "application/json"}).json()["hits"]["total"]["value"]
                assert hits_api == hits_es and hits_api > 0, (query, params, hits_api, hits_es)
                print(f"  {query or '(all)'!r} {params}: {hits_api} hits both ways", flush=True)

            from vigie.services import embedded_services

            es_pid = next(service.status()["pid"] for service in embedded_services(settings)
                          if service.status()["service"] == "elasticsearch")
            processes = {"elasticsearch": int(es_pid), "api": api.pid, "bench": os.getpid()}
            result["load_before"] = machine_load()
            rounds: dict[str, list[dict[str, float]]] = {"es": [], "api": []}
            for _ in range(args.rounds):  # alternated, so a change in the machine's load hits both
                rounds["es"].append(load(es_requests, settings.es_url, args.clients, args.seconds, processes))
                rounds["api"].append(load(api_requests, base, args.clients, args.seconds, processes))
            result["load_after"] = machine_load()
            es_figures, api_figures = combined(rounds["es"]), combined(rounds["api"])
        finally:
            api.stop()
    ratio = api_figures["rps"] / es_figures["rps"]
    result.update(api=api_figures, elasticsearch=es_figures, ratio=round(ratio, 3))
    print("\n| path | requests/s | p50 ms | p95 ms | requests | errors | CPU ms/request: Elasticsearch | API | "
          "bench client |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, figures in (("API `GET /api/search`", api_figures), ("Elasticsearch `_search`, same body", es_figures)):
        print(f"| {name} | {figures['rps']:,.0f} | {figures['p50_ms']:.1f} | {figures['p95_ms']:.1f} | "
              f"{figures['requests']:,.0f} | {figures['errors']:.0f} | {figures['elasticsearch_cpu_ms']:.2f} | "
              f"{figures['api_cpu_ms']:.2f} | {figures['bench_cpu_ms']:.2f} |")
    print(f"\nAPI / Elasticsearch throughput: {ratio:.2f} (rounds: API {api_figures['rounds_rps']}, "
          f"Elasticsearch {es_figures['rounds_rps']}); {result['load_before']} before, {result['load_after']} after")
    print(f"written {write_result('api', result)}")


if __name__ == "__main__":
    main()
