"""An alert with feed tags, end to end: a real `celery worker`, real Redis and Elasticsearch.

Two feeds with different tags publish the same story in one batch; the alert with ``--tag`` fires
for the article of the tagged feed only, once, and its backtest (`vigie search --tag`'s filter) agrees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
import redis
from celery import Celery
from elasticsearch import Elasticsearch

from conf.settings import Settings
from ingest.models import FeedItem
from ingest.notification_records import notification_id
from state.registry import FeedRegistry, bounds_from
from tests.e2e.test_alerts import add_alert, notifications
from tests.support.pipeline import send
from tests.support.processes import Background, vigie_json, wait_until
from tests.support.quiescence import settled
from tests.support.samples import sample_item

pytestmark = pytest.mark.integration

SYRIA_FEED = "http://127.0.0.1:1/syrie.xml"
SPORT_FEED = "http://127.0.0.1:1/sport.xml"


def test_an_alert_with_a_tag_fires_once_for_the_tagged_feeds_article_only(
    env: dict[str, str], settings: Settings, es: Elasticsearch, app: Celery, redis_client: redis.Redis,
    workers: Callable[..., Background],
) -> None:
    registry = FeedRegistry(redis_client, bounds_from(settings))
    registry.add(SYRIA_FEED, tags=("Moyen-Orient/Syrie",), poll_now=False)  # an OPML sub-folder
    registry.add(SPORT_FEED, tags=("Sport",), poll_now=False)
    worker = workers()
    # Made while the worker runs; the parent folder, in another case, as `vigie search --tag` takes it.
    alert = add_alert(env, "Moyen-Orient", "--tag", "moyen-orient", "--query", "Turquie")
    assert alert["tags"] == ["moyen-orient"]
    tagged, other = sample_item("from-syria"), sample_item("from-sport")
    send(app, [_from(tagged, SYRIA_FEED), _from(other, SPORT_FEED)])  # one batch, one evaluation
    assert wait_until(lambda: worker.output().count("article.indexed") >= 2, timeout=120), worker.output()[-4000:]
    settled(redis_client, lambda: len(notifications(es, settings)))

    stored = notifications(es, settings)
    assert [(n["notification_id"], n["article_id"], n["feed"]) for n in stored] == [
        (notification_id(alert["alert_id"], "from-syria"), "from-syria", SYRIA_FEED)], worker.output()[-4000:]
    backtest = vigie_json(["alerts", "test", "Moyen-Orient", "--since", "1d"], env)
    assert [hit["id"] for hit in backtest["hits"]] == ["from-syria"]  # the alert and its backtest agree
    shown = vigie_json(["alerts", "show", "Moyen-Orient"], env)
    assert shown["tags"] == ["moyen-orient"]


def _from(item: FeedItem, feed_url: str) -> FeedItem:
    return replace(item, feed_url=feed_url)
