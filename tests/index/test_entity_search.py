"""Search by identity on the real index: a known entity's every name finds it, accents and case folded."""

from __future__ import annotations

from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from index.search import SearchFilters, SearchRequest, search
from index.store import ArticleStore
from ingest.analyze import Analyzer, article_from_file
from ingest.models import AnalyzedArticle, Article
from conf.settings import Settings

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).resolve().parents[2] / "vigie" / "data" / "erdogan-poutine-idleb.fr.txt"


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    settings = Settings()
    return Analyzer(settings.models, settings.languages, settings.topics_file, settings.max_text_chars)


@pytest.fixture()
def indexed(es: Elasticsearch, settings: Settings, analyzer: Analyzer) -> str:
    sample = article_from_file(SAMPLE.read_bytes(), SAMPLE.name)
    articles = [
        Article(article_id="sample", title=sample.title, body=sample.body, is_html=False, text_source="file"),
        Article(article_id="moscow-ru", title="Песков прокомментировал переговоры",
                body="Пресс-секретарь президента Дмитрий Песков заявил журналистам в Москве, что Кремль "
                     "готов к переговорам с Вашингтоном.", is_html=False, text_source="summary"),
        Article(article_id="football-fr", title="Le PSG s'impose à Lille",
                body="Le Paris Saint-Germain a battu Lille samedi soir grâce à un doublé d'Ousmane Dembélé, "
                     "avant un déplacement aux États-Unis cet été.", is_html=False, text_source="summary"),
    ]
    store = ArticleStore(es, settings.index_prefix)
    store.ensure_ready()
    result = store.index_batch([AnalyzedArticle(article, analysis)
                       for article, analysis in zip(articles, analyzer.analyze_many(articles))], refresh=True)
    assert not result.rejected and not result.retry, result
    es.indices.refresh(index=f"{settings.index_prefix}-articles")
    return settings.index_prefix


def ids(es: Elasticsearch, prefix: str, query: str, **filters: object) -> list[str]:
    result = search(es, prefix, SearchRequest(query=query, filters=SearchFilters(**filters)))  # type: ignore[arg-type]
    return sorted(hit.article_id for hit in result.hits)


def test_a_known_name_finds_the_articles_that_spell_it_otherwise(es: Elasticsearch, indexed: str) -> None:
    assert ids(es, indexed, "Putin") == ["sample"]
    assert ids(es, indexed, "Idlib") == ["sample"]
    assert ids(es, indexed, '"Dmitry Peskov"') == ["moscow-ru", "sample"]
    assert ids(es, indexed, "Moscow") == ["moscow-ru", "sample"]


def test_unquoted_words_that_name_a_known_entity_find_its_other_spellings(es: Elasticsearch, indexed: str) -> None:
    # "Dmitry" is in neither text: the two words together name the person, as a quoted phrase does.
    assert ids(es, indexed, "Dmitry Peskov") == ["moscow-ru", "sample"]
    assert ids(es, indexed, "Vladimir Putin") == ["sample"]
    assert ids(es, indexed, "Dmitry Peskov Kremlin") == ["moscow-ru", "sample"]  # the run, then one more word
    assert ids(es, indexed, "Dmitry Peskov -Erdogan") == ["moscow-ru"]  # a negation still applies
    assert ids(es, indexed, "Dmitry Lille") == []  # words naming no entity together stay words


def test_entity_field_and_filter_match_by_id_or_any_name(es: Elasticsearch, indexed: str) -> None:
    assert ids(es, indexed, "entity:Q7747") == ["sample"]
    assert ids(es, indexed, 'entity:"Владимир Путин"') == ["sample"]
    assert ids(es, indexed, "", entities=("Dmitri Peskov",)) == ["moscow-ru", "sample"]
    assert ids(es, indexed, "", entities=("Vladimir Putin",)) == ["sample"]


def test_accents_and_case_are_folded(es: Elasticsearch, indexed: str) -> None:
    assert ids(es, indexed, "Lille") == ["football-fr"]
    assert ids(es, indexed, "Etats-Unis") == ["football-fr"]
    assert ids(es, indexed, "ousmane dembele") == ["football-fr"]


def test_facets_show_canonical_names_grouped_by_id(es: Elasticsearch, indexed: str) -> None:
    from index.stats import article_stats

    stats = article_stats(es, indexed)
    people = {bucket["key"]: bucket for bucket in stats["people"]}
    # "Dmitri Peskov" (French sample) and "Дмитрий Песков" (Russian article): one row, its name.
    assert people["Dmitry Peskov"] == {"key": "Dmitry Peskov", "id": "v:dmitry-peskov", "count": 2}
    places = {bucket["key"]: bucket for bucket in stats["places"]}
    assert places["Moscow"]["count"] == 2 and places["United States"]["id"] == "Q30"


def test_an_entity_page_gathers_its_spellings_languages_and_company(es: Elasticsearch, indexed: str) -> None:
    from index.entities import entity_profile

    profile = entity_profile(es, indexed, "Песков")
    assert profile is not None and (profile["id"], profile["name"], profile["articles"]) == (
        "v:dmitry-peskov", "Dmitry Peskov", 2)
    assert {variant["text"] for variant in profile["variants"]} == {"Dmitri Peskov", "Дмитрий Песков", "Песков"}
    assert {row["language"] for row in profile["languages"]} == {"fr", "ru"}
    assert {"Moscow", "Kremlin"} <= {row["name"] for row in profile["co_occurring"]}
    assert "Dmitry Peskov" not in {row["name"] for row in profile["co_occurring"]}
    assert {article["id"] for article in profile["latest"]} == {"sample", "moscow-ru"}
    assert entity_profile(es, indexed, "Jacques Chirac") is None
