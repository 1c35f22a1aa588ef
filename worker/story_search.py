"""Where an article's candidate stories come from, and how their index in Redis is kept.

With ``VIGIE_STORY_CANDIDATE_INDEX`` on (the default), candidates come from the candidate index in
Redis (state.story_candidates): one script a batch, where the search of the stories index cost
Elasticsearch several milliseconds of CPU an article (docs/performance.md). Elasticsearch is searched
instead (index.stories.StoryStore.candidate_ids) when the index is not ready, and for an article whose
window reaches before what the index keeps (a story stays there until it was last seen ``SWEEP_WINDOWS``
windows before the latest story it holds, or before now if that is earlier: state.story_candidates).

The holder of the story lock keeps the index (worker.story_assignment): it records each batch's stories
right after writing them to Elasticsearch (``record_written``), and brings the index up to date from
Elasticsearch (``catch_up``) when it takes the lock over from another assigner, when the index's mark
(``upto``) is not the one it wrote last (Redis restarted from an older snapshot, or lost its data),
and when the index was never built. What a holder killed between its write and its record left out
is caught up by the next holder, which reads every story written since the mark (less
``CATCH_UP_SLACK`` for clocks that differ between hosts).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

from conf.logs import log_event
from index.stories import CANDIDATES, StoryDraft, StoryKeys, StoryStore
from ingest.stories import StoryFeatures
from state.story_candidates import CandidateQuery, IndexedStory, StoryCandidateIndex
from worker.runtime import Runtime

log = logging.getLogger("vigie.worker")

#: A story stays in the candidate index until it was last seen this many windows before the latest one.
SWEEP_WINDOWS = 2.0
#: A catch-up reads the stories written from this many seconds before the index's mark.
CATCH_UP_SLACK = 60.0
#: Stories recorded per script during a catch-up.
CATCH_UP_CHUNK = 500


def candidate_index(rt: Runtime) -> StoryCandidateIndex | None:
    """This process's candidate index (None with VIGIE_STORY_CANDIDATE_INDEX off), kept on the runtime."""
    if not rt.settings.story_candidate_index:
        return None
    index = rt.__dict__.get("_story_candidate_index")
    if index is None:
        index = rt.__dict__["_story_candidate_index"] = StoryCandidateIndex(rt.redis, rt.settings.index_prefix)
    return index


def candidate_ids(rt: Runtime, store: StoryStore, articles: Sequence[StoryFeatures], window_hours: float,
                  limit: int = CANDIDATES) -> list[list[str]]:
    """For each article, the ids of the stories within its window sharing the most names, words or
    figures with it, best first: from the candidate index when it can answer, else from Elasticsearch."""
    index = candidate_index(rt)
    if index is None or not articles:
        return store.candidate_ids(articles, window_hours, limit=limit)
    window = window_hours * 3600.0
    queries = []
    for item in articles:
        keys = StoryStore.query_keys(item)
        at = item.time.timestamp()
        queries.append(CandidateQuery(keys["names"], keys["terms"], keys["numbers"], at - window, at + window))
    answered = index.candidates(queries, limit)
    if answered is None:  # not ready: the assigner builds it
        return store.candidate_ids(articles, window_hours, limit=limit)
    older = [position for position, ids in enumerate(answered) if ids is None]  # windows before what it holds
    searched = iter(store.candidate_ids([articles[position] for position in older], window_hours, limit=limit)
                    if older else [])
    return [ids if ids is not None else next(searched) for ids in answered]


def _indexed(story_id: str, first_seen: datetime, last_seen: datetime, keys: dict[str, list[str]] | StoryKeys
             ) -> IndexedStory:
    if isinstance(keys, StoryKeys):
        names, terms, numbers = keys.names, keys.terms, keys.numbers
    else:
        names, terms, numbers = keys["names"], keys["terms"], keys["numbers"]
    return IndexedStory(story_id, first_seen.timestamp(), last_seen.timestamp(), tuple(names), tuple(terms),
                        tuple(numbers))


def record_written(rt: Runtime, drafts: Iterable[StoryDraft], gone: Sequence[str], written_at: datetime) -> float | None:
    """Record in the candidate index the stories a batch wrote (their search keys as written) and take
    out those merged away; the index's mark becomes ``written_at``. Returns the mark (None: no index)."""
    index = candidate_index(rt)
    if index is None:
        return None
    stories = [_indexed(draft.centroid.story_id, draft.centroid.first_seen, draft.centroid.last_seen,
                        draft.written_keys or draft.search_keys()) for draft in drafts]
    upto = written_at.timestamp()
    index.record(stories, list(gone), upto=upto, span=_span(rt), now=time.time())
    return upto


def _span(rt: Runtime) -> float:
    return SWEEP_WINDOWS * rt.settings.story_window_hours * 3600.0


def catch_up(rt: Runtime, store: StoryStore, since: float | None, *, refreshed: bool = False) -> float | None:
    """Bring the candidate index up to date from Elasticsearch: every story written since ``since``
    (less ``CATCH_UP_SLACK``; all of them when None, which builds the index), and those merged away
    since. Refreshes the stories first unless ``refreshed``. Returns the index's new mark (None: no
    index)."""
    index = candidate_index(rt)
    if index is None:
        return None
    started = time.time()
    if not refreshed:
        store.refresh()
    if since is not None:
        floor = index.swept()  # stories last seen before it are not kept
        seen_from = datetime.fromtimestamp(floor, timezone.utc) if floor is not None else None
    else:  # built: the stories the index would keep, as a record sweeps them
        latest = store.latest_seen()
        seen_from = (datetime.fromtimestamp(min(latest.timestamp(), started) - _span(rt), timezone.utc)
                     if latest is not None else None)
    chunk: list[IndexedStory] = []
    merged: list[str] = []
    read = 0
    since_at = datetime.fromtimestamp(since - CATCH_UP_SLACK, timezone.utc) if since is not None else None
    for keys in store.keys_since(since_at, seen_from):
        read += 1
        if keys.merged_into:
            merged.append(keys.story_id)
            continue
        chunk.append(_indexed(keys.story_id, keys.first_seen, keys.last_seen, keys))
        if len(chunk) >= CATCH_UP_CHUNK:
            index.record(chunk, [], upto=None, span=_span(rt), now=started)
            chunk = []
    index.record(chunk, merged, upto=started, span=_span(rt), now=started)
    log_event(log, "stories.candidate_index_caught_up", since=since if since is not None else "-", stories=read,
              merged=len(merged), seconds=round(time.time() - started, 3))
    return started
