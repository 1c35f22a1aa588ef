"""The HTTP API against a real `vigie api` process, real Redis and real Elasticsearch: what each
endpoint answers, the errors a client can cause, the write token and the injection attempts."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import redis

from index.client import connect
from index.store import ArticleStore
from ingest.models import Entity, TopicMatch
from tests.support.api import ApiServer
from tests.index.factories import analysed
from tests.support.processes import vigie_json
from worker.queues import QUEUES
from state.counters import count_feed_error, count_indexed, count_stage
from state.pending import PendingArticles

pytestmark = pytest.mark.integration

IDLEB_TEXT = ("Le président Erdogan rencontre Vladimir Poutine à Moscou. Un nouveau cessez-le-feu est espéré à Idleb. "
              "Un réfugié témoigne: Erdogan promet d'ouvrir les frontières.")
FEED_FR = "http://feeds.example.org/monde.xml"
FEED_EN = "https://wire.example.com/world.xml"


def entity(text: str, name: str, label: str, key: str | None = None) -> Entity:
    spans = tuple((match.start(), match.end()) for match in re.finditer(re.escape(name), text))
    return Entity(text=name, label=label, mentions=len(spans), spans=spans, key=key or name.lower())  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def articles(api_server: ApiServer) -> Iterator[ArticleStore]:
    store = ArticleStore(connect(api_server.settings.es_url), api_server.settings.index_prefix)
    store.ensure_ready()
    recent = datetime.now(timezone.utc) - timedelta(days=2)
    items = [
        analysed("fr-idleb", title="Erdogan et Poutine parlent d'Idleb", text=IDLEB_TEXT,
                 lemmas="le président erdogan rencontrer vladimir poutine à moscou un nouveau cessez-le-feu être "
                        "espérer à idleb un réfugier témoigner erdogan promettre de ouvrir le frontière",
                 entities=(entity(IDLEB_TEXT, "Erdogan", "PERSON", "recep tayyip erdogan"),
                           entity(IDLEB_TEXT, "Vladimir Poutine", "PERSON"), entity(IDLEB_TEXT, "Idleb", "LOCATION")),
                 topics=(TopicMatch("ceasefire", 0.8, ("cessez-le-feu",)), TopicMatch("migration", 0.4, ("réfugié",))),
                 feed=FEED_FR, published=recent),
        analysed("en-storm", title="Storm hits the coast", text="Thousands of migrants were evacuated.",
                 lemmas="thousand of migrant be evacuate", language="en",
                 topics=(TopicMatch("natural-disaster", 0.9, ("storm",)),), feed=FEED_EN,
                 url="https://wire.example.com/storm", published=datetime(2026, 11, 22, tzinfo=timezone.utc)),
        analysed("fr-foot", title="Trêve entre supporters", text="Les clubs de football signent une trêve.",
                 feed=FEED_FR, published=datetime(2026, 11, 10, tzinfo=timezone.utc)),
        *(analysed(f"bulletin-{number:02d}", title=f"Bulletin météo numéro {number}",
                   text=f"Le bulletin météo numéro {number} annonce de la pluie.", feed="http://meteo.example.net/rss",
                   published=datetime(2026, 10, 1, tzinfo=timezone.utc) + timedelta(hours=number))
          for number in range(25)),
    ]
    outcome = store.index_batch(items, refresh=True)
    assert len(outcome.indexed) == len(items)
    yield store


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(hit["id"] for hit in response.json()["hits"])


# -- search -------------------------------------------------------------------------------------------


def test_search_finds_the_article_with_highlights_entities_and_topics(client: httpx.Client, articles: ArticleStore) -> None:
    response = client.get("/api/search", params={"q": "Idleb"})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1 and body["query"] == "Idleb" and body["limit"] == 10 and body["offset"] == 0
    hit = body["hits"][0]
    assert hit["id"] == "fr-idleb" and hit["language"] == "fr" and hit["feed"] == FEED_FR
    assert any("<mark>Idleb</mark>" in fragment for fragment in hit["highlights"]["text"])
    assert {topic["name"] for topic in hit["topics"]} == {"ceasefire", "migration"}
    erdogan = next(item for item in hit["entities"] if item["text"] == "Erdogan")
    assert erdogan["label"] == "PERSON" and erdogan["key"] == "recep tayyip erdogan"


def test_search_parameters_mean_what_the_command_line_options_mean(api_server: ApiServer, client: httpx.Client,
                                                                    articles: ArticleStore) -> None:
    cases = [
        ("réfugiés", ["--lang", "fr"], [("lang", "fr")]),  # the lemma: the text says "réfugié"
        ("-bulletin", ["--feed", "wire.example.com", "--since", "30d"], [("feed", "wire.example.com"), ("since", "30d")]),
        ("bulletin", ["--until", "2026-10-01T05:00:00", "--collapse"], [("until", "2026-10-01T05:00:00"), ("collapse", "true")]),
    ]
    for query, options, params in cases:
        found = vigie_json(["search", *options, "--limit", "50", "--", query], api_server.env, timeout=120)
        expected = sorted(hit["id"] for hit in found["hits"])
        got = ids(client.get("/api/search", params=[("q", query), *params, ("limit", "50")]))
        assert got == expected, (query, options)
        assert got, (query, options)  # each case finds something: the comparison says something


@pytest.mark.parametrize("query, params, expected", [
    ("person:Poutine OR storm", [], ["en-storm", "fr-idleb"]),
    ("", [("lang", "en")], ["en-storm"]),
    ("", [("topic", "ceasefire")], ["fr-idleb"]),
    ("", [("entity", "recep tayyip erdogan")], ["fr-idleb"]),
    ("", [("entity", "Vladimir Poutine")], ["fr-idleb"]),
    ("", [("feed", FEED_EN)], ["en-storm"]),
    ("", [("feed", FEED_FR), ("since", "7d")], ["fr-idleb"]),
    ("", [("until", "2026-11-15"), ("feed", FEED_FR)], ["fr-foot"]),
    ("trêve OR migrants", [("lang", "fr"), ("lang", "en")], ["en-storm", "fr-foot"]),
])
def test_filters(client: httpx.Client, articles: ArticleStore, query: str, params: list[tuple[str, str]],
                 expected: list[str]) -> None:
    assert ids(client.get("/api/search", params=[("q", query), *params, ("limit", "50")])) == expected


def test_sort_paging_and_repeated_filters(client: httpx.Client, articles: ArticleStore) -> None:
    by_date = client.get("/api/search", params={"sort": "date", "limit": 3}).json()
    assert [hit["id"] for hit in by_date["hits"]] == ["fr-idleb", "en-storm", "fr-foot"]
    assert by_date["total"] == 28
    first = client.get("/api/search", params={"q": "bulletin", "sort": "date", "limit": 10}).json()
    second = client.get("/api/search", params={"q": "bulletin", "sort": "date", "limit": 10, "offset": 10}).json()
    assert first["total"] == second["total"] == 25 and second["offset"] == 10
    assert not {hit["id"] for hit in first["hits"]} & {hit["id"] for hit in second["hits"]}
    both = client.get("/api/search", params=[("lang", "fr"), ("lang", "en"), ("limit", "100")]).json()
    assert both["total"] == 28
    collapsed = client.get("/api/search", params={"q": "Idleb", "collapse": "true"})
    assert ids(collapsed) == ["fr-idleb"]


def test_facets_count_topics_languages_people_and_follow_the_filters(client: httpx.Client, articles: ArticleStore) -> None:
    everything = client.get("/api/facets").json()
    assert everything["total"] == 28
    assert {"key": "fr", "count": 27} in everything["languages"] and {"key": "en", "count": 1} in everything["languages"]
    assert {"key": "ceasefire", "count": 1} in everything["topics"]
    assert {"key": "recep tayyip erdogan", "count": 1} in everything["people"]
    assert {"key": "idleb", "count": 1} in everything["places"]
    filtered = client.get("/api/facets", params={"q": "migrants OR Idleb", "lang": "en", "top": 1}).json()
    assert filtered["total"] == 1 and filtered["languages"] == [{"key": "en", "count": 1}]
    assert filtered["topics"] == [{"key": "natural-disaster", "count": 1}]


# -- articles -----------------------------------------------------------------------------------------


def test_article_has_its_text_entities_with_spans_and_topics_with_evidence(client: httpx.Client,
                                                                           articles: ArticleStore) -> None:
    response = client.get("/api/articles/fr-idleb")
    assert response.status_code == 200
    article = response.json()
    assert article["text"] == IDLEB_TEXT and article["title"] == "Erdogan et Poutine parlent d'Idleb"
    assert "lemmas" not in article and "signature" not in article
    erdogan = next(item for item in article["entities"] if item["label"] == "PERSON" and item["text"] == "Erdogan")
    assert [article["text"][start:end] for start, end in erdogan["spans"]] == ["Erdogan", "Erdogan"]
    assert {"name": "ceasefire", "score": 0.8, "evidence": ["cessez-le-feu"], "iptc": "", "iptc_top": "",
            "parent": None} in article["topics"]


def test_unknown_article_is_404(client: httpx.Client, articles: ArticleStore) -> None:
    response = client.get("/api/articles/no-such-article")
    assert response.status_code == 404
    assert response.json()["kind"] == "not-found" and "no-such-article" in response.json()["message"]


# -- what a client can get wrong ----------------------------------------------------------------------


def test_a_query_that_does_not_parse_is_a_400_saying_where(client: httpx.Client, articles: ArticleStore) -> None:
    for query, position in (('"unclosed', 0), ("Idleb AND", 9), ("(Idleb", 0), ("title:", 6)):
        response = client.get("/api/search", params={"q": query})
        assert response.status_code == 400, query
        body = response.json()
        assert body["kind"] == "query-syntax" and body["position"] == position, (query, body)
        assert f"character {position + 1}" in body["message"]
    assert client.get("/api/facets", params={"q": "a OR"}).status_code == 400


def test_over_long_and_over_complex_queries_are_refused_before_elasticsearch(client: httpx.Client,
                                                                             articles: ArticleStore) -> None:
    long = client.get("/api/search", params={"q": "Idleb " * 400})
    assert long.status_code == 400 and "longer than 2000" in long.json()["reason"]
    many = client.get("/api/search", params={"q": " OR ".join(f"mot{n}" for n in range(65))})
    assert many.status_code == 400 and "64 terms" in many.json()["reason"]
    deep = client.get("/api/search", params={"q": "(" * 11 + "Idleb" + ")" * 11})
    assert deep.status_code == 400 and "10 deep" in deep.json()["reason"]
    # The most the limits allow still runs: Elasticsearch accepts every query the parser lets through.
    nested_or = "(Idleb OR " * 10 + "Idleb" + ")" * 10
    assert ids(client.get("/api/search", params={"q": nested_or})) == ["fr-idleb"]
    nested_not = "(trêve OR NOT " * 5 + "bulletin" + ")" * 5
    assert ids(client.get("/api/search", params={"q": nested_not, "limit": 50})) == ["en-storm", "fr-foot", "fr-idleb"]
    widest = " OR ".join([f"mot{n}*" for n in range(32)] + [f'"phrase {n}"' for n in range(16)] + ["Idleb"] * 16)
    assert ids(client.get("/api/search", params={"q": widest})) == ["fr-idleb"]


def test_query_dsl_and_json_in_q_are_searched_as_words(client: httpx.Client, articles: ArticleStore) -> None:
    # Each is either words (200, never "everything") or a syntax error with its position (400): which one
    # is fixed by the query language, so each attempt says which it must be.
    attempts = [
        ('{"match_all": {}}', 200),
        ('{"query": {"match_all": {}}}', 200),
        ('{"bool": {"should": [{"match_all": {}}]}}', 200),
        ("match_all", 200),
        ("*:*", 400),  # '*' only ends a word
        ("text:Idleb~2 OR _id:fr-foot", 200),
        ('" OR "" OR "', 200),
        ("Idleb\\\" } }, \"match_all\": {", 400),  # a quote never closed
        ("feed:* OR lang:*", 400),
        ("script: doc['x'].value", 200),
    ]
    for query, status in attempts:
        response = client.get("/api/search", params={"q": query})
        assert response.status_code == status, (query, response.text)
        if status == 200:
            assert response.json()["total"] < 28, query  # never "everything"
        else:
            assert response.json()["kind"] == "query-syntax", (query, response.text)
    assert ids(client.get("/api/search", params={"q": '{"match_all": {}}'})) == []
    # Filters are values, compared as values.
    for name in ("lang", "topic", "entity", "feed"):
        response = client.get("/api/search", params={name: '{"match_all": {}}'})
        if name == "topic":  # topics are checked against the topic rules: an unknown one is a 422 (issue 18)
            assert response.status_code == 422 and "unknown topic" in response.json()["message"], name
            continue
        assert response.status_code == 200 and response.json()["total"] == 0, name


def test_invalid_parameters_are_422_naming_each_field(client: httpx.Client, articles: ArticleStore) -> None:
    cases = [
        ({"limit": 0}, "query.limit"),
        ({"limit": 1001}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"offset": -1}, "query.offset"),
        ({"offset": 9995, "limit": 10}, "query.offset"),
        ({"sort": "popularity"}, "query.sort"),
        ({"collapse": "perhaps"}, "query.collapse"),
        ({"since": "last tuesday"}, "query.since"),
        ({"until": "99999999999d"}, "query.until"),
    ]
    for params, location in cases:
        response = client.get("/api/search", params=params)
        assert response.status_code == 422, params
        body = response.json()
        assert body["kind"] == "invalid-request" and location in body["message"], (params, body)
        assert [error["location"] for error in body["errors"]] == [location]
    assert client.get("/api/search", params=[("lang", "fr")] * 21).status_code == 422
    assert client.get("/api/facets", params={"top": 101}).status_code == 422


# -- feeds and the token ------------------------------------------------------------------------------


def test_feeds_follow_list_and_remove_with_the_token(api_server: ApiServer, client: httpx.Client,
                                                     no_feeds: Callable[[], None]) -> None:
    assert client.get("/api/feeds").json() == []
    url = "http://127.0.0.1:9/feeds/world.xml"
    created = client.post("/api/feeds", json={"url": url, "name": "World", "interval": 120}, headers=api_server.auth)
    assert created.status_code == 201, created.text
    feed = created.json()
    assert feed["url"] == url and feed["name"] == "World" and feed["status"] == "new" and feed["interval"] == 120
    assert feed["adaptive"] is False and feed["items_seen"] == 0 and feed["last_error"] is None
    assert created.headers["location"] == f"/api/feeds/{feed['id']}"
    assert client.get(f"/api/feeds/{feed['id']}").json() == client.get("/api/feeds").json()[0]
    # The same registry as the command line's.
    listed = vigie_json(["feeds", "list"], api_server.env)
    assert [item["id"] for item in listed] == [feed["id"]]

    again = client.post("/api/feeds", json={"url": url}, headers=api_server.auth)
    assert again.status_code == 409 and again.json()["kind"] == "feed-exists"

    removed = client.delete(f"/api/feeds/{feed['id']}", headers=api_server.auth)
    assert removed.status_code == 200 and removed.json()["id"] == feed["id"]
    assert client.get("/api/feeds").json() == []
    gone = client.delete(f"/api/feeds/{feed['id']}", headers=api_server.auth)
    assert gone.status_code == 404 and gone.json()["kind"] == "feed-not-found"
    assert client.get(f"/api/feeds/{feed['id']}").status_code == 404


def test_writes_need_the_right_token(api_server: ApiServer, client: httpx.Client, no_feeds: Callable[[], None]) -> None:
    body = {"url": "https://news.example.org/rss.xml"}
    for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token"}, {"Authorization": api_server.token},
                    {"Authorization": f"Basic {api_server.token}"}, {"Authorization": f"Bearer {api_server.token}x"},
                    {"Authorization": f"Bearer {api_server.token[:-1]}"}):
        response = client.post("/api/feeds", json=body, headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["kind"] == "unauthorized" and "VIGIE_API_TOKEN" in response.json()["message"]
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert client.delete("/api/feeds/0123456789abcdef", headers=headers).status_code == 401
    assert client.get("/api/feeds").json() == []  # nothing was added
    assert client.post("/api/feeds", json=body, headers={"Authorization": f"bearer {api_server.token}"}).status_code == 201


@pytest.mark.parametrize("body, location", [
    ({"url": "ftp://example.org/feed.xml"}, "body.url"),
    ({"url": "javascript:alert(1)"}, "body.url"),
    ({"url": "file:///etc/passwd"}, "body.url"),
    ({"url": "http:///no-host"}, "body.url"),
    ({"url": "http://exa mple.org/feed"}, "body.url"),
    ({"url": "http://example.org/" + "a" * 2048}, "body.url"),
    ({}, "body.url"),
    ({"url": "http://example.org/feed", "admin": True}, "body.admin"),
    ({"url": "http://example.org/feed", "interval": 0}, "body.interval"),
    ({"url": "http://example.org/feed", "interval": "often"}, "body.interval"),
    ({"url": "http://example.org/feed", "name": "x" * 201}, "body.name"),
    ({"url": "http://example.org/feed", "name": "a\nb"}, "body.name"),
    ({"url": 42}, "body.url"),
    (["http://example.org/feed"], "body"),
])
def test_invalid_feed_bodies_are_422(api_server: ApiServer, client: httpx.Client, no_feeds: Callable[[], None],
                                     body: object, location: str) -> None:
    response = client.post("/api/feeds", json=body, headers=api_server.auth)
    assert response.status_code == 422, response.text
    assert response.json()["kind"] == "invalid-request"
    assert [error["location"] for error in response.json()["errors"]] == [location]
    assert client.get("/api/feeds").json() == []


def test_a_body_that_is_not_json_is_422(api_server: ApiServer, client: httpx.Client) -> None:
    response = client.post("/api/feeds", content=b"{url: nope", headers={**api_server.auth, "Content-Type": "application/json"})
    assert response.status_code == 422 and "not valid JSON" in response.json()["message"]
    assert client.delete("/api/feeds/not-an-id", headers=api_server.auth).status_code == 422


# -- system -------------------------------------------------------------------------------------------


def test_health_reports_redis_elasticsearch_workers_and_queues(client: httpx.Client, articles: ArticleStore,
                                                               module_redis: redis.Redis) -> None:
    module_redis.rpush("vigie.index", b"waiting-1", b"waiting-2")
    try:
        response = client.get("/health")
    finally:
        module_redis.delete("vigie.index")
    assert response.status_code == 200
    health = response.json()
    assert health["redis"]["ok"] and health["elasticsearch"]["ok"] and health["elasticsearch"]["documents"] == 28
    assert set(health["queues"]) == set(QUEUES) and health["queues"]["vigie.index"] == 2
    assert health["queues"]["vigie.analyze"] == 0
    assert health["status"] == "degraded" and health["workers"] == {  # no worker runs in this module
        "ok": False, "alive": [], "latency_ms": None, "error": "no Celery worker answered a ping"}
    assert health["lemmas_loaded"] is True and health["entities_loaded"] is True


def test_metrics_in_prometheus_format(api_server: ApiServer, client: httpx.Client, articles: ArticleStore,
                                      module_redis: redis.Redis, no_feeds: Callable[[], None]) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    module_redis.delete("vigie:stats:polled", "vigie:stats:indexed", "vigie:stats:fetched_to_indexed",
                        "vigie:stats:feed_errors")
    count_stage(module_redis, "polled", 7)
    now = datetime.now(timezone.utc)
    count_indexed(module_redis, [now - timedelta(seconds=0.1), now - timedelta(seconds=3), None], now=now)
    feed = client.post("/api/feeds", json={"url": "http://127.0.0.1:9/broken.xml"}, headers=api_server.auth).json()
    count_feed_error(module_redis, feed["id"])
    module_redis.delete("vigie:pending")
    PendingArticles(module_redis).add("task-1", [{"article_id": "m-1"}, {"article_id": "m-2"}], now=time.time())
    client.get("/api/search", params={"q": "Idleb"})

    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
               for family in text_string_to_metric_families(response.text) for sample in family.samples}
    assert samples[("vigie_articles_total", (("stage", "polled"),))] == 7
    assert samples[("vigie_articles_total", (("stage", "indexed"),))] == 3
    assert samples[("vigie_index_documents", ())] == 28
    assert samples[("vigie_queue_depth", (("queue", "vigie.analyze"),))] == 0
    assert samples[("vigie_pending_articles", ())] == 2
    assert samples[("vigie_fetched_to_indexed_seconds_bucket", (("le", "0.25"),))] == 1
    assert samples[("vigie_fetched_to_indexed_seconds_bucket", (("le", "5.0"),))] == 2
    assert samples[("vigie_fetched_to_indexed_seconds_count", ())] == 2
    assert samples[("vigie_feeds", (("status", "new"),))] == 1
    assert samples[("vigie_feed_errors_total", (("feed_id", feed["id"]), ("url", feed["url"])))] == 1
    assert samples[("vigie_component_up", (("component", "redis"),))] == 1
    searched = [value for (name, labels), value in samples.items()
                if name == "vigie_api_request_duration_seconds_count" and ("route", "/api/search") in labels]
    assert sum(searched) >= 1
    # Route templates, not paths: an article id never becomes a label.
    client.get("/api/articles/fr-idleb")
    assert 'route="/api/articles/{article_id}"' in client.get("/metrics").text


def test_openapi_docs_pages_and_security_headers(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/api/search", "/api/facets", "/api/volume", "/api/articles/{article_id}", "/api/feeds",
            "/api/feeds/{feed_id}", "/health", "/metrics"} <= set(schema["paths"])
    assert schema["paths"]["/api/feeds"]["post"]["security"] == [{"token": []}]
    assert client.get("/docs").status_code == 200
    for path in ("/", "/search", "/articles/fr-idleb", "/entities/Poutine", "/feeds"):
        page = client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), path
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff" and page.headers["x-frame-options"] == "DENY"
    assert client.get("/static/app.js").status_code == 200
    # Search was the front page: its links (/?q=...) go on to /search with the same query string.
    old_link = client.get("/?q=Idleb&lang=fr", follow_redirects=False)
    assert old_link.status_code == 308 and old_link.headers["location"] == "/search?q=Idleb&lang=fr"
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json()["kind"] == "not-found"
    assert client.put("/api/feeds").status_code == 405


def test_a_foreign_host_header_is_refused(client: httpx.Client) -> None:
    """Listening on loopback, the API answers only loopback names: a page of another site whose name
    was pointed at 127.0.0.1 (DNS rebinding) cannot read it."""
    assert client.get("/health", headers={"Host": "evil.example.com"}).status_code == 400
    local = client.get("/health", headers={"Host": "localhost"})
    assert local.status_code == 200 and local.json()["redis"]["ok"], local.text  # answered, not refused


def test_an_entity_no_article_names_is_404(client: httpx.Client, articles: ArticleStore) -> None:
    # The page itself (variants, languages, company) is tested on the index: tests/index/test_entity_search.py.
    response = client.get("/api/entities/Jacques Chirac")
    assert response.status_code == 404
    assert response.json()["kind"] == "not-found" and "Jacques Chirac" in response.json()["message"]
