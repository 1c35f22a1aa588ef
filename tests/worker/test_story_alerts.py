"""Per-story alerts through the worker's own functions (index, assign stories, alert) on real Redis and
Elasticsearch: once per story, an update per new language, articles of other stories apart, and a
rule without per_story still notified per article."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.alerts import new_rule
from index.story_alerts import story_notification_id
from ingest.models import AnalyzedArticle
from ingest.notification_records import Notification
from ingest.webhook import digest_payload
from tests.index.factories import analysed, place
from tests.worker.test_story_assignment import quake
from worker.alert_tasks import alert
from worker.runtime import Runtime
from worker.story_queue import features_from_dict, features_to_dict
from worker.story_tasks import assign_queued, assign_stories
from ingest.stories import features_of

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


def run(rt: Runtime, items: list[AnalyzedArticle]) -> None:
    """A write, its stories, then the alerts on the documents written (everything in one call)."""
    outcome = rt.store.index_batch(items, refresh=True)
    assign_stories(rt, items, outcome.documents)
    alert(rt, list(outcome.indexed), lambda: [outcome.documents[a] for a in outcome.indexed])


def notifications(rt: Runtime, es: Elasticsearch) -> list[Notification]:
    """The notifications stored, in the order they were created (none before the first one)."""
    if not es.indices.exists(index=rt.notifications.index):
        return []
    es.indices.refresh(index=rt.notifications.index)
    hits = es.search(index=rt.notifications.index, query={"match_all": {}}, size=100,
                     sort=[{"created_at": "asc"}, {"notification_id": "asc"}])["hits"]["hits"]
    return [Notification.from_dict(hit["_source"]) for hit in hits]


def test_a_per_story_alert_notifies_once_then_once_per_new_language(settings: Settings, es: Elasticsearch) -> None:
    rt = Runtime(settings)
    story_rule = rt.alert_store.add(new_rule("Noto per story", query="Wajima", per_story=True, story_new_language=True))
    article_rule = rt.alert_store.add(new_rule("Noto per article", query="Wajima"))
    run(rt, [quake("q-en", "en")])
    run(rt, [quake("q-en2", "en", hours=1)])  # same story, same language: nothing new for the story rule
    run(rt, [quake("q-fr", "fr", hours=2)])  # same story, a new language: one update
    run(rt, [quake("q-fr", "fr", hours=2)])  # delivered again: nothing more
    elsewhere = analysed("other", title="Wajima lacquer fair opens", language="en", published=T0 + timedelta(days=9),
                         text="The lacquerware fair of Wajima opened with 120 artisans from Ishikawa.",
                         lemmas="lacquerware fair wajima open artisan ishikawa", entities=(place("Wajima"),))
    run(rt, [elsewhere])  # another story, days later: its own first notification

    made = notifications(rt, es)
    per_story = [n for n in made if n.alert_id == story_rule.alert_id]
    assert [(n.article_id, n.story["reason"]) for n in per_story] == [  # type: ignore[index]
        ("q-en", "new story"), ("q-fr", "reached a new language: fr"), ("other", "new story")]
    quake_story = per_story[0].story["id"]  # type: ignore[index]
    assert per_story[0].notification_id == story_notification_id(story_rule.alert_id, quake_story, "first")
    assert per_story[1].story["languages"] == ["en", "fr"] and per_story[1].story["size"] == 3  # type: ignore[index]
    assert per_story[2].story["id"] != quake_story  # type: ignore[index]
    per_article = [n.article_id for n in made if n.alert_id == article_rule.alert_id]
    assert sorted(per_article) == ["other", "q-en", "q-en2", "q-fr"]
    assert all(n.story is None for n in made if n.alert_id == article_rule.alert_id)

    digest = digest_payload(story_rule.alert_id, story_rule.name, "d1", T0, per_story)
    assert [(group["id"], len(group["notifications"])) for group in digest["stories"]] == [
        (quake_story, 2), (per_story[2].story["id"], 1)]  # type: ignore[index]


def test_the_indexing_task_leaves_per_story_alerts_to_the_story_consumer(settings: Settings, es: Elasticsearch) -> None:
    """The pipeline's split: the indexing task alerts per article at once; a per-story rule's match
    waits for the story consumer, which assigns the story and then notifies once per story."""
    rt = Runtime(settings)
    story_rule = rt.alert_store.add(new_rule("Noto per story", query="Wajima", per_story=True, story_updates=2))
    article_rule = rt.alert_store.add(new_rule("Noto per article", query="Wajima"))

    def index_then_consume(items: list[AnalyzedArticle]) -> None:
        outcome = rt.store.index_batch(items, refresh=True)
        alert(rt, list(outcome.indexed), lambda: [outcome.documents[a] for a in outcome.indexed])  # indexing task
        queued = [features_to_dict(features_of(item, outcome.documents[item.article.article_id].cluster_id or ""))
                  for item in items]
        made = notifications(rt, es)
        assert {n.article_id for n in made if n.alert_id == story_rule.alert_id} <= {"q-en"}  # not yet for these
        assign_queued(rt, [features_from_dict(item) for item in queued])  # the story consumer

    index_then_consume([quake("q-en", "en")])
    made = notifications(rt, es)
    assert [n.article_id for n in made if n.alert_id == article_rule.alert_id] == ["q-en"]
    assert [(n.article_id, n.story["reason"]) for n in made if n.alert_id == story_rule.alert_id] == [  # type: ignore[index]
        ("q-en", "new story")]
    index_then_consume([quake("q-fr", "fr", hours=1), quake("q-en2", "en", hours=2)])
    made = notifications(rt, es)
    assert sorted(n.article_id for n in made if n.alert_id == article_rule.alert_id) == ["q-en", "q-en2", "q-fr"]
    per_story = [n for n in made if n.alert_id == story_rule.alert_id]
    assert [n.story["reason"] for n in per_story] == ["new story", "grew by 2 articles (now 3)"]  # type: ignore[index]
    assert len({n.story["id"] for n in per_story}) == 1  # type: ignore[index]
