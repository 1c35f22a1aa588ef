"""Wire copies analysed once, through the real worker, Redis and Elasticsearch: a copy of an article
analysed a moment ago takes over its analysis (logged), and what is stored is what a fresh analysis
of the copy gives."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone

from celery import Celery
from elasticsearch import Elasticsearch

from conf.settings import Settings
from ingest.articles import article_from_item
from ingest.models import FeedItem
from tests.ingest.analyzers import shipped_analyzer
from tests.ingest.quality_corpus import load_corpus
from tests.support.pipeline import send, wait_for_count
from tests.support.processes import Background

_REUSED = re.compile(r"article\.analysis_reused article=(\S+) .*original=(\S+)")
_LANGUAGE_KEPT = re.compile(r"article\.analysis_reused article=(\S+) .*language_kept=True")


def item_of(article_id: str, title: str, text: str, feed: str) -> FeedItem:
    return FeedItem(article_id=article_id, feed_url=feed, url=f"https://{feed}.example/{article_id}", title=title,
                    summary=text[:200], content=text, published=datetime(2026, 11, 29, tzinfo=timezone.utc),
                    guid=f"urn:{article_id}")


def test_a_wire_copy_takes_over_its_original_analysis_and_stores_what_a_fresh_analysis_gives(
        workers: Callable[..., Background], app: Celery, es: Elasticsearch, settings: Settings) -> None:
    everything = [item for item in load_corpus() if item.language in ("fr", "en")]
    corpus = everything[:6]
    originals = [item_of(f"orig-{n}", item.title, item.text, "agency") for n, item in enumerate(corpus)]
    copies = [item_of(f"copy-{n}", f"{item.title} — Outlet", item.text + "\n\n(Agence, 12h05)", "outlet")
              for n, item in enumerate(corpus)]
    # One more story whose original and copy come in the same batch as the other copies: the copy
    # takes over from the original analysed just before it in that batch.
    # (Its headline is kept and its credit line is a sentence of its own: the corpus's articles are
    # short, and a new headline or a changed last sentence would be more than VIGIE_REUSE_MAX_CHANGED.)
    longest = max(everything[6:], key=lambda item: len(item.text))
    together = [item_of("orig-6", longest.title, longest.text, "agency"),
                item_of("copy-6", longest.title, longest.text + "\n\nAvec agences, 12h05.", "outlet")]
    worker = workers(concurrency=1)
    send(app, originals, batch=6)
    assert wait_for_count(es, settings, len(originals), timeout=120) == len(originals), worker.output()[-3000:]
    send(app, copies + together, batch=8)
    assert wait_for_count(es, settings, 14, timeout=120) == 14, worker.output()[-3000:]

    reused = dict(_REUSED.findall(worker.output()))
    # A short article whose new headline and credit line are more than VIGIE_REUSE_MAX_CHANGED of it
    # is analysed in full; the others are taken over from their original.
    assert len(reused) >= len(copies) // 2, worker.output()[-3000:]
    assert all(original == copy.replace("copy-", "orig-") for copy, original in reused.items())
    assert reused.get("copy-6") == "orig-6", worker.output()[-3000:]
    # Through Redis, the originals' language and sentences came along (headline and credit line
    # are under a tenth of what the language detector reads of all but the shortest copies).
    assert len(set(_LANGUAGE_KEPT.findall(worker.output())) & set(reused)) >= len(reused) // 2, worker.output()[-3000:]
    assert "orig-6" not in reused
    copies.append(together[1])
    analyzer = shipped_analyzer()
    now = datetime.now(timezone.utc)
    fresh = analyzer.analyze_many([article_from_item(item, fetched_at=now) for item in copies])
    alias = f"{settings.index_prefix}-articles"
    for item, analysis in zip(copies, fresh):
        stored = es.get(index=alias, id=item.article_id)["_source"]
        assert stored["entity_list"] == [entity.to_dict() for entity in analysis.entities], item.article_id
        assert stored["topics"] == [topic.to_dict() for topic in analysis.topics], item.article_id
        assert stored["language"] == analysis.language
        # Taken over too: the tokens and lemmas of the sentences the copy shares, and the language.
        assert stored["language_confidence"] == analysis.language_confidence, item.article_id
        assert stored["lemmas"] == analysis.lemmas, item.article_id
