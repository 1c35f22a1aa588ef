"""`vigie entities merge|split|merges` and the same over HTTP, on the real services: rules recorded,
stored articles re-labelled, writes guarded by the token, the list not taken for an entity name."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch

from ingest.entity_linking import unknown_id
from ingest.models import AnalyzedArticle, Entity
from tests.index.factories import analysed
from tests.support.api import api_env, start_api
from tests.support.processes import run_vigie, vigie_json
from conf.settings import Settings
from worker.entity_merges import resolve_entities
from worker.runtime import Runtime


pytestmark = pytest.mark.integration


def entity(text: str, entity_id: str | None = None, label: str = "PERSON") -> Entity:
    return Entity(text=text, label=label, mentions=1, spans=((0, len(text)),), key=text.lower(),
                  id=entity_id or unknown_id(label, text), name=text, variants=(text,))


def article(article_id: str, *entities: Entity) -> AnalyzedArticle:
    return analysed(article_id, title=f"{entities[0].text} speaks", text=f"{entities[0].text} spoke in Oslo.",
                    language="en", entities=entities, url=f"https://outlet.example/{article_id}")


def person_id(es: Elasticsearch, settings: Settings, article_id: str) -> str:
    source = es.get(index=f"{settings.index_prefix}-articles", id=article_id)["_source"]
    return next(e["id"] for e in source["entity_list"] if e["label"] == "PERSON")


def test_merge_split_and_merges_on_the_command_line_and_over_http(
        settings: Settings, es: Elasticsearch, env: dict[str, str]) -> None:
    rt = Runtime(settings)
    oslo = entity("Oslo", "gn:3143244", "LOCATION")
    items = resolve_entities(rt, [article("p1", entity("Torstein Lindqvist"), oslo),
                                  article("p2", entity("Torstein Lindqvista"), oslo)])
    rt.store.index_batch(items, refresh=True)
    lindqvist_id = unknown_id("PERSON", "Torstein Lindqvist")
    assert person_id(es, settings, "p2") == unknown_id("PERSON", "Torstein Lindqvista")  # no company shared: kept apart

    for command in ("merge", "split", "merges"):
        helped = run_vigie(["entities", command, "--help"], env, check=True)
        assert "--json" in helped.stdout

    merged = vigie_json(["entities", "merge", "Torstein Lindqvista", "Torstein Lindqvist", "--note", "same man", "--json"],
                        env)
    assert (merged["action"], merged["source"], merged["target_id"], merged["articles_relabelled"]) == (
        "merge", "manual", lindqvist_id, 1)
    assert person_id(es, settings, "p2") == lindqvist_id
    assert "re-labelling stored articles: 1/1" in run_vigie(
        ["entities", "merge", "Torstein Lindqvista", lindqvist_id], env, check=True).stderr

    listed = vigie_json(["entities", "merges", "--json"], env)
    assert [(r["variant"], r["action"], r["in_force"]) for r in listed] == [("Torstein Lindqvista", "merge", True)]
    text = run_vigie(["entities", "merges"], env, check=True).stdout
    assert "'Torstein Lindqvista' -> Torstein Lindqvist" in text

    unknown = run_vigie(["entities", "merge", "Torstein Lindqvista", "Nobody Atall"], env)
    assert unknown.returncode != 0 and "Nobody Atall" in unknown.stderr

    server = start_api(api_env(env, VIGIE_INDEX_PREFIX=settings.index_prefix))
    try:
        with server.client() as client:
            body = client.get("/api/entities/merges").json()
            assert [r["rule_id"] for r in body] == ["manual:" + merged["variant_key"]]
            refused = client.post("/api/entities/merges/split", json={"variant": "Torstein Lindqvista"})
            assert refused.status_code == 401
            assert person_id(es, settings, "p2") == lindqvist_id
            split = client.post("/api/entities/merges/split", json={"variant": "Torstein Lindqvista", "from": lindqvist_id,
                                                             "note": "test"}, headers=server.auth)
            assert split.status_code == 200, split.text
            assert split.json()["action"] == "split" and split.json()["articles_relabelled"] == 1
            assert person_id(es, settings, "p2") == unknown_id("PERSON", "Torstein Lindqvista")
            missing = client.post("/api/entities/merges", json={"variant": "Torstein Lindqvista", "target": "Nobody Atall"},
                                  headers=server.auth)
            assert missing.status_code == 404
            empty = client.post("/api/entities/merges", json={"variant": "!!!", "target": lindqvist_id},
                                headers=server.auth)
            assert empty.status_code == 422
            assert client.get("/api/entities/Torstein Lindqvist").json()["id"] == lindqvist_id
    finally:
        server.stop()
