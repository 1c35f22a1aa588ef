"""The analyser scored on Vigie's own evaluation corpus (tests/ingest/corpus; figures in docs/quality.md).

Thresholds: entity recall >= 0.90, label agreement >= 0.90, topic accuracy >= 0.95 (exact set of topics
per article), language accuracy 1.0. On failure the message lists every miss.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.ingest.analyzers import shipped_analyzer
from tests.ingest.quality_corpus import CorpusArticle, Scores, load_corpus, score

ENTITY_RECALL = 0.90
LABEL_AGREEMENT = 0.90
TOPIC_ACCURACY = 0.95
LANGUAGE_ACCURACY = 1.0


@pytest.fixture(scope="module")
def corpus() -> list[CorpusArticle]:
    return load_corpus()


@pytest.fixture(scope="module")
def scores(corpus: list[CorpusArticle]) -> Scores:
    analyzer = shipped_analyzer()
    return score(corpus, analyzer.analyze_many([item.article() for item in corpus]))


def report(scores: Scores) -> str:
    return scores.table() + "\n" + "\n".join(scores.failures)


def test_the_corpus_covers_french_english_other_languages_and_every_trap(corpus: list[CorpusArticle]) -> None:
    languages = Counter(item.language for item in corpus)
    assert len(corpus) >= 30
    assert languages["fr"] >= 15 and languages["en"] >= 15
    assert len(set(languages) - {"fr", "en"}) >= 5
    traps = {item.name for item in corpus if not item.topics and item.language in ("fr", "en", "de", "es")}
    for trap in ("oiseaux-migrateurs", "monarch-butterflies", "migration-cloud", "cloud-migration",
                 "treve-hivernale", "treve-des-confiseurs", "treve-psg-om", "football-truce"):
        assert any(trap in name for name in traps), trap


def test_language_accuracy(scores: Scores) -> None:
    assert scores.language_accuracy >= LANGUAGE_ACCURACY, report(scores)


def test_topic_accuracy(scores: Scores) -> None:
    assert scores.topic_accuracy >= TOPIC_ACCURACY, report(scores)


def test_entity_recall(scores: Scores) -> None:
    assert scores.entity_recall >= ENTITY_RECALL, report(scores)


def test_label_agreement(scores: Scores) -> None:
    assert scores.label_agreement >= LABEL_AGREEMENT, report(scores)


def test_languages_without_a_model_get_only_known_entities(scores: Scores) -> None:
    assert not [failure for failure in scores.failures if "without a model" in failure]
