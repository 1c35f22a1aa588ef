"""The IPTC topics scored on the labelled corpus (figures, dev and held-out, in docs/quality.md;
`bench/topic_quality.py` prints them). Gates on the dev part: at least one correct top-level topic on
>= 95% of the articles, precision of the assigned topics >= 0.90, every look-alike trap avoided.
The held-out part is reported by the bench script, not gated (it estimates text the rules were not
written on)."""

from __future__ import annotations

from collections import Counter

import pytest

from ingest.topic_rules import load_rules
from tests.ingest.analyzers import shipped_analyzer
from tests.ingest.quality_corpus import (
    CORPUS_DIR, HELDOUT_DIR, TOPIC_LANGUAGES, TOPICS_DEV_DIR, TOPICS_HELDOUT_DIR, CorpusArticle, TopicScores,
    load_corpus, score_topics,
)

TOP_LEVEL_HIT_RATE = 0.95
PRECISION = 0.90
TRAPS = 1.0


def _articles(*folders: object) -> list[CorpusArticle]:
    return [item for folder in folders for item in load_corpus(folder)  # type: ignore[arg-type]
            if item.language in TOPIC_LANGUAGES]


@pytest.fixture(scope="module")
def dev() -> list[CorpusArticle]:
    return _articles(CORPUS_DIR, TOPICS_DEV_DIR)


@pytest.fixture(scope="module")
def scores(dev: list[CorpusArticle]) -> TopicScores:
    return score_topics(dev, shipped_analyzer().analyze_many([item.article() for item in dev]))


def report(scores: TopicScores) -> str:
    return f"articles | top-level | precision | traps: {scores.row()}\n" + "\n".join(scores.failures)


def test_the_corpus_covers_four_languages_every_top_level_subject_and_the_traps(dev: list[CorpusArticle]) -> None:
    heldout = _articles(HELDOUT_DIR, TOPICS_HELDOUT_DIR)
    everything = dev + heldout
    assert len(everything) >= 150 and len(heldout) >= 30
    languages = Counter(item.language for item in everything)
    assert all(languages[language] >= 25 for language in TOPIC_LANGUAGES), languages
    top_level = {topic.name for topic in load_rules().topics if topic.parent is None}
    for part in (dev, heldout):
        assert top_level <= {name for item in part for name in item.iptc}
    # every article labelled by its IPTC parent(s), and with a label that exists
    names = {topic.name for topic in load_rules().topics}
    for item in everything:
        assert item.iptc and item.iptc <= top_level and item.topics <= names and item.traps <= names, item.name
    traps = {(trap, item.name) for item in everything for trap in item.traps}
    for trap, name in (("migration", "cloud"), ("migration", "teams"), ("migration", "oiseaux"),
                       ("migration", "bird"), ("ceasefire", "treve-hivernale"), ("ceasefire", "football-truce"),
                       ("ceasefire", "treve-psg-om"), ("ceasefire", "treve-olympique")):
        assert any(trap == label and name in article for label, article in traps), (trap, name)


def test_at_least_one_correct_top_level_topic(scores: TopicScores) -> None:
    assert scores.top_level_rate >= TOP_LEVEL_HIT_RATE, report(scores)


def test_precision_of_assigned_topics(scores: TopicScores) -> None:
    assert scores.precision >= PRECISION, report(scores)


def test_every_look_alike_trap_is_avoided(scores: TopicScores) -> None:
    assert scores.traps >= 30
    assert scores.trap_rate >= TRAPS, report(scores)
