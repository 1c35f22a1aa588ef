"""The alerts and notifications API against a real `vigie api`, real Redis and real Elasticsearch:
every endpoint, the errors a client can cause, the write token and its rate limit, the webhook secret
shown once, and agreement with `vigie alerts` (the same store, the same backtest, the same list)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree as ET

import httpx
import pytest
import redis

from index.client import connect
from index.notifications import NotificationStore
from index.store import ArticleStore
from ingest.feeds import parse_feed
from ingest.models import TopicMatch
from ingest.notification_records import Matched, Notification, notification_id
from state.alert_version import VERSION_KEY
from state.registry import FeedRegistry, bounds_from
from tests.index.factories import analysed, make_notification, person
from tests.support.api import ApiServer, api_env, start_api
from tests.support.processes import run_vigie, vigie_json
from tests.support.services import drop_indices

pytestmark = pytest.mark.integration

ATOM = "{http://www.w3.org/2005/Atom}"
HOOK = "http://127.0.0.1:9/hook"
NOW = datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def es_store(api_server: ApiServer) -> Iterator[ArticleStore]:
    """The articles the backtests run over: two that the test alert matches, three it must not."""
    store = ArticleStore(connect(api_server.settings.es_url), api_server.settings.index_prefix)
    store.ensure_ready()
    migration = (TopicMatch("migration", 0.8, ("réfugié",)),)
    items = [
        analysed("fr-turquie", title="La Turquie ouvre ses frontières", text="Des réfugiés arrivent de Syrie en Turquie.",
                 lemmas="de réfugier arriver de syrie en turquie", topics=migration, published=NOW - timedelta(days=1),
                 entities=(person("Erdogan", "recep tayyip erdogan"),)),
        analysed("fr-turquie-2", title="Un camp en Turquie", text="Un réfugié raconte la vie au camp, en Turquie.",
                 lemmas="un réfugier raconter le vie au camp en turquie", topics=migration, published=NOW - timedelta(days=3)),
        analysed("fr-turquie-old", title="Archive", text="Des réfugiés en Turquie, il y a un mois.",
                 lemmas="de réfugier en turquie il y avoir un mois", topics=migration, published=NOW - timedelta(days=30)),
        analysed("fr-liban", title="Liban", text="Des réfugiés au Liban.", lemmas="de réfugier au liban", topics=migration,
                 published=NOW - timedelta(days=1)),
        analysed("fr-foot", title="Turquie-France", text="Match de football en Turquie.", published=NOW - timedelta(days=1)),
    ]
    assert len(store.index_batch(items, refresh=True).indexed) == len(items)
    yield store


@pytest.fixture()
def clean(api_server: ApiServer) -> Iterator[NotificationStore]:
    """No alert and no notification at the start of a test (the module shares one index prefix)."""
    es = connect(api_server.settings.es_url)
    prefix = api_server.settings.index_prefix
    for index in (f"{prefix}-alerts", f"{prefix}-notifications"):
        if es.indices.exists(index=index):  # (no delete_by_query: the local node has no reindex module)
            es.indices.refresh(index=index)
            hits = es.search(index=index, query={"match_all": {}}, size=1000, source=False)["hits"]["hits"]
            if hits:
                es.bulk(operations=[{"delete": {"_index": index, "_id": hit["_id"]}} for hit in hits], refresh=True)
    yield NotificationStore(es, prefix)
    es.close()


def create(client: httpx.Client, server: ApiServer, **body: object) -> dict:  # type: ignore[type-arg]
    response = client.post("/api/alerts", json=body, headers=server.auth)
    assert response.status_code == 201, response.text
    return response.json()


def made(alert: dict, article: str, *, state: str = "pending", ago: timedelta = timedelta(0),  # type: ignore[type-arg]
         title: str | None = None) -> Notification:
    return make_notification(
        alert, article, title=title, url=f"https://news.example.org/{article}?a=1&b=2",
        feed="http://127.0.0.1/feed.xml", published=(NOW - ago).isoformat(),
        matched=Matched(topics=(TopicMatch("migration", 0.8, ("réfugié",)),), terms=("Turquie",),
                        entities=("Turquie",), highlights={"text": ["en <mark>Turquie</mark> & <b>ailleurs</b>"]}),
        mode="immediate" if alert["delivery"]["webhook"] else "none", state=state, created_at=NOW - ago,
        due_at=None, attempts=1 if state == "delivered" else 0,
    )


# -- create, read, change, remove ------------------------------------------------------------------


def test_an_alert_is_created_and_read_back_with_its_secret_shown_once(
        api_server: ApiServer, client: httpx.Client, clean: NotificationStore) -> None:
    created = client.post("/api/alerts", headers=api_server.auth, json={
        "name": "Migration Turquie", "topics": ["migration"], "query": "Turquie OR Turkey", "languages": ["FR"],
        "entities": ["Erdogan"], "webhook": HOOK})
    assert created.status_code == 201, created.text
    alert = created.json()
    assert created.headers["location"] == f"/api/alerts/{alert['alert_id']}"
    assert re.fullmatch(r"[0-9a-f]{16}", alert["alert_id"])
    assert alert["name"] == "Migration Turquie" and alert["topics"] == ["migration"] and alert["languages"] == ["fr"]
    assert alert["query"] == "Turquie OR Turkey" and alert["entities"] == ["Erdogan"] and alert["paused"] is False
    assert "name_key" not in alert and "query_lemmas" not in alert
    secret = alert["delivery"]["secret"]
    assert re.fullmatch(r"[0-9a-f]{64}", secret) and alert["delivery"] == {"webhook": HOOK, "secret": secret,
                                                                          "mode": "immediate"}

    listed = client.get("/api/alerts")
    one = client.get(f"/api/alerts/{alert['alert_id']}")
    by_name = client.get("/api/alerts/migration TURQUIE")
    for response in (listed, one, by_name):
        assert response.status_code == 200 and secret not in response.text and secret[:16] not in response.text
    masked = {**alert, "delivery": {**alert["delivery"], "secret": f"…{secret[-4:]}"}}
    assert listed.json() == [masked] and one.json() == masked and by_name.json() == masked
    # The command line reads the same store, and says the same.
    shown = vigie_json(["alerts", "show", alert["alert_id"]], api_server.env)
    assert shown == masked

    chosen = create(client, api_server, name="Avec secret", query="Idleb", webhook=HOOK + "/2", secret="s" * 20,
                    digest="daily")
    assert chosen["delivery"] == {"webhook": HOOK + "/2", "secret": "s" * 20, "mode": "daily"}
    stored_only = create(client, api_server, name="Sans webhook", topics=["ceasefire"])
    assert stored_only["delivery"] == {"webhook": None, "secret": "", "mode": "immediate"}
    assert [item["name"] for item in client.get("/api/alerts").json()] == ["Avec secret", "Migration Turquie",
                                                                          "Sans webhook"]
    assert "s" * 20 not in client.get("/api/alerts").text


def test_changes_pause_resume_and_removal_reach_the_store_and_tell_the_workers(
        api_server: ApiServer, client: httpx.Client, clean: NotificationStore, module_redis: redis.Redis) -> None:
    alert = create(client, api_server, name="Migration", topics=["migration"])
    create(client, api_server, name="Autre", query="Liban")
    path = f"/api/alerts/{alert['alert_id']}"
    version = int(module_redis.get(VERSION_KEY) or 0)

    changed = client.patch(path, json={"query": "réfugiés", "languages": ["fr", "en"], "min_score": 0.5,
                                       "all_topics": True}, headers=api_server.auth)
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["query"], body["languages"], body["min_score"], body["all_topics"]) == ("réfugiés", ["fr", "en"], 0.5, True)
    assert body["topics"] == ["migration"] and body["created_at"] == alert["created_at"]
    assert body["updated_at"] > alert["updated_at"]
    assert int(module_redis.get(VERSION_KEY) or 0) == version + 1  # the workers reload before the next batch

    # A webhook given to an alert without one comes with a new secret, shown in this answer only.
    hooked = client.patch(path, json={"webhook": HOOK, "digest": "hourly"}, headers=api_server.auth).json()
    secret = hooked["delivery"]["secret"]
    assert hooked["delivery"]["webhook"] == HOOK and hooked["delivery"]["mode"] == "hourly" and len(secret) == 64
    renamed = client.patch(path, json={"name": "Migration réfugiés"}, headers=api_server.auth).json()
    assert renamed["delivery"]["secret"] == f"…{secret[-4:]}" and renamed["delivery"]["mode"] == "hourly"
    unhooked = client.patch(path, json={"webhook": None, "digest": None}, headers=api_server.auth).json()
    assert unhooked["delivery"] == {"webhook": None, "secret": "", "mode": "immediate"}
    unchanged = client.patch(path, json={}, headers=api_server.auth)
    assert unchanged.status_code == 200 and unchanged.json()["updated_at"] == unhooked["updated_at"]

    paused = client.post("/api/alerts/MIGRATION RÉFUGIÉS/pause", headers=api_server.auth)
    assert paused.status_code == 200 and paused.json()["paused"] is True
    assert client.post(f"{path}/pause", headers=api_server.auth).json()["paused"] is True  # idempotent
    listed = vigie_json(["alerts", "list"], api_server.env)
    assert {item["name"]: item["paused"] for item in listed} == {"Autre": False, "Migration réfugiés": True}
    assert client.post(f"{path}/resume", headers=api_server.auth).json()["paused"] is False

    removed = client.delete(path, headers=api_server.auth)
    assert removed.status_code == 200 and removed.json()["alert_id"] == alert["alert_id"]
    assert client.get(path).status_code == 404
    assert [item["name"] for item in client.get("/api/alerts").json()] == ["Autre"]
    assert int(module_redis.get(VERSION_KEY) or 0) >= version + 8


# -- what a client can get wrong -------------------------------------------------------------------


@pytest.mark.parametrize("body, location", [
    ({}, "body.name"),
    ({"name": ""}, "body.name"),
    ({"name": "x" * 201, "query": "a"}, "body.name"),
    ({"name": "x", "query": "a", "admin": True}, "body.admin"),
    ({"name": "x", "topics": "migration"}, "body.topics"),
    ({"name": "x", "topics": ["t"] * 21}, "body.topics"),
    ({"name": "x", "query": "a" * 2001}, "body.query"),
    ({"name": "x", "query": "a", "webhook": "ftp://example.org/hook"}, "body.webhook"),
    ({"name": "x", "query": "a", "webhook": "javascript:alert(1)"}, "body.webhook"),
    ({"name": "x", "query": "a", "webhook": "http:///no-host"}, "body.webhook"),
    ({"name": "x", "query": "a", "webhook": HOOK, "secret": "short"}, "body.secret"),
    ({"name": "x", "topics": ["migration"], "min_score": 1.5}, "body.min_score"),
    ({"name": "x", "topics": ["migration"], "min_score": 0}, "body.min_score"),
    ({"name": "x", "query": "a", "digest": "weekly"}, "body.digest"),
    ({"name": "x", "query": "a", "paused": "maybe"}, "body.paused"),
    (["x"], "body"),
])
def test_invalid_bodies_are_422_naming_the_field(api_server: ApiServer, client: httpx.Client,
                                                 clean: NotificationStore, body: object, location: str) -> None:
    response = client.post("/api/alerts", json=body, headers=api_server.auth)
    assert response.status_code == 422, response.text
    assert response.json()["kind"] == "invalid-request"
    assert [error["location"] for error in response.json()["errors"]] == [location]
    assert client.get("/api/alerts").json() == []


def test_rules_that_cannot_work_are_refused_with_every_reason(api_server: ApiServer, client: httpx.Client,
                                                               clean: NotificationStore) -> None:
    syntax = client.post("/api/alerts", json={"name": "x", "query": "Turquie AND"}, headers=api_server.auth)
    assert syntax.status_code == 400
    assert syntax.json()["kind"] == "query-syntax" and syntax.json()["position"] == 11
    assert "character 12" in syntax.json()["message"]

    invalid = client.post("/api/alerts", headers=api_server.auth,
                          json={"name": "x", "topics": ["migraton"], "languages": ["français"], "digest": "daily"})
    assert invalid.status_code == 422
    problem = invalid.json()
    assert problem["kind"] == "alert-invalid"
    for reason in ("unknown topic migraton", "known: arts, ceasefire", "ISO 639-1", "daily digest needs a webhook"):
        assert reason in problem["message"], problem
    nothing = client.post("/api/alerts", json={"name": "rien"}, headers=api_server.auth)
    assert nothing.status_code == 422 and "something to match" in nothing.json()["message"]
    no_topic = client.post("/api/alerts", json={"name": "x", "query": "a", "min_score": 0.5}, headers=api_server.auth)
    assert no_topic.status_code == 422 and "needs at least one topic" in no_topic.json()["message"]
    assert client.get("/api/alerts").json() == []

    alert = create(client, api_server, name="Migration", topics=["migration"])
    taken = client.post("/api/alerts", json={"name": "MIGRATION", "query": "a"}, headers=api_server.auth)
    assert taken.status_code == 409 and taken.json()["kind"] == "alert-exists"
    other = create(client, api_server, name="Autre", query="a")
    renamed = client.patch(f"/api/alerts/{other['alert_id']}", json={"name": "migration"}, headers=api_server.auth)
    assert renamed.status_code == 409
    for change, status in (({"query": "(a"}, 400), ({"topics": ["nope"]}, 422), ({"name": None}, 422),
                           ({"digest": "hourly"}, 422), ({"secret": "x"}, 422), ({"extra": 1}, 422)):
        response = client.patch(f"/api/alerts/{alert['alert_id']}", json=change, headers=api_server.auth)
        assert response.status_code == status, (change, response.text)
    assert client.get(f"/api/alerts/{alert['alert_id']}").json() == alert  # nothing changed


def test_unknown_alerts_are_404_everywhere(api_server: ApiServer, client: httpx.Client, clean: NotificationStore) -> None:
    for method, path in (("GET", "/api/alerts/nope"), ("PATCH", "/api/alerts/nope"), ("DELETE", "/api/alerts/nope"),
                         ("POST", "/api/alerts/nope/pause"), ("POST", "/api/alerts/nope/resume"),
                         ("GET", "/api/alerts/nope/test"), ("GET", "/api/alerts/nope/feed"),
                         ("GET", "/api/alerts/%20/test"), ("GET", "/api/notifications?alert=nope"),
                         ("GET", "/api/notifications/stream?alert=nope")):
        response = client.request(method, path, headers=api_server.auth, json={} if method == "PATCH" else None)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["kind"] == "alert-not-found", (method, path)
        assert "nope" in response.json()["message"] or "%20" in path


def test_writes_need_the_token_and_reads_do_not(api_server: ApiServer, client: httpx.Client,
                                                clean: NotificationStore) -> None:
    alert = create(client, api_server, name="Migration", topics=["migration"])
    path = f"/api/alerts/{alert['alert_id']}"
    for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token"}, {"Authorization": f"Bearer {api_server.token}x"}):
        for method, url, body in (("POST", "/api/alerts", {"name": "y", "query": "a"}), ("PATCH", path, {"query": "b"}),
                                  ("DELETE", path, None), ("POST", f"{path}/pause", None),
                                  ("POST", f"{path}/resume", None)):
            response = client.request(method, url, json=body, headers=headers)
            assert response.status_code == 401, (method, url, headers)
            assert response.json()["kind"] == "unauthorized" and response.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/api/alerts").json() == [alert]  # nothing changed (no webhook: no secret to mask)
    for path_read in ("/api/alerts", path, f"{path}/test", f"{path}/feed", "/api/notifications", "/api/topics"):
        assert client.get(path_read).status_code == 200, path_read


def test_writes_beyond_the_rate_limit_are_429(service_env: dict[str, str]) -> None:
    server = start_api(api_env(service_env, VIGIE_API_WRITE_BURST="3", VIGIE_API_WRITE_RATE="1"))
    try:
        with server.client() as http:
            first = http.post("/api/alerts", json={"name": "un", "query": "a"}, headers=server.auth)
            assert first.status_code == 201
            assert http.post(f"/api/alerts/{first.json()['alert_id']}/pause", headers=server.auth).status_code == 200
            assert http.post("/api/alerts", json={"name": "deux"}, headers={"Authorization": "Bearer guess-guess-guess"}
                             ).status_code == 401  # a guess spends a bucket of its own, not this client's writes
            assert http.post("/api/alerts", json={"name": "deux", "query": "a"}, headers=server.auth).status_code == 201
            for method, url in (("POST", "/api/alerts"), ("PATCH", "/api/alerts/un"), ("DELETE", "/api/alerts/un"),
                                ("POST", "/api/alerts/un/resume")):
                limited = http.request(method, url, json={"name": "trois", "query": "a"} if method != "DELETE" else None,
                                       headers=server.auth)
                assert limited.status_code == 429, (method, url)
                assert limited.json()["kind"] == "rate-limited" and int(limited.headers["retry-after"]) >= 1
            assert http.get("/api/alerts").status_code == 200  # reads are not limited
            assert [alert["name"] for alert in http.get("/api/alerts").json()] == ["deux", "un"]
    finally:
        server.stop()
        drop_indices(server.settings.es_url, server.settings.index_prefix)


# -- backtest, Atom feed, notifications --------------------------------------------------------------


def test_the_backtest_finds_what_vigie_alerts_test_finds(api_server: ApiServer, client: httpx.Client,
                                                         es_store: ArticleStore, clean: NotificationStore) -> None:
    alert = create(client, api_server, name="Réfugiés en Turquie", topics=["migration"], query="réfugiés Turquie")
    for since in ("7d", "60d"):
        response = client.get(f"/api/alerts/{alert['alert_id']}/test", params={"since": since, "limit": 10})
        assert response.status_code == 200, response.text
        found = response.json()
        expected = vigie_json(["alerts", "test", "Réfugiés en Turquie", "--since", since, "--limit", "10"],
                              api_server.env, timeout=120)
        assert [hit["id"] for hit in found["hits"]] == [hit["id"] for hit in expected["hits"]], since
        assert (found["alert"], found["total"], found["query"]) == (expected["alert"], expected["total"], expected["query"])
        assert abs(datetime.fromisoformat(found["since"]) - datetime.fromisoformat(expected["since"])) < timedelta(minutes=1)
    # Newest first; the lemma finds "réfugié" for "réfugiés"; Liban and football do not match.
    recent = client.get("/api/alerts/réfugiés EN turquie/test").json()
    assert [hit["id"] for hit in recent["hits"]] == ["fr-turquie", "fr-turquie-2"] and recent["total"] == 2
    assert any("<mark>" in fragment for fragment in recent["hits"][0]["highlights"]["text"])
    everything = client.get(f"/api/alerts/{alert['alert_id']}/test", params={"since": ""}).json()
    assert everything["since"] is None and everything["total"] == 3
    assert client.get(f"/api/alerts/{alert['alert_id']}/test", params={"limit": 1}).json()["hits"][0]["id"] == "fr-turquie"
    for params in ({"since": "last week"}, {"limit": 0}, {"limit": 1001}):
        assert client.get(f"/api/alerts/{alert['alert_id']}/test", params=params).status_code == 422, params


def test_the_atom_feed_lists_the_matches_and_its_self_link_is_served(
        api_server: ApiServer, client: httpx.Client, clean: NotificationStore) -> None:
    alert = create(client, api_server, name="Migration & Turquie", topics=["migration"], query="Turquie")
    other = create(client, api_server, name="Autre", query="Liban")
    clean.create([made(alert, "older", ago=timedelta(hours=2), title="L'ancien & <b>le</b> nouveau"),
                  made(alert, "newer", ago=timedelta(minutes=5)), made(other, "liban")])
    clean.refresh()

    response = client.get(f"/api/alerts/{alert['alert_id']}/feed")
    assert response.status_code == 200 and response.headers["content-type"] == "application/atom+xml"
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed" and root.findtext(f"{ATOM}title") == "Vigie alert: Migration & Turquie"
    entries = root.findall(f"{ATOM}entry")
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == ["Article newer", "L'ancien & <b>le</b> nouveau"]
    assert [entry.findtext(f"{ATOM}id") for entry in entries] == [
        f"urn:vigie:notification:{notification_id(alert['alert_id'], article)}" for article in ("newer", "older")]
    assert entries[0].find(f"{ATOM}link").get("href") == "https://news.example.org/newer?a=1&b=2"
    assert entries[0].find(f"{ATOM}category").get("term") == "migration"
    assert "<mark>Turquie</mark>" in entries[0].findtext(f"{ATOM}summary") and "<b>" not in entries[0].findtext(f"{ATOM}summary")
    self_link = next(link.get("href") for link in root.findall(f"{ATOM}link") if link.get("rel") == "self")
    assert self_link == f"{api_server.base_url}/api/alerts/{alert['alert_id']}/feed"
    assert httpx.get(self_link).content == response.content  # the self link is where the feed is served
    by_name = client.get("/api/alerts/migration %26 turquie/feed", params={"limit": 1})
    assert [entry.findtext(f"{ATOM}title") for entry in ET.fromstring(by_name.content).findall(f"{ATOM}entry")] == [
        "Article newer"]
    parsed = parse_feed(response.content, feed_url=self_link)  # Vigie's own feed parser reads it too
    assert [item.url for item in parsed.items] == ["https://news.example.org/newer?a=1&b=2",
                                                   "https://news.example.org/older?a=1&b=2"]


def test_notifications_are_listed_newest_first_with_filters_as_vigie_alerts_fired(
        api_server: ApiServer, client: httpx.Client, clean: NotificationStore) -> None:
    alert = create(client, api_server, name="Migration", topics=["migration"], webhook=HOOK)
    other = create(client, api_server, name="Liban", query="Liban")
    clean.create([made(alert, "a-old", state="delivered", ago=timedelta(days=10)),
                  made(alert, "a-delivered", state="delivered", ago=timedelta(hours=1)),
                  made(alert, "a-pending", ago=timedelta(minutes=1)),
                  made(other, "b-stored", state="stored", ago=timedelta(minutes=30))])
    clean.refresh()

    def articles(**params: object) -> list[str]:
        response = client.get("/api/notifications", params=params)
        assert response.status_code == 200, response.text
        return [item["article_id"] for item in response.json()]

    assert articles() == ["a-pending", "b-stored", "a-delivered", "a-old"]
    assert articles(alert=alert["alert_id"]) == ["a-pending", "a-delivered", "a-old"]
    assert articles(alert="LIBAN") == ["b-stored"]
    assert articles(state="delivered") == ["a-delivered", "a-old"]
    assert articles(since="7d") == ["a-pending", "b-stored", "a-delivered"]
    assert articles(alert="Migration", state="pending", since="2h") == ["a-pending"]
    assert articles(limit=2) == ["a-pending", "b-stored"]

    first = client.get("/api/notifications", params={"limit": 1}).json()[0]
    assert first == made(alert, "a-pending", ago=timedelta(minutes=1)).to_dict()
    assert first["matched"]["highlights"] == {"text": ["en <mark>Turquie</mark> & <b>ailleurs</b>"]}
    fired = vigie_json(["alerts", "fired", "--alert", "Migration"], api_server.env)
    assert [item["notification_id"] for item in reversed(fired)] == [
        item["notification_id"] for item in client.get("/api/notifications", params={"alert": "migration"}).json()]

    for params in ({"state": "lost"}, {"since": "yesterday"}, {"limit": 0}, {"limit": 1001}, {"alert": "x" * 201}):
        response = client.get("/api/notifications", params=params)
        assert response.status_code == 422 and response.json()["kind"] == "invalid-request", params


def test_topics_and_the_openapi_schema(client: httpx.Client) -> None:
    topics = client.get("/api/topics").json()
    assert {"migration", "ceasefire"} <= {topic["name"] for topic in topics}
    assert all(topic["label"] and topic["languages"] for topic in topics)
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert {"/api/alerts", "/api/alerts/{key}", "/api/alerts/{key}/pause", "/api/alerts/{key}/resume",
            "/api/alerts/{key}/test", "/api/alerts/{key}/feed", "/api/notifications", "/api/notifications/stream",
            "/api/topics"} <= set(paths)
    for method, path in (("post", "/api/alerts"), ("patch", "/api/alerts/{key}"), ("delete", "/api/alerts/{key}"),
                         ("post", "/api/alerts/{key}/pause"), ("post", "/api/alerts/{key}/resume")):
        assert paths[path][method]["security"] == [{"token": []}], (method, path)
        assert {"401", "429"} <= set(paths[path][method]["responses"]), (method, path)
    assert "security" not in paths["/api/alerts"]["get"]
    assert "application/atom+xml" in paths["/api/alerts/{key}/feed"]["get"]["responses"]["200"]["content"]
    assert "text/event-stream" in paths["/api/notifications/stream"]["get"]["responses"]["200"]["content"]
    assert {tag["name"] for tag in schema["tags"]} >= {"alerts", "notifications"}
    assert client.get("/alerts").headers["content-security-policy"].startswith("default-src 'self'")


def test_an_alert_with_tags_is_stored_changed_and_backtested_through_the_tagged_feeds(
        api_server: ApiServer, client: httpx.Client, es_store: ArticleStore, clean: NotificationStore,
        no_feeds: Callable[[], None], module_redis: redis.Redis) -> None:
    # The articles of es_store come from one feed; it sits in a sub-folder of "Moyen-Orient".
    FeedRegistry(module_redis, bounds_from(api_server.settings)).add(
        "http://127.0.0.1/feed.xml", tags=("Moyen-Orient/Turquie",), poll_now=False)
    alert = create(client, api_server, name="Turquie au Moyen-Orient", query="réfugiés Turquie",
                   tags=[" Moyen-Orient ", "moyen-orient"])
    assert alert["tags"] == ["moyen-orient"]  # as /api/search's `tag` compares them
    assert client.get(f"/api/alerts/{alert['alert_id']}").json()["tags"] == ["moyen-orient"]

    def backtest() -> list[str]:
        response = client.get(f"/api/alerts/{alert['alert_id']}/test", params={"since": "7d"})
        assert response.status_code == 200, response.text
        return [hit["id"] for hit in response.json()["hits"]]

    assert backtest() == ["fr-turquie", "fr-turquie-2"]  # the feed carries the tag: its articles count
    changed = client.patch(f"/api/alerts/{alert['alert_id']}", json={"tags": ["Sport"]}, headers=api_server.auth)
    assert changed.status_code == 200 and changed.json()["tags"] == ["sport"], changed.text
    assert backtest() == []  # no feed is tagged Sport
    assert "from feeds tagged sport" in run_vigie(["alerts", "show", alert["alert_id"]], api_server.env,
                                                  check=True).stdout
    cleared = client.patch(f"/api/alerts/{alert['alert_id']}", json={"tags": []}, headers=api_server.auth)
    assert cleared.status_code == 200 and cleared.json()["tags"] == [] and backtest() == ["fr-turquie", "fr-turquie-2"]
    only_tags = client.post("/api/alerts", json={"name": "Sans tags", "tags": [" "]}, headers=api_server.auth)
    assert only_tags.status_code == 422 and "needs something to match" in only_tags.text
    no_feeds()  # the module's tests share its Redis database
