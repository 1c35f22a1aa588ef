"""`vigie stats` as a person types it, on the real services: the counts per topic, entity, language,
feed and day of what was indexed, as text and as JSON."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from elasticsearch import Elasticsearch

from index.store import ArticleStore
from tests.index.factories import analysed, person, place, topic
from tests.support.processes import run_vigie, vigie_json
from conf.settings import Settings

pytestmark = pytest.mark.integration

DAY1 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
DAY2 = datetime(2026, 11, 21, 15, 0, tzinfo=timezone.utc)
FEED_A = "http://127.0.0.1/a.xml"
FEED_B = "http://127.0.0.1/b.xml"


def _index(es: Elasticsearch, settings: Settings) -> None:
    store = ArticleStore(es, settings.index_prefix)
    store.ensure_ready()
    store.index_batch([
        analysed("a", entities=(person("Erdogan"), place("Idleb")), topics=(topic("ceasefire"), topic("migration")),
                 published=DAY1, feed=FEED_A),
        analysed("b", entities=(person("Erdogan"), place("Ankara")), topics=(topic("migration"),), published=DAY2,
                 feed=FEED_A),
        analysed("c", entities=(person("Poutine"), place("Idleb")), topics=(topic("migration"),), published=DAY2,
                 feed=FEED_A),
        analysed("d", language="en", entities=(place("Idleb"),), topics=(), published=DAY2, feed=FEED_B),
    ], refresh=True)


def test_stats_json_counts_what_was_indexed(env: dict[str, str], settings: Settings, es: Elasticsearch) -> None:
    _index(es, settings)
    stats = vigie_json(["stats"], env)
    assert isinstance(stats, dict)
    assert stats["total"] == 4
    assert stats["topics"] == [{"key": "migration", "count": 3}, {"key": "ceasefire", "count": 1}]
    assert stats["people"] == [{"key": "erdogan", "count": 2}, {"key": "poutine", "count": 1}]
    assert stats["places"] == [{"key": "idleb", "count": 3}, {"key": "ankara", "count": 1}]
    assert stats["languages"] == [{"key": "fr", "count": 3}, {"key": "en", "count": 1}]
    assert stats["feeds"] == [{"key": FEED_A, "count": 3}, {"key": FEED_B, "count": 1}]
    assert stats["days"] == [{"key": "2026-11-21", "count": 3}, {"key": "2026-11-20", "count": 1}]

    # The filters of `vigie search` narrow the counts.
    english = vigie_json(["stats", "--lang", "en"], env)
    assert isinstance(english, dict)
    assert english["total"] == 1 and english["feeds"] == [{"key": FEED_B, "count": 1}]


def test_stats_text_prints_one_line_per_facet(env: dict[str, str], settings: Settings, es: Elasticsearch) -> None:
    _index(es, settings)
    result = run_vigie(["stats"], env, check=True)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("4 articles, ")
    by_name = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in lines[1:]}
    assert by_name["topics"] == "migration 3, ceasefire 1"
    assert by_name["people"] == "erdogan 2, poutine 1"
    assert by_name["places"] == "idleb 3, ankara 1"
    assert by_name["languages"] == "fr 3, en 1"
    assert by_name["feeds"] == f"{FEED_A} 3, {FEED_B} 1"
    assert by_name["days"] == "2026-11-21 3, 2026-11-20 1"
