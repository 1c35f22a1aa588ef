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
from vigie.services.processes import free_port  # noqa: E402

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
    env = {key: value for key, value in os.environ.items() if not key.startswith("VIGIE_")}
    env.update(
        VIGIE_HOME=str(home), VIGIE_CACHE_DIR=str(ROOT / ".cache"),
        VIGIE_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", VIGIE_ES_URL=f"http://127.0.0.1:{free_port()}",
        VIGIE_INDEX_PREFIX="bench", VIGIE_LOG_LEVEL="INFO", VIGIE_ES_HEAP="1g",
    )
    env.update(overrides)
    subprocess.run([VIGIE, "services", "start"], env=env, check=True, capture_output=True)
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

    texts = []
    for path in sorted(CORPUS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data["language"] in ("fr", "en") and (language is None or data["language"] == language):
            texts.append((data["language"], data["text"]))
    if language in (None, "fr"):
        texts.append(("fr", SAMPLE.read_text(encoding="utf-8")))
    return texts


def articles(count: int, words: int = 600, prefix: str = "bench", *,
             distinct: bool = False) -> list[tuple[str, Story]]:
    """``count`` articles of about ``words`` words, French and English, built from real news-like
    paragraphs (so NER meets names at a realistic density), with their language. By default each
    article takes a run of the pool's paragraphs from a point set by its number: the pool is small,
    so most articles are near-duplicates of an earlier one (a stream of wire copies). ``distinct``:
    each article draws its own paragraphs at random from the pool instead (seeded by its number), so
    that few articles are near-duplicates of another: a stream of originals."""
    import random
    from datetime import datetime, timedelta, timezone

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
