"""Story assignment, right after indexing: each article written joins a story (ingest.stories).

The race: two workers indexing the first two articles of an event at the same moment would each find
no story and each start one. Assignment is therefore serialised across every worker by one Redis lock
(``LOCK_KEY``; redis-py's lock: SET NX with an expiry, released only by its holder's token). Inside it,
a batch reads the candidate stories, decides article by article (a story started earlier in the same
batch is a candidate for the next article), writes stories and memberships, refreshes both indexes so
the next holder sees them, and only then releases. The lock expires after ``LOCK_TIMEOUT`` seconds
should its holder die. Assignment is cheap next to analysis (a few Elasticsearch round trips per
article), so one assigner at a time costs the pipeline little (bench/e2e.py measures it).

Idempotent: membership is read first (index.stories: one membership document per article id), so a
redelivered article keeps its story and counts once; a story's id derives from its founding article.
Deterministic: the same articles in the same order give the same stories.

Document frequencies for IDF are counted in Redis (``DF_KEY``: term or name -> articles, and
``DOCUMENTS_KEY``), updated under the same lock after the stories are written.

Nothing here may fail the indexing: an Elasticsearch outage or a lock not obtained in
``LOCK_WAIT`` seconds defers the batch to ``assign_stories_task`` with backoff; any other error is
logged with the article ids.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import redis
from redis.exceptions import LockError

from index.alert_match import AlertMatch
from index.article_document import ArticleDocument
from index.errors import IndexUnavailable
from index.stories import Membership, StoryDraft, StoryStore
from index.story_alerts import Match, story_matches
from ingest.models import AnalyzedArticle
from ingest.stories import Assignment, Frequencies, Merge, StoryFeatures, decide, features_of, params_from
from conf.logs import log_event
from worker.app import app
from worker.queues import INDEX_QUEUE
from worker.retries import Letter, after_outage, current_runtime, retry_later
from worker.runtime import Runtime

log = logging.getLogger("vigie.worker")

LOCK_KEY = "vigie:stories:lock"
LOCK_TIMEOUT = 120.0
LOCK_WAIT = 30.0
DF_KEY = "vigie:stories:df"
DOCUMENTS_KEY = "vigie:stories:documents"


class StoryLockBusy(Exception):
    """Another process held the story lock for longer than LOCK_WAIT."""


class RedisFrequencies(Frequencies):
    """Document frequencies read from Redis on demand, counted locally during one batch."""

    def __init__(self, client: redis.Redis) -> None:
        super().__init__(int(client.get(DOCUMENTS_KEY) or 0))
        self.client = client
        self.loaded: set[str] = set()
        self.added: dict[str, int] = {}
        self.added_documents = 0

    def load(self, keys: Sequence[str]) -> None:
        missing = [key for key in dict.fromkeys(keys) if key not in self.loaded]
        if not missing:
            return
        for key, value in zip(missing, self.client.hmget(DF_KEY, missing)):
            if value is not None:
                self.counts[key] = int(value)
        self.loaded.update(missing)

    def add(self, features: StoryFeatures) -> None:
        keys = [*features.terms, *(f"name:{name}" for name in features.names)]
        self.load(keys)
        super().add(features)
        self.added_documents += 1
        for key in keys:
            self.added[key] = self.added.get(key, 0) + 1

    def save(self) -> None:
        if not self.added_documents:
            return
        pipe = self.client.pipeline(transaction=True)
        for key, count in self.added.items():
            pipe.hincrby(DF_KEY, key, count)
        pipe.incrby(DOCUMENTS_KEY, self.added_documents)
        pipe.execute()


def story_store(rt: Runtime) -> StoryStore:
    """This process's story store, its indexes made ready once (kept on the runtime)."""
    store = rt.__dict__.get("_story_store")
    if store is None:
        store = StoryStore(rt.es, rt.settings.index_prefix)
        store.ensure_ready()
        rt.__dict__["_story_store"] = store
    return store


def _keys_of(draft: StoryDraft) -> list[str]:
    return [*draft.centroid.terms, *(f"name:{name}" for name in draft.centroid.names)]


def assign(rt: Runtime, analysed: Sequence[AnalyzedArticle], clusters: Mapping[str, str]) -> list[Assignment]:
    """Put each article of ``analysed`` (already indexed) into its story, under the story lock."""
    settings = rt.settings
    params = params_from(settings.story_window_hours, settings.story_threshold, settings.story_merge_threshold)
    store = story_store(rt)
    features = [features_of(item, clusters.get(item.article.article_id, "")) for item in analysed]
    lock = rt.redis.lock(LOCK_KEY, timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_WAIT)
    if not lock.acquire():
        raise StoryLockBusy(f"the story lock stayed busy for {LOCK_WAIT} s")
    try:
        assignments, already = _assign_locked(rt, store, params, features)
    finally:
        try:
            lock.release()
        except LockError:
            log_event(log, "stories.lock_expired", logging.WARNING, articles=len(features),
                      first_article=features[0].article_id if features else "-")
    if already:
        store.mark_articles(already)  # a redelivered article's document was rewritten without its story
    return assignments


def _assign_locked(rt: Runtime, store: StoryStore, params: Any,
                   features: Sequence[StoryFeatures]) -> tuple[list[Assignment], dict[str, str]]:
    existing = store.memberships([item.article_id for item in features])
    # Candidates of the whole batch at once (one multi-search, one read of the stories found); a
    # story changed earlier in the batch is taken from ``drafts`` instead.
    candidate_ids = store.candidate_ids(features, params.window_hours)
    fetched = store.drafts(sorted({story for ids in candidate_ids for story in ids}))
    frequencies = RedisFrequencies(rt.redis)
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
            original = batch_members.get(item.cluster_id) or store.memberships([item.cluster_id]).get(item.cluster_id)
            if original:
                original = living(original)
                duplicate = drafts.get(original) or store.drafts([original]).get(original)
        candidates = {} if duplicate is not None else {
            story: fetched[story] for story in candidate_ids[position] if story in fetched}
        horizon = item.time - timedelta(hours=params.window_hours)
        for story_id, draft in drafts.items():
            if draft.centroid.last_seen >= horizon:
                candidates[story_id] = draft  # this batch's version is the newer one
        for story_id in list(candidates):
            if story_id in gone:
                del candidates[story_id]
        for draft in candidates.values():
            frequencies.load(_keys_of(draft))
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
    store.save(list(drafts.values()), final, merges, now)
    frequencies.save()
    return [_living(a, living) for a in assignments], already


def _living(assignment: Assignment, living: Any) -> Assignment:
    story = living(assignment.story_id)
    if story == assignment.story_id:
        return assignment
    return Assignment(assignment.article_id, story, assignment.created, assignment.score, assignment.reason,
                      assignment.merges)


def assign_stories(rt: Runtime, analysed: Sequence[AnalyzedArticle], documents: MutableMapping[str, ArticleDocument],
                   attempt: int = 0) -> list[Assignment]:
    """Assign the stories of articles just indexed. Never raises (indexing is done); returns the
    assignments, empty when stories are off or the work was deferred. Each assigned article's document
    in ``documents`` is replaced by its copy holding the story: what per-story alerts read next."""
    clusters = {article_id: document.cluster_id or "" for article_id, document in documents.items()}
    assignments = _assign_clusters(rt, analysed, clusters, attempt)
    for assignment in assignments:
        document = documents.get(assignment.article_id)
        if document is not None:
            documents[assignment.article_id] = replace(document, story_id=assignment.story_id,
                                                       story_key=assignment.story_id)
    return assignments


def _assign_clusters(rt: Runtime, analysed: Sequence[AnalyzedArticle], clusters: Mapping[str, str],
                     attempt: int) -> list[Assignment]:
    if not rt.settings.stories or not analysed:
        return []
    try:
        return assign(rt, analysed, clusters)
    except (IndexUnavailable, StoryLockBusy, redis.RedisError) as error:
        defer_stories(rt, analysed, clusters, attempt, str(error))
    except Exception as error:  # noqa: BLE001 - indexing is done; stories must not undo it
        log.exception("stories.assignment_failed", extra={
            "articles": ",".join(item.article.article_id for item in analysed), "error_": str(error)})
    return []


def story_alert_matches(rt: Runtime, matches: Sequence[AlertMatch]) -> list[Match]:
    """Alert matches with per-story rules' matches made story notifications (index.story_alerts)."""
    if not any(match.rule.per_story for match in matches):
        return list(matches)
    return story_matches(matches, story_store(rt), rt.notifications)


def defer_stories(rt: Runtime, analysed: Sequence[AnalyzedArticle], clusters: Mapping[str, str], attempt: int,
                  reason: str) -> None:
    """Assignment could not run now (Elasticsearch or the lock busy): try again later under the one
    outage policy (worker.retries), or keep the articles in the dead-letter list once it is spent."""
    ids = [item.article.article_id for item in analysed]
    payload = [item.to_dict() for item in analysed]
    after_outage(rt, attempt, letter=Letter(assign_stories_task.name, payload, ids), error=reason,
                 kind="stories-unavailable",
                 again=lambda delay: retry_later(assign_stories_task, [payload, dict(clusters), attempt + 1], delay,
                                                 INDEX_QUEUE),
                 event="stories.deferred", count=len(ids), first_article=ids[0])


@app.task(name="vigie.assign_stories", acks_late=True)
def assign_stories_task(payload: list[dict[str, Any]], clusters: dict[str, str] | None = None, attempt: int = 0) -> int:
    """Assign stories to articles whose assignment had to wait (Elasticsearch or the lock busy), or
    replayed from the dead-letter list (``vigie dlq retry``: no clusters, attempts from zero)."""
    rt = current_runtime()
    analysed = [AnalyzedArticle.from_dict(item) for item in payload]
    found = {item.article.article_id: (clusters or {}).get(item.article.article_id, "") for item in analysed}
    return len(_assign_clusters(rt, analysed, found, attempt))
