"""A learned second opinion on an article's top-level subject, beside the topic rules.

The rules (ingest.topics) stay first. The model is a multinomial naive Bayes over the article's words
as the rules see them (lemmas, case and accents folded; each distinct word once) and over how far each
subject's vocabulary block and rules got below their thresholds, one model shared by fr, en, de and
es, trained on the labelled topic corpus: its dev part and the older held-out batches (the newest
blind batches are never read: they measure it). It gives its opinion three ways
(``with_model_opinion``), each from a probability chosen by bench/topic_model.py:

- when the rules give an article no topic, it adds its best top-level subject from ``threshold``;
- when the rules give an article two subjects or more, a subject it finds less likely than ``veto`` is
  removed, with its children (never all of them): the rules' stray secondary subjects;
- when every subject the rules give is less likely than ``replace``, its best subject, if at least
  ``replace_from`` likely, takes the place of all the rules' topics (their children too): the rules read
  a word in another sense ("Paketlawine", an avalanche of parcels, is not a disaster);
- beside the rules' subjects, it adds its best subject from ``beside``, when the rules missed it;
- a specific topic (migration, ceasefire...) is removed when the model finds the article unlike the
  articles that carry it (``specific_veto``): every subject at least a share of them carry (``kin``,
  its parent always: migration's articles are told as politics as well as society; the share is chosen
  with ``specific_veto``, ``KIN_SHARE`` by default, then each topic's own where it does better) is less likely than
  the model's best subject by more than ``-specific_veto`` in log-probability per word the model knows
  of the article. Per word, because naive Bayes's odds grow with an article's length: the long Idlib
  wire story, a war with refugees in it, found ``society`` about as unlikely (10^-23 to 10^-30 with the
  models trained on batches 1 to 15, 16 and 17) as a short sports report finds the ``disaster`` of its
  "earthquake" in the dressing room; per word, the first was -0.2 to -0.3, the second is -0.7 to -1.7.
  (The models trained on batches 1 to 18 to 1 to 25 find ``politics``, also migration's kin, its best subject.)

``replace`` and ``beside`` ask the model about every article with a rule topic; the shipped model has
them on since the rules were made cheap enough for that to fit the topics' share of the analysis
(docs/quality.md, "The rules made cheaper").

``threshold`` is chosen by k-fold cross-validation over the training articles; ``veto``, ``replace``,
``replace_from`` and ``beside`` on the older blind batches, each judged by a model trained only on what
was written before it (docs/quality.md,
"The topic model trained on more, and judging the rules' subjects"). A subject one of its specific
topics gives is never removed by ``veto`` (``migration`` keeps ``society``); only ``specific_veto`` removes a
specific topic, with the subject it gives. It never adds a child topic
(migration, ceasefire...): a model trained on a thousand articles can tell sport from weather, not a
ceasefire from a sports truce.

The model is a reviewed data file (``ingest/data/topic-model.json``): per word, how many training
articles of each subject contain it. ``bench/topic_model.py`` rebuilds it from the corpus; a test checks
the shipped file is what the script builds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy

from ingest.clean import fold_key
from ingest.lemmas import Word
from ingest.models import TopicMatch
from ingest.topic_rules import TopicRules

MODEL_FILE = Path(__file__).parent / "data" / "topic-model.json"
FORMAT = 4
#: The formats read: 1 had no ``veto`` and no ``beside`` (the model only filled an empty article), 2 no
#: ``replace`` (the rules' subjects were never all replaced), 3 no ``specific_veto`` and no ``kin``.
READ_FORMATS = (1, 2, 3, 4)
#: A specific topic's ``kin`` by default: the subjects at least this share of its training articles carry.
#: A quarter, not a half: with a half, migration's kin was society alone, and the Idlib wire story, told as a
#: war and as politics, lost ``migration`` for its ``society`` at -0.29 per word under the model trained on
#: batches 1 to 16 (docs/quality.md). Since the model trained on batches 1 to 25, bench/topic_model.py
#: chooses the share the shipped kin are counted with on the validation batches.
KIN_SHARE = 0.25
#: Where a topic given by the model says it comes from: the first item of its evidence.
BY_MODEL = "by the model"
_MIN_LETTERS = 3  # shorter words (articles, prepositions, "de", "la") carry no subject
_SHOWN_WORDS = 6  # the words shown as a model topic's evidence
_VOCABULARY_STEPS = (0.25, 0.5, 1.0, 2.0)  # of a subject's vocabulary evidence over its threshold
_RULE_STEPS = (0.25, 0.5, 1.0)  # of a subject's rule total over its threshold
_FIRST_STEP = min(*_VOCABULARY_STEPS, *_RULE_STEPS)


def features(words: Sequence[Word], vocabulary: Mapping[str, float] | None = None,
             rules: Mapping[str, float] | None = None) -> frozenset[str]:
    """The model's features of an article: its distinct lemmas, folded, of at least three letters; and
    for each subject, how far its vocabulary block (``vocabulary``: evidence over threshold) and its rules
    (``rules``: the best total over threshold of the subject or its children) got, in steps
    ("vocabulary:sport>=0.5"). The rules' words are written by hand in four languages, so the steps carry
    a subject across languages where the dev corpus has few words."""
    return features_of_folded([fold_key(lemma) for _, lemma in words], vocabulary, rules)


def features_of_folded(lemmas: Sequence[str], vocabulary: Mapping[str, float] | None = None,
                       rules: Mapping[str, float] | None = None) -> frozenset[str]:
    """``features`` of an article whose lemmas are already folded (``ingest.clean.fold_key``)."""
    return step_features(vocabulary, rules).union(key for key in lemmas if len(key) >= _MIN_LETTERS and key.isalpha())


def step_features(vocabulary: Mapping[str, float] | None, rules: Mapping[str, float] | None) -> frozenset[str]:
    """The features of how far each subject's vocabulary and rules got ("vocabulary:sport>=0.5")."""
    found: set[str] = set()
    for kind, evidence in (("vocabulary", vocabulary), ("rules", rules)):
        for subject, value in (evidence or {}).items():
            if value >= _FIRST_STEP:  # most subjects have no evidence at all
                found.update(name for step, name in _step_names(kind, subject) if value >= step)
    return frozenset(found)


@cache
def _step_names(kind: str, subject: str) -> tuple[tuple[float, str], ...]:
    """The features of a subject's evidence steps: (step, "vocabulary:sport>=0.5"), ..."""
    steps = _VOCABULARY_STEPS if kind == "vocabulary" else _RULE_STEPS
    return tuple((step, f"{kind}:{subject}>={step:g}") for step in steps)


@dataclass(frozen=True, slots=True)
class Opinion:
    """The model's best subject for an article, its probability and the words that weighed most for it."""

    subject: str
    probability: float
    words: tuple[str, ...]
    features: int = 0  # how many of the article's features the model knows (what its odds are summed over)


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
    #: With two rule subjects or more, one less likely than this is removed (0: never).
    veto: float = 0.0
    #: The model's best subject is added beside the rules' from this probability (None: never).
    beside: float | None = None
    #: When every rule subject is less likely than this, the model's best subject replaces them (0: never)...
    replace: float = 0.0
    #: ... if its probability reaches this.
    replace_from: float = 1.0
    #: A specific topic whose ``kin`` are all less likely than the best subject by more than minus this, in
    #: log-probability per known feature of the article, is removed (None: never). Negative.
    specific_veto: float | None = None
    #: Per specific topic, the subjects at least a share of its training articles carry (its parent always).
    kin: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.5 < self.threshold <= 1.0:  # below 0.5, the best subject could be less likely than not
            raise ValueError(f"topic model: threshold {self.threshold} is not in (0.5, 1]")
        if not 0.0 <= self.veto < 0.5:  # at 0.5 or more, the model's own best subject could be removed
            raise ValueError(f"topic model: veto {self.veto} is not in [0, 0.5)")
        if self.beside is not None and not 0.5 < self.beside <= 1.0:
            raise ValueError(f"topic model: beside {self.beside} is not in (0.5, 1]")
        if not 0.0 <= self.replace < 0.5:  # the subjects replaced are less likely than not
            raise ValueError(f"topic model: replace {self.replace} is not in [0, 0.5)")
        if not 0.5 < self.replace_from <= 1.0:  # the subject that replaces them is more likely than not
            raise ValueError(f"topic model: replace_from {self.replace_from} is not in (0.5, 1]")
        if self.specific_veto is not None and not self.specific_veto < 0.0:  # at 0, the best subject's own topics go
            raise ValueError(f"topic model: specific_veto {self.specific_veto} is not negative")
        # Log-probabilities, computed once: P(word | subject) over the words of the subject's articles.
        totals = [sum(column) for column in zip(*self.counts.values())] if self.counts else [0] * len(self.subjects)
        vocabulary = len(self.counts)
        denominators = [math.log(total + self.alpha * vocabulary) for total in totals]
        all_documents = sum(self.documents)
        object.__setattr__(self, "_priors", tuple(math.log(count / all_documents) for count in self.documents))
        # log P(word | subject), one row per word, in one array (15,000 words x 17 subjects: 2 MiB, where
        # tuples of Python floats took 9): an article's scores are one sum over its known words' rows.
        object.__setattr__(self, "_rows", {word: at for at, word in enumerate(self.counts)})
        object.__setattr__(self, "_words", list(self.counts))
        object.__setattr__(self, "_prior_array", numpy.array(self._priors))  # type: ignore[attr-defined]
        counts = numpy.array(list(self.counts.values()), dtype=numpy.float64).reshape(len(self.counts), len(self.subjects))
        object.__setattr__(self, "_log_probabilities", numpy.log(counts + self.alpha) - numpy.array(denominators))

    def _scores(self, found: Iterable[str]) -> tuple[list[int], numpy.ndarray, numpy.ndarray]:
        """The rows of an article's known features (in the model's order), their log-probabilities, and
        each subject's log-score (prior and words)."""
        rows: dict[str, int] = self._rows  # type: ignore[attr-defined]
        present = set(map(rows.get, found))  # the rows of the known features, and None
        present.discard(None)
        known: list[int] = sorted(present)  # type: ignore[arg-type]  # the same order whatever the set's: the same sums
        table = self._log_probabilities.take(known, axis=0)  # type: ignore[attr-defined]
        return known, table, self._prior_array + table.sum(axis=0)  # type: ignore[attr-defined]

    def opinion(self, found: Iterable[str]) -> Opinion | None:
        """The best subject for an article with these features, or None when no feature is known."""
        return self.judge(found)[0]

    def judge(self, found: Iterable[str], shown: bool = True) -> tuple[Opinion | None, dict[str, float]]:
        """The best subject (``opinion``) and every subject's probability (``probabilities``), in one
        pass; (None, {}) when no feature is known. ``shown`` False: the opinion without the words that
        weighed most for its subject (its ``words`` empty), which cost as much again to find."""
        known, table, scores = self._scores(found)
        if not known:
            return None, {}
        # Seventeen numbers: in Python, cheaper than numpy's calls on so few.
        listed = scores.tolist()
        top = max(listed)
        best = listed.index(top)  # the first of equal scores
        exponents = [math.exp(score - top) for score in listed]
        total = sum(exponents)
        probabilities = {subject: value / total for subject, value in zip(self.subjects, exponents)}
        if not shown:
            return Opinion(self.subjects[best], 1.0 / total, (), len(known)), probabilities
        # How much more each word says for the best subject than for any other: the words shown.
        others = numpy.delete(table, best, axis=1).max(axis=1) if len(self.subjects) > 1 else table[:, best] * 0
        weights = (table[:, best] - others).tolist()
        names: list[str] = self._words  # type: ignore[attr-defined]
        words = sorted((-weight, names[row]) for row, weight in zip(known, weights) if weight > 0)
        return (Opinion(self.subjects[best], 1.0 / total, tuple(word for _, word in words[:_SHOWN_WORDS]),
                        len(known)), probabilities)

    def judged(self, matches: Sequence[TopicMatch], opinion: Opinion | None, probabilities: Mapping[str, float],
               rules: TopicRules) -> list[TopicMatch]:
        """The rules' topics judged with this model's settings (``with_model_opinion``); ``opinion`` and
        ``probabilities`` may come from another model (bench/topic_quality.py judges with the shipped
        settings the opinions of models trained on less)."""
        return with_model_opinion(matches, opinion, self.threshold, rules, probabilities=probabilities,
                                  veto=self.veto, beside=self.beside, replace=self.replace,
                                  replace_from=self.replace_from, specific_veto=self.specific_veto, kin=self.kin)

    def probabilities(self, found: Iterable[str]) -> dict[str, float]:
        """Every subject's probability for an article with these features (empty when no feature is known)."""
        return self.judge(found)[1]

    def to_json(self) -> str:
        """The model file: deterministic (sorted, one word a line) so that a rebuild compares byte for byte."""
        head = {"format": FORMAT, "trained_on": self.trained_on, "alpha": self.alpha, "threshold": self.threshold,
                "veto": self.veto, "beside": self.beside, "replace": self.replace,
                "replace_from": self.replace_from, "min_documents": self.min_documents,
                "specific_veto": self.specific_veto, "kin": {name: list(kin) for name, kin in sorted(self.kin.items())},
                "subjects": list(self.subjects), "documents": list(self.documents)}
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
        if data.get("format") not in READ_FORMATS:
            raise ValueError(f"topic model: format {data.get('format')!r}, expected one of {READ_FORMATS}")
        beside = data.get("beside")
        return cls(subjects=tuple(data["subjects"]), documents=tuple(data["documents"]),
                   counts={word: tuple(row) for word, row in data["counts"].items()}, alpha=float(data["alpha"]),
                   threshold=float(data["threshold"]), min_documents=int(data["min_documents"]),
                   trained_on=data["trained_on"], veto=float(data.get("veto", 0.0)),
                   beside=None if beside is None else float(beside), replace=float(data.get("replace", 0.0)),
                   replace_from=float(data.get("replace_from", 1.0)),
                   specific_veto=None if data.get("specific_veto") is None else float(data["specific_veto"]),
                   kin={name: tuple(kin) for name, kin in data.get("kin", {}).items()})


def train(examples: Sequence[tuple[frozenset[str], frozenset[str]]], subjects: Sequence[str], *, alpha: float,
          min_documents: int, threshold: float, trained_on: str, veto: float = 0.0,
          beside: float | None = None, replace: float = 0.0, replace_from: float = 1.0,
          specific_veto: float | None = None, kin: Mapping[str, tuple[str, ...]] | None = None) -> TopicModel:
    """A model from (features, subjects) examples: every article counts once for each of its subjects."""
    return TrainingSet.of(examples, subjects).model(
        None, alpha=alpha, min_documents=min_documents, threshold=threshold, trained_on=trained_on, veto=veto,
        beside=beside, replace=replace, replace_from=replace_from, specific_veto=specific_veto, kin=kin)


@dataclass(frozen=True, eq=False)  # arrays inside: compared and hashed by identity
class TrainingSet:
    """(features, subjects) examples encoded once, to train many models on parts of them: bench/topic_model.py's
    grid trains over a hundred on five thousand articles, which counting word by word took minutes to do.
    A model holds what counting its part's articles word by word gives: per word, the articles of each
    subject containing it (an article counts once for each of its subjects), for the words in at least
    ``min_documents`` of them."""

    subjects: tuple[str, ...]
    words: tuple[str, ...]  # every feature of the examples, sorted
    features: tuple[numpy.ndarray, ...]  # per example, its features as positions in ``words``
    #: per example, (feature's position) * len(subjects) + subject's position, for each of its features and subjects
    pairs: tuple[numpy.ndarray, ...]
    labels: tuple[tuple[int, ...], ...]  # per example, its subjects' positions

    @classmethod
    def of(cls, examples: Iterable[tuple[Iterable[str], Iterable[str]]], subjects: Sequence[str]) -> TrainingSet:
        examples = [(list(found), list(labels)) for found, labels in examples]
        index = {subject: at for at, subject in enumerate(subjects)}
        words = sorted({word for found, _ in examples for word in found})
        position = {word: at for at, word in enumerate(words)}
        width = len(subjects)
        features, pairs, labels = [], [], []
        for found, given in examples:
            at = numpy.fromiter(map(position.__getitem__, found), dtype=numpy.int64, count=len(found))
            labelled = tuple(index[label] for label in given)
            features.append(at)
            pairs.append(numpy.concatenate([at * width + label for label in labelled]) if labelled else _NONE)
            labels.append(labelled)
        return cls(tuple(subjects), tuple(words), tuple(features), tuple(pairs), tuple(labels))

    def model(self, chosen: Iterable[int] | None, *, alpha: float, min_documents: int, threshold: float,
              trained_on: str, veto: float = 0.0, beside: float | None = None, replace: float = 0.0,
              replace_from: float = 1.0, specific_veto: float | None = None,
              kin: Mapping[str, tuple[str, ...]] | None = None) -> TopicModel:
        """A model trained on the examples at the positions ``chosen`` (None: all of them)."""
        at = range(len(self.features)) if chosen is None else list(chosen)
        width, vocabulary = len(self.subjects), len(self.words)
        documents = [0] * width
        for example in at:
            for label in self.labels[example]:
                documents[label] += 1
        frequency = numpy.bincount(numpy.concatenate([_NONE, *(self.features[example] for example in at)]),
                                   minlength=vocabulary)
        rows = numpy.bincount(numpy.concatenate([_NONE, *(self.pairs[example] for example in at)]),
                              minlength=vocabulary * width).reshape(vocabulary, width)
        kept = numpy.flatnonzero(frequency >= max(min_documents, 1)).tolist()  # sorted, as ``words`` is
        counts = dict(zip(map(self.words.__getitem__, kept), map(tuple, rows[kept].tolist())))
        return TopicModel(self.subjects, tuple(documents), counts, alpha, threshold, min_documents, trained_on,
                          veto, beside, replace, replace_from, specific_veto, dict(kin or {}))


_NONE = numpy.zeros(0, dtype=numpy.int64)


def kin_of(labelled: Iterable[tuple[frozenset[str], frozenset[str]]], rules: TopicRules,
           share: float = KIN_SHARE) -> dict[str, tuple[str, ...]]:
    """Per specific topic of ``rules``, the subjects at least ``share`` of its articles carry, its parent
    always (``labelled``: each training article's subjects and topics): terrorism's articles are crime
    as much as conflict, a natural disaster's often weather, migration's politics."""
    labelled = list(labelled)
    kin = {}
    for topic in rules.topics:
        if topic.parent is None:
            continue
        carried = [subjects for subjects, topics in labelled if topic.name in topics]
        counts: dict[str, int] = {}
        for subjects in carried:
            for subject in subjects:
                counts[subject] = counts.get(subject, 0) + 1
        kin[topic.name] = tuple(sorted({topic.parent} | {subject for subject, count in counts.items()
                                                         if count >= share * len(carried)}))
    return kin


def unlikeness(subjects: Iterable[str], opinion: Opinion, probabilities: Mapping[str, float]) -> float:
    """How much less likely the likeliest of ``subjects`` is than the model's best subject, in log-probability
    per feature the model knows of the article (0 when one of them is the best; -inf when all are 0)."""
    likeliest = max((probabilities.get(subject, 0.0) for subject in subjects), default=0.0)
    if likeliest <= 0.0 or opinion.probability <= 0.0:
        return -math.inf
    return math.log(likeliest / opinion.probability) / max(opinion.features, 1)


def kin_of_topic(kin: Mapping[str, Sequence[str]] | None, name: str, parent: str) -> tuple[str, ...]:
    """The subjects a specific topic ``name`` is judged by under ``specific_veto``: its ``kin`` when listed,
    else its parent alone."""
    return tuple((kin or {}).get(name, (parent,)))


def asks_about_every_article(beside: float | None, replace: float) -> bool:
    """Whether these settings need the model's opinion on every article with a rule topic, not only on
    those the rules give no topic or two subjects or more: ``beside`` and ``replace`` judge an article's
    only subject too."""
    return beside is not None or replace > 0.0


def with_model_opinion(matches: Sequence[TopicMatch], opinion: Opinion | None, threshold: float,
                       rules: TopicRules, *, probabilities: Mapping[str, float] | None = None, veto: float = 0.0,
                       beside: float | None = None, replace: float = 0.0,
                       replace_from: float = 1.0, specific_veto: float | None = None,
                       kin: Mapping[str, Sequence[str]] | None = None) -> list[TopicMatch]:
    """The rules' topics, judged by the model, best first:

    - no rule topic: the model's subject is added when its probability reaches ``threshold``;
    - two rule subjects or more (a child counts as its parent): each subject whose probability
      (``probabilities``) is under ``veto`` is removed with its children, unless that would remove all;
    - every rule subject (after the veto) under ``replace``: the model's subject, when its probability
      reaches ``replace_from``, is the article's only topic;
    - the model's subject, if the rules (after the veto) do not give it, is added beside them when its
      probability reaches ``beside``;
    - then a specific topic (a child: migration, ceasefire...) whose ``kin`` (its parent when not listed)
      are all unlikely to the model per feature (``unlikeness`` under ``specific_veto``) is removed; when
      that would remove every topic, the model's subject replaces them if it reaches ``replace_from``,
      and they are all kept otherwise.

    Only a top-level topic of the rules is ever added."""
    if not matches:
        added = _model_topic(opinion, threshold, rules)
        return [added] if added is not None else []
    kept = list(matches)
    if probabilities and veto > 0.0:
        subjects = {match.parent or match.name for match in matches}
        # A subject one of its specific topics (migration, ceasefire...) gives is kept: those rules are
        # narrow, written against their look-alikes, and what users alert on.
        specific = {match.parent for match in matches if match.parent}
        unlikely = {subject for subject in subjects if probabilities.get(subject, 0.0) < veto and subject not in specific}
        if len(subjects) >= 2 and unlikely and unlikely != subjects:
            kept = [match for match in matches if (match.parent or match.name) not in unlikely]
    given = {match.parent or match.name for match in kept}  # the rules' subjects, after the veto
    if opinion is not None and opinion.subject not in given:
        if probabilities and replace > 0.0 and all(probabilities.get(subject, 0.0) < replace for subject in given):
            added = _model_topic(opinion, replace_from, rules)
            if added is not None:
                return [added]
        if beside is not None:
            added = _model_topic(opinion, beside, rules)
            if added is not None:
                kept.append(added)
    if specific_veto is not None and opinion is not None and probabilities:
        unlike = {at for at, match in enumerate(kept) if match.parent is not None
                  and unlikeness(kin_of_topic(kin, match.name, match.parent), opinion, probabilities) < specific_veto}
        if unlike:
            rest = [match for at, match in enumerate(kept) if at not in unlike]
            if not rest:
                added = _model_topic(opinion, replace_from, rules)
                rest = [added] if added is not None else kept
            kept = rest
    return sorted(kept, key=lambda match: (-match.score, match.name))


def _model_topic(opinion: Opinion | None, threshold: float, rules: TopicRules) -> TopicMatch | None:
    """The model's subject as a topic, when its probability reaches ``threshold`` and it is a top-level
    topic of the rules."""
    if opinion is None or opinion.probability < threshold:
        return None
    topic = rules.topic(opinion.subject)
    if topic is None or topic.parent is not None:
        return None
    evidence = (f"{BY_MODEL} (probability {opinion.probability:.6f})", *opinion.words)
    return TopicMatch(name=topic.name, score=model_score(opinion.probability, threshold), evidence=evidence,
                      iptc=topic.iptc, iptc_top=topic.iptc_top, parent=None)


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
