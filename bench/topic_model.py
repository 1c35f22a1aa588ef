"""Trains the topic model (ingest.topic_model) on the dev part of the labelled topic corpus, chooses its
settings and its probability threshold by k-fold cross-validation on that dev part only, and writes
ingest/data/topic-model.json.

    .venv/bin/python bench/topic_model.py            # prints the cross-validation, writes the model file
    .venv/bin/python bench/topic_model.py --check    # exits 1 when the shipped file is not what it builds
    .venv/bin/python bench/topic_model.py --veto     # measures a veto of narrow rule topics by the model

Dev: tests/ingest/corpus and tests/ingest/topics-corpus/dev (the articles in fr, en, de, es), labelled by
their top-level subjects (``iptc:``). The held-out part is never read here.

The choice, all on dev folds (each fold's articles predicted by a model trained on the other folds):
- smoothing ``alpha`` and the minimum number of training articles a word must be in: the pair whose
  top subject is right most often (ties: the smaller model);
- the threshold: the lowest probability from which the top subject is right at least ``PRECISION`` of
  the time, among the predictions at or above it (0.95: above the precision gate of the topics, 0.90, so
  that the subjects it adds do not lower the precision of the rules on unseen text).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conf.settings import load_settings  # noqa: E402
from ingest.analyze import Analyzer  # noqa: E402
from ingest.topic_model import MODEL_FILE, TopicModel, train  # noqa: E402
from ingest.topic_rules import load_rules  # noqa: E402
from tests.ingest.quality_corpus import CORPUS_DIR, TOPIC_LANGUAGES, TOPICS_DEV_DIR, load_corpus  # noqa: E402

FOLDS = 5
ALPHAS = (0.05, 0.2, 1.0)
MIN_DOCUMENTS = (1, 2)
# Naive Bayes probabilities are extreme (an article's words are counted as independent): 1 - 10^-k.
THRESHOLDS = tuple(round(1 - 10 ** -(1 + step / 2), 9) for step in range(15))  # 0.9 .. 0.99999999
# Above the topics' precision gate (0.90): the held-out precision (0.906 before the model) must not drop.
PRECISION = 0.95
TRAINED_ON = "tests/ingest/corpus + tests/ingest/topics-corpus/dev (fr, en, de, es), bench/topic_model.py"


@dataclass(frozen=True)
class Example:
    name: str
    language: str
    features: frozenset[str]
    subjects: frozenset[str]


@dataclass(frozen=True)
class Prediction:
    example: Example
    subject: str | None
    probability: float

    @property
    def correct(self) -> bool:
        return self.subject in self.example.subjects


def dev_examples(analyzer: Analyzer | None = None) -> list[Example]:
    """The dev articles as the model sees them: their features, read as the analysis reads the words."""
    if analyzer is None:
        settings = load_settings()
        analyzer = Analyzer(settings.models, settings.languages, settings.topics_file, settings.max_text_chars,
                            knowledge_base=False, topic_model=False)
    examples = []
    for folder in (CORPUS_DIR, TOPICS_DEV_DIR):
        for item in load_corpus(folder):
            if item.language not in TOPIC_LANGUAGES:
                continue
            language, found = analyzer.topic_features(item.article())
            examples.append(Example(item.name, language, found, item.iptc))
    return examples


def subjects() -> tuple[str, ...]:
    return tuple(sorted(topic.name for topic in load_rules().topics if topic.parent is None))


def fold_of(at: int) -> int:
    return at % FOLDS


def cross_validated(examples: Sequence[Example], alpha: float, min_documents: int) -> list[Prediction]:
    """Each example predicted by a model trained on the folds it is not in."""
    names = subjects()
    predictions: list[Prediction | None] = [None] * len(examples)
    for fold in range(FOLDS):
        model = train([(example.features, example.subjects) for at, example in enumerate(examples)
                       if fold_of(at) != fold], names, alpha=alpha, min_documents=min_documents, threshold=1.0,
                      trained_on="a fold")
        for at, example in enumerate(examples):
            if fold_of(at) == fold:
                opinion = model.opinion(example.features)
                predictions[at] = Prediction(example, opinion.subject if opinion else None,
                                             opinion.probability if opinion else 0.0)
    return [prediction for prediction in predictions if prediction is not None]


def precision_from(predictions: Sequence[Prediction], threshold: float) -> tuple[int, int]:
    """(right, given) among the predictions at or above ``threshold``."""
    given = [prediction for prediction in predictions if prediction.subject and prediction.probability >= threshold]
    return sum(prediction.correct for prediction in given), len(given)


def chosen_threshold(predictions: Sequence[Prediction]) -> float:
    for threshold in THRESHOLDS:
        right, given = precision_from(predictions, threshold)
        if given and right / given >= PRECISION:
            return threshold
    return 1.0  # never reached: the model would never add a subject


@dataclass(frozen=True)
class Build:
    model: TopicModel
    predictions: list[Prediction]  # cross-validated, with the chosen alpha and minimum
    grid: list[tuple[float, int, int]]  # (alpha, minimum, right top subjects out of len(examples))


def build(examples: Sequence[Example]) -> Build:
    """The model file's content: settings and threshold chosen by cross-validation, trained on all of dev."""
    grid = []
    best: tuple[int, float, int, list[Prediction]] | None = None
    for min_documents in MIN_DOCUMENTS[::-1]:  # the smaller model first: it wins ties
        for alpha in ALPHAS:
            predictions = cross_validated(examples, alpha, min_documents)
            right = sum(prediction.correct for prediction in predictions)
            grid.append((alpha, min_documents, right))
            if best is None or right > best[0]:
                best = (right, alpha, min_documents, predictions)
    assert best is not None
    _, alpha, min_documents, predictions = best
    model = train([(example.features, example.subjects) for example in examples], subjects(), alpha=alpha,
                  min_documents=min_documents, threshold=chosen_threshold(predictions), trained_on=TRAINED_ON)
    return Build(model, predictions, grid)


# A rule topic "fired narrowly": its score under this (0.5 at the threshold, 0.6 at 1.32 times it).
VETO_SCORES = (0.55, 0.6, 0.65, 0.7, 0.8)
# ... and the model finds its subject this unlikely.
VETO_PROBABILITIES = (1e-2, 1e-3, 1e-4, 1e-6, 1e-8)


def veto_table(examples: Sequence[Example]) -> list[tuple[float, float, int, int]]:
    """What a veto would do on dev, cross-validated: for each (score, probability), the rule topics it would
    remove (a topic under that score whose subject the model, trained on the other folds, finds less likely
    than that probability; never an article's only subject) and how many of them are right by the labels.
    Rows (score, probability, removed right, removed wrong)."""
    settings = load_settings()
    analyzer = Analyzer(settings.models, settings.languages, settings.topics_file, settings.max_text_chars,
                        knowledge_base=False, topic_model=False)
    items = [item for folder in (CORPUS_DIR, TOPICS_DEV_DIR) for item in load_corpus(folder)
             if item.language in TOPIC_LANGUAGES]
    assert [item.name for item in items] == [example.name for example in examples]
    analyses = analyzer.analyze_many([item.article() for item in items])
    probabilities: list[dict[str, float]] = [{} for _ in examples]
    for fold in range(FOLDS):
        model = build([example for at, example in enumerate(examples) if fold_of(at) != fold]).model
        for at, example in enumerate(examples):
            if fold_of(at) == fold:
                probabilities[at] = model.probabilities(example.features)
    candidates = []  # (score, the model's probability of its subject, right)
    for at, (item, analysis) in enumerate(zip(items, analyses)):
        given = {topic.parent or topic.name for topic in analysis.topics}
        if len(given) < 2 or not probabilities[at]:
            continue
        for topic in analysis.topics:
            subject = topic.parent or topic.name
            candidates.append((topic.score, probabilities[at].get(subject, 0.0),
                               subject in item.iptc or topic.name in item.topics))
    rows = []
    for score in VETO_SCORES:
        for probability in VETO_PROBABILITIES:
            removed = [right for topic_score, p, right in candidates if topic_score < score and p < probability]
            rows.append((score, probability, sum(removed), len(removed) - sum(removed)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the shipped file, write nothing")
    parser.add_argument("--veto", action="store_true", help="measure a veto of narrow rule topics, write nothing")
    args = parser.parse_args()
    examples = dev_examples()
    if args.veto:
        print(f"dev articles: {len(examples)}; {FOLDS}-fold cross-validation; rule topics of articles with 2+ "
              "subjects, removed when their score is under S and the model finds their subject less likely than P\n")
        print("| S (rule score under) | P (model probability under) | removed | right | wrong |")
        print("|---|---|---|---|---|")
        for score, probability, right, wrong in veto_table(examples):
            print(f"| {score:g} | {probability:g} | {right + wrong} | {right} | {wrong} |")
        return
    built = build(examples)
    print(f"dev articles: {len(examples)}; {FOLDS}-fold cross-validation\n")
    print("| alpha | min. articles per word | top subject right (cross-validated) |")
    print("|---|---|---|")
    for alpha, min_documents, right in built.grid:
        print(f"| {alpha:g} | {min_documents} | {right / len(examples):.3f} ({right}/{len(examples)}) |")
    model = built.model
    print(f"\nchosen: alpha {model.alpha:g}, min. articles {model.min_documents}, {len(model.counts)} words; "
          f"threshold {model.threshold:.10g} (the lowest with precision >= {PRECISION} on the folds)\n")
    print("| threshold | subjects given | right | precision | per language (right/given) |")
    print("|---|---|---|---|---|")
    for threshold in (0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999, 0.999999):
        right, given = precision_from(built.predictions, threshold)
        languages = ", ".join(
            f"{language} {'%d/%d' % precision_from([p for p in built.predictions if p.example.language == language], threshold)}"
            for language in TOPIC_LANGUAGES)
        print(f"| {threshold:.10g} | {given} | {right} | {right / given if given else 0:.3f} | {languages} |")
    text = model.to_json()
    if args.check:
        same = MODEL_FILE.exists() and MODEL_FILE.read_text(encoding="utf-8") == text
        print(f"\n{MODEL_FILE.relative_to(ROOT)}: {'as built' if same else 'DIFFERS from what the script builds'}")
        sys.exit(0 if same else 1)
    MODEL_FILE.write_text(text, encoding="utf-8")
    print(f"\nwrote {MODEL_FILE.relative_to(ROOT)} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
