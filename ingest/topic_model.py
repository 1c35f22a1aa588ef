"""A learned second opinion on an article's top-level subject, beside the topic rules.

The rules (ingest.topics) stay first. The model is a multinomial naive Bayes over the article's words
as the rules see them (lemmas, case and accents folded; each distinct word once) and over how far each
subject's vocabulary block and rules got below their thresholds, one model shared by fr, en, de and
es, trained on the dev part of the labelled topic corpus only. It is consulted when the
rules give an article no topic at all, and then adds its best top-level subject if that subject's
probability reaches the model's threshold, chosen by k-fold cross-validation on the dev corpus
(docs/quality.md, "A learned second opinion"). It never removes a topic and never adds a child topic
(migration, ceasefire...): a model trained on a few hundred articles can tell sport from weather, not a
ceasefire from a sports truce.

The model is a reviewed data file (``ingest/data/topic-model.json``): per word, how many training
articles of each subject contain it. ``bench/topic_model.py`` rebuilds it from the corpus; a test checks
the shipped file is what the script builds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ingest.clean import fold_key
from ingest.lemmas import Word
from ingest.models import TopicMatch
from ingest.topic_rules import TopicRules

MODEL_FILE = Path(__file__).parent / "data" / "topic-model.json"
FORMAT = 1
#: Where a topic given by the model says it comes from: the first item of its evidence.
BY_MODEL = "by the model"
_MIN_LETTERS = 3  # shorter words (articles, prepositions, "de", "la") carry no subject
_SHOWN_WORDS = 6  # the words shown as a model topic's evidence
_VOCABULARY_STEPS = (0.25, 0.5, 1.0, 2.0)  # of a subject's vocabulary evidence over its threshold
_RULE_STEPS = (0.25, 0.5, 1.0)  # of a subject's rule total over its threshold


def features(words: Sequence[Word], vocabulary: Mapping[str, float] | None = None,
             rules: Mapping[str, float] | None = None) -> frozenset[str]:
    """The model's features of an article: its distinct lemmas, folded, of at least three letters; and
    for each subject, how far its vocabulary block (``vocabulary``: evidence over threshold) and its rules
    (``rules``: the best total over threshold of the subject or its children) got, in steps
    ("vocabulary:sport>=0.5"). The rules' words are written by hand in four languages, so the steps carry
    a subject across languages where the dev corpus has few words."""
    found = {key for _, lemma in words if len(key := fold_key(lemma)) >= _MIN_LETTERS and key.isalpha()}
    for kind, evidence, steps in (("vocabulary", vocabulary, _VOCABULARY_STEPS), ("rules", rules, _RULE_STEPS)):
        for subject, value in (evidence or {}).items():
            found.update(f"{kind}:{subject}>={step:g}" for step in steps if value >= step)
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Opinion:
    """The model's best subject for an article, its probability and the words that weighed most for it."""

    subject: str
    probability: float
    words: tuple[str, ...]


@dataclass(frozen=True)
class TopicModel:
    """Naive Bayes counts: per subject, its training articles; per word, the articles of each subject
    that contain it. ``threshold``: the probability from which the model's subject is added."""

    subjects: tuple[str, ...]
    documents: tuple[int, ...]  # training articles per subject (an article counts for each of its subjects)
    counts: dict[str, tuple[int, ...]]  # word -> articles per subject containing it
    alpha: float  # additive smoothing
    threshold: float
    min_documents: int  # a word kept in the model is in at least this many training articles
    trained_on: str  # what it was trained on, for the reader

    def __post_init__(self) -> None:
        if not 0.5 < self.threshold <= 1.0:  # below 0.5, the best subject could be less likely than not
            raise ValueError(f"topic model: threshold {self.threshold} is not in (0.5, 1]")
        # Log-probabilities, computed once: P(word | subject) over the words of the subject's articles.
        totals = [sum(column) for column in zip(*self.counts.values())] if self.counts else [0] * len(self.subjects)
        vocabulary = len(self.counts)
        denominators = [math.log(total + self.alpha * vocabulary) for total in totals]
        all_documents = sum(self.documents)
        object.__setattr__(self, "_priors", tuple(math.log(count / all_documents) for count in self.documents))
        object.__setattr__(self, "_log_probabilities", {
            word: tuple(math.log(count + self.alpha) - denominator for count, denominator in zip(row, denominators))
            for word, row in self.counts.items()})

    def opinion(self, found: Iterable[str]) -> Opinion | None:
        """The best subject for an article with these features, or None when no feature is known."""
        table: dict[str, tuple[float, ...]] = self._log_probabilities  # type: ignore[attr-defined]
        known = sorted(word for word in set(found) if word in table)
        if not known:
            return None
        scores = list(self._priors)  # type: ignore[attr-defined]
        for word in known:
            for at, value in enumerate(table[word]):
                scores[at] += value
        best = max(range(len(scores)), key=lambda at: (scores[at], -at))
        top = scores[best]
        probability = 1.0 / sum(math.exp(score - top) for score in scores)

        def weight(word: str) -> float:  # how much more the word says for the best subject than for any other
            row = table[word]
            return row[best] - max(value for at, value in enumerate(row) if at != best)

        words = sorted((word for word in known if weight(word) > 0), key=lambda word: (-weight(word), word))
        return Opinion(self.subjects[best], probability, tuple(words[:_SHOWN_WORDS]))

    def probabilities(self, found: Iterable[str]) -> dict[str, float]:
        """Every subject's probability for an article with these features (empty when no feature is known):
        what bench/topic_model.py --veto reads to measure a veto of the rules by the model."""
        table: dict[str, tuple[float, ...]] = self._log_probabilities  # type: ignore[attr-defined]
        known = sorted(word for word in set(found) if word in table)
        if not known:
            return {}
        scores = list(self._priors)  # type: ignore[attr-defined]
        for word in known:
            for at, value in enumerate(table[word]):
                scores[at] += value
        top = max(scores)
        total = sum(math.exp(score - top) for score in scores)
        return {subject: math.exp(score - top) / total for subject, score in zip(self.subjects, scores)}

    def to_json(self) -> str:
        """The model file: deterministic (sorted, one word a line) so that a rebuild compares byte for byte."""
        head = {"format": FORMAT, "trained_on": self.trained_on, "alpha": self.alpha, "threshold": self.threshold,
                "min_documents": self.min_documents, "subjects": list(self.subjects),
                "documents": list(self.documents)}
        lines = [json.dumps(head, ensure_ascii=False, sort_keys=True)[:-1] + ', "counts": {']
        words = sorted(self.counts)
        for at, word in enumerate(words):
            comma = "," if at < len(words) - 1 else ""
            lines.append(f"  {json.dumps(word, ensure_ascii=False)}: {json.dumps(list(self.counts[word]))}{comma}")
        lines.append("}}")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_json(cls, text: str) -> TopicModel:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"topic model: format {data.get('format')!r}, expected {FORMAT}")
        return cls(subjects=tuple(data["subjects"]), documents=tuple(data["documents"]),
                   counts={word: tuple(row) for word, row in data["counts"].items()}, alpha=float(data["alpha"]),
                   threshold=float(data["threshold"]), min_documents=int(data["min_documents"]),
                   trained_on=data["trained_on"])


def train(examples: Sequence[tuple[frozenset[str], frozenset[str]]], subjects: Sequence[str], *, alpha: float,
          min_documents: int, threshold: float, trained_on: str) -> TopicModel:
    """A model from (features, subjects) examples: every article counts once for each of its subjects."""
    index = {subject: at for at, subject in enumerate(subjects)}
    documents = [0] * len(subjects)
    frequency: dict[str, int] = {}
    rows: dict[str, list[int]] = {}
    for found, labels in examples:
        for label in labels:
            documents[index[label]] += 1
        for word in found:
            frequency[word] = frequency.get(word, 0) + 1
            row = rows.setdefault(word, [0] * len(subjects))
            for label in labels:
                row[index[label]] += 1
    counts = {word: tuple(row) for word, row in sorted(rows.items()) if frequency[word] >= min_documents}
    return TopicModel(tuple(subjects), tuple(documents), counts, alpha, threshold, min_documents, trained_on)


def with_model_opinion(matches: Sequence[TopicMatch], opinion: Opinion | None, threshold: float,
                       rules: TopicRules) -> list[TopicMatch]:
    """The rules' topics, completed by the model: its subject is added only when the rules gave no topic
    at all, its probability reaches ``threshold`` and the subject is a top-level topic of the rules.
    The rules' topics are returned unchanged otherwise; the model never removes one."""
    if matches or opinion is None or opinion.probability < threshold:
        return list(matches)
    topic = rules.topic(opinion.subject)
    if topic is None or topic.parent is not None:
        return list(matches)
    evidence = (f"{BY_MODEL} (probability {opinion.probability:.6f})", *opinion.words)
    return [TopicMatch(name=topic.name, score=model_score(opinion.probability, threshold), evidence=evidence,
                       iptc=topic.iptc, iptc_top=topic.iptc_top, parent=None)]


def model_score(probability: float, threshold: float) -> float:
    """A model topic's score on the rules' scale, ``1 - 0.5 ** (evidence / threshold)``, its evidence
    being the log-odds of its probability: 0.5 at the threshold, 0.75 at twice its log-odds, never 1.
    ``threshold`` is above 0.5 (TopicModel checks it)."""
    def log_odds(value: float) -> float:
        value = min(value, 1.0 - 1e-15)
        return math.log(value / (1.0 - value))

    return round(1.0 - 0.5 ** (max(log_odds(probability), 0.0) / log_odds(threshold)), 3)


def given_by_model(match: TopicMatch) -> bool:
    """Whether a topic was given by the model rather than by the rules."""
    return bool(match.evidence) and match.evidence[0].startswith(BY_MODEL)


@cache
def default_model() -> TopicModel:
    """The model Vigie ships, read once."""
    return TopicModel.from_json(MODEL_FILE.read_text(encoding="utf-8"))
