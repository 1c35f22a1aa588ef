"""Story clustering scored on the labelled stream, as tests/ingest/test_story_quality.py computes it.

    .venv/bin/python bench/stories_quality.py [--misses]

Prints the Markdown tables of docs/quality.md ("Stories"): B-cubed precision, recall and F1 over all
articles and within each language, for the dev part and the held-out part, and the share of same-story
pairs in different languages put in one story. The shipped settings apply (VIGIE_STORY_*).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import quality_arguments, shipped_analyses  # noqa: E402
from ingest.models import AnalyzedArticle  # noqa: E402
from ingest.stories import params_from  # noqa: E402
from tests.ingest.stories_stream import PARTS, cluster, load_stream, misses, score_stream  # noqa: E402
from conf.settings import load_settings  # noqa: E402


def main() -> None:
    args = quality_arguments(__doc__, "list every mixed and every split story")
    settings = load_settings()
    params = params_from(settings.story_window_hours, settings.story_threshold, settings.story_merge_threshold)
    print(f"window {params.window_hours} h, threshold {params.threshold}, merge threshold {params.merge_threshold}\n")
    print("| part | language | articles | B-cubed precision | B-cubed recall | B-cubed F1 |")
    print("|---|---|---|---|---|---|")
    results = []
    for part in PARTS:
        stream = load_stream(part)
        analyses = shipped_analyses(stream)
        predicted = cluster([AnalyzedArticle(item.article(), analysis) for item, analysis in zip(stream, analyses)],
                            params)
        scores = score_stream(stream, predicted)
        results.append((part, stream, predicted, scores))
        print("\n".join(scores.table_rows(part)))
    print("\n| part | true stories | stories found | cross-language same-story pairs | put together |")
    print("|---|---|---|---|---|")
    for part, stream, _, scores in results:
        print(f"| {part} | {len({item.story for item in stream})} | {scores.stories} | "
              f"{scores.cross_language_pairs} | {scores.cross_language_together} ({scores.cross_language_rate:.1%}) |")
    if args.misses:
        for part, stream, predicted, _ in results:
            print(f"\n{part}:")
            print("\n".join(misses(stream, predicted)) or "(none)")


if __name__ == "__main__":
    main()
