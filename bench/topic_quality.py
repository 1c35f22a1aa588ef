"""The IPTC topic measures, dev and held-out reported separately: at least one correct top-level
subject per article, precision of the assigned topics, the look-alike traps; per language and per topic.

    .venv/bin/python bench/topic_quality.py [--misses]
    .venv/bin/python bench/topic_quality.py --compare   # rules alone, then rules + the topic model

With --compare: each part before (the rules alone) and after (the rules and the topic model of
ingest.topic_model); on dev, the model that judges an article is trained on the other folds (bench/topic_model.py),
since the shipped one was trained on all of dev.

Dev: tests/ingest/corpus and tests/ingest/topics-corpus/dev; held-out: tests/ingest/corpus-heldout and
tests/ingest/topics-corpus/heldout, also reported as its batches (batch 2, h133 onwards, was written
before the second round of rule tuning; batch 3, h158 onwards, before the third; batch 4, h208 onwards, after the
third and scored as it is; batch 5, h257 onwards, written blind, without reading the rules, and scored as it is;
batch 6, h309 onwards, written blind after the fourth round, and scored as it is; batch 7, h361 onwards, written
blind after the fifth round, and scored as it is; batch 8, h409 onwards, written blind after the sixth round, and
scored as it is; batch 9, h461 onwards, written blind while the seventh round was being built, and scored as it is;
batch 10, h513 onwards, written blind while the eighth round was being built, and scored as it is; batch 11,
h565 onwards, written blind on 2026-12-03 after the eighth round, by a writer who did not read the rules, and
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
# The ninth (h461 onwards) was written blind while the seventh round was built elsewhere, and scored as it is.
NINTH_BATCH_FROM = 461
# The tenth (h513 onwards) was written blind while the eighth round was built elsewhere, and scored as it is.
TENTH_BATCH_FROM = 513
# The eleventh (h565 onwards) was written blind after the eighth round, and scored as it is.
ELEVENTH_BATCH_FROM = 565


def _number(name: str) -> int | None:
    number = re.match(r"h(\d+)-", name)
    return None if number is None else int(number.group(1))


def _batch(name: str) -> int:
    number = _number(name)
    if number is None or number < SECOND_BATCH_FROM:
        return 1
    return (2 if number < THIRD_BATCH_FROM else 3 if number < FOURTH_BATCH_FROM
            else 4 if number < FIFTH_BATCH_FROM else 5 if number < SIXTH_BATCH_FROM
            else 6 if number < SEVENTH_BATCH_FROM else 7 if number < EIGHTH_BATCH_FROM
            else 8 if number < NINTH_BATCH_FROM else 9 if number < TENTH_BATCH_FROM
            else 10 if number < ELEVENTH_BATCH_FROM else 11)


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
    "held-out batch 9": lambda name: _batch(name) == 9,
    "held-out batches 8 + 9": lambda name: _batch(name) in (8, 9),
    "held-out batch 10": lambda name: _batch(name) == 10,
    "held-out batches 9 + 10": lambda name: _batch(name) in (9, 10),
    "held-out batch 11": lambda name: _batch(name) == 11,
    "held-out batches 10 + 11": lambda name: _batch(name) in (10, 11),
}


def compare(show_misses: bool) -> None:
    """Rules alone, then rules + model, per part, batch and language; dev cross-validated."""
    from dataclasses import replace

    from bench.topic_model import FOLDS, build, dev_examples, fold_of, subjects
    from conf.settings import load_settings
    from ingest.analyze import Analyzer
    from ingest.topic_model import default_model, given_by_model, with_model_opinion
    from ingest.topic_rules import load_rules

    settings = load_settings()
    rules_alone = Analyzer(settings.models, settings.languages, settings.topics_file, settings.max_text_chars,
                           topic_model=False)
    with_model = shipped_analyzer()
    rules = load_rules(settings.topics_file)
    dev = [item for folder in PARTS["dev"] for item in load_corpus(folder) if item.language in TOPIC_LANGUAGES]
    heldout = [item for folder in PARTS["held-out"] for item in load_corpus(folder) if item.language in TOPIC_LANGUAGES]
    before = {"dev": rules_alone.analyze_many([item.article() for item in dev]),
              "held-out": rules_alone.analyze_many([item.article() for item in heldout])}
    after_heldout = with_model.analyze_many([item.article() for item in heldout])
    # Dev, cross-validated: each fold's articles judged by a model trained on the other folds, chosen
    # (smoothing, threshold) by the same procedure on those folds only.
    examples = dev_examples(rules_alone)
    assert [example.name for example in examples] == [item.name for item in dev]
    after_dev = list(before["dev"])
    for fold in range(FOLDS):
        chosen = build([example for at, example in enumerate(examples) if fold_of(at) != fold]).model
        for at, example in enumerate(examples):
            if fold_of(at) == fold:
                opinion = chosen.opinion(example.features)
                topics = with_model_opinion(list(after_dev[at].topics), opinion, chosen.threshold, rules)
                after_dev[at] = replace(after_dev[at], topics=tuple(topics))
    shipped = default_model()
    print(f"topic model: {len(shipped.counts)} words, {len(subjects())} subjects, threshold {shipped.threshold:.10g}\n")
    print("| part | articles | before: ≥ 1 correct | after | before: precision | after | before: traps | after "
          "| articles without a rule topic (the model asked) | subjects added by the model (right) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows: list[tuple[str, list, list, list]] = [("dev (cross-validated)", dev, list(before["dev"]), after_dev)]
    rows.append(("held-out", heldout, list(before["held-out"]), after_heldout))
    for batch in range(1, max(_batch(item.name) for item in heldout) + 1):
        chosen_items = [at for at, item in enumerate(heldout) if _batch(item.name) == batch]
        rows.append((f"held-out batch {batch}", [heldout[at] for at in chosen_items],
                     [before["held-out"][at] for at in chosen_items], [after_heldout[at] for at in chosen_items]))
    for language in TOPIC_LANGUAGES:
        chosen_items = [at for at, item in enumerate(heldout) if item.language == language]
        rows.append((f"held-out {language}", [heldout[at] for at in chosen_items],
                     [before["held-out"][at] for at in chosen_items], [after_heldout[at] for at in chosen_items]))
    for language in TOPIC_LANGUAGES:
        chosen_items = [at for at, item in enumerate(dev) if item.language == language]
        rows.append((f"dev {language} (cross-validated)", [dev[at] for at in chosen_items],
                     [before["dev"][at] for at in chosen_items], [after_dev[at] for at in chosen_items]))
    misses = []
    for name, items, old, new in rows:
        a, b = score_topics(items, old), score_topics(items, new)
        added = [(item, topic) for item, analysis in zip(items, new) for topic in analysis.topics if given_by_model(topic)]
        right = sum(topic.name in item.iptc for item, topic in added)
        print(f"| {name} | {a.articles} | {a.top_level_rate:.3f} ({a.top_level_hits}) | {b.top_level_rate:.3f} "
              f"({b.top_level_hits}) | {a.precision:.3f} ({a.correct}/{a.assigned}) | {b.precision:.3f} "
              f"({b.correct}/{b.assigned}) | {a.trap_rate:.3f} ({a.traps_avoided}/{a.traps}) | {b.trap_rate:.3f} "
              f"({b.traps_avoided}/{b.traps}) | {sum(not analysis.topics for analysis in old)} | {len(added)} ({right}) |")
        if name == "dev (cross-validated)":  # held-out additions are not listed: not to be tuned on
            misses += [f"{name}: {item.name}: model added {topic.name!r} ({topic.score}), expected {sorted(item.iptc)}"
                       for item, topic in added]
    if show_misses:
        print()
        print("\n".join(misses))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--misses", action="store_true", help="list every miss")
    parser.add_argument("--compare", action="store_true", help="rules alone, then rules + the topic model")
    args = parser.parse_args()
    if args.compare:
        compare(args.misses)
        return
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
