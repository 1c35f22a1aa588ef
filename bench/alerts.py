"""Alert evaluation cost, and the latency from an article being indexed to its webhook being received.

    .venv/bin/python bench/alerts.py [--rules 1,100,1000,10000] [--batches 20] [--latency-seconds 60]

Needs Redis and Elasticsearch running (`vigie services start`, same VIGIE_* settings); everything is
written under its own index prefix (``bench-alerts-<pid>``), deleted at the end.

1. Evaluation per batch of 16 articles (the worker's batch size), with 1, 100, 1,000 and 10,000
   synthetic rules (a topic and a word, two words, a phrase, a prefix, an entity with a language,
   a topic above a score with a word and without another: words drawn from the evaluated articles'
   own vocabulary, among those of at most two of them, so rules do match), both ways the issue names:
   - the compiled matcher (``index.alert_match.AlertMatcher``, what the worker runs): the articles'
     documents built (``index.article_document.article_document``), tokenised and matched;
   - one ``msearch`` of every rule restricted to the batch's ids (``msearch_matches``, chunks of
     1,000 searches), on articles already indexed and refreshed.
   The articles: the French and English evaluation corpus and the sample story, analysed for real.
   Baseline in the same run: the whole pipeline of the same batches in this process (analysis with
   ``Analyzer.analyze_many``, then ``ArticleStore.index_batch``), per article.
2. Latency: a real worker (`vigie worker`, 2 processes), 1,000 rules of which one matches every
   article and posts to a local receiver; batches of 4 new articles queued every 2 s through
   ``vigie.process_items`` for ``--latency-seconds``. Per article: from its ``indexed_at`` (stamped
   just before the bulk request) to the receiver reading the POST.

Prints Markdown for docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conf.settings import load_settings  # noqa: E402
from index.alert_match import AlertMatcher  # noqa: E402
from index.alert_msearch import msearch_matches, rule_query  # noqa: E402
from index.alert_store import AlertStore  # noqa: E402
from index.alerts import AlertRule, new_rule, validate_rule  # noqa: E402
from index.client import connect  # noqa: E402
from index.article_document import article_document  # noqa: E402
from index.store import ArticleStore  # noqa: E402
from index.tokens import standard_tokens  # noqa: E402
from ingest.analyze import Analyzer, article_from_file  # noqa: E402
from ingest.models import AnalyzedArticle, Article  # noqa: E402
from ingest.topic_rules import load_rules  # noqa: E402
from tests.ingest.quality_corpus import load_corpus  # noqa: E402
from vigie.queries import lemma_variants  # noqa: E402

BATCH = 16
SAMPLE = ROOT / "vigie" / "data" / "erdogan-poutine-idleb.fr.txt"


def corpus_articles(copies: int) -> list[Article]:
    base = [item.article() for item in load_corpus() if item.language in ("fr", "en")]
    base.append(article_from_file(SAMPLE.read_bytes(), SAMPLE.name))
    now = datetime.now(timezone.utc)
    return [replace(article, article_id=f"{article.article_id}-{copy}", feed_url="https://wire.example.org/rss",
                    url=f"https://wire.example.org/{article.article_id}-{copy}", published=now, fetched_at=now)
            for copy in range(copies) for article in base]


def dictionary_words() -> list[str]:
    """French and English dictionary words (the lemmas of spaCy's lookup tables), 5 letters or more."""
    from spacy.util import load_language_data, registry

    words: set[str] = set()
    for language in ("fr", "en"):
        table = load_language_data(registry.lookups.get(language)["lemma_lookup"])
        words.update(lemma.lower() for lemma in table.values() if isinstance(lemma, str) and lemma.isalpha()
                     and len(lemma) >= 5)
    return sorted(words)


def synthetic_rules(count: int, documents: list[dict], topics: list[str], rng: random.Random,  # type: ignore[type-arg]
                    dictionary: list[str] | None = None) -> list[AlertRule]:
    # People set alerts on specific words (names, places, terms), not on "dans" or "with": the words
    # drawn are those of at most 2 of the distinct articles.
    seen_in: dict[str, set[str]] = {}
    for document in documents:
        for word in standard_tokens(document["text"]):
            if len(word) >= 4 and word.isalpha():
                seen_in.setdefault(word, set()).add(document["text"])
    vocabulary = sorted(word for word, texts in seen_in.items() if len(texts) <= 2)
    if dictionary:
        # News-like: nine rules in ten are about words of the language these articles do not all
        # carry (any dictionary word); one in ten about words of these articles.
        vocabulary = [*vocabulary, *rng.sample(dictionary, 9 * len(vocabulary))]
    names = sorted({entity["text"] for document in documents for entity in document["entity_list"]})
    texts = [document["text"].split() for document in documents]
    rules: list[AlertRule] = []
    for number in range(count):
        word, other = rng.choice(vocabulary), rng.choice(vocabulary)
        kind = number % 6
        if kind == 0:
            rule = new_rule(f"r{number}", topics=[rng.choice(topics)], query=word)
        elif kind == 1:
            rule = new_rule(f"r{number}", query=f"{word} OR {other}", languages=["fr", "en"])
        elif kind == 2 and dictionary and rng.random() < 0.9:
            rule = new_rule(f"r{number}", query=f'"{word} {other}"')
        elif kind == 2:
            words = rng.choice(texts)
            at = rng.randrange(max(1, len(words) - 2))
            rule = new_rule(f"r{number}", query='"' + " ".join(words[at : at + 2]).replace('"', "") + '"')
        elif kind == 3:
            rule = new_rule(f"r{number}", query=word[:5] + "*", topics=[rng.choice(topics)])
        elif kind == 4:
            name = word.capitalize() if dictionary and rng.random() < 0.9 else rng.choice(names)
            rule = new_rule(f"r{number}", entities=[name], languages=[rng.choice(["fr", "en"])])
        else:
            rule = new_rule(f"r{number}", topics=[rng.choice(topics)], min_score=0.6, query=f"{word} -{other}")
        rules.append(rule)
    return rules


def timed(function) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def evaluation(args: argparse.Namespace, settings, es, prefix: str) -> tuple[list[str], list[dict]]:  # type: ignore[no-untyped-def,type-arg]
    analyzer = Analyzer({k: v for k, v in settings.models.items() if k in ("fr", "en")}, settings.languages,
                        settings.topics_file, settings.max_text_chars)
    articles = corpus_articles(copies=max(1, (args.batches * BATCH) // 40 + 1))[: args.batches * BATCH]
    batches = [articles[i : i + BATCH] for i in range(0, len(articles), BATCH)]
    analyzer.analyze_many(articles[:BATCH])  # models loaded before any clock starts
    store = ArticleStore(es, prefix)
    store.ensure_ready()

    def pipeline(batch: list[Article]) -> list[AnalyzedArticle]:
        done = [AnalyzedArticle(article, analysis) for article, analysis in zip(batch, analyzer.analyze_many(batch))]
        store.index_batch(done)
        return done

    analysed = [pipeline(batch) for batch in batches]
    store.refresh()
    variants = lemma_variants(settings.query_lemma_languages)
    topics = [topic.name for topic in load_rules(settings.topics_file).topics]
    all_documents = [article_document(item) for batch in analysed for item in batch]
    rng = random.Random(7)
    dictionary = dictionary_words()
    setups = []
    for kind in ("news-like", "from the articles"):
        for count in args.rules:
            raw = synthetic_rules(count, all_documents, topics, rng, dictionary if kind == "news-like" else None)
            rules = [validate_rule(rule, topics, variants) for rule in raw]  # what `vigie alerts add` does
            compile_started = time.perf_counter()
            matcher = AlertMatcher.build(rules, None)
            setups.append((count, kind, matcher, time.perf_counter() - compile_started, rules))
    # The pipeline and every matcher on each batch in turn, so that they share the machine's load:
    # what is compared is the ratio on the same batch at the same moment.
    pipeline_times: list[float] = []
    match_times: dict[int, list[float]] = {number: [] for number in range(len(setups))}
    ratios: dict[int, list[float]] = {number: [] for number in range(len(setups))}
    found: dict[int, list[int]] = {number: [] for number in range(len(setups))}
    for batch in batches:
        done: list[AnalyzedArticle] = []
        elapsed = timed(lambda: done.extend(pipeline(batch)))
        pipeline_times.append(elapsed)
        for number, (_, _, matcher, _, _) in enumerate(setups):
            matches: list[object] = []
            took = timed(lambda: matches.extend(matcher.match([article_document(item) for item in done])))
            match_times[number].append(took)
            ratios[number].append(took / elapsed)
            found[number].append(len(matches))
    per_article_pipeline = statistics.median(pipeline_times) / BATCH
    lines = [
        f"Pipeline baseline (analysis + index, this process): **{per_article_pipeline * 1000:.1f} ms per article** "
        f"(median of {len(batches)} batches of {BATCH}; each matcher timed on the same batch right after it).",
        "",
        "| rules | words | compile in the worker (s) | matcher per batch (ms) | matcher per article (ms) "
        "| added to the pipeline | matches per batch | msearch per batch (ms) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for number, (count, kind, matcher, compile_time, rules) in enumerate(setups):
        queries = [(rule.alert_id, rule_query(rule)) for rule in rules]
        msearch_times = [timed(lambda: msearch_matches(es, prefix, queries, [item.article.article_id for item in batch]))
                         for batch in analysed[: 3 if count >= 1000 else 8]]
        per_batch = statistics.median(match_times[number])
        lines.append(
            f"| {count:,} | {kind} | {compile_time:.2f} | {per_batch * 1000:.1f} | {per_batch / BATCH * 1000:.2f} | "
            f"{statistics.median(ratios[number]):.1%} | {statistics.median(found[number]):.0f} | "
            f"{statistics.median(msearch_times) * 1000:,.0f} |")
        print(lines[-1], file=sys.stderr)
    return lines, all_documents


def latency(args: argparse.Namespace, settings, es, prefix: str, documents: list[dict]) -> list[str]:  # type: ignore[no-untyped-def,type-arg]
    from celery import Celery

    from tests.support.feeds import make_story
    from tests.support.webhooks import WebhookReceiver
    from tests.support.pipeline import feed_items
    from worker.app import create_app

    receiver = WebhookReceiver()
    env = {**os.environ, "VIGIE_INDEX_PREFIX": prefix, "VIGIE_WORKER_CONCURRENCY": "2", "VIGIE_LOG_LEVEL": "WARNING"}
    topics = [topic.name for topic in load_rules(settings.topics_file).topics]
    store = AlertStore(es, prefix, known_topics=topics)
    store.add(new_rule("bench", query="dépêche", webhook=receiver.url))
    # 999 more rules that match little, written in one bulk request (AlertStore.add waits for a refresh each).
    now = datetime.now(timezone.utc)
    operations: list[dict] = []  # type: ignore[type-arg]
    for rule in synthetic_rules(999, documents, topics, random.Random(11)):
        rule = replace(validate_rule(rule, topics, lemma_variants(settings.query_lemma_languages)), name=f"filler {rule.name}",
                       created_at=now, updated_at=now)
        operations += [{"index": {"_index": store.index, "_id": rule.alert_id}}, rule.to_dict()]
    es.bulk(operations=operations, refresh=True)
    worker = subprocess.Popen([sys.executable, "-m", "vigie", "worker", "--concurrency", "2"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    app: Celery = create_app(load_settings(index_prefix=prefix))
    try:
        warm = feed_items([make_story(n, words=300, prefix="warm") for n in range(4)])
        app.send_task("vigie.process_items", args=[[item.to_dict() for item in warm]])
        receiver.wait_for(4, timeout=300)
        time.sleep(2)
        sent = feed_items([make_story(n, words=300, prefix="steady") for n in range(int(args.latency_seconds / 2) * 4)])
        started = time.monotonic()
        for at in range(0, len(sent), 4):
            while time.monotonic() < started + at / 2:
                time.sleep(0.01)
            app.send_task("vigie.process_items", args=[[item.to_dict() for item in sent[at : at + 4]]])
        receiver.wait_for(len(warm) + len(sent), timeout=120)
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(60)
        app.close()
    received = {post.json["article_id"]: post.at for post in receiver.posts()}
    receiver.close()
    es.indices.refresh(index=f"{prefix}-articles")
    delays = []
    for item in sent:
        document = ArticleStore(es, prefix).get(item.article_id)
        if document and item.article_id in received:
            indexed = datetime.fromisoformat(document["indexed_at"]).timestamp()
            delays.append(received[item.article_id] - indexed)
    delays.sort()
    p50 = statistics.median(delays)
    p95 = delays[min(len(delays) - 1, int(len(delays) * 0.95))]
    return [f"Latency, indexed → webhook received: {len(delays)} of {len(sent)} articles delivered, "
            f"p50 **{p50 * 1000:.0f} ms**, p95 **{p95 * 1000:.0f} ms**, max {delays[-1] * 1000:.0f} ms "
            f"(1,000 rules, 2 articles/s, real worker with 2 processes)."]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", default="1,100,1000,10000")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--latency-seconds", type=float, default=60.0)
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    args.rules = [int(part) for part in args.rules.split(",")]
    settings = load_settings()
    prefix = f"bench-alerts-{os.getpid()}"
    es = connect(settings.es_url)
    load_before = os.getloadavg()
    try:
        lines, documents = evaluation(args, settings, es, prefix)
        if not args.skip_latency:
            lines += ["", *latency(args, settings, es, prefix, documents)]
    finally:
        names = list(es.indices.get(index=f"{prefix}-*", allow_no_indices=True).keys())
        if names:
            es.indices.delete(index=",".join(names))
        es.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-articles")
    load_after = os.getloadavg()
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, load average "
          f"{load_before[0]:.2f} before and {load_after[0]:.2f} after; {datetime.now(timezone.utc):%Y-%m-%d}.\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
