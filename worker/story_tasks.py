"""Story assignment on its own queue: each indexed article joins a story (ingest.stories).

Where it runs: the indexing task writes each article with the story it is expected to end in
(worker.story_guess), computes its story features (pure, in parallel with the other analysis
processes) and queues them on ``vigie.stories`` (``queue_stories``, worker.story_queue: with the story
written and the candidates the guess searched). One process consumes that queue: the story consumer
`vigie worker` starts beside its pool (a Celery worker with the solo pool, no models). Analysis and
indexing never wait for assignment; a story is assigned a moment after its article is searchable (the
queue's wait plus one batch, well under a second when the consumer keeps up; bench/e2e.py measures
the throughput). The consumer takes the guess's candidates instead of searching again while they are
fresh, decides under the story lock (worker.story_assignment), and marks an article only when its
story turns out another; then come the entity merges the stories confirm and the per-story alerts
(worker.alert_tasks.alert_stories: a per-story rule needs the story).

Nothing here may fail the indexing: an Elasticsearch outage or a lock not obtained in ``LOCK_WAIT``
seconds retries the batch later with backoff (worker.retries), then dead-letters it; any other error
is logged with the article ids.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import replace
from typing import Any

import redis
from celery import Task

from index.article_document import ArticleDocument
from index.errors import IndexUnavailable
from ingest.models import AnalyzedArticle, Entity
from ingest.stories import Assignment, StoryFeatures, features_of
from worker.alert_tasks import alert_stories
from worker.app import app
from worker.entity_merges import merge_in_stories
from worker.queues import STORY_QUEUE
from worker.retries import Letter, after_outage, current_runtime, retry_later
from worker.runtime import Runtime
from worker.story_assignment import StoryLockBusy, assign_features
from worker.story_guess import StoryGuess
from worker.story_queue import (SEARCHED_KEY, entities_of, features_from_dict, message_of, queued_features,
                                searched_of, stored_of)

log = logging.getLogger("vigie.worker")


def story_payload(analysed: Sequence[AnalyzedArticle], documents: Mapping[str, ArticleDocument],
                  stored: Mapping[str, str] | None = None, guess: StoryGuess | None = None) -> list[dict[str, Any]]:
    """The story message of articles just indexed: their features, the story each document was written
    with (``stored``: ``BulkOutcome.stories``, which the consumer then does not write again), the
    candidates the guess searched (``SEARCHED_KEY``: the consumer takes them instead of searching again
    while they are fresh) and the entities each document was written with (what the same-story merges
    read)."""
    entities = {article_id: document.entity_list for article_id, document in documents.items()}
    payload = message_of(queued_features(analysed, documents, guess), stored, entities)
    if guess is not None:
        for item in payload:
            found = guess.candidates.get(item["article_id"])
            if found is not None:
                item[SEARCHED_KEY] = [guess.searched_at, list(found)]
    return payload


def queue_stories(rt: Runtime, analysed: Sequence[AnalyzedArticle], documents: Mapping[str, ArticleDocument],
                  stored: Mapping[str, str] | None = None, guess: StoryGuess | None = None) -> int:
    """Queue the story assignment of articles just indexed (``story_payload``) for the story consumer;
    the number of articles queued (none when stories are off). The articles still pending
    (state.pending) wait on the story message from now on, recorded before it is sent: a message lost
    in the broker is then found by the scheduler's sweep, which queues the articles again. A broker
    error propagates: the indexing task is then given back, and indexing again is harmless."""
    if not rt.settings.stories or not analysed:
        return 0
    payload = story_payload(analysed, documents, stored, guess)
    task_id = str(uuid.uuid4())
    rt.pending.moved([item["article_id"] for item in payload], task_id, time.time())
    assign_story_features.apply_async(args=[payload], queue=STORY_QUEUE, task_id=task_id)
    return len(payload)


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
                     searched: Mapping[str, tuple[float, Sequence[str]]] | None = None,
                     entities: Mapping[str, Sequence[Entity]] | None = None) -> list[Assignment]:
    if not rt.settings.stories or not features:
        return []
    try:
        return assign_features(rt, features, stored, searched)
    except (IndexUnavailable, StoryLockBusy, redis.RedisError) as error:
        defer_stories(rt, features, attempt, str(error), stored, entities)
    except Exception as error:  # noqa: BLE001 - indexing is done; stories must not undo it
        log.exception("stories.assignment_failed", extra={
            "articles": ",".join(item.article_id for item in features), "error_": str(error)})
    return []



def defer_stories(rt: Runtime, features: Sequence[StoryFeatures], attempt: int, reason: str,
                  stored: Mapping[str, str] | None = None, entities: Mapping[str, Sequence[Entity]] | None = None) -> None:
    """Assignment could not run now (Elasticsearch or the lock busy): try again later under the one
    outage policy (worker.retries), or keep the articles in the dead-letter list once it is spent."""
    ids = [item.article_id for item in features]
    payload = message_of(features, stored, entities)

    def again(delay: float) -> None:
        # The articles wait on the retry's message now (state.pending).
        rt.pending.moved(ids, retry_later(assign_story_features, [payload, attempt + 1], delay, STORY_QUEUE),
                         time.time())

    after_outage(rt, attempt, letter=Letter(assign_story_features.name, payload, ids), error=reason,
                 kind="stories-unavailable", again=again, event="stories.deferred", count=len(ids),
                 first_article=ids[0])


# -- the story consumer's tasks ------------------------------------------------------------------


def assign_queued(rt: Runtime, features: Sequence[StoryFeatures], attempt: int = 0,
                  stored: Mapping[str, str] | None = None,
                  searched: Mapping[str, tuple[float, Sequence[str]]] | None = None,
                  entities: Mapping[str, Sequence[Entity]] | None = None) -> list[Assignment]:
    """What the story consumer does with a queued batch: assign (or defer), the entity merges the
    stories confirm (worker.entity_merges, evidence ``same-story``; ``entities``: those the articles
    were written with, where the message carries them), then the per-story alerts."""
    assignments = _assign_or_defer(rt, features, attempt, stored, searched, entities)
    merge_in_stories(rt, assignments, entities)
    alert_stories(rt, assignments)
    return assignments


def assign_payload(rt: Runtime, payload: Sequence[Mapping[str, Any]], attempt: int = 0) -> list[Assignment]:
    """``assign_queued`` on a story message (``story_payload``)."""
    return assign_queued(rt, [features_from_dict(item) for item in payload], attempt, stored_of(payload),
                         searched_of(payload), entities_of(payload))


@app.task(name="vigie.assign_story_features", acks_late=True, bind=True)
def assign_story_features(self: Task, payload: list[dict[str, Any]], attempt: int = 0) -> int:
    """Assign the stories of indexed articles (their features, queued by the indexing task), then
    evaluate the per-story alerts on them. Also what a dead letter of stories replays. The articles
    this message carried are no longer pending then (state.pending): put into their story,
    dead-lettered, or failed with the error logged; those deferred wait on the retry's message."""
    rt = current_runtime()
    assigned = len(assign_payload(rt, payload, attempt))
    if self.request.id:
        rt.pending.done_by(self.request.id, [str(item["article_id"]) for item in payload])
    return assigned


@app.task(name="vigie.assign_stories", acks_late=True)
def assign_stories_task(payload: list[dict[str, Any]], clusters: dict[str, str] | None = None, attempt: int = 0) -> int:
    """Analysed articles' stories (dead letters written before the features were queued instead)."""
    rt = current_runtime()
    analysed = [AnalyzedArticle.from_dict(item) for item in payload]
    features = [features_of(item, (clusters or {}).get(item.article.article_id, "")) for item in analysed]
    return len(assign_queued(rt, features, attempt))
