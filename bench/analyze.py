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

The topics' share of the whole analysis (issue 17: under 5 %) is given twice: best against best, and
round by round (the topics timed again just before each round of the whole analysis; the median of
those shares), which a slow spell of a shared machine during the topics' own short rounds moves less.

RSS is the process's resident memory once the French and English pipelines are loaded and
everything has run (lingua's models and the lemma tables included).

    .venv/bin/python bench/analyze.py --wire-copies 0.3 [--stream 480] [--rounds 2]

measures instead wire copies analysed once (ingest.reuse): a stream of ``--stream`` articles of ~600
words (bench.common.articles) in which that share are copies of an earlier article of the stream (an
outlet's headline, a credit line, one sentence reworded), analysed in batches of 16 as the worker
does (the analysis, then the stored record with its near-duplicate signature: since 2026-12-01; the
analysis alone before), with the recent analyses (in memory here; Redis in the worker) and without, alternated batch
by batch (which of the two reads a batch first alternates too: ``--without-first`` for the order of
the runs before 2026-11-30 14:00 UTC, without reuse first every time); it
prints articles/s of both, their ratio, how many copies were taken over, and how many of those
analyses equal the fresh ones.

    .venv/bin/python bench/analyze.py --wire-copies 0.3 --stream 192 --copy-cost [--rounds 3]

prints instead what a copy taken over costs, as a share of a fresh analysis of the same copies
(CPU time of this process, so less sensitive to the other processes of a shared machine): the
stream's originals are analysed once with the recent analyses, then its copies alone, in batches
of 16, with them and without, ``--rounds`` times; and the share of each part of the copies' analysis
(NER of their windows, topics, entities, the signature...), timed by wrapping those functions.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
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
from ingest.lemmas import Lemmatizer, token_ids  # noqa: E402
from ingest.models import Article  # noqa: E402
from ingest.topic_model import default_model  # noqa: E402
from ingest.topic_rules import load_rules  # noqa: E402
from ingest.topics import TopicClassifier  # noqa: E402
from tests.ingest.quality_corpus import load_corpus  # noqa: E402

SAMPLE = ROOT / "vigie" / "data" / "erdogan-poutine-idleb.fr.txt"
BATCH = 32


def articles(repeat: int) -> list[Article]:
    base = [item.article() for item in load_corpus() if item.language in ("fr", "en")]
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
    parser.add_argument("--wire-copies", type=float, default=0.0,
                        help="share of wire copies in a stream: measure analysing them once instead")
    parser.add_argument("--stream", type=int, default=480, help="articles in the --wire-copies stream")
    parser.add_argument("--without-first", action="store_true",
                        help="with --wire-copies: every batch without reuse first (before 2026-11-30 14:00 UTC, the "
                             "only order); by default the order alternates batch by batch")
    parser.add_argument("--copy-cost", action="store_true",
                        help="with --wire-copies: what a copy taken over costs, by part, as a share of a fresh analysis")
    args = parser.parse_args()
    if args.wire_copies > 0 and args.copy_cost:
        copy_cost_bench(args.wire_copies, args.stream, args.rounds)
        return
    if args.wire_copies > 0:
        wire_copies_bench(args.wire_copies, args.stream, args.rounds, alternate=not args.without_first)
        return

    settings = load_settings()
    models = {language: model for language, model in settings.models.items() if language in ("fr", "en")}
    process = psutil.Process()
    rss_start = process.memory_info().rss

    analyzer = Analyzer(models, settings.languages, settings.topics_file, settings.max_text_chars)
    batch = articles(args.repeat)
    analyzer.analyze_many(batch[:40])  # load models, tables and rules before any clock starts
    # As the worker does once its models are loaded (worker.app): the collector no longer walks the
    # models' and knowledge base's objects, whose full collections otherwise land on whichever stage
    # happens to trigger them.
    gc.freeze()

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

    # As the analysis runs them: the rules and the topic model (ingest.topic_model), with the bundled rules.
    model = default_model() if settings.topics_file is None else None
    modelled = TopicClassifier(load_rules(settings.topics_file), lemmatizer, model)

    def topics() -> None:
        for language, parsed in docs.items():
            for doc in parsed:
                modelled.topics(lemmatizer.words_of_ids(token_ids(doc), doc.vocab.strings, language), 0, language)

    topics_time = best(args.rounds, topics)
    # The rules alone, on words already lemmatised (the lemmas also feed the searchable lemma field).
    lemmatised = [(lemmatizer.words_of_ids(token_ids(doc), doc.vocab.strings, language), language)
                  for language, parsed in docs.items() for doc in parsed]
    rules_time = best(args.rounds, lambda: [classifier.topics(article_words, 0, language)
                                            for article_words, language in lemmatised])
    # The topic model (ingest.topic_model), asked only when the rules give an article no topic or two
    # subjects or more: the rules with it, as the analysis runs them, and its features and opinion on
    # every article (the worst case).
    # Rules alone and rules + model alternated, round by round, so that the machine's load hits both alike.
    [modelled.topics(article_words, 0, language) for article_words, language in lemmatised]  # compile its rules
    alone_times, with_model_times = [], []
    for _ in range(args.rounds):
        alone_times.append(best(1, lambda: [classifier.topics(article_words, 0, language)
                                            for article_words, language in lemmatised]))
        with_model_times.append(best(1, lambda: [modelled.topics(article_words, 0, language)
                                                 for article_words, language in lemmatised]))
    rules_time = min(rules_time, *alone_times)
    with_model_time = min(with_model_times)
    asked = sum(model is not None and modelled._model_may_change(model, classifier.topics(article_words, 0, language))
                for article_words, language in lemmatised)
    model_time = best(args.rounds, lambda: [model.opinion(modelled.model_features(article_words, 0, language))
                                            for article_words, language in lemmatised]) if model else 0.0

    # The whole analysis and the bare NER baseline, alternated so drift hits both alike; the topics
    # again just before each round of the whole analysis, for their share round by round (the topics
    # take a tenth of a second a round, the whole analysis seconds: a slow spell of the machine can fall
    # on the topics' few rounds above and not on the whole analysis's).
    total_times, bare_times, paired_shares = [], [], []
    for _ in range(args.rounds):
        round_topics = best(1, topics)
        total_times.append(best(1, lambda: analyzer.analyze_many(batch)))
        paired_shares.append(round_topics / total_times[-1])
        bare_times.append(best(1, lambda: [list(nlp.pipe(by_language[language], batch_size=BATCH))
                                            for language, nlp in pipelines.items() if nlp is not None]))
    total_time, bare_time = min(total_times), min(bare_times)
    rss_loaded = process.memory_info().rss

    full = {language: spacy.load(model) for language, model in models.items()}
    full_time = best(args.rounds, lambda: [list(full[language].pipe(by_language[language], batch_size=BATCH))
                                           for language in full])

    rows = {
        "clean": clean_time, "language": language_time, "entities (NER + merging)": entities_time,
        "topics (lemmas + rules + model)": topics_time, "topic rules alone": rules_time,
        "topic rules + model (as analysed)": with_model_time,
        "topic model on every article (worst case)": model_time or float("inf"),
        "whole analysis (Analyzer.analyze_many)": total_time,
        "bare NER pipeline (ner only, nlp.pipe)": bare_time, "full spaCy pipeline (every component)": full_time,
    }
    result = {
        "articles": len(batch), "words": words, "models": models,
        "words_per_second": {name: round(words / seconds) for name, seconds in rows.items()},
        "ratio_whole_to_bare_ner": round(bare_time / total_time, 3),
        # Issue 17: topics must stay under 5% of the whole analysis time, measured in the same run.
        "topics_share_of_whole": round(topics_time / total_time, 4),
        # The same, each round's topics against the whole analysis right after them: the median.
        "topics_share_of_whole_paired": round(statistics.median(paired_shares), 4),
        "topic_rules_share_of_whole": round(rules_time / total_time, 4),
        "topic_rules_with_model_share_of_whole": round(with_model_time / total_time, 4),
        "topic_model_every_article_share_of_whole": round(model_time / total_time, 4),
        "articles_the_model_is_asked_about": asked,
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
    print(f"topics (lemmas + rules + model, as analysed) / whole analysis: {result['topics_share_of_whole']:.2%}; "
          f"topic rules alone / whole analysis: {result['topic_rules_share_of_whole']:.2%} "
          f"({len(classifier.rules.topics)} topics)")
    print(f"topics / whole analysis, round by round (the topics timed just before each round of the whole analysis): "
          f"{', '.join(f'{share:.2%}' for share in paired_shares)}; median {result['topics_share_of_whole_paired']:.2%}")
    print(f"topic rules + model / whole analysis: {result['topic_rules_with_model_share_of_whole']:.2%} (the model "
          f"asked about {asked} of {len(lemmatised)} articles: those the rules give no topic or two subjects or more); the model on every "
          f"article / whole analysis: {result['topic_model_every_article_share_of_whole']:.2%}")
    print(f"RSS: {result['rss_mb_before_models']} MB before loading models, "
          f"{result['rss_mb_fr_en_loaded']} MB with fr and en loaded, after the run")


def wire_stream(share: float, count: int) -> tuple[list[Article], set[str]]:
    """``count`` articles, ``share`` of them copies of an earlier one; and the ids of the copies."""
    import random
    from dataclasses import replace as copy_of

    rng = random.Random(15)
    originals = [Article(article_id=f"wire-{number}", title=title, body=body, is_html=False, text_source="content")
                 for number, (title, body) in enumerate(distinct_articles(count, rng))]
    stream: list[Article] = []
    copies: set[str] = set()
    fresh = iter(originals)
    for number in range(count):
        earlier = [article for article in stream if article.article_id not in copies]
        if earlier and rng.random() < share:
            source = rng.choice(earlier[-200:])  # a copy comes within hours of its original
            paragraphs = source.body.split("\n\n")
            where = rng.randrange(len(paragraphs))
            words = paragraphs[where].split()
            words[rng.randrange(len(words))] = "(reworded)"
            paragraphs[where] = " ".join(words)
            body = "\n\n".join(paragraphs) + f"\n\n(Outlet {number}, with agencies)"
            copy = copy_of(source, article_id=f"copy-{number}", title=f"Outlet {number}: {source.title}", body=body)
            copies.add(copy.article_id)
            stream.append(copy)
        else:
            stream.append(next(fresh))
    return stream, copies


def distinct_articles(count: int, rng: object) -> list[tuple[str, str]]:
    """``count`` (title, text) of ~24 sentences drawn at random from the corpus's French or English
    sentences, in paragraphs of four: no two are near-duplicates of each other."""
    from bench.common import corpus_texts
    from ingest.reuse import segment_spans

    pools: dict[str, list[str]] = {"fr": [], "en": []}
    for language, text in corpus_texts():
        pools[language].extend(text[start:end] for start, end in segment_spans(text) if len(text[start:end]) > 40)
    made = []
    for number in range(count):
        pool = pools["fr" if number % 3 else "en"]
        sentences = rng.sample(pool, 24)  # type: ignore[attr-defined]
        body = "\n\n".join(" ".join(sentences[i:i + 4]) for i in range(0, 24, 4))
        made.append((sentences[0][:80], body))
    return made


def wire_copies_bench(share: float, count: int, rounds: int, alternate: bool = True) -> None:
    from ingest.articles import analysed_article
    from ingest.fingerprint import signature
    from ingest.reuse import RecentAnalysesInMemory, ReusePlan

    settings = load_settings()
    models = {language: model for language, model in settings.models.items() if language in ("fr", "en")}
    analyzer = Analyzer(models, settings.languages, settings.topics_file, settings.max_text_chars)
    stream, copies = wire_stream(share, count)
    analyzer.analyze_many(stream[:16])  # load models, tables and rules before any clock starts
    gc.freeze()  # as the worker does once its models are loaded (see main)
    batches = [stream[i:i + 16] for i in range(0, len(stream), 16)]
    # Batch by batch, each batch without and with reuse: a drift of the machine's load hits both alike.
    plain_times, reuse_times = [0.0] * rounds, [0.0] * rounds
    # CPU time of this process too: on a shared machine, what other processes take of the cores
    # lengthens the wall time of both alike only on average.
    plain_cpu, reuse_cpu = [0.0] * rounds, [0.0] * rounds
    fresh: list = []
    reused: list = []
    taken_over: dict[str, str] = {}
    language_kept: set[str] = set()

    def heard(article: Article, plan: ReusePlan) -> None:
        taken_over[article.article_id] = plan.original_id
        if plan.language_kept:
            language_kept.add(article.article_id)

    for round_ in range(rounds):
        recent = RecentAnalysesInMemory()
        taken_over.clear()
        language_kept.clear()
        fresh, reused = [], []
        for number, batch in enumerate(batches):
            # Whichever half reads a batch first fills the caches (folded words, lemmas, topic
            # candidates) the other then finds: every other batch, the half with reuse goes first.
            for with_reuse in ((False, True) if number % 2 == 0 or not alternate else (True, False)):
                # What the worker's analysis step does (worker.tasks.analyse): the analysis, then the
                # record with its near-duplicate signature. Neither half finds the other's signatures.
                signature.cache_clear()
                started, cpu = time.perf_counter(), time.process_time()
                if with_reuse:
                    analyses = analyzer.analyze_many(batch, recent, settings.reuse_max_changed, on_reuse=heard)
                    reused.extend(analysed_article(article, analysis).analysis
                                  for article, analysis in zip(batch, analyses))
                    reuse_times[round_] += time.perf_counter() - started
                    reuse_cpu[round_] += time.process_time() - cpu
                else:
                    fresh.extend(analysed_article(article, analysis).analysis
                                 for article, analysis in zip(batch, analyzer.analyze_many(batch)))
                    plain_times[round_] += time.perf_counter() - started
                    plain_cpu[round_] += time.process_time() - cpu
    plain, reuse = len(stream) / min(plain_times), len(stream) / min(reuse_times)
    same = sum(1 for article, mine, theirs in zip(stream, reused, fresh)
               if article.article_id in taken_over and mine == theirs)
    wrongly = sorted(set(taken_over) - copies)  # originals taken over from another article
    result = {"articles": len(stream), "copies": len(copies), "taken_over": len(taken_over), "identical": same,
              "language_kept": len(language_kept), "bytes_per_recent_analysis": recent_bytes(recent),
              "originals_taken_over": len(wrongly),
              "plain_articles_s": round(plain, 2), "reuse_articles_s": round(reuse, 2),
              "ratio": round(reuse / plain, 3), "cpu_ratio": round(min(plain_cpu) / min(reuse_cpu), 3),
              "order": "alternating" if alternate else "without reuse first", "load": load_average()}
    print(f"{len(stream)} articles, {len(copies)} wire copies ({share:.0%}); best of {rounds} rounds; "
          f"order: {result['order']}; {result['load']}")
    print(f"without reuse: {plain:.2f} articles/s; with reuse: {reuse:.2f} articles/s = {reuse / plain:.2f} x")
    print(f"in CPU time of this process: without reuse {min(plain_cpu):.2f} s, with reuse {min(reuse_cpu):.2f} s "
          f"= {result['cpu_ratio']:.2f} x")
    print(f"articles taken over: {len(taken_over)} ({len(wrongly)} of them not copies); analyses equal to a fresh analysis: {same} of "
          f"{len(taken_over)} taken over")
    print(f"language taken over (not detected): {len(language_kept)} of {len(taken_over)}; "
          f"recent analysis kept per article: {result['bytes_per_recent_analysis']} bytes of JSON (as in Redis)")
    print(json.dumps(result))


def copy_cost_bench(share: float, count: int, rounds: int) -> None:
    """What the stream's copies cost when taken over, against a fresh analysis of the same copies."""
    from collections import defaultdict

    import ingest.analyze as analyze_module
    from ingest import fingerprint
    from ingest.reuse import RecentAnalysesInMemory

    settings = load_settings()
    models = {language: model for language, model in settings.models.items() if language in ("fr", "en")}
    analyzer = Analyzer(models, settings.languages, settings.topics_file, settings.max_text_chars)
    stream, copy_ids = wire_stream(share, count)
    originals = [article for article in stream if article.article_id not in copy_ids]
    copies = [article for article in stream if article.article_id in copy_ids]
    recent = RecentAnalysesInMemory()
    for start in range(0, len(originals), 16):
        analyzer.analyze_many(originals[start:start + 16], recent, settings.reuse_max_changed)
    gc.freeze()  # as the worker does once its models are loaded (see main)
    spent: defaultdict[str, float] = defaultdict(float)

    def timed(owner: object, name: str, part: str) -> Callable[[], None]:
        """Wrap ``owner.name`` to add its CPU time to ``part``; returns what puts it back."""
        function = getattr(owner, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[part] += time.process_time() - started

        setattr(owner, name, wrapper)
        return lambda: setattr(owner, name, function)

    def run(with_recent: bool) -> float:
        taken: set[str] = set()
        started = time.process_time()
        for start in range(0, len(copies), 16):
            batch = copies[start:start + 16]
            fingerprint.signature.cache_clear()  # the copies are analysed again and again here, not in a worker
            if with_recent:
                analyzer.analyze_many(batch, recent, settings.reuse_max_changed,
                                      on_reuse=lambda article, plan: taken.add(article.article_id))
            else:
                analyzer.analyze_many(batch)
        seconds = time.process_time() - started
        if with_recent:
            print(f"  copies taken over: {len(taken)} of {len(copies)}")
        return seconds

    run(True), run(False)  # warm the caches of both paths alike
    shares, parts = [], []
    for _ in range(rounds):
        spent.clear()
        restore = [timed(analyze_module, "signature", "signature"),
                   timed(analyze_module, "plan_reuse", "plan"),
                   timed(analyze_module.Analyzer, "_ner", "NER of the windows (and tidying)"),
                   timed(analyze_module.Analyzer, "_parsed_copy", "tokens and phrases taken over"),
                   timed(analyze_module.Analyzer, "_prepare", "cleaning"),
                   timed(analyze_module, "entities_from_mentions", "entities (repairs, linking, merging)"),
                   timed(analyzer._topics, "topics", "topics"),
                   timed(analyzer._identifier, "detect", "language detection")]
        reused = run(True)
        for undo in restore:
            undo()
        fresh = run(False)
        shares.append(reused / fresh)
        parts.append({part: seconds / fresh for part, seconds in spent.items()})
        print(f"copies taken over {reused:.3f} s, fresh {fresh:.3f} s of CPU: {reused / fresh:.3f} of a fresh analysis; "
              f"{load_average()}")
    print("\n| part | share of a fresh analysis (each round) |\n| --- | --- |")
    for part in sorted(parts[0], key=lambda name: -parts[0][name]):
        print(f"| {part} | {' / '.join(f'{round_[part]:.3f}' for round_ in parts)} |")
    print(f"| **all** | {' / '.join(f'{value:.3f}' for value in shares)} |")


def recent_bytes(recent: object) -> int:
    """Mean size of a recent analysis as state.recent_analyses stores it in Redis (JSON, UTF-8)."""
    kept = list(getattr(recent, "_analyses").values())
    sizes = [len(json.dumps(analysis.to_dict(), ensure_ascii=False).encode()) for analysis in kept]
    return round(sum(sizes) / len(sizes)) if sizes else 0


def load_average() -> str:
    import os

    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


if __name__ == "__main__":
    main()
