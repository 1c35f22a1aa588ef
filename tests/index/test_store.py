"""Bulk writes by article id against the real Elasticsearch: one document per article, always."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.client import connect
from index.errors import IndexUnavailable
from index.mappings import ARTICLES_VERSION, articles_alias, articles_index
from index.store import ArticleStore
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
    assert document["topics"] == [{"name": "ceasefire", "score": 0.93, "evidence": ["ceasefire"]}]
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
