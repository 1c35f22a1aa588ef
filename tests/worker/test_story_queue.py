"""The story features crossing the queue from the indexing task to the story consumer
(worker.story_queue): unchanged, with the guess the indexing task made."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from conf.settings import Settings
from index.article_document import ArticleDocument
from ingest.stories import features_of
from state.pending import PendingArticles
from tests.worker.story_articles import quake
from worker import story_queue, story_tasks
from worker.runtime import Runtime
from worker.story_guess import StoryGuess
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
    documents = {"q-en": replace(ArticleDocument.from_source({"article_id": "q-en"}), cluster_id="q-en"),
                 "q-copy": replace(ArticleDocument.from_source({"article_id": "q-copy"}), cluster_id="q-en")}
    assert queue_stories(rt, [original, copy], documents, {"q-en": "s-guessed"}, guess) == 2
    [payload] = sent
    assert features_from_dict(payload[0]) == guessed
    assert features_from_dict(payload[1]) == features_of(copy, "q-en")
    assert story_queue.stored_of(payload) == {"q-en": "s-guessed"}
    assert story_queue.searched_of(payload) == {"q-en": (1_700_000_000.5, ["s-guessed", "s-other"])}
    # Recorded before it was sent: the articles wait on the story message now (state.pending).
    waiting = pending.queued_before(time.time() + 1)
    assert {(article.article_id, article.task_id) for article in waiting} == {("q-en", task_ids[0]),
                                                                             ("q-copy", task_ids[0])}
    assert pending.done_by("another-task", ["q-en", "q-copy"]) == []  # a retry's message would carry them
    assert pending.done_by(task_ids[0], ["q-en", "q-copy"]) == ["q-en", "q-copy"] and pending.count() == 0
