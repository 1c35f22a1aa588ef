"""The IPTC topic measures, dev and held-out reported separately: at least one correct top-level
subject per article, precision of the assigned topics, the look-alike traps; per language and per topic.

    .venv/bin/python bench/topic_quality.py [--misses]
    .venv/bin/python bench/topic_quality.py --compare   # rules alone, then rules + the topic model
    .venv/bin/python bench/topic_quality.py --compare --replace 1e-6   # with settings not shipped
    .venv/bin/python bench/topic_quality.py --repeats [--misses]      # repeated stories per held-out batch

With --compare: each part before (the rules alone) and after (the rules and the topic model of
ingest.topic_model, with the shipped model's settings). The shipped model is trained on dev and on the held-out
batches before ``TEST_FROM`` (bench/topic_model.py), so no article is judged by a model trained on it: a dev
article is judged by a model trained on the other dev folds and those batches; an article of those batches by a
model trained on dev and the batches before its own, as the model met new text; later ones by the shipped model.
Without --compare, the tables are the shipped analyser's.

Dev: tests/ingest/corpus and tests/ingest/topics-corpus/dev; held-out: tests/ingest/corpus-heldout and
tests/ingest/topics-corpus/heldout, also reported as its batches (``BATCH_STARTS`` says where each starts and
how it was written; with --repeats, how many of its articles repeat an earlier story).
Only the articles in the languages the rules cover (fr, en, de, es) count. Prints the Markdown of docs/quality.md's
topic section.
"""

from __future__ import annotations

import argparse
import re
import sys
from bisect import bisect_right
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.clean import fold_key  # noqa: E402
from tests.ingest.analyzers import shipped_analyzer  # noqa: E402
from tests.ingest.quality_corpus import (  # noqa: E402
    CORPUS_DIR, HELDOUT_DIR, TOPIC_LANGUAGES, TOPICS_DEV_DIR, TOPICS_HELDOUT_DIR, CorpusArticle, load_corpus,
    score_topics,
)

PARTS = {"dev": (CORPUS_DIR, TOPICS_DEV_DIR), "held-out": (HELDOUT_DIR, TOPICS_HELDOUT_DIR)}
#: Where each held-out batch starts (batch 1: the first held-out articles, h01), and how it was written.
#: Batches 2 onwards are reported on their own as well, so the estimate on unseen text stays visible.
BATCH_STARTS = (
    0,     # 1: the first held-out articles
    133,   # 2: written after the first round of tuning and before the second
    158,   # 3: written and scored before the third round of rule changes
    208,   # 4: written after the third round and scored without any rule change
    257,   # 5: written blind (without reading the rules) and scored as it is
    309,   # 6: written blind after the fourth round
    361,   # 7: written blind after the fifth round
    409,   # 8: written blind after the sixth round
    461,   # 9: written blind while the seventh round was built elsewhere
    513,   # 10: written blind while the eighth round was built elsewhere
    565,   # 11: written blind after the eighth round
    617,   # 12: written blind on 2026-12-03 while the topic model was retrained on batches 1 to 10
    669,   # 13: written blind on 2026-12-04 while the rules were made cheaper (model settings chosen on 6 to 10)
    721,   # 14: written blind while the model was retrained on batches 1 to 13 (settings chosen on 6 to 13)
    773,   # 15: written blind while the model was retrained on 1 to 14 (settings chosen on 6 to 14)
    825,   # 16: written blind while the model was retrained on 1 to 15 (settings and specific veto on 6 to 15)
    877,   # 17: written blind while 16 was scored; scored with the model retrained on 1 to 16
    929,   # 18: written blind while the model was retrained on 1 to 17
    981,   # 19: written blind while the model was retrained on 1 to 18
    1033,  # 20: written blind while the model was retrained on 1 to 19
    1085,  # 21: written blind while the model was retrained on 1 to 20
    1137,  # 22: written blind while the model was retrained on 1 to 21
    1189,  # 23: written blind while the model was retrained on 1 to 22
    1241,  # 24: written blind (given the titles of batches 16 to 23) while the model was retrained on 1 to 23
    1293,  # 25: written blind (given every earlier held-out title) while the model was retrained on 1 to 24
    1345,  # 26: written blind (given every earlier held-out title) while the model was retrained on 1 to 25
    1397,  # 27: written blind (given every earlier held-out title; four migration stories) after the migration rules of round 8
    1449,  # 28: written blind (given every earlier held-out title) after the migration rules of round 9 and the model trained on 1 to 27
    1501,  # 29: written blind (given every earlier held-out title) after the model trained on 1 to 28
    1553,  # 30: written blind (given every earlier held-out title) after the model trained on 1 to 29
    1605,  # 31: written blind (given every earlier held-out title and trap) after the model trained on 1 to 30
    1657,  # 32: written blind (given every earlier held-out title and trap) while the model was retrained on 1 to 31
    1709,  # 33: written blind (given every earlier held-out title and trap) after the model trained on 1 to 31
    1761,  # 34: written blind (given every earlier held-out title and trap) after the model trained on 1 to 33
    1813,  # 35: written blind (given every earlier held-out title and trap) after the model trained on 1 to 34
    1865,  # 36: written blind (given every earlier held-out title and trap) after the model trained on 1 to 34
    1917,  # 37: written blind (given every earlier held-out title and trap) after the model trained on 1 to 34
    1969,  # 38: written blind (given every earlier held-out title and trap) while the model was retrained on 1 to 37
    2021,  # 39: written blind (given every earlier held-out title and trap) while the model was retrained on 1 to 37
    2073,  # 40: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 39
    2125,  # 41: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 39
    2177,  # 42: written blind (reading the earlier held-out articles) after 40 and 41 were scored
    2229,  # 43: written blind (reading the earlier held-out articles) after 40 and 41 were scored
    2281,  # 44: written blind (reading the earlier held-out articles) after 40 to 43 were scored
    2333,  # 45: written blind (reading the earlier held-out articles) after 40 to 43 were scored
    2385,  # 46: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 45
    2437,  # 47: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 45
    2489,  # 48: written blind (reading the earlier held-out articles) after 46 and 47 were scored
    2541,  # 49: written blind (reading the earlier held-out articles) after 46 and 47 were scored
    2593,  # 50: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 49
    2645,  # 51: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 49
    2697,  # 52: written blind (reading the earlier held-out articles) after 50 and 51 were scored
    2749,  # 53: written blind (reading the earlier held-out articles) after 50 and 51 were scored
    2801,  # 54: written blind (reading the earlier held-out articles) after 52 and 53 were scored
    2853,  # 55: written blind (reading the earlier held-out articles) after 52 and 53 were scored
    2905,  # 56: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 55
    2957,  # 57: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 55
    3009,  # 58: written blind (reading the earlier held-out articles) after 56 and 57 were scored
    3061,  # 59: written blind (reading the earlier held-out articles) after 56 and 57 were scored
    3113,  # 60: written blind (reading the earlier held-out articles) after 58 and 59 were scored
    3165,  # 61: written blind (reading the earlier held-out articles) after 58 and 59 were scored
    3217,  # 62: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 61
    3269,  # 63: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 61
    3321,  # 64: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 63
    3373,  # 65: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 63
    3425,  # 66: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 63 with 'cese al fuego'
    3477,  # 67: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 63 with 'cese al fuego'
    3529,  # 68: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 63 with 'cese al fuego'
    3581,  # 69: written blind (reading the earlier held-out articles) after 66 to 68 were scored
    3633,  # 70: written blind (reading the earlier held-out articles) after 66 to 68 were scored
    3685,  # 71: written blind (reading the earlier held-out articles) after 66 to 68 were scored
    3737,  # 72: written blind (reading the earlier held-out articles) after 66 to 68 were scored
    3789,  # 73: written blind (reading the earlier held-out articles) after the model was retrained on 1 to 72
    3841,  # 74: written blind (reading the earlier held-out articles) after the model was retrained on 1 to 72
    3893,  # 75: written blind (reading the earlier held-out articles) after the model was retrained on 1 to 72
    3945,  # 76: written blind (reading the earlier held-out articles) on 2026-12-07, the model trained on 1 to 72
    3997,  # 77: written blind (reading the earlier held-out articles) on 2026-12-07, the model trained on 1 to 72
    4049,  # 78: written blind (reading the earlier held-out articles) on 2026-12-07, the model trained on 1 to 72
    4101,  # 79: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 78
    4153,  # 80: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 78
    4205,  # 81: written blind (reading the earlier held-out articles) while the model was retrained on 1 to 78
    4257,  # 82: written blind (reading the earlier held-out articles) after 79 to 81 were scored, the model trained on 1 to 78
    4309,  # 83: written blind (reading the earlier held-out articles) after 79 to 81 were scored, the model trained on 1 to 78
    4361,  # 84: written blind (reading the earlier held-out articles) after 79 to 81 were scored, the model trained on 1 to 78
    4413,  # 85: written blind (reading the earlier held-out articles) after 82 to 84 were scored
    4465,  # 86: written blind (reading the earlier held-out articles) after 82 to 84 were scored
    4517,  # 87: written blind (reading the earlier held-out articles) after 82 to 84 were scored
    4569,  # 88: written blind (reading the earlier held-out articles) after 85 to 87 were scored
    4621,  # 89: written blind (reading the earlier held-out articles) after 85 to 87 were scored
    4673,  # 90: written blind (reading the earlier held-out articles) after 85 to 87 were scored
    4725,  # 91: written blind (reading the earlier held-out articles) after 88 to 90 were scored
    4777,  # 92: written blind (reading the earlier held-out articles) after 88 to 90 were scored
    4829,  # 93: written blind (reading the earlier held-out articles) after 88 to 90 were scored
    4881,  # 94: written blind (reading the earlier held-out articles) after 91 to 93 were scored
    4933,  # 95: written blind (reading the earlier held-out articles) after 91 to 93 were scored
    4985,  # 96: written blind (reading the earlier held-out articles) after 91 to 93 were scored
    5037,  # 97: written blind (reading the earlier held-out articles) after 94 to 96 were scored
    5089,  # 98: written blind (reading the earlier held-out articles) after 94 to 96 were scored
    5141,  # 99: written blind (reading the earlier held-out articles) after 94 to 96 were scored
    5193,  # 100: written blind (reading the earlier held-out articles) after 97 to 99 were scored
    5245,  # 101: written blind (reading the earlier held-out articles) after 97 to 99 were scored
    5297,  # 102: written blind (reading the earlier held-out articles) after 97 to 99 were scored
    5349,  # 103: written blind (reading the earlier held-out articles) while 100 to 102 were scored
    5401,  # 104: written blind (reading the earlier held-out articles) while 100 to 102 were scored
    5453,  # 105: written blind (reading the earlier held-out articles) while 100 to 102 were scored
    5505,  # 106: written blind (reading the earlier held-out articles) after 100 to 105 were scored
    5557,  # 107: written blind (reading the earlier held-out articles) after 100 to 105 were scored
    5609,  # 108: written blind (reading the earlier held-out articles) after 100 to 105 were scored
    5661,  # 109: written blind (reading the earlier held-out articles) after 106 to 108 were scored
    5713,  # 110: written blind (reading the earlier held-out articles) after 106 to 108 were scored
    5765,  # 111: written blind (reading the earlier held-out articles) after 106 to 108 were scored
    5817,  # 112: written blind after 109 to 111 were scored; its brief no longer named migration's subjects
    5869,  # 113: written blind after 112 was scored; its brief also asked for no quote given to a real official
    5921,  # 114: written blind after 113 was scored, under 113's brief
    5973,  # 115: written blind at the same time as 114, by another writer, under the same brief
    6025,  # 116: written blind after 114 and 115 were scored, under the same brief
    6077,  # 117: written blind at the same time as 116, by another writer, under the same brief
)
#: The first blind batch written after the rules' rounds settled: the topic model's settings are chosen on
#: the batches from this one on that it was not trained on as a whole (bench/topic_model.py).
FIRST_VALIDATION_BATCH = 6


def _number(name: str) -> int | None:
    number = re.match(r"h(\d+)-", name)
    return None if number is None else int(number.group(1))


def _batch(name: str) -> int:
    """The batch a held-out article belongs to, by its number (1: the first held-out articles)."""
    number = _number(name)
    return 1 if number is None else bisect_right(BATCH_STARTS, number)


#: Each batch, and each with the batch before it (from batches 2 + 3 on), in that order.
HELDOUT_BATCHES = {
    label: chosen
    for batch in range(1, len(BATCH_STARTS) + 1)
    for label, chosen in ((f"held-out batch {batch}", lambda name, b=batch: _batch(name) == b),
                          *(((f"held-out batches {batch - 1} + {batch}",
                              lambda name, b=batch: _batch(name) in (b - 1, b)),) if batch >= 3 else ()))
}


def _part(name: str) -> list[CorpusArticle]:
    """The articles of a part (``PARTS``) in the languages the rules cover."""
    return [item for folder in PARTS[name] for item in load_corpus(folder) if item.language in TOPIC_LANGUAGES]


def compare(show_misses: bool, replace_at: float | None = None, replace_from: float = 0.99) -> None:
    """Rules alone, then rules + model, per part, batch and language; no article judged by a model
    trained on it (dev: the other folds; held-out batches before ``TEST_FROM``: the batches before; later: shipped).
    ``replace_at``: the shipped settings with this ``replace`` (and ``replace_from``) instead."""
    from dataclasses import replace

    from bench.topic_model import FOLDS, TEST_FROM, _examples, fold_of, held_out_number, subjects
    from conf.settings import load_settings
    from ingest.analyze import Analyzer
    from ingest.topic_model import default_model, given_by_model, train
    from ingest.topic_rules import load_rules

    settings = load_settings()
    rules_alone = Analyzer(settings.models, settings.languages, settings.topics_file, settings.max_text_chars,
                           topic_model=False)
    rules = load_rules(settings.topics_file)
    shipped = default_model()
    if replace_at is not None:
        shipped = replace(shipped, replace=replace_at, replace_from=replace_from)
    dev, heldout = _part("dev"), _part("held-out")
    before = {"dev": rules_alone.analyze_many([item.article() for item in dev]),
              "held-out": rules_alone.analyze_many([item.article() for item in heldout])}
    dev_examples, heldout_examples = _examples(dev, rules_alone), _examples(heldout, rules_alone)
    trained = [example for example in heldout_examples if (held_out_number(example.name) or 0) < TEST_FROM]

    def model_of(examples: list) -> object:  # the shipped smoothing, trained on ``examples`` (judged with shipped's settings)
        return train([(example.features, example.subjects) for example in examples], subjects(),
                     alpha=shipped.alpha, min_documents=shipped.min_documents, threshold=shipped.threshold,
                     trained_on="compare")

    def judged(analysis: object, model: object, example: object) -> object:
        opinion, probabilities = model.judge(example.features)  # type: ignore[attr-defined]
        topics = shipped.judged(list(example.rule_topics), opinion, probabilities, rules)  # type: ignore[attr-defined]
        return replace(analysis, topics=tuple(topics))  # type: ignore[type-var]

    after_dev = list(before["dev"])
    for fold in range(FOLDS):
        model = model_of([example for at, example in enumerate(dev_examples) if fold_of(at) != fold] + trained)
        for at, example in enumerate(dev_examples):
            if fold_of(at) == fold:
                after_dev[at] = judged(after_dev[at], model, example)
    after_heldout = list(before["held-out"])
    for batch, start in enumerate(BATCH_STARTS, start=1):
        in_batch = [at for at, item in enumerate(heldout) if _batch(item.name) == batch]
        model = shipped if start >= TEST_FROM else model_of(
            dev_examples + [example for example in heldout_examples if (held_out_number(example.name) or 0) < start])
        for at in in_batch:
            after_heldout[at] = judged(after_heldout[at], model, heldout_examples[at])
    print(f"topic model: {len(shipped.counts)} words, {len(subjects())} subjects, threshold {shipped.threshold:.10g}, "
          f"veto {shipped.veto:g}, replace {shipped.replace:g} (from {shipped.replace_from:g}), beside {shipped.beside}, "
          f"specific veto {shipped.specific_veto} (kin of the shipped model)\n")
    print("| part | articles | before: ≥ 1 correct | after | before: precision | after | before: traps | after "
          "| before: labels given | after | articles without a rule topic | subjects added by the model (right) "
          "| rule topics removed (right) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    rows: list[tuple[str, list, list, list]] = [("dev (cross-validated)", dev, list(before["dev"]), after_dev)]
    rows.append(("held-out", heldout, list(before["held-out"]), after_heldout))
    first_unseen = next((batch for batch, start in enumerate(BATCH_STARTS, start=1) if start >= TEST_FROM),
                        len(BATCH_STARTS) + 1)  # the first batch the shipped model was not trained on
    rows.append((f"held-out batches 1–{first_unseen - 1} (each judged by a model trained before it)",
                 *_select(heldout, before["held-out"], after_heldout, lambda item: _batch(item.name) < first_unseen)))
    rows.append((f"held-out batch {first_unseen} on (the shipped model, never trained on them)",
                 *_select(heldout, before["held-out"], after_heldout, lambda item: _batch(item.name) >= first_unseen)))
    for batch in range(1, max(_batch(item.name) for item in heldout) + 1):
        rows.append((f"held-out batch {batch}",
                     *_select(heldout, before["held-out"], after_heldout, lambda item, b=batch: _batch(item.name) == b)))
    for language in TOPIC_LANGUAGES:
        rows.append((f"held-out {language}",
                     *_select(heldout, before["held-out"], after_heldout, lambda item, l=language: item.language == l)))
    for language in TOPIC_LANGUAGES:
        rows.append((f"dev {language} (cross-validated)",
                     *_select(dev, before["dev"], after_dev, lambda item, l=language: item.language == l)))
    misses = []
    for name, items, old, new in rows:
        a, b = score_topics(items, old), score_topics(items, new)
        added = [(item, topic) for item, analysis in zip(items, new) for topic in analysis.topics if given_by_model(topic)]
        right = sum(topic.name in item.iptc for item, topic in added)
        removed = [(item, topic) for item, was, now in zip(items, old, new)
                   for topic in was.topics if topic.name not in {t.name for t in now.topics}]
        removed_right = sum(topic.name in item.iptc | item.topics for item, topic in removed)
        print(f"| {name} | {a.articles} | {a.top_level_rate:.3f} ({a.top_level_hits}) | {b.top_level_rate:.3f} "
              f"({b.top_level_hits}) | {a.precision:.3f} ({a.correct}/{a.assigned}) | {b.precision:.3f} "
              f"({b.correct}/{b.assigned}) | {a.trap_rate:.3f} ({a.traps_avoided}/{a.traps}) | {b.trap_rate:.3f} "
              f"({b.traps_avoided}/{b.traps}) | {_labels_given(items, old)} | {_labels_given(items, new)} "
              f"| {sum(not analysis.topics for analysis in old)} | {len(added)} ({right}) "
              f"| {len(removed)} ({removed_right}) |")
        if name == "dev (cross-validated)":  # held-out changes are not listed: not to be tuned on
            misses += [f"{name}: {item.name}: model added {topic.name!r} ({topic.score}), expected {sorted(item.iptc)}"
                       for item, topic in added]
            misses += [f"{name}: {item.name}: model removed {topic.name!r}, labels {sorted(item.iptc | item.topics)}"
                       for item, topic in removed]
    if show_misses:
        print()
        print("\n".join(misses))


def _select(items: list, old: list, new: list, keep: object) -> tuple[list, list, list]:
    chosen = [at for at, item in enumerate(items) if keep(item)]  # type: ignore[operator]
    return [items[at] for at in chosen], [old[at] for at in chosen], [new[at] for at in chosen]


def _labels_given(items: list, analyses: list) -> str:
    """The labels (top-level subjects and children) assigned: the recall of the labels."""
    labels = given = 0
    for item, analysis in zip(items, analyses):
        expected = item.iptc | item.topics
        labels += len(expected)
        given += len(expected & {topic.name for topic in analysis.topics})
    return f"{given / labels:.3f} ({given}/{labels})" if labels else "–"


#: An article repeats an earlier one when they share at least this part of their words (Jaccard, ``_long_words``).
REPEAT_SHARE = 0.24


def _long_words(item: CorpusArticle) -> frozenset[str]:
    """An article's words of five letters or more (title and text), case and accents folded."""
    return frozenset(re.findall(r"[a-z]{5,}", fold_key(f"{item.title} {item.text}")))


def repeated_stories(dev: Sequence[CorpusArticle], heldout: Sequence[CorpusArticle],
                     share: float = REPEAT_SHARE) -> dict[int, tuple[list[str], int]]:
    """Per held-out batch: (the names of its articles that repeat an earlier article of their language,
    how many articles it has). Earlier: dev and the batches before it. A blind writer repeats kinds of
    events (measles, strikes, boats) as the corpus grows; a model trained on the repeated story has it
    easy (docs/quality.md, batch 23)."""
    words = {item.name: _long_words(item) for item in [*dev, *heldout]}

    def repeats(item: CorpusArticle, earlier: Sequence[CorpusArticle]) -> bool:
        mine = words[item.name]
        return any(len(mine & words[other.name]) >= share * len(mine | words[other.name])
                   for other in earlier if other.language == item.language)

    found: dict[int, tuple[list[str], int]] = {}
    for batch in sorted({_batch(item.name) for item in heldout}):
        earlier = [*dev, *(item for item in heldout if _batch(item.name) < batch)]
        chosen = [item for item in heldout if _batch(item.name) == batch]
        found[batch] = ([item.name for item in chosen if repeats(item, earlier)], len(chosen))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", action="store_true",
                        help=f"per held-out batch, the articles sharing at least {REPEAT_SHARE} of their words with "
                             "an earlier article of their language (repeated stories; with --misses, which), and nothing else")
    parser.add_argument("--misses", action="store_true", help="list every miss")
    parser.add_argument("--compare", action="store_true", help="rules alone, then rules + the topic model")
    parser.add_argument("--replace", type=float, metavar="P",
                        help="with --compare: the model replaces the rules' subjects when it finds them all under P "
                             "(settings not shipped: measured)")
    parser.add_argument("--replace-from", type=float, default=0.99, metavar="Q",
                        help="with --replace: the model's subject replaces them from this probability (default 0.99)")
    args = parser.parse_args()
    if args.replace is not None and not args.compare:
        parser.error("--replace needs --compare")
    if args.compare:
        compare(args.misses, args.replace, args.replace_from)
        return
    if args.repeats:
        print("| held-out batch | articles repeating an earlier one |\n|---|---|")
        found = repeated_stories(_part("dev"), _part("held-out"))
        for batch, (names, articles) in found.items():
            print(f"| {batch} | {len(names)} of {articles} |")
        if args.misses:  # which ones
            print("\n" + "\n".join(f"held-out batch {batch}: {name}" for batch, (names, _) in found.items()
                                      for name in names))
        return
    analyzer = shipped_analyzer()
    misses: list[str] = []
    parts = {part: _part(part) for part in PARTS}
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
