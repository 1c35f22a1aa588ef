"""Stories end to end: three local feeds in two languages → `vigie scheduler` → a real `celery worker`
(analysis, index, story assignment, alerts) → one story; a per-story alert posts once, then once more
when the story has grown."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import pytest
from elasticsearch import Elasticsearch

from tests.support.feeds import FeedServer, Story
from tests.support.processes import VIGIE, Background, run_vigie, vigie_json, wait_until
from tests.support.webhooks import WebhookReceiver
from tests.support.pipeline import count
from conf.settings import Settings

pytestmark = pytest.mark.integration

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def story(guid: str, title: str, text: str, minutes_ago: int) -> Story:
    return Story(guid=f"urn:test:{guid}", title=title, text=text, published=NOW - timedelta(minutes=minutes_ago))


QUAKE_WIRE_FR = story(
    "wire-fr-1", "Un séisme de magnitude 7,4 frappe la péninsule de Noto",
    "Un puissant séisme de magnitude 7,4 a frappé lundi la péninsule de Noto, dans la préfecture d'Ishikawa, "
    "selon l'Agence météorologique japonaise. Une alerte au tsunami a été émise sur la côte de la mer du Japon.\n\n"
    "À Wajima, plusieurs immeubles se sont effondrés et un incendie s'est déclaré dans le quartier du marché.", 50)
QUAKE_DAILY_EN = story(
    "daily-en-1", "Powerful 7.4 quake hits Japan's Noto peninsula",
    "A magnitude 7.4 earthquake struck the Noto peninsula in Ishikawa prefecture on Monday, the Japan "
    "Meteorological Agency said, and a tsunami warning was issued along the Sea of Japan coast.\n\n"
    "In Wajima, buildings collapsed and a fire broke out near the morning market.", 45)
QUAKE_REGIONAL_FR = story(
    "regional-fr-1", "Japon : à Wajima, les secours fouillent les décombres",
    "Au lendemain du séisme de magnitude 7,4 qui a secoué la péninsule de Noto, les secouristes fouillent les "
    "décombres à Wajima. La préfecture d'Ishikawa fait état de nombreux blessés et de milliers d'évacués.", 20)
QUAKE_DAILY_EN_2 = story(
    "daily-en-2", "Noto quake: rescuers search rubble in Wajima as aftershocks continue",
    "Rescue teams searched collapsed buildings in Wajima on Tuesday after the magnitude 7.4 earthquake on the "
    "Noto peninsula. Ishikawa prefecture said thousands of people had been evacuated.", 15)
OTHER_FR = story(
    "wire-fr-2", "La foire aux fromages de Livarot attire les foules",
    "Plus de 8 000 visiteurs se sont pressés ce week-end à la foire aux fromages de Livarot, en Normandie. "
    "Les producteurs ont présenté leurs meilleures pièces au concours annuel.", 40)
OTHER_EN = story(
    "daily-en-3", "City council approves new cycle lanes",
    "The council of Leeds approved a plan for twelve kilometres of new cycle lanes on Thursday, after a long "
    "debate about parking and deliveries in the city centre.", 35)
OTHER_REGIONAL = story(
    "regional-fr-2", "Le marché de Noël de Colmar ouvre ses portes",
    "Le marché de Noël de Colmar a ouvert ses portes vendredi soir, avec près de 200 chalets répartis dans la "
    "vieille ville. La municipalité attend un million de visiteurs.", 30)


@pytest.fixture()
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture()
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


def alert_notifications(es: Elasticsearch, settings: Settings, alert_id: str) -> list[dict]:  # type: ignore[type-arg]
    index = f"{settings.index_prefix}-notifications"
    if not es.indices.exists(index=index):
        return []
    es.indices.refresh(index=index)
    hits = es.search(index=index, query={"term": {"alert_id": alert_id}}, size=100)["hits"]["hits"]
    return [hit["_source"] for hit in hits]


def test_one_event_from_three_feeds_in_two_languages_is_one_story_alerted_once_then_updated(
    env: dict[str, str], settings: Settings, es: Elasticsearch, feed_server: FeedServer,
    receiver: WebhookReceiver, workers: Callable[..., Background],
) -> None:
    env = {**env, "VIGIE_POLL_MIN_INTERVAL": "1"}
    wire = feed_server.publish("wire-fr", [QUAKE_WIRE_FR, OTHER_FR])
    daily = feed_server.publish("daily-en", [QUAKE_DAILY_EN, OTHER_EN])
    regional = feed_server.publish("regional-fr", [OTHER_REGIONAL])
    alert = json.loads(run_vigie(["alerts", "add", "Noto", "--query", "Noto", "--per-story", "--story-updates", "2",
                                  "--webhook", receiver.url, "--json"], env, check=True, timeout=300).stdout)
    for url in (wire, daily, regional):
        run_vigie(["feeds", "add", url, "--interval", "2"], env, check=True)
    worker = workers()
    scheduler = Background("scheduler", [VIGIE, "scheduler"], env).start()
    try:
        assert wait_until(lambda: count(es, settings) >= 5, timeout=240), worker.output()[-4000:]
        first = receiver.wait_for(1, timeout=120)
        assert len(first) == 1, worker.output()[-4000:]
        body = first[0].json
        assert body["alert"]["id"] == alert["alert_id"] and body["story"]["reason"] == "new story"
        story_id = body["story"]["id"]

        # The story grows: a regional paper in French and a second English article.
        feed_server.append("regional-fr", QUAKE_REGIONAL_FR)
        feed_server.append("daily-en", QUAKE_DAILY_EN_2)
        assert wait_until(lambda: count(es, settings) >= 7, timeout=240), worker.output()[-4000:]
        assert wait_until(lambda: worker.output().count("story.assigned") >= 7, timeout=120), worker.output()[-4000:]
        posts = receiver.wait_for(2, timeout=120)
        # Every notification the alert made is delivered: whatever was to be posted has been.
        assert wait_until(lambda: all(n["state"] == "delivered" for n in alert_notifications(es, settings,
                                                                                            alert["alert_id"])), 60)
    finally:
        scheduler.stop()

    stored = alert_notifications(es, settings, alert["alert_id"])
    assert len(stored) == 2 and len(receiver.posts()) == 2
    update = posts[1].json
    assert update["story"]["id"] == story_id and update["story"]["reason"].startswith("grew by 2 articles")
    assert update["story"]["size"] == 4 and update["story"]["languages"] == ["en", "fr"]

    # The listing is a search: it sees a story as its last write left it after the stories index's next
    # refresh (every STORIES_REFRESH_SECONDS, 5), which the notification may beat; each look is a
    # `vigie stories` process, several seconds on a loaded machine.
    def listing_sizes() -> list[int]:
        return sorted(row["size"] for row in vigie_json(["stories", "--json"], env)["stories"])  # type: ignore[index]

    assert wait_until(lambda: listing_sizes() == [1, 1, 1, 4], timeout=60), listing_sizes()
    listing = vigie_json(["stories", "--json"], env)["stories"]  # type: ignore[index]
    quake = [row for row in listing if row["id"] == story_id]
    assert len(quake) == 1 and quake[0]["size"] == 4 and quake[0]["languages"] == ["en", "fr"]
    assert sorted(row["size"] for row in listing) == [1, 1, 1, 4]  # the three other articles stand alone
    shown = vigie_json(["stories", "show", story_id, "--json"], env)
    assert sorted(article["title"] for article in shown["articles"]) == sorted(  # type: ignore[index]
        s.title for s in (QUAKE_WIRE_FR, QUAKE_DAILY_EN, QUAKE_REGIONAL_FR, QUAKE_DAILY_EN_2))
    hits = vigie_json(["search", "Noto", "--json"], env)["hits"]  # type: ignore[index]
    assert {hit["feed"] for hit in hits} == {wire, daily, regional}
    assert {hit["story"]["id"] for hit in hits} == {story_id}
