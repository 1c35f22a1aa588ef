"""Merges confirmed by the same story, in the real pipeline: a `vigie worker` (article worker and its
story consumer) puts a second article about one event into the story of the first; its name one
letter from the first article's person takes that person's id (evidence ``same-story``), although
the two articles share only one co-occurring entity (the shared-entities rule needs two). Recorded
once, and a redelivered article makes no second record nor a second document."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import pytest
from celery import Celery
from elasticsearch import Elasticsearch

from conf.settings import Settings
from ingest.entity_linking import unknown_id
from ingest.entity_merging import MIN_SHARED
from ingest.models import FeedItem
from tests.support.pipeline import send, wait_for_count
from tests.support.processes import Background, run_vigie, task_results, vigie_json, wait_until
from vigie.api.routes.entities import MergeOut

pytestmark = pytest.mark.integration

TEXTS = {
    "f1": ("Incendie au chantier naval d'Oslo : 240 ouvriers évacués",
           "Un violent incendie a ravagé mardi le grand chantier naval d'Oslo, où 240 ouvriers ont été évacués en "
           "urgence. Le ministre norvégien de l'industrie Torstein Lindqvist s'est rendu sur place et a promis une "
           "enquête sur l'incendie du chantier naval. Les pompiers ont maîtrisé le feu après six heures de lutte."),
    "f2": ("Chantier naval d'Oslo : après l'incendie, 240 ouvriers au chômage technique",
           "Au lendemain du violent incendie du grand chantier naval d'Oslo, les 240 ouvriers évacués sont au chômage "
           "technique. Le ministre norvégien de l'industrie Torstein Lindqvista a confirmé l'enquête sur l'incendie "
           "du chantier naval. Les pompiers avaient maîtrisé le feu après six heures de lutte."),
}


def item(article_id: str, hour: int) -> FeedItem:
    title, text = TEXTS[article_id]
    return FeedItem(article_id=article_id, feed_url="http://127.0.0.1/shipyard.xml", url=None, title=title,
                    summary=text, content=None, published=datetime(2026, 11, 30, hour, tzinfo=timezone.utc),
                    guid=f"urn:test:{article_id}")


def stored(es: Elasticsearch, settings: Settings, article_id: str) -> dict:  # type: ignore[type-arg]
    return es.get(index=f"{settings.index_prefix}-articles", id=article_id)["_source"]


def person(es: Elasticsearch, settings: Settings, article_id: str) -> dict[str, str]:
    return next(e for e in stored(es, settings, article_id)["entity_list"]
                if e["label"] == "PERSON" and e["text"].startswith("Torstein"))


def test_the_story_consumer_merges_a_name_of_the_same_story_once(
        env: dict[str, str], settings: Settings, es: Elasticsearch, app: Celery,
        workers: Callable[..., Background]) -> None:
    worker = workers()
    send(app, [item("f1", 8)])
    assert wait_for_count(es, settings, 1, timeout=180) == 1, worker.output()[-3000:]
    assert wait_until(lambda: stored(es, settings, "f1").get("story_id"), timeout=60), worker.output()[-3000:]
    first = person(es, settings, "f1")
    assert first["id"] == unknown_id("PERSON", "Torstein Lindqvist")

    send(app, [item("f2", 9)])
    assert wait_for_count(es, settings, 2, timeout=120) == 2, worker.output()[-3000:]
    assert wait_until(lambda: person(es, settings, "f2")["id"] == first["id"], timeout=60), worker.output()[-4000:]
    second, story = person(es, settings, "f2"), stored(es, settings, "f1")["story_id"]
    assert second["text"] == "Torstein Lindqvista" and second["name"] == "Torstein Lindqvist"
    assert stored(es, settings, "f2")["story_id"] == story
    # The company alone would not have merged them: one co-occurring entity in common.
    ids = {article: set(stored(es, settings, article)["entity_ids"]) - {first["id"]} for article in ("f1", "f2")}
    assert len(ids["f1"] & ids["f2"]) == 1 < MIN_SHARED, ids

    (recorded,) = vigie_json(["entities", "merges"], env)
    assert (recorded["source"], recorded["action"], recorded["variant"], recorded["target_id"]) == (
        "auto", "merge", "Torstein Lindqvista", first["id"])
    evidence = recorded["evidence"]
    assert (evidence["kind"], evidence["story_id"], evidence["article_ids"], evidence["distance"]) == (
        "same-story", story, ["f2", "f1"], 1)
    assert MergeOut.model_validate(recorded).evidence.story_id == story  # what /api/entities/merges returns
    assert f"(same-story {story}; articles f2,f1; distance 1)" in run_vigie(["entities", "merges"], env, check=True).stdout
    output = worker.output()
    assert "entity.merged" in output and "evidence=same-story" in output and "article=f2" in output

    # The same article again (a redelivery): analysed again, the rule applies; no second record.
    send(app, [item("f2", 9)])
    assert wait_until(lambda: "story.already" in worker.output(), timeout=120), worker.output()[-4000:]
    # The consumer's third batch (merges included) is over.
    assert wait_until(lambda: len(task_results(worker, "vigie.assign_story_features")) >= 3, timeout=60), \
        worker.output()[-4000:]
    assert [rule["rule_id"] for rule in vigie_json(["entities", "merges"], env)] == [recorded["rule_id"]]
    assert vigie_json(["entities", "merges"], env)[0]["at"] == recorded["at"]
    assert wait_for_count(es, settings, 2, timeout=10) == 2
    assert person(es, settings, "f2")["id"] == first["id"]
