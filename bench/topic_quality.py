"""The IPTC topic measures, dev and held-out reported separately: at least one correct top-level
subject per article, precision of the assigned topics, the look-alike traps; per language and per topic.

    .venv/bin/python bench/topic_quality.py [--misses]

Dev: tests/ingest/corpus and tests/ingest/topics-corpus/dev; held-out: tests/ingest/corpus-heldout and
tests/ingest/topics-corpus/heldout, also reported as its batches (batch 2, h133 onwards, was written
before the second round of rule tuning; batch 3, h158 onwards, before the third; batch 4, h208 onwards, after the
third and scored as it is; batch 5, h257 onwards, written blind, without reading the rules, and scored as it is;
batch 6, h309 onwards, written blind after the fourth round, and scored as it is; batch 7, h361 onwards, written
blind after the fifth round, and scored as it is; batch 8, h409 onwards, written blind after the sixth round, and
scored as it is).
Only the articles in the languages the rules cover (fr, en, de, es) count. Prints the Markdown of docs/quality.md's
topic section.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ingest.analyzers import shipped_analyzer  # noqa: E402
from tests.ingest.quality_corpus import (  # noqa: E402
    CORPUS_DIR, HELDOUT_DIR, TOPIC_LANGUAGES, TOPICS_DEV_DIR, TOPICS_HELDOUT_DIR, load_corpus, score_topics,
)

PARTS = {"dev": (CORPUS_DIR, TOPICS_DEV_DIR), "held-out": (HELDOUT_DIR, TOPICS_HELDOUT_DIR)}
# The second held-out batch (h133 onwards) was written after the first round of tuning and before the
# second: it is reported on its own as well, so the estimate on unseen text stays visible.
SECOND_BATCH_FROM = 133
# The third (h158 onwards) was written and scored before the third round of rule changes.
THIRD_BATCH_FROM = 158
# The fourth (h208 onwards) was written after the third round and scored without any rule change.
FOURTH_BATCH_FROM = 208
# The fifth (h257 onwards) was written blind (without reading the rules) and scored as it is.
FIFTH_BATCH_FROM = 257
# The sixth (h309 onwards) was written blind after the fourth round and scored as it is.
SIXTH_BATCH_FROM = 309
# The seventh (h361 onwards) was written blind after the fifth round and scored as it is.
SEVENTH_BATCH_FROM = 361
# The eighth (h409 onwards) was written blind after the sixth round and scored as it is.
EIGHTH_BATCH_FROM = 409


def _number(name: str) -> int | None:
    number = re.match(r"h(\d+)-", name)
    return None if number is None else int(number.group(1))


def _batch(name: str) -> int:
    number = _number(name)
    if number is None or number < SECOND_BATCH_FROM:
        return 1
    return (2 if number < THIRD_BATCH_FROM else 3 if number < FOURTH_BATCH_FROM
            else 4 if number < FIFTH_BATCH_FROM else 5 if number < SIXTH_BATCH_FROM
            else 6 if number < SEVENTH_BATCH_FROM else 7 if number < EIGHTH_BATCH_FROM else 8)


HELDOUT_BATCHES = {
    "held-out batch 1": lambda name: _batch(name) == 1,
    "held-out batch 2": lambda name: _batch(name) == 2,
    "held-out batch 3": lambda name: _batch(name) == 3,
    "held-out batches 2 + 3": lambda name: _batch(name) in (2, 3),
    "held-out batch 4": lambda name: _batch(name) == 4,
    "held-out batches 3 + 4": lambda name: _batch(name) in (3, 4),
    "held-out batch 5": lambda name: _batch(name) == 5,
    "held-out batches 4 + 5": lambda name: _batch(name) in (4, 5),
    "held-out batch 6": lambda name: _batch(name) == 6,
    "held-out batches 5 + 6": lambda name: _batch(name) in (5, 6),
    "held-out batch 7": lambda name: _batch(name) == 7,
    "held-out batches 6 + 7": lambda name: _batch(name) in (6, 7),
    "held-out batch 8": lambda name: _batch(name) == 8,
    "held-out batches 7 + 8": lambda name: _batch(name) in (7, 8),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--misses", action="store_true", help="list every miss")
    args = parser.parse_args()
    analyzer = shipped_analyzer()
    misses: list[str] = []
    parts = {part: [item for folder in folders for item in load_corpus(folder) if item.language in TOPIC_LANGUAGES]
             for part, folders in PARTS.items()}
    for batch, chosen in HELDOUT_BATCHES.items():
        parts[batch] = [item for item in parts["held-out"] if chosen(item.name)]
    for part, corpus in parts.items():
        analyses = analyzer.analyze_many([item.article() for item in corpus])
        scores = score_topics(corpus, analyses)
        misses += [f"{part}: {failure}" for failure in scores.failures]
        print(f"\n### {part}\n")
        print("| articles | language | ≥ 1 correct top-level topic | precision of assigned topics | look-alike traps avoided |")
        print("|---|---|---|---|---|")
        print(f"| {scores.row().split(' | ', 1)[0]} | all | {scores.row().split(' | ', 1)[1]} |")
        for language in TOPIC_LANGUAGES:
            pairs = [(item, analysis) for item, analysis in zip(corpus, analyses) if item.language == language]
            part_scores = score_topics([item for item, _ in pairs], [analysis for _, analysis in pairs])
            head, rest = part_scores.row().split(" | ", 1)
            print(f"| {head} | {language} | {rest} |")
        print("\n| topic | expected | assigned | correct | precision | recall |")
        print("|---|---|---|---|---|---|")
        for name in sorted(scores.per_topic):
            tp, fp, fn = scores.per_topic[name]
            precision = f"{tp / (tp + fp):.2f}" if tp + fp else "–"
            recall = f"{tp / (tp + fn):.2f}" if tp + fn else "–"
            print(f"| {name} | {tp + fn} | {tp + fp} | {tp} | {precision} | {recall} |")
    if args.misses:
        print()
        print("\n".join(misses))


if __name__ == "__main__":
    main()
