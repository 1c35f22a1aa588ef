"""`vigie stories`, `vigie stories show`, search hits with their story and --collapse by story, and the
same over HTTP; with real Redis and Elasticsearch, stories assigned as the worker assigns them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from elasticsearch import Elasticsearch

from index.stories import StoryStore
from ingest.models import AnalyzedArticle
from tests.support.api import api_env, start_api
from tests.index.factories import analysed, person, place, topic
from tests.support.processes import run_vigie, vigie_json
from conf.settings import Settings
from worker.runtime import Runtime
from worker.story_tasks import assign_stories


def quake(article_id: str, language: str, at: datetime) -> AnalyzedArticle:
    if language == "en":
        title, text = ("Magnitude 7.4 earthquake strikes Noto", "A magnitude 7.4 earthquake struck the Noto peninsula "
                       "in Ishikawa; buildings collapsed in Wajima and a tsunami warning was issued.")
        lemmas = "magnitude 7.4 earthquake strike noto peninsula ishikawa building collapse wajima tsunami warning issue"
    else:
        title, text = ("Séisme de magnitude 7,4 à Noto", "Un séisme de magnitude 7,4 a frappé la péninsule de Noto, "
                       "dans l'Ishikawa ; des immeubles se sont effondrés à Wajima, alerte au tsunami.")
        lemmas = "séisme magnitude 7,4 frapper péninsule noto ishikawa immeuble effondrer wajima alerte tsunami"
    return analysed(article_id, title=title, text=text, lemmas=lemmas, language=language,
                    entities=(place("Noto"), place("Wajima")), topics=(topic("disasters"),),
                    url=f"https://{language}-{article_id}.example/n", published=at)


def council(article_id: str, at: datetime) -> AnalyzedArticle:
    return analysed(article_id, title="Springfield council debates the budget",
                    text="The council of Springfield debated the budget of 310 million again, Mayor Quimby said.",
                    lemmas="council springfield debate budget million again mayor quimby say", language="en",
                    entities=(person("Quimby"),), url=f"https://local-{article_id}.example/c", published=at)


def test_stories_listed_shown_searched_and_served(settings: Settings, es: Elasticsearch, env: dict[str, str]) -> None:
    rt = Runtime(settings)
    now = datetime.now(timezone.utc)
    # A steady story, one article an hour for a day; then a burst of five on an earthquake, in two languages.
    items = [council(f"c{hour}", now - timedelta(hours=hour, minutes=30)) for hour in range(23, -1, -1)]
    items += [quake(f"q{i}", "en" if i % 2 == 0 else "fr", now - timedelta(minutes=25 - 5 * i)) for i in range(5)]
    for start in range(0, len(items), 8):
        batch = items[start:start + 8]
        outcome = rt.store.index_batch(batch, refresh=True)
        assign_stories(rt, batch, outcome.documents)
    rt.store.refresh()
    StoryStore(rt.es, settings.index_prefix).refresh()  # listings see the stories (at most a second later)

    listing = vigie_json(["stories", "--json"], env)["stories"]  # type: ignore[index]
    by_size = {row["size"]: row for row in listing}
    assert sorted(by_size) == [5, 24]
    burst, steady = by_size[5], by_size[24]
    assert burst["languages"] == ["en", "fr"] and burst["trend"]["level"] == "breaking"
    assert "against a baseline of" in burst["trend"]["explanation"]
    assert steady["trend"] is None and sum(steady["hours"].values()) == 24

    flagged = vigie_json(["stories", "--breaking", "--json"], env)
    breaking = flagged["stories"]  # type: ignore[index]
    assert [row["id"] for row in breaking] == [burst["id"]]
    subjects = {(t["kind"], t["subject"]): t for t in flagged["subjects"]}  # type: ignore[index]
    assert subjects[("entity", "noto")]["level"] == subjects[("topic", "disasters")]["level"] == "breaking"
    assert ("entity", "quimby") not in subjects  # steady: one article an hour
    assert [row["id"] for row in vigie_json(["stories", "--topic", "disasters", "--json"], env)["stories"]] == [burst["id"]]  # type: ignore[index]
    assert [row["id"] for row in vigie_json(["stories", "--entity", "quimby", "--json"], env)["stories"]] == [steady["id"]]  # type: ignore[index]

    shown = vigie_json(["stories", "show", burst["id"], "--json"], env)
    assert shown["headline"] == "Magnitude 7.4 earthquake strikes Noto"  # type: ignore[index]
    assert {language: sum(len(ids) for ids in sources.values())
            for language, sources in shown["by_language"].items()} == {"en": 3, "fr": 2}  # type: ignore[index]
    text = run_vigie(["stories", "show", burst["id"]], env, check=True).stdout
    assert "[BREAKING]" in text and "en-q0.example" in text
    missing = run_vigie(["stories", "show", "s-nothing"], env)
    assert missing.returncode == 1 and "no story" in missing.stderr

    hits = vigie_json(["search", "noto", "--json"], env)["hits"]  # type: ignore[index]
    assert len(hits) == 5
    assert all(hit["story"] == {"id": burst["id"], "headline": burst["headline"], "size": 5} for hit in hits)
    collapsed = vigie_json(["search", "--collapse", "--limit", "100", "--json"], env)["hits"]  # type: ignore[index]
    assert sorted(hit["story"]["size"] for hit in collapsed) == [5, 24]
    copies = vigie_json(["search", "--collapse-copies", "--limit", "100", "--json"], env)["hits"]  # type: ignore[index]
    assert len(copies) == 29  # no near-duplicates here: every article is its own cluster

    server = start_api(api_env(env, VIGIE_INDEX_PREFIX=settings.index_prefix))
    try:
        with server.client() as client:
            stories = client.get("/api/stories", params={"breaking": "true"}).json()["stories"]
            assert [row["id"] for row in stories] == [burst["id"]] and stories[0]["trend"]["level"] == "breaking"
            assert len(client.get("/api/stories").json()["stories"]) == 2
            one = client.get(f"/api/stories/{burst['id']}").json()
            assert one["size"] == 5 and len(one["articles"]) == 5
            assert client.get("/api/stories/s-nothing").status_code == 404
            firsts = client.get("/api/stories/articles", params={"ids": f"{burst['id']},{steady['id']},s-nothing",
                                                                 "limit": 3}).json()["stories"]
            assert sorted(firsts) == sorted([burst["id"], steady["id"]])  # a story without articles is left out
            assert [a["id"] for a in firsts[burst["id"]]["articles"]] == ["q0", "q1", "q2"]  # the first in time
            assert firsts[burst["id"]]["by_language"] == {"en": {"en-q0.example": ["q0"], "en-q2.example": ["q2"]},
                                                          "fr": {"fr-q1.example": ["q1"]}}
            assert firsts[burst["id"]]["articles"][0]["title"] == "Magnitude 7.4 earthquake strikes Noto"
            assert len(firsts[steady["id"]]["articles"]) == 3
            assert client.get("/api/stories/articles").status_code == 422
            found = client.get("/api/search", params={"q": "noto"}).json()["hits"]
            assert {hit["story"]["id"] for hit in found} == {burst["id"]}
            assert len(client.get("/api/search", params={"collapse": "true", "limit": 100}).json()["hits"]) == 2
    finally:
        server.stop()
