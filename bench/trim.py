"""What giving freed memory back after each batch costs the analysis (worker.memory).

    .venv/bin/python bench/trim.py [--batches 12] [--rounds 2]

One process loads the analyser as a worker's parent does (models, lemma tables, topic rules, the
entity knowledge base), then analyses ``--batches`` batches of 16 articles of ~600 words
(bench.common.articles) twice each, once followed by ``release_free_memory`` and once not, which of
the two goes first alternating batch by batch, for ``--rounds`` rounds. Prints the CPU time of each
half, their ratio, and what the trim call itself takes.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import articles, machine_load, write_result  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from conf.settings import load_settings
    from ingest.analyze import Analyzer
    from ingest.entity_kb import default_kb, use_cache
    from ingest.models import Article
    from worker.memory import release_free_memory

    print(f"trim bench, {args.batches} batches of 16, {args.rounds} rounds; {machine_load()}")
    settings = load_settings()
    use_cache(settings.cache_dir)
    default_kb()
    analyzer = Analyzer(models=settings.models, languages=settings.languages, topics_file=settings.topics_file,
                        max_text_chars=settings.max_text_chars)
    analyzer.preload()
    now = datetime.now(timezone.utc)
    stream = [Article(article_id=f"trim-{n}", title=story.title, body=story.text, is_html=False,
                      text_source="content", feed_url="http://127.0.0.1/feed.xml", url=f"https://news.example.org/{n}",
                      published=now, fetched_at=now)
              for n, (_, story) in enumerate(articles(16 * args.batches, prefix="trim"))]
    batches = [stream[at:at + 16] for at in range(0, len(stream), 16)]
    analyzer.analyze_many(batches[0])  # warm: lazily built parts, caches
    cpu = {False: 0.0, True: 0.0}
    trims: list[float] = []
    for round_ in range(args.rounds):
        for number, batch in enumerate(batches):
            for trim in ((False, True) if (number + round_) % 2 else (True, False)):
                started = time.process_time()
                analyzer.analyze_many(batch)
                if trim:
                    before = time.process_time()
                    release_free_memory()
                    trims.append(time.process_time() - before)
                cpu[trim] += time.process_time() - started
    ratio = cpu[True] / cpu[False]
    mean_ms = 1000 * sum(trims) / len(trims)
    print(f"analysis CPU without the trim {cpu[False]:.2f} s, with it {cpu[True]:.2f} s: with ÷ without {ratio:.3f}")
    print(f"the trim itself: {mean_ms:.1f} ms per batch of 16 (mean of {len(trims)}); {machine_load()}")
    print(f"written {write_result('trim', {'cpu_without_s': round(cpu[False], 3), 'cpu_with_s': round(cpu[True], 3), 'ratio': round(ratio, 4), 'trim_ms': round(mean_ms, 2), 'load': machine_load()})}")


if __name__ == "__main__":
    main()
