"""The search parameters the command line and the API share, over HTTP on a real `vigie api`: `tag=`
(OPML folders), an unknown topic is a 422 listing the topics, language codes in any case, the feed's
own title on hits and facets, the same default order as `vigie search`, and feed records with title and tags."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from index.client import connect
from index.store import ArticleStore
from state.registry import registry_for
from tests.index.factories import analysed, topic
from tests.support.api import ApiServer

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)
WIRE = "http://wire.example.org/rss.xml"
SPORT = "http://sport.example.org/rss.xml"


@pytest.fixture()
def tagged(api_server: ApiServer, no_feeds: Callable[[], None]) -> None:
    store = ArticleStore(connect(api_server.settings.es_url), api_server.settings.index_prefix)
    store.ensure_ready()
    store.index_batch([
        *(analysed(f"tag-wire-{n}", title=f"Trêve {n}", text=f"Une trêve, jour {n}.", feed=WIRE,
                   topics=(topic("ceasefire"),), published=START + timedelta(hours=n)) for n in range(4)),
        analysed("tag-sport", title="Match report", text="A truce on the pitch.", language="en", feed=SPORT,
                 published=START + timedelta(hours=10)),
    ], refresh=True)
    registry = registry_for(api_server.settings)
    registry.add(WIRE, title="Le Fil", tags=("News/World",), poll_now=False)
    registry.add(SPORT, name="Stadium", title="Sport Daily", tags=("Sport",), poll_now=False)


def test_tag_filter_titles_and_default_order(client: httpx.Client, tagged: None) -> None:
    news = client.get("/api/search", params={"tag": "news", "limit": 10})
    assert news.status_code == 200
    body = news.json()
    assert [hit["id"] for hit in body["hits"]] == ["tag-wire-3", "tag-wire-2", "tag-wire-1", "tag-wire-0"]
    assert {hit["feed_title"] for hit in body["hits"]} == {"Le Fil"}
    sport = client.get("/api/search", params={"tag": ["Sport", "Nothing"], "lang": "EN"}).json()
    assert [(hit["id"], hit["feed_title"]) for hit in sport["hits"]] == [("tag-sport", "Stadium")]
    assert client.get("/api/search", params={"tag": "Nothing"}).json()["total"] == 0
    facets = client.get("/api/facets", params={"tag": "news"}).json()
    assert facets["feeds"] == [{"key": WIRE, "count": 4, "title": "Le Fil"}]
    ranked = client.get("/api/search", params={"q": "trêve", "sort": "auto"}).json()
    assert ranked["total"] >= 4 and ranked["hits"][0]["score"] is not None


def test_unknown_topic_is_a_422_listing_the_topics(client: httpx.Client, tagged: None) -> None:
    for path in ("/api/search", "/api/facets", "/api/volume"):
        answer = client.get(path, params={"topic": "cricket"})
        assert answer.status_code == 422, path
        problem = answer.json()
        assert "unknown topic cricket" in problem["message"] and "ceasefire" in problem["message"]
        assert problem["errors"][0]["location"] == "query.topic"
    assert client.get("/api/search", params={"topic": "Ceasefire"}).json()["total"] >= 4


def test_feed_records_carry_title_display_name_and_tags(client: httpx.Client, tagged: None) -> None:
    feeds = {feed["url"]: feed for feed in client.get("/api/feeds").json()}
    assert (feeds[WIRE]["title"], feeds[WIRE]["display_name"], feeds[WIRE]["tags"]) == ("Le Fil", "Le Fil", ["News/World"])
    assert (feeds[SPORT]["name"], feeds[SPORT]["display_name"]) == ("Stadium", "Stadium")
