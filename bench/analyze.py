"""Throughput of the analysis, per stage and in total, against the bare spaCy NER pipeline.

    .venv/bin/python bench/analyze.py [--repeat 8] [--rounds 3] [--json]

Texts: the French and English articles of the evaluation corpus (tests/ingest/corpus) and the
sample wire story, repeated ``--repeat`` times, given as plain-text articles. Single process.
Each figure is the best of ``--rounds`` runs, in words per second, words counted in the clean title
and text (the same count for every row, so rows compare).

- clean, language, entities (NER through nlp.pipe, then tidying and merging), topics (lemmas from
  the lookup tables, then the rules): each stage alone, on the output of the one before;
- whole analysis: ``Analyzer.analyze_many`` from raw articles to ``Analysis``, what the worker runs;
- bare NER: the same models loaded the same way (``ingest.ner.load_ner_pipeline``: ``ner`` only),
  ``nlp.pipe`` over the same clean texts: the floor no analysis can beat;
- full pipeline: ``spacy.load`` with every component, for scale: what excluding them saves.

RSS is the process's resident memory once the French and English pipelines are loaded and
everything has run (lingua's models and the lemma tables included).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import spacy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conf.settings import load_settings  # noqa: E402
from ingest.analyze import Analyzer, article_from_file  # noqa: E402
from ingest.clean import clean_line, clean_text  # noqa: E402
from ingest.entities import entities_of  # noqa: E402
from ingest.entity_kb import default_kb  # noqa: E402
from ingest.language import LanguageIdentifier  # noqa: E402
from ingest.lemmas import Lemmatizer  # noqa: E402
from ingest.models import Article  # noqa: E402
from ingest.topic_rules import load_rules  # noqa: E402
from ingest.topics import TopicClassifier  # noqa: E402
from tests.ingest.quality_corpus import load_corpus  # noqa: E402

SAMPLE = ROOT.parent / "shared" / "samples" / "erdogan-poutine-idleb.fr.txt"
BATCH = 32


def articles(repeat: int) -> list[Article]:
    base = [item.article() for item in load_corpus() if item.language in ("fr", "en")]
    if SAMPLE.exists():
        base.append(article_from_file(SAMPLE.read_bytes(), SAMPLE.name))
    return base * repeat


def best(rounds: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=8, help="copies of the corpus (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per figure, the best is kept (default 3)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    args = parser.parse_args()

    settings = load_settings()
    models = {language: model for language, model in settings.models.items() if language in ("fr", "en")}
    process = psutil.Process()
    rss_start = process.memory_info().rss

    analyzer = Analyzer(models, settings.languages, settings.topics_file, settings.max_text_chars)
    batch = articles(args.repeat)
    analyzer.analyze_many(batch[:40])  # load models, tables and rules before any clock starts

    # The stages, one after the other, each timed alone.
    identifier = LanguageIdentifier(settings.languages)
    lemmatizer = Lemmatizer()
    classifier = TopicClassifier(load_rules(settings.topics_file), lemmatizer)
    pipelines = {language: analyzer.pipeline(language) for language in models}
    cleaned: list[tuple[str, str]] = []

    def clean() -> None:
        cleaned[:] = [(clean_line(article.title), clean_text(article.body)) for article in batch]

    clean_time = best(args.rounds, clean)
    texts = [f"{title}\n\n{text}" for title, text in cleaned]
    words = sum(len(text.split()) for text in texts)
    languages: list[str] = []
    language_time = best(args.rounds, lambda: languages.__setitem__(
        slice(None), [identifier.detect(text).code for text in texts]))
    by_language = {language: [text for text, code in zip(texts, languages) if code == language] for language in models}
    title_lengths = {language: [len(title) for (title, _), code in zip(cleaned, languages) if code == language]
                     for language in models}
    docs: dict[str, list[spacy.tokens.Doc]] = {}

    def entities() -> None:
        for language, nlp in pipelines.items():
            assert nlp is not None
            docs[language] = list(nlp.pipe(by_language[language], batch_size=BATCH))
            for doc, title_length in zip(docs[language], title_lengths[language]):
                entities_of(doc, title_length + 2, default_kb())

    entities_time = best(args.rounds, entities)

    def topics() -> None:
        for language, parsed in docs.items():
            for doc in parsed:
                classifier.topics(lemmatizer.words([token.text for token in doc], language), 0, language)

    topics_time = best(args.rounds, topics)
    # The rules alone, on words already lemmatised (the lemmas also feed the searchable lemma field).
    lemmatised = [(lemmatizer.words([token.text for token in doc], language), language)
                  for language, parsed in docs.items() for doc in parsed]
    rules_time = best(args.rounds, lambda: [classifier.topics(article_words, 0, language)
                                            for article_words, language in lemmatised])

    # The whole analysis and the bare NER baseline, alternated so drift hits both alike.
    total_times, bare_times = [], []
    for _ in range(args.rounds):
        total_times.append(best(1, lambda: analyzer.analyze_many(batch)))
        bare_times.append(best(1, lambda: [list(nlp.pipe(by_language[language], batch_size=BATCH))
                                            for language, nlp in pipelines.items() if nlp is not None]))
    total_time, bare_time = min(total_times), min(bare_times)
    rss_loaded = process.memory_info().rss

    full = {language: spacy.load(model) for language, model in models.items()}
    full_time = best(args.rounds, lambda: [list(full[language].pipe(by_language[language], batch_size=BATCH))
                                           for language in full])

    rows = {
        "clean": clean_time, "language": language_time, "entities (NER + merging)": entities_time,
        "topics (lemmas + rules)": topics_time, "topic rules alone": rules_time, "whole analysis (Analyzer.analyze_many)": total_time,
        "bare NER pipeline (ner only, nlp.pipe)": bare_time, "full spaCy pipeline (every component)": full_time,
    }
    result = {
        "articles": len(batch), "words": words, "models": models,
        "words_per_second": {name: round(words / seconds) for name, seconds in rows.items()},
        "ratio_whole_to_bare_ner": round(bare_time / total_time, 3),
        # Issue 17: topics must stay under 5% of the whole analysis time, measured in the same run.
        "topics_share_of_whole": round(topics_time / total_time, 4),
        "topic_rules_share_of_whole": round(rules_time / total_time, 4),
        "rss_mb_before_models": round(rss_start / 2**20),
        "rss_mb_fr_en_loaded": round(rss_loaded / 2**20),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{len(batch)} articles, {words} words; models {models}\n")
    print("| stage | words/s |")
    print("|---|---|")
    for name, value in result["words_per_second"].items():  # type: ignore[union-attr]
        print(f"| {name} | {value:,} |")
    print(f"\nwhole analysis / bare NER: {result['ratio_whole_to_bare_ner']:.2f}")
    print(f"topics (lemmas + rules) / whole analysis: {result['topics_share_of_whole']:.2%}; "
          f"topic rules alone / whole analysis: {result['topic_rules_share_of_whole']:.2%} "
          f"({len(classifier.rules.topics)} topics)")
    print(f"RSS: {result['rss_mb_before_models']} MB before loading models, "
          f"{result['rss_mb_fr_en_loaded']} MB with fr and en loaded, after the run")


if __name__ == "__main__":
    main()
