"""The labelled story stream (tests/ingest/stories) and its B-cubed scores.

Each article goes through the shipped analyser, then ``ingest.stories`` in time order, exactly as the
pipeline would feed it. B-cubed (Bagga and Baldwin 1998): for each article, precision is the share of
its predicted story that truly belongs with it, recall the share of its true story that was put with
it; both averaged over articles. Within a language, both sides are restricted to that language's
articles. The cross-language rate is the share of same-story pairs in different languages that were
put in one story.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from pathlib import Path

import yaml

from ingest.models import AnalyzedArticle, Article
from ingest.stories import StoryClusterer, StoryParams, features_of

STREAM_DIR = Path(__file__).resolve().parent / "stories"
PARTS = ("dev", "heldout")


@dataclass(frozen=True)
class StreamArticle:
    article_id: str
    story: str
    language: str
    outlet: str
    time: datetime
    title: str
    text: str

    def article(self) -> Article:
        return Article(article_id=self.article_id, title=self.title, body=self.text, is_html=False,
                       text_source="content", url=f"https://{self.outlet}/{self.article_id}",
                       feed_url=f"https://{self.outlet}/feed", published=self.time)


def load_stream(part: str) -> list[StreamArticle]:
    data = yaml.safe_load((STREAM_DIR / f"{part}.yaml").read_text(encoding="utf-8"))
    items = [StreamArticle(article_id=row["id"], story=row["story"], language=row["language"],
                           outlet=row["outlet"], time=datetime.fromisoformat(str(row["time"]).replace("Z", "+00:00")),
                           title=row["title"], text=row["text"].strip()) for row in data]
    return sorted(items, key=lambda item: (item.time, item.article_id))


@dataclass(frozen=True)
class BCubed:
    articles: int
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def bcubed(truth: Mapping[str, str], predicted: Mapping[str, str]) -> BCubed:
    """B-cubed precision and recall of ``predicted`` (article -> story) against ``truth``."""
    by_truth: dict[str, set[str]] = defaultdict(set)
    by_predicted: dict[str, set[str]] = defaultdict(set)
    for article, story in truth.items():
        by_truth[story].add(article)
        by_predicted[predicted[article]].add(article)
    precision = recall = 0.0
    for article in truth:
        true_set, predicted_set = by_truth[truth[article]], by_predicted[predicted[article]]
        shared = len(true_set & predicted_set)
        precision += shared / len(predicted_set)
        recall += shared / len(true_set)
    count = len(truth)
    return BCubed(count, precision / count if count else 0.0, recall / count if count else 0.0)


@dataclass(frozen=True)
class StreamScores:
    overall: BCubed
    by_language: Mapping[str, BCubed]
    cross_language_pairs: int
    cross_language_together: int
    stories: int
    predicted: Mapping[str, str]

    @property
    def cross_language_rate(self) -> float:
        return self.cross_language_together / self.cross_language_pairs if self.cross_language_pairs else 0.0

    def table_rows(self, part: str) -> list[str]:
        rows = [f"| {part} | all | {self.overall.articles} | {self.overall.precision:.3f} | "
                f"{self.overall.recall:.3f} | {self.overall.f1:.3f} |"]
        for language, score in sorted(self.by_language.items()):
            rows.append(f"| {part} | {language} | {score.articles} | {score.precision:.3f} | "
                        f"{score.recall:.3f} | {score.f1:.3f} |")
        return rows


def cluster(analysed: Sequence[AnalyzedArticle], params: StoryParams | None = None) -> dict[str, str]:
    clusterer = StoryClusterer(params or StoryParams())
    for item in analysed:
        clusterer.add(features_of(item))
    return clusterer.labels()


def score_stream(stream: Sequence[StreamArticle], predicted: Mapping[str, str]) -> StreamScores:
    truth = {item.article_id: item.story for item in stream}
    languages = sorted({item.language for item in stream})
    by_language = {}
    for language in languages:
        ids = [item.article_id for item in stream if item.language == language]
        by_language[language] = bcubed({i: truth[i] for i in ids}, {i: predicted[i] for i in ids})
    pairs = together = 0
    for left, right in combinations(stream, 2):
        if left.story == right.story and left.language != right.language:
            pairs += 1
            together += predicted[left.article_id] == predicted[right.article_id]
    return StreamScores(bcubed(truth, predicted), by_language, pairs, together,
                        len(set(predicted.values())), predicted)


def misses(stream: Sequence[StreamArticle], predicted: Mapping[str, str]) -> list[str]:
    """Each predicted story that mixes true stories, and each true story split, for a failure message."""
    lines = []
    groups: dict[str, list[StreamArticle]] = defaultdict(list)
    for item in stream:
        groups[predicted[item.article_id]].append(item)
    for story, items in sorted(groups.items()):
        if len({item.story for item in items}) > 1:
            lines.append(f"mixed {story}: " + ", ".join(f"{i.article_id}({i.story})" for i in items))
    truths: dict[str, set[str]] = defaultdict(set)
    for item in stream:
        truths[item.story].add(predicted[item.article_id])
    for story, predicted_ids in sorted(truths.items()):
        if len(predicted_ids) > 1:
            parts = [", ".join(i.article_id + ":" + i.language for i in stream
                               if i.story == story and predicted[i.article_id] == p) for p in sorted(predicted_ids)]
            lines.append(f"split {story}: " + " | ".join(parts))
    return lines
