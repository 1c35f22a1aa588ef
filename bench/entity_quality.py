"""Entity identity on the labelled multilingual set, per language, dev and held-out apart.

    .venv/bin/python bench/entity_quality.py [--misses]

Prints the Markdown table of docs/quality.md ("Entity identity"), computed as
tests/ingest/test_entity_identity.py computes it, with the shipped configuration; then, on the
batches of cities named alike (``tests/ingest/entity_set/cities-*.yaml``, dev and held out), how many
gold mentions with a known id get that id, cities apart; last, over every set, the persons the
knowledge base lacks in the languages without a model (found after their title, ingest.title_persons).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import quality_arguments, shipped_analyses  # noqa: E402
from tests.ingest.entity_identity_set import (CITY_SETS, MODEL_LANGUAGES, SET_FILE, known_ids, load_set,  # noqa: E402
                                              observe, score, unknown_persons)


def main() -> None:
    args = quality_arguments(__doc__, "list every mention missed or mislabelled")
    items = load_set()
    analyses = shipped_analyses(items)
    print("| split | language | articles | mentions | found | same-id precision | same-id recall "
          "| label agreement | known places LOCATION | articles with an entity |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    misses: list[str] = []
    for split in ("dev", "heldout"):
        part = [(item, analysis) for item, analysis in zip(items, analyses) if item.split == split]
        pool = observe([item for item, _ in part], [analysis for _, analysis in part])
        rows = [("all", part)] + [(language, [(i, a) for i, a in part if i.language == language])
                                  for language in ("fr", "en", "de", "es", "it", "ru")]
        for language, pairs in rows:
            scores = score([i for i, _ in pairs], [a for _, a in pairs], None if language == "all" else pool)
            print(f"| {split} | {language} | {scores.articles} | {scores.mentions} | {scores.found:.3f} "
                  f"| {scores.pair_precision:.3f} | {scores.pair_recall:.3f} | {scores.label_agreement:.3f} "
                  f"| {scores.known_places:.3f} | {scores.coverage:.3f} |")
            if language == "all":
                misses.extend(scores.misses)
    print("\n| cities named alike | language | articles | known ids right | cities right |")
    print("|---|---|---|---|---|")
    for path in CITY_SETS:
        batch = load_set(path)
        batch_analyses = shipped_analyses(batch)
        for language in ("all", "fr", "en", "de", "es", "it", "ru"):
            part = [(item, analysis) for item, analysis in zip(batch, batch_analyses)
                    if language == "all" or item.language == language]
            found = known_ids([item for item, _ in part], [analysis for _, analysis in part])
            print(f"| {path.stem} ({batch[0].split}) | {language} | {len(part)} "
                  f"| {found.known_right}/{found.known} = {found.known_right / found.known:.3f} "
                  f"| {found.cities_right}/{found.cities} = {found.cities_right / found.cities:.3f} |")
            if language == "all":
                misses.extend(found.misses)
    print("\n| persons the knowledge base lacks, languages without a model | articles | gold persons found "
          "| persons found that the gold names |")
    print("|---|---|---|---|")
    everything = [item for path in (SET_FILE, *CITY_SETS) for item in load_set(path)]
    every_analysis = shipped_analyses(everything)
    for split in ("dev", "heldout"):
        part = [(item, analysis) for item, analysis in zip(everything, every_analysis) if item.split == split]
        persons = unknown_persons([item for item, _ in part], [analysis for _, analysis in part])
        articles = sum(item.language not in MODEL_LANGUAGES for item, _ in part)
        print(f"| {split} | {articles} | {persons.found}/{persons.gold} = {persons.recall:.3f} "
              f"| {persons.predicted - persons.wrong}/{persons.predicted} = {persons.precision:.3f} |")
        misses.extend(persons.misses)
    if args.misses:
        print("\n" + "\n".join(misses))


if __name__ == "__main__":
    main()
