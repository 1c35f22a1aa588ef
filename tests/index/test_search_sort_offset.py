"""index.search: one default order for the CLI, the API and the web page (relevance when the query has
words, newest first when it is empty or only filters), pages by offset, case-insensitive language codes,
the feed restriction `--tag` resolves to, and the feed's title on each hit."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.search import SearchFilters, SearchRequest, effective_sort, search
from index.store import ArticleStore
from tests.index.factories import analysed, topic

START = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)
WIRE = "http://127.0.0.1:9/wire.xml"
LOCAL = "http://127.0.0.1:9/local.xml"


@pytest.mark.parametrize(("query", "expected"), [
    ("", "date"), ("   ", "date"), ("topic:ceasefire", "date"), ("lang:fr AND -domain:example.org", "date"),
    ("(topic:migration OR feed:x) lang:en", "date"), ("Idleb", "relevance"), ("topic:ceasefire Idleb", "relevance"),
    ("person:Erdogan", "relevance"), ('"cessez-le-feu"', "relevance"), ("migra*", "relevance"),
])
def test_auto_sort_is_newest_first_without_words(query: str, expected: str) -> None:
    assert effective_sort(SearchRequest(query=query)) == expected
    assert effective_sort(SearchRequest(query=query, sort="relevance")) == "relevance"
    assert effective_sort(SearchRequest(query=query, sort="date")) == "date"


@pytest.fixture()
def indexed(es: Elasticsearch, settings: Settings) -> str:
    store = ArticleStore(es, settings.index_prefix)
    store.ensure_ready()
    # Twelve wire articles an hour apart; the oldest says "trêve" three times (most relevant).
    articles = [analysed(f"wire-{n:02d}", title=f"Dépêche {n}",
                         text=("trêve trêve trêve à Idleb." if n == 0 else f"Une trêve fragile, jour {n}."),
                         feed=WIRE, topics=(topic("ceasefire"),), published=START + timedelta(hours=n))
                for n in range(12)]
    articles.append(analysed("local-en", title="Local news", text="A truce holds.", language="en", feed=LOCAL,
                             published=START + timedelta(hours=20)))
    store.index_batch(articles, refresh=True)
    return settings.index_prefix


@pytest.mark.integration
def test_default_order_and_pages(es: Elasticsearch, indexed: str) -> None:
    newest = search(es, indexed, SearchRequest(query="", limit=5))
    assert [hit.article_id for hit in newest.hits] == ["local-en", "wire-11", "wire-10", "wire-09", "wire-08"]
    filtered = search(es, indexed, SearchRequest(query="topic:ceasefire", limit=3))
    assert [hit.article_id for hit in filtered.hits] == ["wire-11", "wire-10", "wire-09"]
    ranked = search(es, indexed, SearchRequest(query="trêve", limit=3))
    assert ranked.hits[0].article_id == "wire-00"  # relevance, not date

    pages = [search(es, indexed, SearchRequest(query="topic:ceasefire", limit=5, offset=offset))
             for offset in (0, 5, 10)]
    seen = [hit.article_id for page in pages for hit in page.hits]
    assert seen == [f"wire-{n:02d}" for n in range(11, -1, -1)] and {page.total for page in pages} == {12}


@pytest.mark.integration
def test_language_codes_any_case_feed_restriction_and_titles(es: Elasticsearch, indexed: str) -> None:
    upper = search(es, indexed, SearchRequest(filters=SearchFilters(languages=("EN",))))
    assert [hit.article_id for hit in upper.hits] == ["local-en"]
    only_local = search(es, indexed, SearchRequest(filters=SearchFilters(feed_urls=(LOCAL,))))
    assert [hit.article_id for hit in only_local.hits] == ["local-en"]
    nothing = search(es, indexed, SearchRequest(filters=SearchFilters(feed_urls=())))
    assert nothing.total == 0
    titled = search(es, indexed, SearchRequest(limit=2), feed_titles={WIRE: "Le Fil"})
    assert [(hit.feed, hit.feed_title) for hit in titled.hits] == [(LOCAL, None), (WIRE, "Le Fil")]
    assert titled.to_dict()["hits"][1]["feed_title"] == "Le Fil"
