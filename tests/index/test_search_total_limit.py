"""VIGIE_SEARCH_TOTAL_LIMIT: `vigie search`, the API and the web page count the matches exactly only up
to a limit (what keeps a search's time from growing with the index) and then say "N+", never a false
exact total; whatever else counts (stats, alerts, backtests) stays exact."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from conf.settings import Settings
from index.search import SearchFilters, SearchRequest, SearchResult, search, search_body
from index.stats import article_stats
from index.store import ArticleStore
from tests.index.factories import analysed, topic
from tests.support.processes import run_vigie, vigie_json
from vigie.cli.search import headline_count

START = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)
FEED = "http://wire.example.org/rss.xml"
MATCHING = 9  # a few more articles than the limit the tests set
LIMIT = 5


def test_the_body_counts_up_to_the_limit_and_zero_means_exact() -> None:
    assert search_body(SearchRequest(query="trêve", total_limit=10_000))["track_total_hits"] == 10_000
    assert search_body(SearchRequest(query="trêve", total_limit=3, sort="date"))["track_total_hits"] == 3
    assert search_body(SearchRequest(query="trêve", total_limit=0))["track_total_hits"] is True
    # the default of a request built elsewhere (stats, alerts, backtests) stays exact
    assert search_body(SearchRequest(query="trêve"))["track_total_hits"] is True


def test_the_setting_defaults_to_ten_thousand() -> None:
    assert Settings.model_fields["search_total_limit"].default == 10_000


def test_the_count_line_says_a_lower_bound() -> None:
    at_least = SearchResult(total=10_000, hits=(), took_ms=3, query="trêve", total_relation="gte")
    assert headline_count(at_least, collapsed=False).startswith("10,000+ article(s) for 'trêve'")
    assert "(10,000+ before collapsing)" in headline_count(at_least, collapsed=True)
    exact = SearchResult(total=12_345, hits=(), took_ms=3, query="trêve")
    assert headline_count(exact, collapsed=False).startswith("12345 article(s) for 'trêve'")
    assert at_least.to_dict()["total_relation"] == "gte" and exact.to_dict()["total_relation"] == "eq"


@pytest.fixture()
def indexed(es: Elasticsearch, settings: Settings) -> str:
    store = ArticleStore(es, settings.index_prefix)
    store.ensure_ready()
    store.index_batch([analysed(f"wire-{n}", title=f"Trêve numéro {n}", text=f"Une trêve fragile, jour {n}.",
                                feed=FEED, topics=(topic("ceasefire"),), published=START + timedelta(hours=n))
                       for n in range(MATCHING)], refresh=True)
    return settings.index_prefix


@pytest.mark.integration
def test_past_the_limit_the_total_is_a_lower_bound_and_pages_go_on(es: Elasticsearch, indexed: str) -> None:
    limited = search(es, indexed, SearchRequest(query="topic:ceasefire", total_limit=LIMIT, limit=3))
    assert (limited.total, limited.total_relation) == (LIMIT, "gte")
    exact = search(es, indexed, SearchRequest(query="topic:ceasefire", total_limit=0, limit=3))
    assert (exact.total, exact.total_relation) == (MATCHING, "eq")
    under = search(es, indexed, SearchRequest(query="topic:ceasefire", total_limit=MATCHING + 1, limit=3))
    assert (under.total, under.total_relation) == (MATCHING, "eq")
    # the page past the counted limit still holds the next hits (newest first: no words)
    last = search(es, indexed, SearchRequest(query="topic:ceasefire", total_limit=LIMIT, limit=3, offset=6))
    assert [hit.article_id for hit in last.hits] == ["wire-2", "wire-1", "wire-0"]
    # the counts that need to be exact do not take the limit
    assert article_stats(es, indexed, SearchFilters(topics=("ceasefire",)))["total"] == MATCHING


@pytest.mark.integration
def test_the_command_line_says_the_relation(env: dict[str, str], indexed: str) -> None:
    limited = {**env, "VIGIE_SEARCH_TOTAL_LIMIT": str(LIMIT)}
    found = vigie_json(["search", "--topic", "ceasefire", "--limit", "3"], limited)
    assert (found["total"], found["total_relation"], len(found["hits"])) == (LIMIT, "gte", 3)
    text = run_vigie(["search", "--topic", "ceasefire", "--limit", "3"], limited, check=True).stdout
    assert text.startswith(f"{LIMIT}+ article(s) for '', 1-3 shown") and "more: --offset 3" in text
    exact = vigie_json(["search", "--topic", "ceasefire", "--limit", "3"], {**env, "VIGIE_SEARCH_TOTAL_LIMIT": "0"})
    assert (exact["total"], exact["total_relation"]) == (MATCHING, "eq")


@pytest.fixture()
def api(settings: Settings) -> Iterator[TestClient]:
    from vigie.api.app import create_app

    limited = settings.model_copy(update={"search_total_limit": LIMIT})
    with TestClient(create_app(limited), base_url="http://127.0.0.1") as client:
        yield client


@pytest.mark.integration
def test_the_api_says_the_relation(indexed: str, api: TestClient) -> None:
    answer = api.get("/api/search", params={"topic": "ceasefire", "limit": 3})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["total"], found["total_relation"], len(found["hits"])) == (LIMIT, "gte", 3)
    narrow = api.get("/api/search", params={"topic": "ceasefire", "limit": 3, "until": "2026-11-01T10:30:00Z"}).json()
    assert (narrow["total"], narrow["total_relation"]) == (3, "eq")
