"""Story assignment under the story lock: each article (its story features; already indexed) joins
the best-matching recent story or founds one (ingest.stories.decide), and the stories, memberships and
merges are written (index.stories).

The race: two assigners working at once on the first two articles of an event would each find no
story and each start one. Assignment runs under one Redis lock (``LOCK_KEY``, redis-py's lock: SET NX
with an expiry, released only by its holder's token; a short lease renewed while its holder works, so
a holder killed mid-batch frees it within ``LOCK_LEASE`` seconds), which costs one uncontended round
trip with a single consumer, and keeps the guarantee when several consumers run (compose's ``--scale
worker=N`` starts one per worker). The holder adds the stories it wrote too recently to be searchable
to its candidates (worker.story_memory.RecentStories); when the previous holder was another assigner
(``HOLDER_KEY`` names it), it refreshes the stories first, so that it sees everything the other one
wrote. No refresh round trip per batch, and no story is missed.

Idempotent: membership is read first (index.stories: one membership document per article id), so a
redelivered article keeps its story and counts once; a story's id derives from its founding article.
Deterministic: the same articles in the same order give the same stories (one consumer takes the
batches in the order they were indexed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from redis.exceptions import LockError

from conf.logs import log_event
from index.stories import Membership, StoryDraft, StoryStore
from ingest.models import AnalyzedArticle
from ingest.stories import Assignment, Merge, StoryFeatures, decide, features_of, frequency_keys, params_from
from worker.lease import RenewedLock
from worker.runtime import Runtime
from worker.story_memory import FRESH_SEARCH, RecentStories, RedisFrequencies, recent_stories, story_store
from worker.story_search import candidate_ids as search_candidates
from worker.story_search import candidate_index, catch_up, record_written

log = logging.getLogger("vigie.worker")

LOCK_KEY = "vigie:stories:lock"
#: The story lock's lease, renewed every third of it while its holder works (worker.lease): a holder
#: killed with its process frees it within this time.
LOCK_LEASE = 15.0
LOCK_WAIT = 30.0
#: The assigner that held the lock last (its token): another one refreshes before searching.
HOLDER_KEY = "vigie:stories:holder"


class StoryLockBusy(Exception):
    """Another process held the story lock for longer than LOCK_WAIT."""



def _keys_of(draft: StoryDraft) -> list[str]:
    return frequency_keys(draft.centroid)


def assign(rt: Runtime, analysed: Sequence[AnalyzedArticle], clusters: Mapping[str, str]) -> list[Assignment]:
    """Put each article of ``analysed`` (already indexed) into its story, under the story lock."""
    return assign_features(rt, [features_of(item, clusters.get(item.article.article_id, "")) for item in analysed])


def assign_features(rt: Runtime, features: Sequence[StoryFeatures], stored: Mapping[str, str] | None = None,
                    searched: Mapping[str, tuple[float, Sequence[str]]] | None = None) -> list[Assignment]:
    """Put each article (its story features; already indexed) into its story, under the story lock.
    ``stored``: the story an article's document was written with; it is marked only when its story
    is another. ``searched``: the candidates the indexing task's guess found for an article, and when
    (``StoryGuess``), taken instead of a search while fresh and if searched since this assigner took
    the lock over from another (``RecentStories.held_since``)."""
    settings = rt.settings
    params = params_from(settings.story_window_hours, settings.story_threshold, settings.story_merge_threshold)
    store = story_store(rt)
    recent = recent_stories(rt)
    lock = RenewedLock(rt.redis, LOCK_KEY, lease=LOCK_LEASE, wait=LOCK_WAIT)
    if not lock.acquire():
        raise StoryLockBusy(f"the story lock stayed busy for {LOCK_WAIT} s")
    try:
        holder = rt.redis.get(HOLDER_KEY)
        if (holder.decode() if isinstance(holder, bytes) else holder) != recent.token:
            # Another assigner wrote last: make what it wrote searchable; our memory is out of date.
            recent.forget()
            recent.held_since = time.time()  # a guess's search before this refresh may miss what it wrote
            store.refresh()
            rt.redis.set(HOLDER_KEY, recent.token)
            index = candidate_index(rt)
            if index is not None:  # what the other one wrote and did not record (killed in between)
                recent.index_upto = catch_up(rt, store, index.upto(), refreshed=True)
        else:
            index = candidate_index(rt)
            if index is not None:
                upto = index.upto()
                if upto is None or upto != recent.index_upto:  # never built, or Redis lost what we recorded
                    recent.index_upto = catch_up(rt, store, upto)
        try:
            assignments, already = _assign_locked(rt, store, recent, params, features, stored or {}, searched or {})
        except BaseException:
            recent.forget()
            rt.redis.delete(HOLDER_KEY)  # whatever was half written: the next batch refreshes first
            raise
    finally:
        try:
            lock.release()
        except LockError:
            log_event(log, "stories.lock_expired", logging.WARNING, articles=len(features),
                      first_article=features[0].article_id if features else "-")
    already = {article_id: story for article_id, story in already.items() if (stored or {}).get(article_id) != story}
    if already:
        store.mark_articles(already)  # a redelivered article's document was rewritten without its story
    return assignments


def _assign_locked(rt: Runtime, store: StoryStore, recent: RecentStories, params: Any,
                   features: Sequence[StoryFeatures], stored: Mapping[str, str],
                   searched: Mapping[str, tuple[float, Sequence[str]]]) -> tuple[list[Assignment], dict[str, str]]:
    # One read of the memberships the batch needs: its articles' (a redelivery keeps its story) and
    # the stories of their near-duplicate originals (a wire copy joins its original's story).
    ids = [item.article_id for item in features]
    originals = [item.cluster_id for item in features if item.cluster_id and item.cluster_id != item.article_id]
    # The stories this assigner holds are living (it is the only writer while it holds the lock): only
    # the others are followed through merges.
    known = store.memberships(list(dict.fromkeys([*ids, *originals])), living=recent.drafts.keys())
    existing = {article_id: known[article_id] for article_id in ids if article_id in known}
    # Articles whose story is settled before any search: a redelivery, a copy whose original has a
    # story or comes earlier in this batch. They need no candidates (``decide`` reads none for them).
    earlier: set[str] = set()
    settled: list[bool] = []
    for item in features:
        settled.append(item.article_id in existing or item.article_id in earlier or bool(
            item.cluster_id and item.cluster_id != item.article_id
            and (item.cluster_id in known or item.cluster_id in earlier)))
        earlier.add(item.article_id)
    # Candidates of the other articles at once (one multi-search, plus the stories written too recently
    # to be searchable), and every story read by id in one read (candidates and originals' stories):
    # a story changed earlier in the batch is taken from ``drafts`` instead. The indexing task's
    # guess searched the same a moment ago: while fresh, its candidates stand for the search (a story
    # written since is searchable then or among the recent ones).
    now_s = time.time()
    reused = {article_id: list(ids) for article_id, (at, ids) in searched.items()
              if at >= recent.held_since and -1.0 <= now_s - at <= FRESH_SEARCH}
    to_search = [item for item, done in zip(features, settled) if not done and item.article_id not in reused]
    found_ids = iter(search_candidates(rt, store, to_search, params.window_hours))
    candidate_ids: list[list[str]] = [
        [] if done else _with_recent(reused[item.article_id] if item.article_id in reused else next(found_ids),
                                     recent, item, params.window_hours)
        for item, done in zip(features, settled)]
    fetched = recent.read_drafts(store, sorted({story for ids_ in candidate_ids for story in ids_}
                                               | {known[original] for original in originals if original in known}))
    frequencies = RedisFrequencies(rt.redis, recent.frequencies)
    # Every frequency the batch can ask for, in one read: its articles' and its candidates' keys (those
    # of a story an earlier batch read are read already: ``FrequencyMemory.stories``).
    loaded = frequencies.memory.stories  # stories whose frequencies are all read
    frequencies.load([*(key for item in features for key in frequency_keys(item)),
                      *(key for story, draft in fetched.items() if story not in loaded for key in _keys_of(draft))])
    loaded.update(fetched)
    drafts: dict[str, StoryDraft] = {}  # stories changed in this batch, by id
    gone: dict[str, str] = {}  # stories merged away in this batch -> where they went
    batch_members: dict[str, str] = {}
    memberships: list[Membership] = []
    merges: list[Merge] = []
    assignments: list[Assignment] = []
    already: dict[str, str] = {}
    now = datetime.now(timezone.utc)

    def living(story_id: str) -> str:
        while story_id in gone:
            story_id = gone[story_id]
        return story_id

    for position, item in enumerate(features):
        if item.article_id in existing or item.article_id in batch_members:
            story = existing.get(item.article_id) or living(batch_members[item.article_id])
            already[item.article_id] = story
            assignments.append(Assignment(item.article_id, story, False, 1.0, "already"))
            log_event(log, "story.already", article=item.article_id, story=story)
            continue
        frequencies.add(item)
        duplicate: StoryDraft | None = None
        if item.cluster_id and item.cluster_id != item.article_id:
            original = batch_members.get(item.cluster_id) or known.get(item.cluster_id)
            if original:
                original = living(original)
                duplicate = drafts.get(original) or fetched.get(original)
                if duplicate is None and original not in fetched:
                    duplicate = recent.read_drafts(store, [original]).get(original)  # merged into a story not read yet
        if duplicate is None and settled[position]:
            # Its original's story could not be read after all: look for candidates as for any article.
            candidate_ids[position] = _with_recent(search_candidates(rt, store, [item], params.window_hours)[0],
                                                   recent, item, params.window_hours)
            missing = [story for story in candidate_ids[position] if story not in fetched]
            fetched.update(recent.read_drafts(store, missing))
        candidates = {} if duplicate is not None else {
            story: fetched[story] for story in candidate_ids[position] if story in fetched}
        horizon = item.time - timedelta(hours=params.window_hours)
        for story_id, draft in drafts.items():
            if draft.centroid.last_seen >= horizon:
                candidates[story_id] = draft  # this batch's version is the newer one
        for story_id in list(candidates):
            if story_id in gone:
                del candidates[story_id]
        for story_id, draft in candidates.items():
            if story_id not in loaded:  # a story's keys, once read, only gain keys its articles brought (read)
                frequencies.load(_keys_of(draft))
                loaded.add(story_id)
        assignment, changed = decide(item, [draft.centroid for draft in candidates.values()], frequencies, params,
                                     duplicate.centroid if duplicate is not None else None)
        joined, *absorbed = changed
        base = (duplicate if duplicate is not None and duplicate.centroid.story_id == joined.story_id
                else candidates.get(joined.story_id))
        draft = base if base is not None else StoryDraft(joined)
        for lost in absorbed:
            lost_draft = candidates.get(lost.story_id)
            if lost_draft is not None:
                draft.absorb(lost_draft)
            gone[lost.story_id] = joined.story_id
            drafts.pop(lost.story_id, None)
        for merge in assignment.merges:
            draft.merges.append({"absorbed": merge.absorbed, "by_article": merge.by_article,
                                 "score": merge.score, "at": now.isoformat()})
            log_event(log, "story.merged", story=merge.into, absorbed=merge.absorbed, article=merge.by_article,
                      score=merge.score)
        draft.centroid = joined
        draft.count(item)
        drafts[joined.story_id] = draft
        merges.extend(assignment.merges)
        batch_members[item.article_id] = joined.story_id
        memberships.append(Membership(item.article_id, joined.story_id, item, assignment.reason, assignment.score))
        assignments.append(assignment)
        log_event(log, "story.assigned", article=item.article_id, story=joined.story_id, reason=assignment.reason,
                  score=assignment.score, size=joined.size)
    final = [Membership(m.article_id, living(m.story_id), m.features, m.reason, m.score) for m in memberships]
    # Each merge marked with the story that lives on: a story absorbed by one merged away later in the
    # batch points past it (that one may never have been written: founded and absorbed in this batch).
    merges = [Merge(m.absorbed, living(m.into), m.by_article, m.score) for m in merges]
    store.save(list(drafts.values()), final, merges, now, stored=stored)
    recent.index_upto = record_written(rt, drafts.values(), list(gone), now)
    recent.remember(list(drafts.values()), list(gone))
    frequencies.save()
    return [_living(a, living) for a in assignments], already


def _with_recent(found: list[str], recent: RecentStories, item: StoryFeatures, window_hours: float) -> list[str]:
    """An article's candidate stories: those the search found, then the stories written too recently
    to be searchable."""
    seen = set(found)
    return found + [story for story in recent.candidates(item, window_hours) if story not in seen]


def _living(assignment: Assignment, living: Any) -> Assignment:
    story = living(assignment.story_id)
    if story == assignment.story_id:
        return assignment
    return Assignment(assignment.article_id, story, assignment.created, assignment.score, assignment.reason,
                      assignment.merges)
