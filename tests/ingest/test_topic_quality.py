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


def _article(name: str, language: str, text: str) -> CorpusArticle:
    return CorpusArticle(name, language, "", text, None, (), frozenset())


def test_repeated_stories_are_counted_against_dev_and_earlier_batches_in_the_same_language() -> None:
    """bench/topic_quality.py --repeats: the blind batches' repeated kinds of events, measured."""
    from bench.topic_quality import BATCH_STARTS, repeated_stories

    measles = "Measles outbreak spreads through primary schools, doctors urge parents vaccinate children quickly"
    second, third = BATCH_STARTS[1], BATCH_STARTS[2]
    dev = [_article("d1-en-measles", "en", measles)]
    heldout = [
        _article(f"h{second}-en-measles-again", "en", measles.replace("primary", "secondary")),  # repeats dev
        _article(f"h{second + 1}-de-masern", "de", measles),  # the same words, another language: not a repeat
        _article(f"h{second + 2}-en-harvest", "en", "Farmers celebrate record harvest festival despite drought"),
        _article(f"h{third}-en-harvest-later", "en", "Farmers celebrate record harvest festival despite drought"),
    ]
    found = repeated_stories(dev, heldout)
    assert found[2] == ([f"h{second}-en-measles-again"], 3)
    assert found[3] == ([f"h{third}-en-harvest-later"], 1)  # an earlier batch counts, not only dev
