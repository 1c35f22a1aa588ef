"""Lingua's low- and high-accuracy modes on Vigie's corpus: agreement, accuracy, speed and memory.

    .venv/bin/python bench/language_modes.py

Each mode runs in a fresh process (so RSS is its own) over the evaluation corpus (titles and texts),
then over the first sentence of each article alone (short texts, where the modes differ most).
ingest.language uses the low-accuracy mode; this is the measurement behind that choice.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(mode: str) -> dict[str, object]:
    import psutil
    from lingua import LanguageDetectorBuilder

    from ingest.language import lingua_language
    from tests.ingest.quality_corpus import load_corpus
    from conf.settings import DEFAULT_LANGUAGES

    process = psutil.Process()
    before = process.memory_info().rss
    builder = LanguageDetectorBuilder.from_languages(*(lingua_language(code) for code in DEFAULT_LANGUAGES))
    detector = (builder.with_low_accuracy_mode() if mode == "low" else builder).build()
    corpus = load_corpus()
    articles = [f"{item.title}\n{item.text}"[:1000] for item in corpus]
    sentences = [re.split(r"(?<=[.!?])\s", item.text.strip(), maxsplit=1)[0] for item in corpus]

    def codes(texts: list[str]) -> list[str]:
        found = [detector.detect_language_of(text) for text in texts]
        return [language.iso_code_639_1.name.lower() if language else "und" for language in found]

    codes(articles[:1])  # lingua loads its models on first use: not part of the timing
    started = time.perf_counter()
    on_articles = codes(articles)
    seconds = time.perf_counter() - started
    on_sentences = codes(sentences)
    expected = [item.language for item in corpus]
    return {
        "mode": mode,
        "articles": len(corpus),
        "article_accuracy": sum(a == b for a, b in zip(on_articles, expected)) / len(corpus),
        "sentence_accuracy": sum(a == b for a, b in zip(on_sentences, expected)) / len(corpus),
        "ms_per_article": round(1000 * seconds / len(corpus), 2),
        "rss_mb": round((process.memory_info().rss - before) / 2**20),
        "answers": on_articles + on_sentences,
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2])))
        return
    rows = []
    for mode in ("low", "high"):
        run = subprocess.run([sys.executable, __file__, "--one", mode], capture_output=True, text=True, check=True)
        rows.append(json.loads(run.stdout))
    agreement = sum(a == b for a, b in zip(rows[0]["answers"], rows[1]["answers"])) / len(rows[0]["answers"])
    print("| lingua mode | accuracy, articles (first 1000 chars) | accuracy, first sentence only "
          "| ms per article | RSS of the models |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['mode']} | {row['article_accuracy']:.3f} | {row['sentence_accuracy']:.3f} "
              f"| {row['ms_per_article']} | {row['rss_mb']} MB |")
    print(f"\n{rows[0]['articles']} articles; the two modes agree on {agreement:.1%} of the answers.")


if __name__ == "__main__":
    main()
