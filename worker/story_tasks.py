"""Story assignment: each indexed article joins a story (ingest.stories), on its own queue.

Where it runs: the indexing task computes each written article's story features (pure, in parallel
with the other analysis processes) and queues them on ``vigie.stories`` (``queue_stories``). One
process consumes that queue: the story consumer `vigie worker` starts beside its pool (a Celery worker
with the solo pool, no models). Analysis and indexing never wait for assignment; a story is assigned
a moment after its article is searchable (the queue's wait plus one batch, well under a second when
the consumer keeps up; bench/e2e.py measures the throughput).

The article document carries its story (for hits and collapse). Writing it afterwards re-indexes the
whole document, so the indexing task writes each article with the story it is expected to end in
(``ArticleStore.index_batch(with_stories=True)``, ``index.stories.expected_stories``: a redelivery
keeps its story, a wire copy joins its original's, any other article the story ``guess_stories``
finds for it: the one it would join among the stories searchable now, else the one it founds). It
queues the story written (``STORED_KEY``) and the candidates the guess searched (``SEARCHED_KEY``)
with the features; the consumer takes those candidates instead of searching again while they are
fresh (``FRESH_SEARCH``), decides under the lock as before, and marks an article only when its story
turns out another (bench/stories_cpu.py measures what each step costs).

The race: two assigners working at once on the first two articles of an event would each find no
story and each start one. Assignment still runs under one Redis lock (``LOCK_KEY``, redis-py's lock:
SET NX with an expiry, released only by its holder's token; a short lease renewed while its holder
works, so a holder killed mid-batch frees it within ``LOCK_LEASE`` seconds), which costs one uncontended round trip
with a single consumer, and keeps the guarantee when several consumers run (compose's ``--scale
worker=N`` starts one per worker). A story written is readable by id at once but searchable only
after the next index refresh (every second). So the assigner that holds the lock remembers the
stories it wrote in the last ``RECENT_SECONDS`` (their search keys, ``RecentStories``) and adds those
sharing most names, words or figures with an article (as many as the search returns, 12) to its
candidates, read by id; when the previous
holder was another assigner (``HOLDER_KEY`` names it), it refreshes the stories first, so that it
sees everything the other one wrote. No refresh round trip per batch, and no story is missed.

Idempotent: membership is read first (index.stories: one membership document per article id), so a
redelivered article keeps its story and counts once; a story's id derives from its founding article.
Deterministic: the same articles in the same order give the same stories (one consumer takes the
batches in the order they were indexed).

Document frequencies for IDF are counted in Redis (``DF_KEY``: term or name -> articles, and
``DOCUMENTS_KEY``), updated under the same lock after the stories are written. Only the lock's holder
changes them, so an assigner keeps those it has read or added between batches (``FrequencyMemory``)
for as long as it is the last holder, and reads only keys it has never seen.

Per-story alerts need the story: the indexing task leaves those rules' matches to this consumer,
which evaluates them once the articles have their stories (``alert_stories``).

Nothing here may fail the indexing: an Elasticsearch outage or a lock not obtained in ``LOCK_WAIT``
seconds retries the batch later with backoff (worker.retries), then dead-letters it; any other error
is logged with the article ids.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import redis
from redis.exceptions import LockError

from index.alert_match import AlertMatch
from index.article_document import ArticleDocument
from index.errors import IndexUnavailable
from index.stories import CANDIDATES, Membership, StoryDraft, StoryStore
from index.store import BulkOutcome
from index.story_alerts import Match, story_matches
from ingest.models import AnalyzedArticle
from ingest.stories import (Assignment, Frequencies, Merge, StoryCentroid, StoryFeatures, decide, decided_story_id,
                            features_of, frequency_keys, params_from)
from conf.logs import log_event
from worker.app import app
from worker.entity_merges import merge_in_stories
from worker.lease import RenewedLock
from worker.queues import STORY_QUEUE
from worker.retries import Letter, after_outage, current_runtime, retry_later
from worker.runtime import Runtime

log = logging.getLogger("vigie.worker")

LOCK_KEY = "vigie:stories:lock"
#: The story lock's lease, renewed every third of it while its holder works (worker.lease): a holder
#: killed with its process frees it within this time.
LOCK_LEASE = 15.0
LOCK_WAIT = 30.0
#: The assigner that held the lock last (its token): another one refreshes before searching.
HOLDER_KEY = "vigie:stories:holder"
DF_KEY = "vigie:stories:df"
DOCUMENTS_KEY = "vigie:stories:documents"
#: Stories written this long ago may not be searchable yet (the stories index refreshes every second).
RECENT_SECONDS = 5.0
RECENT_MAX = 2000
#: Frequency keys an assigner keeps between batches before it starts again from Redis (about 185 bytes
#: each in the process, key included: some 18 MB at most).
FREQUENCY_MEMORY_KEYS = 100_000
#: In a queued article's features: the story its document was written with (index.store), if any.
STORED_KEY = "stored_story"
#: In a queued article's features: [when, [story ids]], the candidates the indexing task's guess
#: searched (``guess_stories``), if it searched.
SEARCHED_KEY = "searched"
#: The consumer takes a guess's candidates instead of searching while they are at most this old (s):
#: stories written since the search are then either searchable then or among its recent stories
#: (``RECENT_SECONDS``, the one-second refresh and a second of clock skew between hosts allowed for).
FRESH_SEARCH = RECENT_SECONDS - 2.0


class StoryLockBusy(Exception):
    """Another process held the story lock for longer than LOCK_WAIT."""


class FrequencyMemory:
    """The document frequencies this assigner read from Redis or added there, kept between batches.
    Only the holder of the story lock changes them, so while this assigner is the last holder
    (``HOLDER_KEY``) they are Redis's own and need no reading again: a batch reads only the keys it
    has never seen. Forgotten with the recent stories (another holder wrote, or a batch failed)."""

    def __init__(self, limit: int = FREQUENCY_MEMORY_KEYS) -> None:
        self.limit = limit
        self.documents: int | None = None
        self.counts: Counter[str] = Counter()
        self.loaded: set[str] = set()

    def forget(self) -> None:
        self.documents = None
        self.counts = Counter()
        self.loaded = set()


class RedisFrequencies(Frequencies):
    """Document frequencies read from Redis on demand (a batch's at once), counted locally during one
    batch, on top of what ``memory`` holds from earlier batches."""

    def __init__(self, client: redis.Redis, memory: FrequencyMemory | None = None) -> None:
        memory = memory if memory is not None else FrequencyMemory()
        if len(memory.loaded) > memory.limit:
            memory.forget()  # a bounded memory: read again what the next batches need
        if memory.documents is None:
            memory.documents = int(client.get(DOCUMENTS_KEY) or 0)
        super().__init__(memory.documents)
        self.client = client
        self.memory = memory
        self.counts = memory.counts  # shared: a failed batch forgets the memory (assign_features)
        self.loaded = memory.loaded
        self.added: dict[str, int] = {}
        self.added_documents = 0

    def load(self, keys: Sequence[str]) -> None:
        missing = [key for key in dict.fromkeys(keys) if key not in self.loaded]
        if not missing:
            return
        self.counted({key: int(value) for key, value in zip(missing, self.client.hmget(DF_KEY, missing))
                      if value is not None})
        self.loaded.update(missing)

    def count(self, keys: Sequence[str]) -> None:
        self.load(keys)
        super().count(keys)
        self.added_documents += 1
        for key in keys:
            self.added[key] = self.added.get(key, 0) + 1

    def save(self) -> None:
        """Add this batch's counts, atomically, in one command (a script) with one argument (JSON):
        thousands of arguments cost the consumer more CPU to encode than the rest of its Redis work."""
        if not self.added_documents:
            return
        pairs = json.dumps([item for pair in self.added.items() for item in pair], ensure_ascii=False)
        self.client.eval(_SAVE_FREQUENCIES, 2, DF_KEY, DOCUMENTS_KEY, self.added_documents, pairs)
        self.memory.documents = self.documents


#: KEYS: the frequencies hash, the documents counter; ARGV: documents added, then the key, count
#: pairs as one flat JSON array.
_SAVE_FREQUENCIES = """
local counts = cjson.decode(ARGV[2])
for i = 1, #counts, 2 do redis.call('HINCRBY', KEYS[1], counts[i], counts[i + 1]) end
redis.call('INCRBY', KEYS[2], ARGV[1])
return #counts
"""


@dataclass(frozen=True)
class _Recent:
    written: float  # time.monotonic()
    first_seen: datetime
    last_seen: datetime
    names: frozenset[str]  # what candidate search matches: the story's strongest names, words, figures
    terms: frozenset[str]
    numbers: frozenset[str]


class RecentStories:
    """The stories this assigner wrote in the last ``RECENT_SECONDS``, by their search keys: the
    candidates an index refresh may not have made searchable yet; and the document frequencies it
    knows (``FrequencyMemory``). Both hold only while this assigner is the last to hold the lock."""

    def __init__(self, seconds: float = RECENT_SECONDS) -> None:
        self.token = uuid.uuid4().hex
        self.seconds = seconds
        self.stories: dict[str, _Recent] = {}
        self.frequencies = FrequencyMemory()
        #: When this assigner last took the lock over from another (``time.time()``, just before its
        #: refresh): a guess's candidates searched earlier may miss a story the other one wrote.
        self.held_since = float("inf")

    def forget(self) -> None:
        self.stories.clear()
        self.frequencies.forget()

    def remember(self, drafts: Sequence[StoryDraft], gone: Sequence[str]) -> None:
        now = time.monotonic()
        for story in gone:
            self.stories.pop(story, None)
        for draft in drafts:
            keys = draft.search_keys()
            self.stories.pop(draft.centroid.story_id, None)  # re-inserted last: the dict stays in write order
            self.stories[draft.centroid.story_id] = _Recent(now, draft.centroid.first_seen, draft.centroid.last_seen,
                                                            frozenset(keys["names"]), frozenset(keys["terms"]),
                                                            frozenset(keys["numbers"]))
        for story in [story for story, recent in self.stories.items() if now - recent.written > self.seconds]:
            del self.stories[story]
        while len(self.stories) > RECENT_MAX:
            del self.stories[next(iter(self.stories))]

    def candidates(self, features: StoryFeatures, window_hours: float, limit: int = CANDIDATES) -> list[str]:
        """The recent stories candidate search would return for ``features`` once they are searchable:
        the same filters (a shared name, word or figure, within the window), the best ``limit`` by
        what they share (a name counting twice, as the search boosts names)."""
        if not self.stories:
            return []
        horizon = time.monotonic() - self.seconds
        keys = StoryStore.query_keys(features)
        names, terms, numbers = set(keys["names"]), set(keys["terms"]), set(keys["numbers"])
        window = timedelta(hours=window_hours)
        scored = []
        for story, recent in self.stories.items():
            if recent.written < horizon or recent.last_seen < features.time - window \
                    or recent.first_seen > features.time + window:
                continue
            score = 2 * len(recent.names & names) + len(recent.terms & terms) + len(recent.numbers & numbers)
            if score:
                scored.append((-score, story))
        return [story for _, story in sorted(scored)[:limit]]


def story_store(rt: Runtime) -> StoryStore:
    """This process's story store, its indexes made ready once (kept on the runtime)."""
    store = rt.__dict__.get("_story_store")
    if store is None:
        store = StoryStore(rt.es, rt.settings.index_prefix)
        store.ensure_ready()
        rt.__dict__["_story_store"] = store
    return store


def recent_stories(rt: Runtime) -> RecentStories:
    """This assigner's memory of the stories it wrote last (kept on the runtime)."""
    recent = rt.__dict__.get("_recent_stories")
    if recent is None:
        recent = rt.__dict__["_recent_stories"] = RecentStories()
    return recent


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
    known = store.memberships(list(dict.fromkeys([*ids, *originals])))
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
    found_ids = iter(store.candidate_ids(to_search, params.window_hours))
    candidate_ids: list[list[str]] = [
        [] if done else _with_recent(reused[item.article_id] if item.article_id in reused else next(found_ids),
                                     recent, item, params.window_hours)
        for item, done in zip(features, settled)]
    fetched = store.drafts(sorted({story for ids_ in candidate_ids for story in ids_}
                                  | {known[original] for original in originals if original in known}))
    frequencies = RedisFrequencies(rt.redis, recent.frequencies)
    # Every frequency the batch can ask for, in one read: its articles' and its candidates' keys.
    frequencies.load([*(key for item in features for key in frequency_keys(item)),
                      *(key for draft in fetched.values() for key in _keys_of(draft))])
    loaded = set(fetched)  # stories whose frequencies are all read
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
                    duplicate = store.drafts([original]).get(original)  # merged into a story not read yet
        if duplicate is None and settled[position]:
            # Its original's story could not be read after all: look for candidates as for any article.
            candidate_ids[position] = _with_recent(store.candidate_ids([item], params.window_hours)[0],
                                                   recent, item, params.window_hours)
            missing = [story for story in candidate_ids[position] if story not in fetched]
            fetched.update(store.drafts(missing))
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
    store.save(list(drafts.values()), final, merges, now, stored=stored)
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


# -- the features crossing the queue -------------------------------------------------------------


def features_to_dict(features: StoryFeatures) -> dict[str, Any]:
    """JSON for the story queue (floats survive the round trip exactly: same features, same stories)."""
    return {"article_id": features.article_id, "time": features.time.isoformat(), "language": features.language,
            "title": features.title, "terms": dict(features.terms), "names": dict(features.names),
            "numbers": sorted(features.numbers), "cluster_id": features.cluster_id, "source": features.source,
            "entities": list(features.entities), "topics": list(features.topics)}


def features_from_dict(data: Mapping[str, Any]) -> StoryFeatures:
    return StoryFeatures(
        article_id=str(data["article_id"]), time=datetime.fromisoformat(data["time"]), language=str(data["language"]),
        title=str(data.get("title") or ""), terms=dict(data.get("terms") or {}), names=dict(data.get("names") or {}),
        numbers=frozenset(data.get("numbers") or ()), cluster_id=str(data.get("cluster_id") or ""),
        source=str(data.get("source") or ""), entities=tuple(data.get("entities") or ()),
        topics=tuple(data.get("topics") or ()))


# -- in the indexing task ------------------------------------------------------------------------


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
    found = store.candidate_ids(features, params.window_hours)
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


def queue_stories(rt: Runtime, analysed: Sequence[AnalyzedArticle], documents: Mapping[str, ArticleDocument],
                  stored: Mapping[str, str] | None = None, guess: StoryGuess | None = None) -> int:
    """Queue the story assignment of articles just indexed (their features) for the story consumer;
    the number of articles queued (none when stories are off). ``stored``: the story an article was
    written with (``BulkOutcome.stories``), which the consumer then does not write again; ``guess``:
    the candidates the indexing task's guess searched (``SEARCHED_KEY``), which the consumer takes
    instead of searching again while they are fresh. A broker error propagates: the indexing task is
    then given back, and indexing again is harmless."""
    if not rt.settings.stories or not analysed:
        return 0
    stored = stored or {}
    payload = [_with_stored(features_to_dict(item), stored) for item in queued_features(analysed, documents, guess)]
    if guess is not None:
        for item in payload:
            found = guess.candidates.get(item["article_id"])
            if found is not None:
                item[SEARCHED_KEY] = [guess.searched_at, list(found)]
    assign_story_features.apply_async(args=[payload], queue=STORY_QUEUE)
    return len(payload)


def queued_features(analysed: Sequence[AnalyzedArticle], documents: Mapping[str, ArticleDocument],
                    guess: StoryGuess | None = None) -> list[StoryFeatures]:
    """The story features of articles just written, with their near-duplicate clusters; those the
    guess computed are taken from it (only the cluster differs)."""
    known = guess.features if guess is not None else {}
    result = []
    for item in analysed:
        article_id = item.article.article_id
        document = documents.get(article_id)
        cluster = (document.cluster_id if document is not None else None) or ""
        found = known.get(article_id)
        result.append(features_of(item, cluster) if found is None else replace(found, cluster_id=cluster or article_id))
    return result


def _with_stored(payload: dict[str, Any], stored: Mapping[str, str]) -> dict[str, Any]:
    story = stored.get(payload["article_id"])
    return {**payload, STORED_KEY: story} if story else payload


def _stored_of(payload: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {str(item["article_id"]): str(item[STORED_KEY]) for item in payload if item.get(STORED_KEY)}


def _searched_of(payload: Sequence[Mapping[str, Any]]) -> dict[str, tuple[float, list[str]]]:
    return {str(item["article_id"]): (float(item[SEARCHED_KEY][0]), [str(story) for story in item[SEARCHED_KEY][1]])
            for item in payload if item.get(SEARCHED_KEY)}


def assign_stories(rt: Runtime, analysed: Sequence[AnalyzedArticle], documents: MutableMapping[str, ArticleDocument],
                   attempt: int = 0, stored: Mapping[str, str] | None = None) -> list[Assignment]:
    """Assign the stories of articles just indexed, here and now (what the story consumer does with
    a queued batch). Never raises (indexing is done); returns the assignments, empty when stories are
    off or the work was deferred. Each assigned article's document in ``documents`` is replaced by its
    copy holding the story: what per-story alerts read next."""
    clusters = {article_id: document.cluster_id or "" for article_id, document in documents.items()}
    features = [features_of(item, clusters.get(item.article.article_id, "")) for item in analysed]
    assignments = _assign_or_defer(rt, features, attempt, stored)
    for assignment in assignments:
        document = documents.get(assignment.article_id)
        if document is not None:
            documents[assignment.article_id] = replace(document, story_id=assignment.story_id,
                                                       story_key=assignment.story_id)
    return assignments


def _assign_or_defer(rt: Runtime, features: Sequence[StoryFeatures], attempt: int,
                     stored: Mapping[str, str] | None = None,
                     searched: Mapping[str, tuple[float, Sequence[str]]] | None = None) -> list[Assignment]:
    if not rt.settings.stories or not features:
        return []
    try:
        return assign_features(rt, features, stored, searched)
    except (IndexUnavailable, StoryLockBusy, redis.RedisError) as error:
        defer_stories(rt, features, attempt, str(error), stored)
    except Exception as error:  # noqa: BLE001 - indexing is done; stories must not undo it
        log.exception("stories.assignment_failed", extra={
            "articles": ",".join(item.article_id for item in features), "error_": str(error)})
    return []


def story_alert_matches(rt: Runtime, matches: Sequence[AlertMatch]) -> list[Match]:
    """Alert matches with per-story rules' matches made story notifications (index.story_alerts).

    When stories are on, a per-story rule's match on an article without its story yet (the indexing
    task: the story consumer assigns it a moment later) is left to ``alert_stories``."""
    if not any(match.rule.per_story for match in matches):
        return list(matches)
    if rt.settings.stories:
        matches = [match for match in matches if not (match.rule.per_story and not match.article.story_id)]
    return story_matches(matches, story_store(rt), rt.notifications)


def alert_stories(rt: Runtime, assignments: Sequence[Assignment]) -> int:
    """The per-story alerts of articles just given their story: read the articles (by id, at once),
    match the per-story rules, notify. Never raises; the number of new notifications."""
    from worker.alert_tasks import notify  # alert_tasks imports this module (story_alert_matches)

    stories = {a.article_id: a.story_id for a in assignments}
    try:
        matcher = rt.alert_rules.matcher()
        if not stories or not any(compiled.rule.per_story for compiled in matcher.rules):
            return 0
        documents = [replace(document, story_id=stories[document.article_id], story_key=stories[document.article_id])
                     for document in _documents(rt, list(stories))]
        matches = [match for match in matcher.match(documents) if match.rule.per_story]
        return notify(rt, story_alert_matches(rt, matches))
    except Exception as error:  # noqa: BLE001 - the stories are written; a failed alert must not undo them
        log.exception("alerts.story_evaluation_failed", extra={"articles": ",".join(stories), "error_": str(error)})
        return 0


def _documents(rt: Runtime, article_ids: list[str]) -> list[ArticleDocument]:
    found = [rt.store.get(article_id) for article_id in article_ids]
    return [ArticleDocument.from_source(document) for document in found if document is not None]


def defer_stories(rt: Runtime, features: Sequence[StoryFeatures], attempt: int, reason: str,
                  stored: Mapping[str, str] | None = None) -> None:
    """Assignment could not run now (Elasticsearch or the lock busy): try again later under the one
    outage policy (worker.retries), or keep the articles in the dead-letter list once it is spent."""
    ids = [item.article_id for item in features]
    payload = [_with_stored(features_to_dict(item), stored or {}) for item in features]
    after_outage(rt, attempt, letter=Letter(assign_story_features.name, payload, ids), error=reason,
                 kind="stories-unavailable",
                 again=lambda delay: retry_later(assign_story_features, [payload, attempt + 1], delay, STORY_QUEUE),
                 event="stories.deferred", count=len(ids), first_article=ids[0])


# -- the story consumer's tasks ------------------------------------------------------------------


def assign_queued(rt: Runtime, features: Sequence[StoryFeatures], attempt: int = 0,
                  stored: Mapping[str, str] | None = None,
                  searched: Mapping[str, tuple[float, Sequence[str]]] | None = None) -> list[Assignment]:
    """What the story consumer does with a queued batch: assign (or defer), the entity merges the
    stories confirm (worker.entity_merges, evidence ``same-story``), then the per-story alerts."""
    assignments = _assign_or_defer(rt, features, attempt, stored, searched)
    merge_in_stories(rt, assignments)
    alert_stories(rt, assignments)
    return assignments


@app.task(name="vigie.assign_story_features", acks_late=True)
def assign_story_features(payload: list[dict[str, Any]], attempt: int = 0) -> int:
    """Assign the stories of indexed articles (their features, queued by the indexing task), then
    evaluate the per-story alerts on them. Also what a dead letter of stories replays."""
    return len(assign_queued(current_runtime(), [features_from_dict(item) for item in payload], attempt,
                             _stored_of(payload), _searched_of(payload)))


@app.task(name="vigie.assign_stories", acks_late=True)
def assign_stories_task(payload: list[dict[str, Any]], clusters: dict[str, str] | None = None, attempt: int = 0) -> int:
    """Analysed articles' stories (dead letters written before the features were queued instead)."""
    rt = current_runtime()
    analysed = [AnalyzedArticle.from_dict(item) for item in payload]
    features = [features_of(item, (clusters or {}).get(item.article.article_id, "")) for item in analysed]
    return len(assign_queued(rt, features, attempt))
