"""Whether the right story is still among an article's candidates when many stories live at once.

    .venv/bin/python bench/story_candidates.py [--candidates 24,12,6,4] [--distractors 2600] [--show]

The story consumer weighs only the first ``index.stories.CANDIDATES`` (6; 12 before) stories the
candidate lookup ranks for an article (shared names, figures, words). On the labelled story stream alone
(36 stories) or the bench's news stream (about 140) the story an article joins is nearly always the
first; what a smaller or larger number costs in quality shows only when the right story competes with
many others sharing its names. This bench builds that competition from real text: the labelled story
stream (tests/ingest/stories, 103 articles in fr, en, de, es) is merged, by time, with ``--distractors``
articles of the other labelled corpora (the topic corpus and the entity corpus: news on every subject,
with the same persons and places; a few tell an event of the stream again, a ceasefire in eastern Congo
or in Lebanon, and join its story), each dated at random within the 72 hours before or during one of
the stream's two parts, so that every one of them lives in the window of the stream's articles.
Everything goes through the worker's own steps, as ``bench/stories_cpu.py replay`` runs them (the
indexing task's guess, the story message, the story consumer's assignment, the candidate index kept in
Redis), in batches of 16, on fresh services for each number of candidates tried (the number is set where
the code takes it by default).

The replay runs days of articles in a minute or two. The consumer also weighs, beside the ranked
candidates, the stories it wrote in the last ``RECENT_SECONDS`` (9 s; for stories not yet searchable):
at the replay's pace that memory would hold hundreds of stories and stand in for the ranking, which
it never does at the pace of news. So it is off here (``--recent-seconds 0``): each candidate comes
from the ranking, or from the batch itself.

Printed for each number: the stream's B-cubed precision, recall and F1 by part (articles of the stream
only; a distractor's story counts as a story of its own), its same-story pairs across languages put
together, how many of the stream's articles are in a story holding distractors (and how many
distractors those stories hold; ``--show`` lists them), the living stories, and, for each of the
stream's articles that joined an existing story, where that story stood in the ranked candidates
(or "not ranked": a story of the same batch or, with ``--recent-seconds``, of the last seconds).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import bench_services, machine_load  # noqa: E402
from ingest.models import AnalyzedArticle, Article  # noqa: E402
from tests.ingest.stories_stream import PARTS, StreamArticle, load_stream, score_stream  # noqa: E402

WINDOW = timedelta(hours=72)
#: The topic corpus's held-out articles taken as distractors: those numbered before this one.
DISTRACTORS_BEFORE = 2385


def distractor_articles(count: int, stream: dict[str, list[StreamArticle]], seed: int) -> list[Article]:
    """``count`` articles of the topic and entity corpora (fr, en, de, es; the topic corpus's held-out
    articles numbered before ``DISTRACTORS_BEFORE``, so that later batches leave the pool as it is), none
    with a title of the stream, each dated at random in the window of one of the stream's parts (in turn)."""
    from bench.topic_model import held_out_number
    from tests.ingest.quality_corpus import (
        CORPUS_DIR, HELDOUT_DIR, TOPIC_LANGUAGES, TOPICS_DEV_DIR, TOPICS_HELDOUT_DIR, load_corpus,
    )

    titles = {item.title.strip().lower() for part in stream.values() for item in part}
    pool = [(item.name, item.title, item.text)
            for directory in (TOPICS_DEV_DIR, TOPICS_HELDOUT_DIR, CORPUS_DIR, HELDOUT_DIR)
            for item in load_corpus(directory)
            if item.language in TOPIC_LANGUAGES and item.title.strip().lower() not in titles
            and (directory != TOPICS_HELDOUT_DIR or (held_out_number(item.name) or DISTRACTORS_BEFORE) < DISTRACTORS_BEFORE)]
    rng = random.Random(seed)
    rng.shuffle(pool)
    if count > len(pool):
        raise SystemExit(f"--distractors {count}: the corpora hold {len(pool)} articles in fr, en, de and es")
    spans = []
    for part in PARTS:
        first, last = stream[part][0].time, stream[part][-1].time
        spans.append((first - WINDOW, (last - first + WINDOW).total_seconds()))
    made = []
    for number, item in enumerate(pool[:count]):
        start, seconds = spans[number % len(spans)]
        when = start + timedelta(seconds=rng.random() * seconds)
        outlet = f"outlet{number % 60}.example"
        name, title, text = item
        made.append(Article(article_id=f"other-{number}-{name[:40]}", title=title, body=text,
                            is_html=False, text_source="content", url=f"https://{outlet}/{number}",
                            feed_url=f"https://{outlet}/feed", published=when, fetched_at=when))
    return made


def with_candidates(limit: int) -> None:
    """Sets the number of candidates where the code takes it by default (index.stories.CANDIDATES)."""
    import index.stories
    import worker.story_memory
    import worker.story_search

    worker.story_search.candidate_ids.__defaults__ = (limit,)
    worker.story_memory.RecentStories.candidates.__defaults__ = (limit,)
    index.stories.StoryStore.candidate_ids.__defaults__ = (limit,)


def run(limit: int, items: list[AnalyzedArticle], stream: dict[str, list[StreamArticle]], batch: int,
        show: bool = False, recent_seconds: float = 0.0) -> None:
    import worker.story_assignment as assignment_module
    from index.stories import StoryStore
    from worker.runtime import Runtime
    from worker.story_guess import index_articles_with_stories
    from worker.story_memory import RecentStories
    from worker.story_tasks import assign_payload, story_payload

    with_candidates(limit)
    RecentStories.__init__.__defaults__ = (recent_seconds,)
    probes = {item.article_id for part in stream.values() for item in part}
    ranks: Counter[Any] = Counter()
    decide, with_recent = assignment_module.decide, assignment_module._with_recent
    listed: dict[str, list[str]] = {}  # article -> the candidates the index (or the search) ranked for it

    def recording_list(found, recent, item, window_hours):  # type: ignore[no-untyped-def]
        listed[item.article_id] = list(found)
        return with_recent(found, recent, item, window_hours)

    def recording(item, candidates, *args, **kwargs):  # type: ignore[no-untyped-def]
        outcome, changed = decide(item, candidates, *args, **kwargs)
        duplicate = args[2] if len(args) > 2 else kwargs.get("duplicate_of")
        if item.article_id in probes:
            joined, found = changed[0].story_id, listed.get(item.article_id, [])
            if outcome.created:
                ranks["new story"] += 1
            elif duplicate is not None:
                ranks["its original's story"] += 1
            elif joined in found:
                ranks[found.index(joined) + 1] += 1
            else:
                ranks["not ranked (a story of the batch or of the last seconds)"] += 1
        return outcome, changed

    assignment_module.decide, assignment_module._with_recent = recording, recording_list
    try:
        with bench_services(VIGIE_STORIES="true", VIGIE_STORY_CANDIDATE_INDEX="true") as services:
            rt = Runtime(services.settings)
            rt.store.ensure_ready()
            stories = StoryStore(rt.es, services.settings.index_prefix)
            stories.ensure_ready()
            started = time.perf_counter()
            for start in range(0, len(items), batch):
                part = items[start:start + batch]
                stories.refresh()
                outcome, guess = index_articles_with_stories(rt, part)
                payload = story_payload([item for item in part if item.article.article_id in outcome.documents],
                                        outcome.documents, outcome.stories, guess)
                assign_payload(rt, payload)
            seconds = time.perf_counter() - started
            stories.refresh()
            living = rt.es.count(index=stories.index,
                                 query={"bool": {"must_not": {"exists": {"field": "merged_into"}}}})["count"]
            others = [item.article.article_id for item in items if item.article.article_id not in probes]
            print(f"\ncandidates {limit}: {len(items)} articles in {seconds:.0f} s, {living} living stories; "
                  f"{machine_load()}")
            others_of: dict[str, list[str]] = {}
            titles = {item.article.article_id: item.article.title for item in items}
            for start in range(0, len(others), 1000):
                for article_id, story in stories.memberships(others[start:start + 1000]).items():
                    others_of.setdefault(story, []).append(article_id)
            taken = set(others_of)
            for name in PARTS:
                scores = score_stream(stream[name], stories.memberships([item.article_id for item in stream[name]]))
                joined_other = sum(story in taken for story in scores.predicted.values())
                intruders = sum(len(others_of.get(story, ())) for story in set(scores.predicted.values()))
                print(f"  {name}: B-cubed {scores.overall.precision:.3f} / {scores.overall.recall:.3f} / "
                      f"{scores.overall.f1:.3f}; across languages {scores.cross_language_together} of "
                      f"{scores.cross_language_pairs}; {scores.stories} stories; {joined_other} of "
                      f"{len(stream[name])} articles in a story with distractors ({intruders} distractors)")
                if show:
                    labels = {item.article_id: item.story for item in stream[name]}
                    for story in sorted({s for s in scores.predicted.values() if s in others_of}):
                        events = sorted({labels[a] for a, s in scores.predicted.items() if s == story})
                        print(f"    story of {', '.join(events)} also holds: "
                              + " | ".join(titles[a][:70] for a in others_of[story][:4])
                              + (f" (and {len(others_of[story]) - 4} more)" if len(others_of[story]) > 4 else ""))
            shown = sorted((key for key in ranks if isinstance(key, int)))
            print("  where the joined story stood: "
                  + ", ".join(f"{key}: {ranks[key]}" for key in shown)
                  + "".join(f", {key}: {count}" for key, count in sorted(ranks.items(), key=str) if isinstance(key, str)))
    finally:
        assignment_module.decide, assignment_module._with_recent = decide, with_recent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", default="24,12,6,4",
                        help="the numbers of candidates to try, comma-separated (the shipped number: 6)")
    parser.add_argument("--distractors", type=int, default=2600,
                        help="articles of the other corpora mixed into the stream's windows")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--recent-seconds", type=float, default=0.0,
                        help="how long the consumer keeps the stories it wrote as candidates of their own "
                             "(worker.story_memory.RECENT_SECONDS, 9 s, in the service; 0 here, see above)")
    parser.add_argument("--show", action="store_true",
                        help="list the distractors found in the stream's stories (four titles a story)")
    args = parser.parse_args()

    from tests.ingest.analyzers import shipped_analyzer

    stream = {part: load_stream(part) for part in PARTS}
    articles = [item.article() for part in PARTS for item in stream[part]]
    articles += distractor_articles(args.distractors, stream, args.seed)
    articles.sort(key=lambda article: (article.published, article.article_id))  # type: ignore[arg-type]
    began = time.perf_counter()
    analyzer = shipped_analyzer()
    items = [AnalyzedArticle(article, analysis) for article, analysis in zip(articles, analyzer.analyze_many(articles))]
    print(f"{len(items)} articles analysed in {time.perf_counter() - began:.0f} s "
          f"({sum(len(stream[part]) for part in PARTS)} of the stream, {args.distractors} distractors)")
    for limit in (int(value) for value in args.candidates.split(",")):
        run(limit, items, stream, args.batch, args.show, args.recent_seconds)


if __name__ == "__main__":
    main()
