"""What the service benches share: their own Redis and Elasticsearch, real worker and poller
processes, local feeds, and realistic ~600-word articles.

The services are started by the project's own `vigie services start`, under `.vigie-bench/` on free
ports, and stopped at the end, so a bench never touches a running `vigie up`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conf.settings import Settings  # noqa: E402
from tests.support.feeds import FeedServer, Story  # noqa: E402  (benches reuse the test feed server)
from tests.support.processes import VIGIE, Background, start_worker  # noqa: E402
from tests.support.services import quiet_ports  # noqa: E402

BENCH_HOME = ROOT / ".vigie-bench"
CORPUS = ROOT / "tests" / "ingest" / "corpus"
SAMPLE = ROOT / "vigie" / "data" / "erdogan-poutine-idleb.fr.txt"


@dataclass(frozen=True)
class BenchServices:
    env: dict[str, str]
    settings: Settings


@contextmanager
def bench_services(**overrides: str) -> Iterator[BenchServices]:
    home = BENCH_HOME / uuid.uuid4().hex[:8]
    home.mkdir(parents=True)
    # Below the kernel's ephemeral range: a port of that range (what binding port 0 gives) can become the
    # source port of an outgoing connection before the service binds it, which then cannot start.
    redis_port, es_port = quiet_ports(2)
    env = {key: value for key, value in os.environ.items() if not key.startswith("VIGIE_")}
    env.update(
        VIGIE_HOME=str(home), VIGIE_CACHE_DIR=str(ROOT / ".cache"),
        VIGIE_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", VIGIE_ES_URL=f"http://127.0.0.1:{es_port}",
        VIGIE_INDEX_PREFIX="bench", VIGIE_LOG_LEVEL="INFO", VIGIE_ES_HEAP="1g",
    )
    env.update(overrides)
    started = subprocess.run([VIGIE, "services", "start"], env=env, capture_output=True, text=True)
    if started.returncode != 0:
        # Stop what did start (Redis before a failed Elasticsearch), keep the home and its logs, say why.
        subprocess.run([VIGIE, "services", "stop"], env=env, capture_output=True)
        raise RuntimeError(f"`vigie services start` failed (exit {started.returncode}) for the bench's home {home}: "
                           f"{(started.stderr or started.stdout).strip()}")
    try:
        values = {key[6:].lower(): value for key, value in env.items() if key.startswith("VIGIE_")}
        yield BenchServices(env=env, settings=Settings(**values))  # type: ignore[arg-type]
    finally:
        subprocess.run([VIGIE, "services", "stop"], env=env, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def start_pipeline(env: dict[str, str], concurrency: int) -> tuple[Background, Background]:
    worker = start_worker(env, concurrency=concurrency)
    # The worker loads its models at process start; the poller waits for nothing.
    scheduler = Background("scheduler", [VIGIE, "scheduler"], env).start()
    if not scheduler.wait_for_line("poller.started", timeout=60):
        raise RuntimeError(scheduler.output())
    return worker, scheduler


def corpus_texts(language: str | None = None) -> list[tuple[str, str]]:
    """(language, text) of the evaluation corpus's French and English articles and the sample."""
    import yaml

    from tests.ingest.quality_corpus import YAML_LOADER  # the labelled corpora read as the tests read them

    texts = []
    for path in sorted(CORPUS.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
        if data["language"] in ("fr", "en") and (language is None or data["language"] == language):
            texts.append((data["language"], data["text"]))
    if language in (None, "fr"):
        texts.append(("fr", SAMPLE.read_text(encoding="utf-8")))
    return texts


def articles(count: int, words: int = 600, prefix: str = "bench", *,
             distinct: bool = False, news: bool = False) -> list[tuple[str, Story]]:
    """``count`` articles of about ``words`` words, French and English, built from real news-like
    paragraphs (so NER meets names at a realistic density), with their language. By default each
    article takes a run of the pool's paragraphs from a point set by its number: the pool is small,
    so most articles are near-duplicates of an earlier one (a stream of wire copies). ``distinct``:
    each article draws its own paragraphs at random from the pool instead (seeded by its number), so
    that few articles are near-duplicates of another (the pool is one subject, so they make about three
    giant stories). ``news``: a stream shaped like news, see ``news_articles``."""
    import random
    from datetime import datetime, timedelta, timezone

    if news:
        return news_articles(count, words, prefix)
    pools: dict[str, list[str]] = {"fr": [], "en": []}
    for language, text in corpus_texts():
        pools[language].extend(paragraph.strip() for paragraph in text.split("\n") if len(paragraph.split()) > 8)
    made = []
    for number in range(count):
        language = "fr" if number % 3 else "en"
        pool = pools[language]
        chosen, total, i = [], 0, number * 7
        order = random.Random(number).sample(range(len(pool)), len(pool)) if distinct else None
        while total < words - 80:
            paragraph = pool[order[i % len(pool)]] if order else pool[i % len(pool)]
            chosen.append(paragraph)
            total += len(paragraph.split())
            i += 1 if order else 3
        opening = (f"Dépêche numéro {number}." if language == "fr" else f"Dispatch number {number}.")
        text = opening + "\n\n" + "\n\n".join(chosen)
        story = Story(guid=f"urn:bench:{prefix}:{number}", title=f"{opening} {chosen[0][:60]}", text=text,
                      published=datetime(2026, 11, 1, tzinfo=timezone.utc) + timedelta(seconds=number))
        made.append((language, story))
    return made


#: Share of a news stream's articles that are wire copies of an earlier article of the same event.
NEWS_COPIES = 0.2
#: Share of the lower-case words each outlet's version leaves out, so that two versions of one event are
#: the same story but not near-duplicates (their estimated Jaccard similarity stays under 0.6).
NEWS_REWRITE = 0.2


#: The held-out topic articles numbered from here on are not seeds of the news stream: each blind batch
#: added to the corpus would otherwise change the stream (its events, their sizes, the stories a run makes),
#: and ratios measured on it in different weeks would not compare. 1657: the corpus of 2026-12-05.
NEWS_SEEDS_BEFORE = 1657


def news_seeds() -> dict[str, list[tuple[str, str]]]:
    """(title, text) of the French and English labelled articles of the tests (the topic corpus, dev and
    held-out before ``NEWS_SEEDS_BEFORE``, and the evaluation corpus) and the sample, by language: about
    500 short articles a language, each on its own subject."""
    import re

    import yaml

    from tests.ingest.quality_corpus import YAML_LOADER  # the labelled corpora read as the tests read them

    def seeded(path: Path) -> bool:
        number = re.match(r"h(\d+)-", path.name)
        return number is None or int(number.group(1)) < NEWS_SEEDS_BEFORE

    seeds: dict[str, list[tuple[str, str]]] = {"fr": [], "en": []}
    paths = sorted(path for path in (ROOT / "tests" / "ingest" / "topics-corpus").glob("*/*.yaml")
                   if seeded(path)) + sorted(CORPUS.glob("*.yaml"))
    for path in paths:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
        if isinstance(data, dict) and data.get("language") in seeds and data.get("text"):
            seeds[data["language"]].append((str(data.get("title") or ""), " ".join(str(data["text"]).split())))
    sample = SAMPLE.read_text(encoding="utf-8")
    seeds["fr"].append((sample.split("\n", 1)[0], sample))
    return seeds


def news_articles(count: int, words: int = 600, prefix: str = "bench") -> list[tuple[str, Story]]:
    """``count`` articles shaped like a news stream (``news_stream``, without the events)."""
    return [(language, story) for language, story, _ in news_stream(count, words, prefix)]


def news_stream(count: int, words: int = 600, prefix: str = "bench") -> list[tuple[str, Story, str]]:
    """``count`` articles shaped like a news stream, each with its language and its event (the truth its
    stories are scored against, bench/e2e.py --news): many events of unequal size, each covered by several
    outlets in their own words, some of them wire copies.

    Each event joins ``words / 95`` labelled articles of one language (on unrelated subjects: the event's
    names, places and figures are its own). Each article picks its event with a Zipf weight (1/rank): a
    few events take many articles, most take a few. An article is, with probability ``NEWS_COPIES``, a
    wire copy of an earlier article of its event (a new opening line), else a new outlet's version: the
    event's texts in a shuffled order, each sentence kept, and each lower-case word dropped with
    probability ``NEWS_REWRITE`` (names and figures stay): the same story, not a near-duplicate.
    Deterministic: the same arguments give the same stream."""
    import random
    import re
    from datetime import datetime, timedelta, timezone

    rng = random.Random(20261201)
    seeds = news_seeds()
    mean_words = sum(len(text.split()) for pool in seeds.values() for _, text in pool) / sum(map(len, seeds.values()))
    per_event = max(1, round(words / (mean_words * (1 - NEWS_REWRITE * 0.8))))  # about 0.8 of the words are lower-case
    events: list[tuple[str, list[tuple[str, str]]]] = []
    for language, pool in seeds.items():
        pool = sorted(pool)
        rng.shuffle(pool)
        events += [(language, pool[start:start + per_event]) for start in range(0, len(pool) - per_event + 1, per_event)]
    rng.shuffle(events)
    weights = [1 / (rank + 1) for rank in range(len(events))]
    lower = re.compile(r"[a-zà-ÿ]")

    def rewrite(text: str, outlet: random.Random) -> str:
        return " ".join(word for word in text.split()
                        if not lower.match(word) or outlet.random() >= NEWS_REWRITE)

    written: dict[int, list[tuple[str, str]]] = {}
    made = []
    for number in range(count):
        event = rng.choices(range(len(events)), weights)[0]
        language, texts = events[event]
        opening = (f"Dépêche numéro {number}." if language == "fr" else f"Dispatch number {number}.")
        if written.get(event) and rng.random() < NEWS_COPIES:
            title, body = rng.choice(written[event])
        else:
            outlet = random.Random(f"{prefix}:{number}")
            order = outlet.sample(texts, len(texts))
            title = rewrite(order[0][0], outlet)
            body = "\n\n".join(rewrite(text, outlet) for _, text in order)
            written.setdefault(event, []).append((title, body))
        story = Story(guid=f"urn:bench:{prefix}:{number}", title=f"{opening} {title}", text=opening + "\n\n" + body,
                      published=datetime(2026, 11, 1, tzinfo=timezone.utc) + timedelta(seconds=number))
        made.append((language, story, f"event-{event}"))
    return made


def measure_latency(es, alias: str, server: FeedServer, registry, stories: list[Story], *,  # type: ignore[no-untyped-def]
                    rate: float, seconds: float, feeds: int = 10) -> dict[str, float]:
    """Publish ``stories`` at ``rate`` per second on ``feeds`` feeds polled every second, and time each
    from the first feed response that carried it to the moment a search finds it (p50, p95 in s)."""
    import threading
    import time

    from elasticsearch import ApiError, TransportError

    from ingest.identity import article_id

    for f in range(feeds):
        registry.add(server.publish(f"live{f}", []), interval=1)
    time.sleep(3)
    ids = {story.guid: article_id(story.guid, None, story.title, story.published) for story in stories}
    found: dict[str, float] = {}
    publishing, watching = threading.Event(), threading.Event()

    def publish() -> None:
        for n, story in enumerate(stories):
            if publishing.is_set():
                return
            server.append(f"live{n % feeds}", story)
            time.sleep(1 / rate)

    def unfound() -> list[str]:
        return [guid for guid in list(server.first_served) if guid in ids and guid not in found]

    def watch() -> None:
        while not watching.is_set():
            pending = unfound()
            if pending:
                # Before the worker's first batch the index does not exist, then its shard starts:
                # nothing is found yet, and the watch goes on.
                try:
                    hits = es.search(index=alias, query={"ids": {"values": [ids[g] for g in pending]}},
                                     size=len(pending), _source=False, ignore_unavailable=True,
                                     allow_no_indices=True)["hits"]["hits"]
                except (ApiError, TransportError):
                    hits = []
                now = time.monotonic()
                hit_ids = {hit["_id"] for hit in hits}
                for guid in pending:
                    if ids[guid] in hit_ids:
                        found[guid] = now
            time.sleep(0.05)

    publisher, watcher = threading.Thread(target=publish), threading.Thread(target=watch)
    publisher.start()
    watcher.start()
    time.sleep(seconds)
    publishing.set()
    publisher.join()
    deadline = time.monotonic() + 30
    while unfound() and time.monotonic() < deadline:
        time.sleep(0.2)
    watching.set()
    watcher.join()
    latencies = [found[guid] - server.first_served[guid] for guid in found]
    return {"p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95),
            "articles": len(latencies), "missing": len(unfound())}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def machine_load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def median(values: list[float]) -> float:
    return statistics.median(values)


def write_result(name: str, data: dict) -> Path:  # type: ignore[type-arg]
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    return path


__all__ = ["Background", "FeedServer", "VIGIE", "articles", "bench_services", "machine_load", "measure_latency",
           "median", "percentile", "start_pipeline", "write_result"]


# -- quality benches on the labelled sets (bench/stories_quality.py, bench/entity_quality.py) ------


class LabelledItem(Protocol):
    def article(self) -> Any: ...


def quality_arguments(doc: str | None, misses: str) -> argparse.Namespace:
    """The command line every labelled-set bench takes: its docstring as help, and ``--misses``."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--misses", action="store_true", help=misses)
    return parser.parse_args()


def shipped_analyses(items: Sequence[LabelledItem]) -> list[Any]:
    """The analyses of labelled items (anything with ``article()``) by the shipped configuration, as
    the quality tests compute them (one analyzer per process, models loaded once)."""
    from tests.ingest.analyzers import shipped_analyzer

    return list(shipped_analyzer().analyze_many([item.article() for item in items]))
