"""The story guess of the indexing task: the story each article it writes is expected to end in.

The article document carries its story (for hits and collapse). Writing it afterwards re-indexes the
whole document, so the indexing task writes each article with the story it is expected to end in
(``ArticleStore.index_batch(with_stories=True)``, ``index.stories.expected_stories``: a redelivery
keeps its story, a wire copy joins its original's, any other article the story ``guess_stories``
finds for it: the one it would join among the stories searchable now, else the one it founds). The
story consumer (worker.story_assignment) decides under the lock as before and marks an article only
when its story turns out another (bench/stories_cpu.py measures what each step costs).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from index.store import BulkOutcome
from ingest.models import AnalyzedArticle
from ingest.stories import (Frequencies, StoryCentroid, StoryFeatures, decided_story_id, features_of, frequency_keys,
                            params_from)
from worker.runtime import Runtime
from worker.story_memory import DF_KEY, DOCUMENTS_KEY, FREQUENCY_MEMORY_KEYS, story_store
from worker.story_search import candidate_ids

#: An indexing process forgets the document frequencies it read for its guesses once the articles
#: counted have grown by this share since it started reading them (they drift as articles come; a
#: wrong guess costs one mark).
GUESS_DRIFT = 0.05


@dataclass
class _GuessMemory:
    documents: int  # the articles counted when this memory started
    counts: dict[str, int]  # key -> articles, as read from Redis (absent: none)


@dataclass(frozen=True)
class StoryGuess:
    """What the indexing task guessed for a batch (``guess_stories``): the story each article would
    join, and the candidates its search found, with when it searched (``time.time()``): the story
    consumer takes these candidates instead of searching again while they are fresh (``FRESH_SEARCH``)."""

    stories: Mapping[str, str]
    candidates: Mapping[str, Sequence[str]]
    searched_at: float
    features: Mapping[str, StoryFeatures] = field(default_factory=dict)  # what it guessed from, by article


def _guess_frequencies(rt: Runtime, keys: Sequence[str]) -> Frequencies:
    """The frequencies of ``keys`` for guessing: the articles counted now (one read), each key's count
    as this process read it since the articles counted grew by less than ``GUESS_DRIFT`` (else read
    again, the missing ones in one read). Never written to Redis: only the story consumer counts."""
    documents = int(rt.redis.get(DOCUMENTS_KEY) or 0)
    memory: _GuessMemory | None = rt.__dict__.get("_guess_frequencies")
    if (memory is None or documents > memory.documents * (1 + GUESS_DRIFT) + 10
            or len(memory.counts) > FREQUENCY_MEMORY_KEYS):
        memory = rt.__dict__["_guess_frequencies"] = _GuessMemory(documents, {})
    unique = list(dict.fromkeys(keys))
    missing = [key for key in unique if key not in memory.counts]
    if missing:
        for key, value in zip(missing, rt.redis.hmget(DF_KEY, missing)):
            memory.counts[key] = int(value) if value is not None else 0
    return Frequencies(documents, {key: memory.counts[key] for key in unique if memory.counts[key]})


def guess_stories(rt: Runtime, features: Sequence[StoryFeatures]) -> StoryGuess:
    """The story each article would join among the stories searchable now, in order, as the story
    consumer decides it (``decide``; an article that joins none founds its own): what the indexing
    task writes an original with (``index.stories.expected_stories``), so that the consumer, deciding
    the same, need not re-index it to mark its story (most articles of news join a story).

    Read only, without the story lock: one candidate multi-search (which the consumer then reuses
    instead of its own), one read of the candidates, the frequencies. It can be wrong (a story written
    in the last second, not searchable yet; frequencies that drifted; batches the consumer takes in
    another order): the consumer's decision stands and such an article is marked as before."""
    searched_at = time.time()
    if not features:
        return StoryGuess({}, {}, searched_at)
    settings = rt.settings
    params = params_from(settings.story_window_hours, settings.story_threshold, settings.story_merge_threshold)
    store = story_store(rt)
    found = candidate_ids(rt, store, features, params.window_hours)
    fetched = {story: draft.centroid for story, draft in store.drafts(sorted({s for ids in found for s in ids})).items()}
    frequencies = _guess_frequencies(rt, [
        *(key for item in features for key in frequency_keys(item)),
        *(key for centroid in fetched.values() for key in frequency_keys(centroid))])
    founded: dict[str, StoryCentroid] = {}  # stories this batch's earlier articles found
    guessed: dict[str, str] = {}
    for item, ids in zip(features, found):
        frequencies.add(item)  # as the consumer counts an article before deciding it
        candidates = {story: fetched[story] for story in ids if story in fetched}
        horizon = item.time - timedelta(hours=params.window_hours)
        candidates.update({story: centroid for story, centroid in founded.items() if centroid.last_seen >= horizon})
        guessed[item.article_id] = story = decided_story_id(item, list(candidates.values()), frequencies, params)
        if story not in candidates:
            founded[story] = StoryCentroid.founded_by(story, item)
    return StoryGuess(guessed, {item.article_id: ids for item, ids in zip(features, found)}, searched_at,
                      {item.article_id: item for item in features})


def index_articles_with_stories(rt: Runtime, analysed: Sequence[AnalyzedArticle]) -> tuple[BulkOutcome, StoryGuess | None]:
    """Write ``analysed`` (``ArticleStore.index_batch``); with stories on, each with the story it is
    expected to end in, originals with the one ``guess_stories`` gives them. Also the guess, if made
    (what ``queue_stories`` hands the consumer)."""
    if not rt.settings.stories:
        return rt.store.index_batch(analysed), None
    by_id = {item.article.article_id: item for item in analysed}
    made: list[StoryGuess] = []

    def guess(originals: Sequence[str]) -> Mapping[str, str]:
        made.append(guess_stories(rt, [features_of(by_id[article_id]) for article_id in originals
                                       if article_id in by_id]))
        return made[-1].stories

    outcome = rt.store.index_batch(analysed, with_stories=True, guess=guess)
    return outcome, made[0] if made else None
