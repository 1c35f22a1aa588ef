"""Searching the real index the way people think: words, lemmas, phrases, fields, filters."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.search import SearchFilters, SearchRequest, search
from index.store import ArticleStore
from tests.index.factories import analysed, person, place, topic

pytestmark = pytest.mark.integration

LEMMAS = {"réfugiés": "réfugié", "migrants": "migrant"}


def variants(text: str) -> list[str]:
    return [" ".join(LEMMAS.get(word, word) for word in text.lower().split())]


@pytest.fixture()
def indexed(es: Elasticsearch, settings: Settings) -> str:
    store = ArticleStore(es, settings.index_prefix)
    store.ensure_ready()
    store.index_batch([
        analysed("fr-idleb", title="Erdogan et Poutine parlent d'Idleb",
                 text="Un nouveau cessez-le-feu est espéré à Idleb. Un réfugié témoigne.",
                 lemmas="un nouveau cessez-le-feu être espérer à idleb un réfugié témoigner",
                 entities=(person("Vladimir Poutine"), place("Idleb")), topics=(topic("ceasefire"),),
                 published=datetime(2026, 11, 20, tzinfo=timezone.utc)),
        analysed("en-storm", title="Storm hits the coast", text="Thousands of migrants were evacuated.",
                 lemmas="thousand of migrant be evacuate", language="en",
                 topics=(topic("natural-disaster"),), published=datetime(2026, 11, 22, tzinfo=timezone.utc)),
        analysed("fr-foot", title="Trêve entre supporters", text="Les clubs de football signent une trêve.",
                 published=datetime(2026, 11, 10, tzinfo=timezone.utc)),
    ], refresh=True)
    return settings.index_prefix


def ids(es: Elasticsearch, prefix: str, query: str, **kwargs) -> list[str]:  # type: ignore[no-untyped-def]
    result = search(es, prefix, SearchRequest(query=query, **kwargs), variants)
    return sorted(hit.article_id for hit in result.hits)


def test_word_phrase_and_hyphenated_word(es: Elasticsearch, indexed: str) -> None:
    assert ids(es, indexed, "Idleb") == ["fr-idleb"]
    assert ids(es, indexed, "cessez-le-feu") == ["fr-idleb"]
    assert ids(es, indexed, '"signent une trêve"') == ["fr-foot"]


def test_inflected_word_finds_its_lemma(es: Elasticsearch, indexed: str) -> None:
    assert ids(es, indexed, "réfugiés") == ["fr-idleb"]  # the text says "réfugié"
    assert ids(es, indexed, "migrants") == ["en-storm"]


def test_boolean_operators_and_fields(es: Elasticsearch, indexed: str) -> None:
    assert ids(es, indexed, "trêve OR storm") == ["en-storm", "fr-foot"]
    assert ids(es, indexed, "trêve -football") == []
    assert ids(es, indexed, "person:Poutine") == ["fr-idleb"]
    assert ids(es, indexed, "topic:ceasefire") == ["fr-idleb"]
    assert ids(es, indexed, "lang:en") == ["en-storm"]


def test_filters_sort_and_highlights(es: Elasticsearch, indexed: str) -> None:
    assert ids(es, indexed, "", filters=SearchFilters(languages=("fr",))) == ["fr-foot", "fr-idleb"]
    assert ids(es, indexed, "", filters=SearchFilters(topics=("natural-disaster",))) == ["en-storm"]
    assert ids(es, indexed, "", filters=SearchFilters(entities=("vladimir poutine",))) == ["fr-idleb"]
    since = datetime(2026, 11, 15, tzinfo=timezone.utc)
    assert ids(es, indexed, "", filters=SearchFilters(since=since)) == ["en-storm", "fr-idleb"]
    by_date = search(es, indexed, SearchRequest(sort="date"))
    assert [hit.article_id for hit in by_date.hits] == ["en-storm", "fr-idleb", "fr-foot"]
    hit = search(es, indexed, SearchRequest(query="Idleb"), variants).hits[0]
    assert "<mark>Idleb</mark>" in hit.highlights["text"][0]
    assert hit.entities[0].text == "Vladimir Poutine" and hit.topics[0].name == "ceasefire"


def test_syndicated_copies_share_a_cluster_and_collapse_to_one_hit(es: Elasticsearch, settings: Settings) -> None:
    from ingest.fingerprint import signature

    story = ("Le président turc a déclaré qu'il espérait obtenir un nouveau cessez-le-feu en Syrie, "
             "accentuant la pression sur l'Europe qu'il a sommée de prendre sa part du fardeau dans "
             "l'accueil de migrants. La Turquie accueille plus de quatre millions de réfugiés.")
    other = "Une tempête a frappé la côte atlantique lundi; des milliers de foyers sont privés d'électricité."
    store = ArticleStore(es, settings.index_prefix)
    store.ensure_ready()
    store.index_batch([analysed("wire", text=story, signature=signature(story))], refresh=True)
    copy_text = "AFP — " + story + " Lire aussi notre dossier."
    store.index_batch([
        analysed("copy-1", text=copy_text, signature=signature(copy_text), url="https://other.example.com/1"),
        analysed("storm", text=other, signature=signature(other)),
    ], refresh=True)
    clusters = {doc: store.get(doc)["cluster_id"] for doc in ("wire", "copy-1", "storm")}  # type: ignore[index]
    assert clusters == {"wire": "wire", "copy-1": "wire", "storm": "storm"}
    plain = search(es, settings.index_prefix, SearchRequest(query="cessez-le-feu"))
    collapsed = search(es, settings.index_prefix, SearchRequest(query="cessez-le-feu", collapse=True))
    assert plain.total == 2 and len(plain.hits) == 2
    assert len(collapsed.hits) == 1
