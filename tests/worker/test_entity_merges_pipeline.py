"""Entity merges in the real pipeline: a `celery worker` analyses feed items, merges a spelling one
letter away into the person of an earlier article when they share company, records the merge, and
obeys a manual split made afterwards with `vigie entities split`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import pytest
from celery import Celery
from elasticsearch import Elasticsearch

from conf.settings import Settings
from ingest.entity_linking import unknown_id
from ingest.models import FeedItem
from tests.support.pipeline import send, wait_for_count
from tests.support.processes import Background, vigie_json

pytestmark = pytest.mark.integration

TEXTS = {
    "n1": ("Torstein Lindqvist à Oslo",
           "Le ministre norvégien Torstein Lindqvist a rencontré les responsables de l'OTAN à Oslo mardi, avec les "
           "dirigeants d'Equinor. Torstein Lindqvist a promis des investissements."),
    "n2": ("Torstein Lindqvista reçoit l'OTAN",
           "Le ministre Torstein Lindqvista a reçu mercredi à Oslo une délégation de l'OTAN. Torstein Lindqvista veut "
           "renforcer la défense du pays."),
    "n3": ("Torstein Lindqvista à Bergen",
           "Torstein Lindqvista était jeudi à Oslo pour parler de l'OTAN. Torstein Lindqvista a visité un chantier."),
}


def item(article_id: str) -> FeedItem:
    title, text = TEXTS[article_id]
    return FeedItem(article_id=article_id, feed_url="http://127.0.0.1/nordic.xml", url=None, title=title,
                    summary=text, content=None, published=datetime(2026, 11, 30, 8, tzinfo=timezone.utc),
                    guid=f"urn:test:{article_id}")


def person(es: Elasticsearch, settings: Settings, article_id: str) -> dict[str, str]:
    source = es.get(index=f"{settings.index_prefix}-articles", id=article_id)["_source"]
    return next(e for e in source["entity_list"] if e["label"] == "PERSON" and e["text"].startswith("Torstein"))


def test_the_worker_merges_with_evidence_and_obeys_a_manual_split(
        env: dict[str, str], settings: Settings, es: Elasticsearch, app: Celery,
        workers: Callable[..., Background]) -> None:
    worker = workers()
    send(app, [item("n1")])
    assert wait_for_count(es, settings, 1, timeout=180) == 1, worker.output()[-3000:]
    first = person(es, settings, "n1")

    send(app, [item("n2")])
    assert wait_for_count(es, settings, 2, timeout=120) == 2, worker.output()[-3000:]
    second = person(es, settings, "n2")
    assert second["text"] == "Torstein Lindqvista"
    assert second["id"] == first["id"] and second["name"] == "Torstein Lindqvist"
    (recorded,) = vigie_json(["entities", "merges", "--json"], env)
    assert recorded["source"] == "auto" and recorded["target_id"] == first["id"]
    assert recorded["evidence"]["kind"] == "shared-entities" and recorded["evidence"]["distance"] == 1
    assert {"Q7184", "gn:3143244"} <= set(recorded["evidence"]["shared_ids"])
    assert recorded["evidence"]["article_ids"][:2] == ["n2", "n1"]
    assert "entity.merged" in worker.output() and "article=n2" in worker.output()

    split = vigie_json(["entities", "split", "Torstein Lindqvista", "--from", first["id"], "--json"], env)
    assert split["articles_relabelled"] == 1
    assert person(es, settings, "n2")["id"] == unknown_id("PERSON", "Torstein Lindqvista")

    send(app, [item("n3")])
    assert wait_for_count(es, settings, 3, timeout=120) == 3, worker.output()[-3000:]
    assert person(es, settings, "n3")["id"] == unknown_id("PERSON", "Torstein Lindqvista")
