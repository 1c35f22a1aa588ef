"""The evaluation corpus (``tests/ingest/corpus``, described in its README) and how an analyser is
scored on it. Used by test_quality.py and by bench/ner_models.py (the small/medium model comparison).

- entity recall: expected names found. A found entity matches an expected name when the words of
  one are a run of the words of the other, case and accents folded ("Erdogan" and "Recep Tayyip
  Erdogan"), so a model that keeps the surname only is not punished twice;
- label agreement: among the names found, those with an expected label;
- entity precision (reported, not a gate): found entities that are expected or listed as acceptable;
- topic accuracy: articles whose set of specific topics (the children: migration, ceasefire, ...) is
  exactly the expected one (``topics:``);
- the IPTC measures (``score_topics``), on the articles in the languages the rules cover: at least one
  correct top-level subject (``iptc:``; a child's match stands for its parent), precision of every
  assigned topic (top-level or child), and the look-alike traps (``trap:``: topics that must not fire);
- language accuracy: articles tagged with their language.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ingest.clean import fold_key
from ingest.entity_kb import default_kb
from ingest.mentions import entity_key
from ingest.models import Analysis, Article, Entity
from ingest.title_persons import titled_persons

CORPUS_DIR = Path(__file__).parent / "corpus"
HELDOUT_DIR = Path(__file__).parent / "corpus-heldout"
# Articles labelled for topics only (no entity labels): the IPTC coverage corpus, dev and held-out.
TOPICS_DEV_DIR = Path(__file__).parent / "topics-corpus" / "dev"
TOPICS_HELDOUT_DIR = Path(__file__).parent / "topics-corpus" / "heldout"
TOPIC_LANGUAGES = ("fr", "en", "de", "es")
#: libyaml's safe loader where PyYAML was built with it (its wheels are): the same data as ``yaml.safe_load``
#: (test_quality_corpus.py compares them), read fifteen times faster: 0.6 s instead of 8.7 for the 6,349 files.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class ExpectedEntity:
    text: str
    labels: frozenset[str]


@dataclass(frozen=True)
class CorpusArticle:
    name: str
    language: str
    title: str
    text: str
    entities: tuple[ExpectedEntity, ...] | None  # None: no model; known entities and titled persons only
    also_ok: tuple[str, ...]
    topics: frozenset[str]
    iptc: frozenset[str] = frozenset()  # the top-level subjects (IPTC parents) a reader assigns
    traps: frozenset[str] = frozenset()  # look-alike topics the article must not get

    def article(self) -> Article:
        return Article(article_id=self.name, title=self.title, body=self.text, is_html=False, text_source="content")


def load_corpus(directory: Path = CORPUS_DIR) -> list[CorpusArticle]:
    articles = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
        entities = data.get("entities")
        articles.append(CorpusArticle(
            name=path.stem,
            language=data["language"],
            title=data["title"],
            text=data["text"],
            entities=None if entities is None else tuple(
                ExpectedEntity(str(text), frozenset(str(labels).split("|"))) for text, labels in entities),
            also_ok=tuple(str(name) for name in data.get("also_ok", ())),
            topics=frozenset(data.get("topics", ())),
            iptc=frozenset(data.get("iptc", ())),
            traps=frozenset(data.get("trap", ())),
        ))
    return articles


def _words(name: str) -> list[str]:
    return re.findall(r"\w+", entity_key(name))


def _run_of(longer: Sequence[str], shorter: Sequence[str]) -> bool:
    size = len(shorter)
    return size > 0 and any(list(longer[at:at + size]) == list(shorter) for at in range(len(longer) - size + 1))


def names_match(a: str, b: str) -> bool:
    words_a, words_b = _words(a), _words(b)
    return _run_of(words_a, words_b) or _run_of(words_b, words_a)


def _best_match(expected: str, found: Sequence[Entity]) -> Entity | None:
    exact = [entity for entity in found if fold_key(entity.key) == entity_key(expected)]
    if exact:
        return exact[0]
    return next((entity for entity in found if names_match(expected, entity.text)), None)


@dataclass
class Scores:
    articles: int = 0
    language_correct: int = 0
    topic_correct: int = 0
    entity_articles: int = 0
    expected_entities: int = 0
    found_entities: int = 0
    label_agreements: int = 0
    predicted_entities: int = 0
    accounted_entities: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def language_accuracy(self) -> float:
        return self.language_correct / self.articles

    @property
    def topic_accuracy(self) -> float:
        return self.topic_correct / self.articles

    @property
    def entity_recall(self) -> float:
        return self.found_entities / self.expected_entities

    @property
    def label_agreement(self) -> float:
        return self.label_agreements / self.found_entities

    @property
    def entity_precision(self) -> float:
        return self.accounted_entities / self.predicted_entities

    def table(self) -> str:
        rows = [
            ("articles", f"{self.articles}"),
            ("language accuracy", f"{self.language_accuracy:.3f} ({self.language_correct}/{self.articles})"),
            ("topic accuracy (exact set of specific topics per article)", f"{self.topic_accuracy:.3f} ({self.topic_correct}/{self.articles})"),
            ("entity recall", f"{self.entity_recall:.3f} ({self.found_entities}/{self.expected_entities})"),
            ("label agreement", f"{self.label_agreement:.3f} ({self.label_agreements}/{self.found_entities})"),
            ("entity precision (not a gate)", f"{self.entity_precision:.3f} ({self.accounted_entities}/{self.predicted_entities})"),
        ]
        return "\n".join(f"| {name} | {value} |" for name, value in rows)


def score(corpus: Sequence[CorpusArticle], analyses: Sequence[Analysis]) -> Scores:
    scores = Scores()
    for item, analysis in zip(corpus, analyses, strict=True):
        scores.articles += 1
        if analysis.language == item.language:
            scores.language_correct += 1
        else:
            scores.failures.append(f"{item.name}: language {analysis.language!r}, expected {item.language!r}")
        topics = {topic.name for topic in analysis.topics if topic.parent is not None}
        if topics == item.topics:
            scores.topic_correct += 1
        else:
            scores.failures.append(f"{item.name}: topics {sorted(topics)}, expected {sorted(item.topics)}")
        if item.entities is None:
            # No NER model for the language: only the knowledge base's entities (issue 13), and the
            # persons named after their title (ingest.title_persons: "Bundesinnenministerin Nancy Faeser").
            titled = {mention.text for mention in titled_persons(f"{item.title}\n{item.text}", item.language)}
            unknown = [entity.text for entity in analysis.entities if entity.id not in default_kb().by_id
                       and not (entity.label == "PERSON" and set(entity.variants) <= titled)]
            if unknown:
                scores.failures.append(f"{item.name}: entities unknown to the knowledge base from a language "
                                       f"without a model: {unknown}")
            continue
        scores.entity_articles += 1
        _score_entities(item, analysis.entities, scores)
    return scores


def _score_entities(item: CorpusArticle, found: Sequence[Entity], scores: Scores) -> None:
    assert item.entities is not None
    for expected in item.entities:
        scores.expected_entities += 1
        match = _best_match(expected.text, found)
        if match is None:
            scores.failures.append(f"{item.name}: entity {expected.text!r} not found")
            continue
        scores.found_entities += 1
        if match.label in expected.labels:
            scores.label_agreements += 1
        else:
            scores.failures.append(f"{item.name}: {expected.text!r} labelled {match.label}, "
                                   f"expected {'|'.join(sorted(expected.labels))}")
    known = [expected.text for expected in item.entities] + list(item.also_ok)
    for entity in found:
        scores.predicted_entities += 1
        if any(names_match(entity.text, name) for name in known):
            scores.accounted_entities += 1
        else:
            scores.failures.append(f"{item.name}: unexpected entity {entity.text!r} ({entity.label})")


@dataclass
class TopicScores:
    """The IPTC topic measures of one set of articles."""

    articles: int = 0
    top_level_hits: int = 0  # articles with at least one correct top-level subject
    assigned: int = 0
    correct: int = 0
    traps: int = 0
    traps_avoided: int = 0
    # per topic: [true positives, false positives, false negatives]
    per_topic: dict[str, list[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def top_level_rate(self) -> float:
        return self.top_level_hits / self.articles if self.articles else 0.0

    @property
    def precision(self) -> float:
        return self.correct / self.assigned if self.assigned else 0.0

    @property
    def trap_rate(self) -> float:
        return self.traps_avoided / self.traps if self.traps else 1.0

    def row(self) -> str:
        return (f"{self.articles} | {self.top_level_rate:.3f} ({self.top_level_hits}/{self.articles}) "
                f"| {self.precision:.3f} ({self.correct}/{self.assigned}) "
                f"| {self.trap_rate:.3f} ({self.traps_avoided}/{self.traps})")


def score_topics(corpus: Sequence[CorpusArticle], analyses: Sequence[Analysis]) -> TopicScores:
    """The IPTC measures over the articles in the languages the topic rules cover."""
    scores = TopicScores()
    for item, analysis in zip(corpus, analyses, strict=True):
        if item.language not in TOPIC_LANGUAGES:
            continue
        scores.articles += 1
        assigned = {topic.name for topic in analysis.topics}
        top_level = {topic.parent or topic.name for topic in analysis.topics}
        expected = item.topics | item.iptc
        if top_level & item.iptc:
            scores.top_level_hits += 1
        else:
            scores.failures.append(f"{item.name}: no correct top-level topic: got {sorted(assigned)}, "
                                   f"expected one of {sorted(item.iptc)}")
        for name in sorted(assigned):  # the failures listed in one order, run after run
            scores.assigned += 1
            if name in expected:
                scores.correct += 1
            else:
                scores.failures.append(f"{item.name}: wrong topic {name!r} (expected {sorted(expected)})")
        for name in expected | assigned:
            counts = scores.per_topic.setdefault(name, [0, 0, 0])
            counts[0 if name in expected and name in assigned else 1 if name in assigned else 2] += 1
        if item.traps:
            scores.traps += 1
            fired = item.traps & assigned
            if fired:
                scores.failures.append(f"{item.name}: trap: got the look-alike topic(s) {sorted(fired)}")
            else:
                scores.traps_avoided += 1
    return scores
