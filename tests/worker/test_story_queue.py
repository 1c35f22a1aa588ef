"""The story features crossing the queue from the indexing task to the story consumer
(worker.story_queue): unchanged, with the guess the indexing task made; the articles they carry wait
on the story message until assigned, dead-lettered, or moved to a retry (state.pending)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pytest

from conf.settings import Settings
from index.article_document import ArticleDocument
from index.stories import StoryStore
from ingest.stories import features_of, story_id_for
from state.deadletter import DeadLetters
from state.pending import PendingArticles
from tests.worker.story_articles import quake
from worker import story_assignment, story_queue, story_tasks
from worker.queues import STORY_QUEUE
from worker.runtime import Runtime
from worker.story_guess import StoryGuess, index_articles_with_stories
from worker.story_queue import features_from_dict, features_to_dict
from worker.story_tasks import queue_stories


def test_the_story_features_cross_the_queue_unchanged() -> None:
    features = features_of(quake("q-fr", "fr"), "q-en")
    assert features_from_dict(json.loads(json.dumps(features_to_dict(features)))) == features


def test_the_guess_crosses_the_queue_with_the_features_it_computed(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = Runtime(settings)
    original, copy = quake("q-en", "en"), quake("q-copy", "en", 0.2)
    guessed = features_of(original)
    guess = StoryGuess({"q-en": "s-guessed"}, {"q-en": ["s-guessed", "s-other"]}, 1_700_000_000.5, {"q-en": guessed})
    sent: list[list[dict[str, object]]] = []
    task_ids: list[str] = []
    monkeypatch.setattr(story_tasks.assign_story_features, "apply_async",
                        lambda args, queue, task_id: (sent.append(json.loads(json.dumps(args[0]))),
                                                      task_ids.append(task_id)))
    pending = PendingArticles(rt.redis)
    pending.add("the-indexing-task", [{"article_id": "q-en"}, {"article_id": "q-copy"}], 1_700_000_000.0)
    documents = {"q-en": replace(ArticleDocument.from_source({"article_id": "q-en"}), cluster_id="q-en",
                                 entity_list=original.analysis.entities),
                 "q-copy": replace(ArticleDocument.from_source({"article_id": "q-copy"}), cluster_id="q-en")}
    assert queue_stories(rt, [original, copy], documents, {"q-en": "s-guessed"}, guess) == 2
    [payload] = sent
    assert features_from_dict(payload[0]) == guessed
    assert features_from_dict(payload[1]) == features_of(copy, "q-en")
    assert story_queue.stored_of(payload) == {"q-en": "s-guessed"}
    assert story_queue.searched_of(payload) == {"q-en": (1_700_000_000.5, ["s-guessed", "s-other"])}
    # The entities each document was written with: what the same-story merges read, not read again.
    assert story_queue.entities_of(payload) == {"q-en": original.analysis.entities, "q-copy": ()}
    assert len(original.analysis.entities) == 3
    # Recorded before it was sent: the articles wait on the story message now (state.pending).
    waiting = pending.queued_before(time.time() + 1)
    assert {(article.article_id, article.task_id) for article in waiting} == {("q-en", task_ids[0]),
                                                                             ("q-copy", task_ids[0])}
    assert pending.done_by("another-task", ["q-en", "q-copy"]) == []  # a retry's message would carry them
    assert pending.done_by(task_ids[0], ["q-en", "q-copy"]) == ["q-en", "q-copy"] and pending.count() == 0


def test_a_story_batch_deferred_waits_on_its_retry_and_one_dead_lettered_or_assigned_waits_no_more(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = Runtime(settings)
    monkeypatch.setattr(story_tasks, "current_runtime", lambda: rt)
    pending = PendingArticles(rt.redis)
    articles = [quake("q-en", "en"), quake("q-fr", "fr", 1)]
    ids = [item.article.article_id for item in articles]
    payload = [story_queue.with_entities(features_to_dict(features_of(item)), {item.article.article_id: item.analysis.entities})
               for item in articles]
    pending.add("the-indexing-task", [{"article_id": article_id} for article_id in ids], time.time())
    pending.moved(ids, "story-1", time.time())
    # Another assigner holds the story lock for longer than the consumer waits: the batch is deferred.
    monkeypatch.setattr(story_assignment, "LOCK_WAIT", 0.2)
    rt.redis.set(story_assignment.LOCK_KEY, "another-assigner", px=60_000)
    retries: list[tuple[list[Any], str]] = []
    monkeypatch.setattr(story_tasks, "retry_later",
                        lambda task, args, delay, queue: (retries.append((args, queue)), f"retry-{len(retries)}")[1])
    story_tasks.assign_story_features.apply(args=[payload], task_id="story-1")
    assert [(args[1], queue) for args, queue in retries] == [(1, STORY_QUEUE)]
    # The retry carries what the message carried: the entities written too.
    assert story_queue.entities_of(retries[0][0][0]) == {item.article.article_id: item.analysis.entities
                                                         for item in articles}
    assert {(a.article_id, a.task_id) for a in pending.queued_before(time.time() + 1)} == {
        ("q-en", "retry-1"), ("q-fr", "retry-1")}  # waiting on the retry's message, not done
    # The retries spent: dead-lettered, and no longer waited for.
    story_tasks.assign_story_features.apply(args=[payload, settings.max_retries], task_id="retry-1")
    assert len(retries) == 1 and pending.count() == 0
    [letter] = DeadLetters(rt.redis).entries()
    assert (letter.task, letter.error_kind, letter.article_ids) == ("vigie.assign_story_features",
                                                                    "stories-unavailable", ids)
    # The lock free again, a batch is assigned, and its articles are no longer waited for.
    rt.redis.delete(story_assignment.LOCK_KEY)
    rt.store.index_batch(articles, refresh=True)
    pending.add("the-replay", [{"article_id": "q-en"}], time.time())
    story_tasks.assign_story_features.apply(args=[letter.payload, 0], task_id="the-replay")
    assert pending.count() == 0
    assert StoryStore(rt.es, settings.index_prefix).memberships(ids) == {"q-en": story_id_for("q-en"),
                                                                         "q-fr": story_id_for("q-en")}


def _gets(rt: Runtime, settings: Settings) -> int:
    """Real-time reads by id the articles index has served (an ``mget`` counts each document)."""
    stats = rt.es.indices.stats(index=f"{settings.index_prefix}-articles", metric="get")
    return int(stats["_all"]["total"]["get"]["total"])


def test_the_consumer_reads_no_article_back_when_the_message_carries_its_entities(settings: Settings) -> None:
    """The same-story merges take the entities the story message carries: the consumer makes no
    real-time read of the articles just indexed (which would make Elasticsearch refresh their shard);
    a message without them (queued before) still has them read."""
    rt = Runtime(settings)
    articles = [quake("q-en", "en"), quake("q-fr", "fr", 1)]
    # Written as the worker writes them: with the story the guess expects, so that none is marked
    # (a mark is an update, which Elasticsearch counts as a read by id too).
    outcome, guess = index_articles_with_stories(rt, articles)
    assert outcome.stories == {"q-en": story_id_for("q-en"), "q-fr": story_id_for("q-en")}
    payload = story_tasks.story_payload(articles, outcome.documents, outcome.stories, guess)
    assert story_queue.entities_of(payload) == {item.article.article_id: item.analysis.entities for item in articles}
    before = _gets(rt, settings)
    assignments = story_tasks.assign_payload(rt, payload)
    assert {a.article_id: a.story_id for a in assignments} == {"q-en": story_id_for("q-en"), "q-fr": story_id_for("q-en")}
    assert _gets(rt, settings) == before
    # Two more articles, in a message that carries no entities (queued before): read by id, both.
    more = [quake("q-de", "en", 2), quake("q-es", "fr", 3)]
    StoryStore(rt.es, settings.index_prefix).refresh()  # the story searchable: the guess finds it
    outcome, guess = index_articles_with_stories(rt, more)
    assert set(outcome.stories.values()) == {story_id_for("q-en")}
    bare = [{key: value for key, value in item.items() if key != story_queue.ENTITIES_KEY}
            for item in story_tasks.story_payload(more, outcome.documents, outcome.stories, guess)]
    before = _gets(rt, settings)
    story_tasks.assign_payload(rt, bare)
    assert _gets(rt, settings) == before + 2
