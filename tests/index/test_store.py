"""Bulk writes by article id against the real Elasticsearch: one document per article, always."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.client import connect
from index.errors import IndexUnavailable
from index.mappings import ARTICLES_VERSION, articles_alias, articles_index
from index.store import ArticleStore
from ingest.models import TopicMatch
from tests.index.factories import analysed, person, place, topic

pytestmark = pytest.mark.integration


@pytest.fixture()
def store(es: Elasticsearch, settings: Settings) -> ArticleStore:
    store = ArticleStore(es, settings.index_prefix)
    store.ensure_ready()
    return store


def test_bootstrap_creates_versioned_index_behind_alias_and_is_idempotent(es: Elasticsearch, settings: Settings) -> None:
    store = ArticleStore(es, settings.index_prefix)
    first = store.ensure_ready()
    assert first == articles_index(settings.index_prefix, ARTICLES_VERSION)
    assert store.ensure_ready() == first
    aliases = es.indices.get_alias(name=articles_alias(settings.index_prefix))
    assert list(aliases) == [first]
    mapping = es.indices.get_mapping(index=first)[first]["mappings"]
    assert mapping["_meta"]["vigie_mapping_version"] == ARTICLES_VERSION
    assert mapping["properties"]["topics"]["type"] == "nested"
    assert mapping["dynamic"] == "strict"


def test_redelivery_overwrites_and_changed_article_updates(store: ArticleStore) -> None:
    first = store.index_batch([analysed("a1", title="Première version")], refresh=True)
    assert first.indexed == ("a1",) and first.created == 1
    again = store.index_batch([analysed("a1", title="Première version")], refresh=True)
    assert again.updated == 1 and again.created == 0
    changed = store.index_batch([analysed("a1", title="Version corrigée")], refresh=True)
    assert changed.updated == 1
    assert store.count() == 1
    document = store.get("a1")
    assert document is not None and document["title"] == "Version corrigée"


def test_many_articles_are_read_in_one_multi_get_unrefreshed_and_missing_ones_left_out(store: ArticleStore) -> None:
    store.index_batch([analysed("m1", title="Un"), analysed("m2", title="Deux")])  # not refreshed
    assert store.get_many([]) == {}
    many = store.get_many(["m2", "gone", "m1"])
    assert {article_id: document["title"] for article_id, document in many.items()} == {"m1": "Un", "m2": "Deux"}


def test_document_carries_entities_by_type_topics_and_times(store: ArticleStore) -> None:
    store.index_batch([analysed(
        "a2", entities=(person("Vladimir Poutine", "vladimir poutine"), place("Idleb")),
        topics=(topic("ceasefire", 0.93),), url="https://WWW.Example.org/story",
    )], refresh=True)
    document = store.get("a2")
    assert document is not None
    assert document["entities"]["person"] == [{"text": "Vladimir Poutine", "key": "vladimir poutine",
                                               "ref": "vladimir poutine", "mentions": 1}]
    assert document["entities"]["location"][0]["text"] == "Idleb"
    assert document["entity_keys"] == ["idleb", "vladimir poutine"]
    assert document["topics"] == [{"name": "ceasefire", "score": 0.93, "evidence": ["ceasefire"],
                                   "iptc": "", "iptc_top": "", "parent": None}]
    assert document["topic_names"] == ["ceasefire"]
    assert document["source_domain"] == "www.example.org"
    assert document["indexed_at"] and document["fetched_at"] and document["published"]


def test_unreachable_elasticsearch_is_a_transient_error(settings: Settings) -> None:
    from vigie.services.processes import free_port

    store = ArticleStore(connect(f"http://127.0.0.1:{free_port()}", timeout=2), settings.index_prefix)
    with pytest.raises(IndexUnavailable) as caught:
        store.index_batch([analysed("a3")])
    assert caught.value.transient
    assert "unreachable" in str(caught.value)


def test_a_filter_on_a_parent_topic_finds_its_children_and_hits_carry_iptc_codes(store: ArticleStore,
                                                                                 settings: Settings,
                                                                                 es: Elasticsearch) -> None:
    from index.search import SearchFilters, SearchRequest, search

    elections = TopicMatch(name="elections", score=0.8, evidence=("Landtagswahl",), iptc="medtop:20000574",
                           iptc_top="medtop:11000000", parent="politics")
    politics = TopicMatch(name="politics", score=0.6, evidence=("Bundestag",), iptc="medtop:11000000",
                          iptc_top="medtop:11000000")
    store.index_batch([analysed("w1", topics=(elections,)), analysed("w2", topics=(politics,)),
                       analysed("w3", topics=(topic("sport"),))], refresh=True)
    document = store.get("w1")
    assert document is not None and document["topic_names"] == ["elections", "politics"]

    def found(**filters: object) -> set[str]:
        result = search(es, settings.index_prefix, SearchRequest(filters=SearchFilters(**filters)))  # type: ignore[arg-type]
        return {hit.article_id for hit in result.hits}

    assert found(topics=("politics",)) == {"w1", "w2"}
    assert found(topics=("elections",)) == {"w1"}
    assert found(topics=("politics",), min_topic_score=0.7) == {"w1"}  # the child's own score counts
    hit = search(es, settings.index_prefix, SearchRequest(filters=SearchFilters(topics=("elections",)))).hits[0]
    assert (hit.topics[0].iptc, hit.topics[0].iptc_top, hit.topics[0].parent) == \
        ("medtop:20000574", "medtop:11000000", "politics")
