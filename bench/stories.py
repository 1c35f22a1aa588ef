"""Cost of story assignment per batch, against a small and a large installation.

    .venv/bin/python bench/stories.py [--sizes 1000,100000] [--batches 20] [--batch 16]

For each size N, on fresh services: N articles' worth of story state is written first, as the worker
would have left it (N memberships; N/4 stories spread over 14 days, so about a fifth fall in the 72 h
window; their centroids; the document frequencies in Redis), from synthetic articles drawn from a
vocabulary of 20,000 words and 5,000 names. Then ``--batches`` batches of ``--batch`` new articles
(indexed first, and their story features computed, as the indexing task does) go through
``worker.story_assignment.assign_features``, what the story consumer runs for a queued batch — lock,
candidates (from the index kept in Redis, built from Elasticsearch after the fill as the consumer would
have kept it; with ``--no-candidate-index`` searched in Elasticsearch, plus the stories it wrote too
recently to be searchable), decisions, writes, no refresh — and each batch is timed, with the time
Redis spent in scripts (every ``EVALSHA``: candidates, the index's record, frequencies, the lock). The
issue's target: the cost per batch grows at most 2x from 1,000 to 100,000 articles.

``--merges``: the articles' persons are names without identity (Vigie ids, two words, every one of
the 5,000 registered as seen, so each has neighbours one letter away), and after each batch the story
consumer's next step, the merges the same story confirms (``worker.entity_merges.merge_in_stories``),
is timed too and compared with the assignment of the same batch.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import bench_services  # noqa: E402
from elasticsearch import Elasticsearch, helpers  # noqa: E402

from index.stories import StoryDraft, StoryStore  # noqa: E402
from ingest.entity_linking import unknown_id  # noqa: E402
from ingest.entity_merging import SeenEntity, variant_key  # noqa: E402
from ingest.models import AnalyzedArticle, Analysis, Article, Entity  # noqa: E402
from ingest.stories import StoryCentroid, features_of, story_id_for  # noqa: E402
from worker.runtime import Runtime  # noqa: E402
from state.entity_keys import SeenEntities  # noqa: E402
from worker.entity_merges import merge_in_stories  # noqa: E402
from worker.story_assignment import assign_features  # noqa: E402
from worker.story_memory import DF_KEY, DOCUMENTS_KEY  # noqa: E402
from worker.story_search import catch_up  # noqa: E402

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
WORDS = [f"w{i}" for i in range(20_000)]
NAMES = [f"Name{i:04d}x" for i in range(5_000)]


def synthetic(rng: random.Random, number: int, when: datetime, unknown_names: bool = False) -> AnalyzedArticle:
    """An article about one of many events: its words and names drawn around the event's own."""
    event = rng.randrange(10_000)
    erng = random.Random(event)
    words = [WORDS[erng.randrange(len(WORDS))] for _ in range(40)] + [WORDS[rng.randrange(len(WORDS))] for _ in range(80)]
    names = [NAMES[erng.randrange(len(NAMES))] for _ in range(4)] + [NAMES[rng.randrange(len(NAMES))] for _ in range(2)]
    text = " ".join(f"the {w} of {n}" for w, n in zip(words, names * 20))
    language = "en"
    article = Article(article_id=f"bench-{number}", title=f"Event {event} {names[0]}", body=text, is_html=False,
                      text_source="content", url=f"https://outlet{number % 50}.example/{number}",
                      published=when, fetched_at=when)
    if unknown_names:
        entities = tuple(Entity(f"{n} Person", "PERSON", 1, ((0, 1),), key=f"{n} person".lower(),
                                id=unknown_id("PERSON", f"{n} Person"), name=f"{n} Person") for n in names[:4])
    else:
        entities = tuple(Entity(n, "PERSON", 1, ((0, 1),), key=n.lower()) for n in names[:4])
    analysis = Analysis(language=language, language_confidence=1.0, title=article.title, text=text,
                        entities=entities, topics=(), lemmas=" ".join(words))
    return AnalyzedArticle(article, analysis)


def fill(rt: Runtime, store: StoryStore, size: int, rng: random.Random) -> None:
    """``size`` memberships and ``size // 4`` stories, written directly (bulk), and their frequencies."""
    es: Elasticsearch = rt.es
    stories = max(1, size // 4)
    span = timedelta(days=14).total_seconds()
    frequencies: dict[str, int] = {}

    def actions():  # type: ignore[no-untyped-def]
        member = 0
        for number in range(stories):
            when = NOW - timedelta(seconds=rng.random() * span)
            members = [features_of(synthetic(rng, number * 10 + i, when + timedelta(minutes=i))) for i in range(4)]
            for item in members:
                for key in [*item.terms, *(f"name:{n}" for n in item.names)]:
                    frequencies[key] = frequencies.get(key, 0) + 1
            centroid = StoryCentroid.founded_by(story_id_for(members[0].article_id), members[0])
            draft = StoryDraft(centroid)
            draft.count(members[0])
            for item in members[1:]:
                draft.centroid = draft.centroid.with_member(item)
                draft.count(item)
            yield {"_index": store.index, "_id": draft.centroid.story_id, "_source": draft.document(NOW)}
            for item in members:
                member += 1
                yield {"_index": store.members, "_id": item.article_id, "_source": {
                    "article_id": item.article_id, "story_id": draft.centroid.story_id, "language": item.language,
                    "source": item.source, "time": item.time.isoformat(), "reason": "similar", "score": 0.5,
                    "assigned_at": NOW.isoformat()}}

    helpers.bulk(es, actions(), chunk_size=1000, request_timeout=300)
    es.indices.refresh(index=f"{store.index},{store.members}")
    pipe = rt.redis.pipeline()
    for start in range(0, len(frequencies), 5000):
        pipe.hset(DF_KEY, mapping=dict(list(frequencies.items())[start:start + 5000]))
    pipe.set(DOCUMENTS_KEY, stories * 4)
    pipe.execute()


def run(size: int, batches: int, batch: int, merges: bool = False, candidate_index: bool = True) -> dict[str, float]:
    rng = random.Random(size)
    with bench_services(VIGIE_STORY_CANDIDATE_INDEX="true" if candidate_index else "false") as services:
        rt = Runtime(services.settings)
        rt.store  # the articles index
        store = StoryStore(rt.es, services.settings.index_prefix)
        store.ensure_ready()
        started = time.perf_counter()
        fill(rt, store, size, rng)
        if merges:
            SeenEntities(rt.redis).register(SeenEntity(unknown_id("PERSON", f"{n} Person"), f"{n} Person", "PERSON",
                                                       variant_key(f"{n} Person")) for n in NAMES)
        filled = time.perf_counter() - started
        built = 0.0
        if candidate_index:  # the index in Redis the consumer would have kept while the stories were written
            began = time.perf_counter()
            catch_up(rt, store, None)
            built = time.perf_counter() - began
        rt.redis.config_resetstat()
        timings = []
        merge_timings = []
        merged = 0
        for number in range(batches):
            items = [synthetic(rng, 10_000_000 + number * batch + i, NOW + timedelta(minutes=number), merges)
                     for i in range(batch)]
            outcome = rt.store.index_batch(items)
            features = [features_of(item, outcome.documents[item.article.article_id].cluster_id or "")
                        for item in items]
            began = time.perf_counter()
            assignments = assign_features(rt, features)
            timings.append(time.perf_counter() - began)
            if merges:
                began = time.perf_counter()
                merged += len(merge_in_stories(rt, assignments))
                merge_timings.append(time.perf_counter() - began)
        scripts = rt.redis.info("commandstats").get("cmdstat_evalsha", {})
        result = {"size": size, "fill_s": filled, "build_s": built, "mean_ms": 1000 * statistics.mean(timings),
                  "scripts_ms": scripts.get("usec", 0) / 1000 / batches,
                  "p50_ms": 1000 * sorted(timings)[len(timings) // 2],
                  "p95_ms": 1000 * sorted(timings)[int(0.95 * (len(timings) - 1))]}
        if merges:
            result.update(merge_mean_ms=1000 * statistics.mean(merge_timings),
                          merge_p95_ms=1000 * sorted(merge_timings)[int(0.95 * (len(merge_timings) - 1))],
                          merged=merged)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--merges", action="store_true", help="also time the same-story merges after each batch")
    parser.add_argument("--candidate-index", action=argparse.BooleanOptionalAction, default=True,
                        help="candidate stories from the index kept in Redis, built after the fill as the consumer "
                             "would have kept it (--no-candidate-index: searched in Elasticsearch)")
    args = parser.parse_args()
    rows = [run(int(size), args.batches, args.batch, args.merges, args.candidate_index)
            for size in args.sizes.split(",")]
    print(f"candidates {'from the index in Redis' if args.candidate_index else 'searched in Elasticsearch'}")
    print(f"| indexed articles | stories | batches of {args.batch} | mean per batch | p50 | p95 | per article "
          "| Redis scripts per batch | index built in |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['size']:,} | {max(1, int(row['size']) // 4):,} | {args.batches} | {row['mean_ms']:.0f} ms | "
              f"{row['p50_ms']:.0f} ms | {row['p95_ms']:.0f} ms | {row['mean_ms'] / args.batch:.1f} ms | "
              f"{row['scripts_ms']:.1f} ms | {row['build_s']:.1f} s |")
    if args.merges:
        print("\n| indexed articles | same-story merges step, mean per batch | p95 | mean / assignment's mean | merges made |")
        print("|---|---|---|---|---|")
        for row in rows:
            print(f"| {row['size']:,} | {row['merge_mean_ms']:.0f} ms | {row['merge_p95_ms']:.0f} ms | "
                  f"{row['merge_mean_ms'] / row['mean_ms']:.2f} | {row['merged']} |")
    if len(rows) > 1:
        print(f"\ngrowth of the mean cost per batch, {rows[0]['size']:,} -> {rows[-1]['size']:,}: "
              f"{rows[-1]['mean_ms'] / rows[0]['mean_ms']:.2f}x")


if __name__ == "__main__":
    main()
