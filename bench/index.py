"""Documents per second bulk-indexed by Vigie, against a bare ``helpers.bulk`` of the same documents;
then the latency from a feed item being fetched to it being searchable at a steady load.

    .venv/bin/python bench/index.py [--docs 10000] [--rate 8] [--latency-seconds 60] [--rounds 1]
    .venv/bin/python bench/index.py --docs 2000 --profile 1000     # where the write path's time goes

1. ``--docs`` analysed articles of ~600 words (real news paragraphs, entities and topics attached,
   MinHash signatures computed as the worker does) are built in memory first;
2. Vigie: ``ArticleStore.index_batch`` — the worker's write path: near-duplicate lookup (one
   msearch per batch), document shaping, one bulk request — in batches of 16 (what a worker task
   carries; the share of the near-duplicate lookup in it is printed) and of 256; each twice: with the
   near-duplicate lookup in Elasticsearch only, and with recent band keys in Redis
   (state.recent_bands, what the worker uses unless VIGIE_DUPLICATE_RECENT_HOURS=0; the Redis memory
   it took per 1,000 articles is printed);
3. bare: ``elasticsearch.helpers.bulk`` of the very same documents (already shaped, not timed) into
   an index of the same mapping, with its default chunk of 500: the issue's "bare bulk", the floor,
   measured first and again last (the machine's load moves during a run); and the same in chunks of
   16 (one bulk request per worker batch, the round trips of the write path without its work);
   ``--rounds N`` adds N-1 rounds of bare, batches of 16 with recent band keys, bare in chunks of
   16 and joined writes, one right after the other, and prints the ratios paired within each round and
   their median;
   joined writes: the worker's write path when writing has fallen behind (worker.staged_writes): the
   articles staged in Redis in batches of 16 as analysis tasks stage them (JSON, timed), then written
   up to 256 a write, as the next task's write takes what waits;
4. latency: the whole running service (real poller, real worker with 2 processes) fed ``--rate`` new
   articles per second on 10 local feeds polled every second, for ``--latency-seconds``.
Each index run starts from an empty index, once Elasticsearch runs no segment merge (the wait is printed);
figures are docs/s including the final refresh.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    FeedServer,
    articles,
    bench_services,
    machine_load,
    measure_latency,
    start_pipeline,
    write_result,
)


def analysed_articles(count: int, distinct: bool = False, news: bool = False):  # type: ignore[no-untyped-def]
    from datetime import datetime, timezone

    from ingest.fingerprint import signature
    from ingest.models import AnalyzedArticle, Analysis, Article, Entity, TopicMatch

    made = []
    for number, (language, story) in enumerate(articles(count, distinct=distinct, news=news)):
        article = Article(article_id=f"doc-{number}", title=story.title, body=story.text, is_html=False,
                          text_source="content", feed_url=f"http://127.0.0.1/feed/{number % 50}.xml",
                          url=f"https://news.example.org/{number}", published=story.published,
                          fetched_at=datetime.now(timezone.utc))
        entities = (Entity("Recep Tayyip Erdogan", "PERSON", 3, ((0, 5),), "recep tayyip erdogan"),
                    Entity("Idleb", "LOCATION", 2, ((6, 11),), "idleb"))
        analysis = Analysis(language=language, language_confidence=0.99, title=story.title, text=story.text,
                            entities=entities, topics=(TopicMatch("migration", 0.8, ("migrant",)),),
                            lemmas=story.text.lower())
        made.append(AnalyzedArticle(article, analysis, signature=signature(story.text)))
    return made


def profile_write_path(es, redis_client, items, count: int) -> None:  # type: ignore[no-untyped-def]
    """cProfile of ``index_batch`` in batches of 16 with recent band keys: ``count`` articles written
    after as many others (so that their bands are known), grouped by what the time went to."""
    import cProfile
    import pstats

    from index.store import ArticleStore
    from state.recent_bands import RecentBandsInRedis

    store = ArticleStore(es, "profile", recent=RecentBandsInRedis(redis_client, "profile", 6 * 3600))
    store.ensure_ready()
    warm, measured = items[:count], items[count: 2 * count]
    for i in range(0, len(warm), 16):
        store.index_batch(warm[i: i + 16])
    payload = [0]
    script = store.recent._lookup  # type: ignore[union-attr]

    def reply_bytes(value: object) -> int:  # the bytes of the script's reply (strings and numbers)
        if isinstance(value, (list, tuple)):
            return sum(reply_bytes(part) for part in value)
        return len(value) if isinstance(value, bytes) else len(str(value))

    def measured_script(*call_args, **call_kwargs):  # type: ignore[no-untyped-def]
        reply = script(*call_args, **call_kwargs)
        payload[0] += reply_bytes(reply)
        return reply

    store.recent._lookup = measured_script  # type: ignore[union-attr]
    redis_client.config_resetstat()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for i in range(0, len(measured), 16):
        store.index_batch(measured[i: i + 16])
    profiler.disable()
    seconds = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    cumulative = {(Path(file).name, name): (values[3], values[1])
                  for (file, _, name), values in stats.stats.items()}  # type: ignore[attr-defined]

    def spent(file: str, name: str) -> float:
        return sum(value for (f, n), (value, _) in cumulative.items() if f == file and n == name)

    def calls(file: str, name: str) -> int:
        return sum(count for (f, n), (_, count) in cumulative.items() if f == file and n == name)

    batches = (len(measured) + 15) // 16
    print(f"profile: {len(measured)} articles in {batches} batches of 16 in {seconds:.2f} s "
          f"({len(measured) / seconds:,.0f} docs/s under the profiler); {machine_load()}")
    parts = [("index_batch", "store.py", "index_batch"),
             ("  bulk request (es.bulk)", "__init__.py", "bulk"),
             ("  near-duplicate lookup (assign_clusters)", "dedup.py", "assign_clusters"),
             ("    Elasticsearch band check (_bands_indexed)", "dedup.py", "_bands_indexed"),
             ("    Elasticsearch per-article search (_indexed_candidates)", "dedup.py", "_indexed_candidates"),
             ("    Redis lookup script (RecentBandsInRedis.lookup)", "recent_bands.py", "lookup"),
             ("  Redis record script (RecentBandsInRedis.record)", "recent_bands.py", "record"),
             ("  locate (rollover: where each article lives)", "rollover.py", "locate"),
             ("  alias lookups (rollover.alias_members)", "rollover.py", "alias_members"),
             ("  shaping (article_document)", "article_document.py", "article_document"),
             ("  serialising (JSON dumps)", "_serializer.py", "dumps"),
             ]
    for name, file, function in parts:
        value = spent(file, function)
        print(f"  {name}: {value:.2f} s ({value / seconds:.0%}; {calls(file, function)} calls)")
    if payload[0]:
        print(f"  Redis lookup script reply: {payload[0] / batches:,.0f} bytes per batch")
    scripts = redis_client.info("commandstats").get("cmdstat_evalsha", {})
    if scripts:
        print(f"  inside Redis: {scripts['calls']} scripts (lookup and record), {scripts['usec'] / 1e6:.2f} s in all, "
              f"{scripts['usec_per_call'] / 1000:.1f} ms per script")
    stats.sort_stats("tottime").print_stats(12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--news", action="store_true",
                        help="a stream shaped like news (bench.common.news_stream: one article in five a wire copy) "
                             "instead of the default stream of wire copies (most articles near duplicates of one another)")
    parser.add_argument("--rate", type=float, default=8.0, help="articles/s for the latency run")
    parser.add_argument("--latency-seconds", type=float, default=60.0, help="0: no latency run")
    parser.add_argument("--rounds", type=int, default=1,
                        help="then as many more rounds of bare bulk (chunks of 500 and of 16) and batches of 16 with "
                             "recent band keys, one right after the other: ratios paired within a round (the load moves)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="only profile (cProfile) N articles in batches of 16 with recent band keys, after "
                             "as many written first (the write path in its steady state), and print where the time goes")
    args = parser.parse_args()

    from elasticsearch import helpers

    from index.article_document import article_document
    from index.client import connect
    from index.store import ArticleStore
    import redis

    from state.recent_bands import RecentBandsInRedis
    from state.registry import registry_for

    print(f"building {args.docs} analysed articles; {machine_load()}")
    items = analysed_articles(args.docs, news=args.news)
    result: dict[str, object] = {"docs": args.docs, "stream": "news" if args.news else "copies",
                                 "load_before": machine_load()}
    with bench_services(VIGIE_POLL_MIN_INTERVAL="1") as services:
        # the worker's client (index.client.connect: its JSON serialisers), for the bare bulk as for Vigie
        es = connect(services.settings.es_url, timeout=120)

        redis_client = redis.Redis.from_url(services.settings.redis_url)

        settling = [0.0, 0]  # seconds waited, runs

        def settled() -> None:
            """Wait (at most 60 s) until Elasticsearch runs no segment merge: each run is timed from a
            quiet engine, not while merging what the run before it wrote (188 bulk requests of 16 leave
            many small segments; the run after them used to pay for their merges)."""
            started = time.perf_counter()
            quiet = 0
            while quiet < 2 and time.perf_counter() - started < 60:
                stats = es.nodes.stats(metric="indices", index_metric="merge")
                running = sum(node["indices"]["merges"]["current"] for node in stats["nodes"].values())
                quiet = quiet + 1 if running == 0 else 0
                time.sleep(0.2)
            settling[0] += time.perf_counter() - started
            settling[1] += 1

        def vigie_run(prefix: str, batch: int, recent: bool = False) -> float:
            settled()
            store = ArticleStore(es, prefix, recent=RecentBandsInRedis(redis_client, prefix, 6 * 3600)
                                 if recent else None)
            store.ensure_ready()
            started = time.perf_counter()
            for i in range(0, len(items), batch):
                outcome = store.index_batch(items[i : i + batch])
                assert not outcome.rejected and not outcome.retry, outcome
            store.refresh()
            seconds = time.perf_counter() - started
            assert store.count() == len(items)
            return len(items) / seconds

        def staged_run(prefix: str, most: int = 256) -> tuple[float, list[int]]:
            """The worker's write path when writing has fallen behind (worker.staged_writes): the
            articles are staged in batches of 16 as analysis tasks stage them (JSON into Redis: timed),
            then written by what the next task's ``write_waiting`` does, up to ``most`` a write; returns
            docs/s and the size of each write. (When writes keep up, each write takes one task's batch:
            the row of batches of 16.)"""
            from state.staged import StagedArticles
            from worker.staged_writes import stage, write_waiting

            settled()
            store = ArticleStore(es, prefix, recent=RecentBandsInRedis(redis_client, prefix, 6 * 3600))
            store.ensure_ready()
            sizes: list[int] = []

            def write(batch):  # type: ignore[no-untyped-def]
                outcome = store.index_batch(batch)
                assert not outcome.rejected and not outcome.retry, outcome
                sizes.append(len(batch))

            def refuse(payload, ids, error):  # type: ignore[no-untyped-def]
                raise error

            started = time.perf_counter()
            for i in range(0, len(items), 16):
                stage(redis_client, items[i: i + 16])
            write_waiting(redis_client, write, refuse, most)
            store.refresh()
            seconds = time.perf_counter() - started
            assert store.count() == len(items) and StagedArticles(redis_client).waiting() == 0
            return len(items) / seconds, sizes

        def bare_run(prefix: str, batch: int = 500) -> float:
            """``helpers.bulk`` of the documents shaped beforehand (not timed), in chunks of ``batch``:
            500 is its default (the issue's "bare bulk"); 16, one request per worker task's batch."""
            settled()
            store = ArticleStore(es, prefix)
            index = store.ensure_ready()  # same template and mapping
            documents = [article_document(item).to_dict() for item in items]  # shaped beforehand: not timed
            started = time.perf_counter()
            helpers.bulk(es, ({"_index": index, "_id": doc["article_id"], "_source": doc} for doc in documents),
                         chunk_size=batch)
            es.indices.refresh(index=index)
            seconds = time.perf_counter() - started
            assert store.count() == len(items)
            return len(items) / seconds

        import index.store as store_module

        lookup_seconds = [0.0]
        assign_clusters = store_module.assign_clusters

        def timed_lookup(*call_args, **call_kwargs):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return assign_clusters(*call_args, **call_kwargs)
            finally:
                lookup_seconds[0] += time.perf_counter() - started

        store_module.assign_clusters = timed_lookup  # type: ignore[assignment]
        def redis_bytes() -> int:
            return int(redis_client.info("memory")["used_memory"])

        if args.profile:
            profile_write_path(es, redis_client, items, args.profile)
            return

        bare = bare_run("bare")
        bare16 = bare_run("bare16", batch=16)
        vigie16 = vigie_run("vigie16", 16)
        lookup16 = lookup_seconds[0]
        lookup_seconds[0] = 0.0
        memory_before = redis_bytes()
        recent16 = vigie_run("recent16", 16, recent=True)
        recent_memory = (redis_bytes() - memory_before) / (len(items) / 1000)
        lookup_recent16 = lookup_seconds[0]
        vigie256 = vigie_run("vigie256", 256)
        recent256 = vigie_run("recent256", 256, recent=True)
        store_module.assign_clusters = assign_clusters  # type: ignore[assignment]
        joined, joined_sizes = staged_run("joined")
        bare_end = bare_run("bare-end")  # the load moves during the run: the floor again, at its end
        print(f"bare helpers.bulk (chunks of 500, the issue's bare bulk): {bare:,.0f} docs/s")
        print(f"bare helpers.bulk in chunks of 16 (one request per worker batch): {bare16:,.0f} docs/s")
        print(f"Vigie index_batch, batches of 16:  {vigie16:,.0f} docs/s = {vigie16 / bare:.2f} × bare "
              f"(near-duplicate lookup {lookup16 / (len(items) / vigie16):.0%} of the time)")
        print(f"Vigie index_batch, batches of 16, recent band keys in Redis: {recent16:,.0f} docs/s = "
              f"{recent16 / bare:.2f} × bare (near-duplicate lookup {lookup_recent16 / (len(items) / recent16):.0%} "
              f"of the time; Redis memory {recent_memory / 1024:,.0f} KiB per 1,000 articles)")
        print(f"Vigie index_batch, batches of 256: {vigie256:,.0f} docs/s = {vigie256 / bare:.2f} × bare")
        print(f"Vigie index_batch, batches of 256, recent band keys in Redis: {recent256:,.0f} docs/s = "
              f"{recent256 / bare:.2f} × bare")
        print(f"Vigie's joined writes (a backlog: batches of 16 staged, then written up to 256 a write): "
              f"{joined:,.0f} docs/s = {joined / bare:.2f} × bare, {joined / bare_end:.2f} × the bare bulk at the end; "
              f"{len(joined_sizes)} writes, median {sorted(joined_sizes)[len(joined_sizes) // 2]} articles")
        result.update(joined_docs_s=round(joined), joined_writes=len(joined_sizes),
                      joined_median_write=sorted(joined_sizes)[len(joined_sizes) // 2])
        print(f"bare helpers.bulk again at the end: {bare_end:,.0f} docs/s; against the mean of both bare runs: "
              f"batches of 16 {vigie16 / ((bare + bare_end) / 2):.2f} ×, with recent band keys "
              f"{recent16 / ((bare + bare_end) / 2):.2f} ×")
        print(f"batches of 16 with recent band keys against bare bulk in chunks of 16: {recent16 / bare16:.2f} ×")
        result.update(bare_end_docs_s=round(bare_end), bare16_docs_s=round(bare16),
                      recent16_ratio_bare16=round(recent16 / bare16, 3))
        result.update(recent16_docs_s=round(recent16), recent16_ratio=round(recent16 / bare, 3),
                      recent256_docs_s=round(recent256), recent256_ratio=round(recent256 / bare, 3),
                      recent16_lookup_share=round(lookup_recent16 / (len(items) / recent16), 3),
                      recent_redis_bytes_per_1000=round(recent_memory))
        paired = [(bare, bare16, recent16)]
        joined_rounds = [(bare_end, joined)]  # the first round's joined run: against the bare bulk after it
        for number in range(2, args.rounds + 1):
            round_bare = bare_run(f"bare-r{number}")
            round_recent = vigie_run(f"recent16-r{number}", 16, recent=True)
            round_bare16 = bare_run(f"bare16-r{number}", batch=16)
            round_joined, _ = staged_run(f"joined-r{number}")
            paired.append((round_bare, round_bare16, round_recent))
            joined_rounds.append((round_bare, round_joined))
            print(f"round {number} ({machine_load()}): bare {round_bare:,.0f}, bare in chunks of 16 "
                  f"{round_bare16:,.0f}, batches of 16 with recent band keys {round_recent:,.0f} docs/s = "
                  f"{round_recent / round_bare:.2f} × bare, {round_recent / round_bare16:.2f} × bare in chunks of 16; "
                  f"joined writes {round_joined:,.0f} docs/s = {round_joined / round_bare:.2f} × bare")
        print(f"waited {settling[0]:.1f} s in all, over {settling[1]} runs, for Elasticsearch to finish its merges "
              f"before each run")
        result.update(settle_seconds=round(settling[0], 1))
        if len(paired) > 1:
            from statistics import median

            print(f"median over {len(paired)} rounds: batches of 16 with recent band keys "
                  f"{median(r / b for b, _, r in paired):.2f} × bare, "
                  f"{median(r / b16 for _, b16, r in paired):.2f} × bare in chunks of 16; joined writes "
                  f"{median(j / b for b, j in joined_rounds):.2f} × bare")
            result.update(joined_rounds=[{"bare_docs_s": round(b), "joined_docs_s": round(j)} for b, j in joined_rounds])
            result.update(rounds=[{"bare_docs_s": round(b), "bare16_docs_s": round(b16), "recent16_docs_s": round(r)}
                                  for b, b16, r in paired])
        result.update(bare_docs_s=round(bare), vigie16_docs_s=round(vigie16), vigie256_docs_s=round(vigie256),
                      vigie16_ratio=round(vigie16 / bare, 3), vigie256_ratio=round(vigie256 / bare, 3),
                      lookup16_share=round(lookup16 / (len(items) / vigie16), 3), load_index=machine_load())
        for prefix in ("bare", "bare16", "vigie16", "vigie256", "recent16", "recent256", "joined", "bare-end",
                       *(f"{name}-r{number}" for number in range(2, args.rounds + 1)
                         for name in ("bare", "bare16", "recent16", "joined"))):
            for name in es.indices.get(index=f"{prefix}-articles-v*"):
                es.indices.delete(index=name)

        if args.latency_seconds <= 0:
            print(f"written {write_result('index', result)}")
            return
        server = FeedServer()
        worker, scheduler = start_pipeline(services.env, 2)
        try:
            stories = [story for _, story in articles(int(args.rate * args.latency_seconds) + 50, prefix="latency")]
            latency = measure_latency(es, f"{services.settings.index_prefix}-articles", server,
                                      registry_for(services.settings), stories, rate=args.rate,
                                      seconds=args.latency_seconds)
        finally:
            scheduler.stop()
            worker.stop()
            server.close()
        print(f"latency fetched → searchable at {args.rate:.1f} articles/s: p50 {latency['p50']:.2f} s, "
              f"p95 {latency['p95']:.2f} s ({latency['articles']} articles, {latency['missing']} not found)")
        result.update(latency_rate=args.rate, latency_p50_s=round(latency["p50"], 2),
                      latency_p95_s=round(latency["p95"], 2), latency_articles=latency["articles"],
                      latency_missing=latency["missing"], load_end=machine_load())
    print(f"written {write_result('index', result)}")


if __name__ == "__main__":
    main()
