"""The analyser's scores on an evaluation corpus, as tests/ingest/test_quality.py computes them.

    .venv/bin/python bench/quality.py [--corpus tests/ingest/corpus] [--misses]

Prints the Markdown table of docs/quality.md (with the shipped configuration: VIGIE_MODELS and
friends apply), and with --misses every entity or topic the analyser got wrong.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ingest.analyzers import shipped_analyzer  # noqa: E402
from tests.ingest.quality_corpus import CORPUS_DIR, load_corpus, score  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR, help="folder of articles (*.yaml)")
    parser.add_argument("--misses", action="store_true", help="list every miss")
    args = parser.parse_args()
    corpus = load_corpus(args.corpus)
    analyzer = shipped_analyzer()
    analyses = analyzer.analyze_many([item.article() for item in corpus])
    scores = score(corpus, analyses)
    print(f"models: {analyzer.models}\n")
    print("| measure | score |")
    print("|---|---|")
    print(scores.table())
    print("\n| language | articles | entity recall | label agreement | entity precision |")
    print("|---|---|---|---|---|")
    for language in sorted({item.language for item in corpus if item.entities is not None}):
        pairs = [(item, analysis) for item, analysis in zip(corpus, analyses) if item.language == language]
        part = score([item for item, _ in pairs], [analysis for _, analysis in pairs])
        print(f"| {language} | {part.articles} | {part.entity_recall:.3f} | {part.label_agreement:.3f} "
              f"| {part.entity_precision:.3f} |")
    if args.misses:
        print()
        print("\n".join(scores.failures))


if __name__ == "__main__":
    main()
