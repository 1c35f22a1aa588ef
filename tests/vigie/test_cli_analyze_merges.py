"""`vigie analyze` applies the entity merge rules recorded in Elasticsearch (README "Entity merges"):
a name forced into an entity with `vigie entities merge` gets that entity's id; with Elasticsearch
unreachable the analysis still runs and says the merges were not applied (stderr in text mode, the
``merge_rules`` field with --json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from ingest.entity_linking import unknown_id
from ingest.models import Entity
from tests.index.factories import analysed
from tests.support.processes import run_vigie, vigie_json
from tests.support.services import settings_from
from vigie.cli.analyze import with_merge_rules
from vigie.services.processes import free_port
from worker.runtime import Runtime

pytestmark = pytest.mark.integration

TEXT = ("Chantier naval d'Oslo : après l'incendie, 240 ouvriers au chômage technique\n"
        "Au lendemain du violent incendie du grand chantier naval d'Oslo, les 240 ouvriers évacués sont au chômage "
        "technique. Le ministre norvégien de l'industrie Torstein Lindqvista a confirmé l'enquête sur l'incendie "
        "du chantier naval.\n")
MESSAGE = "entity merges not applied"


def lindqvista(output: str) -> dict[str, str]:
    return next(e for e in json.loads(output)["entities"] if e["text"] == "Torstein Lindqvista")


def test_analyze_applies_a_forced_merge_and_says_when_it_cannot_read_the_rules(
        settings: Settings, es: Elasticsearch, env: dict[str, str], tmp_path: Path) -> None:
    article = tmp_path / "chantier.txt"
    article.write_text(TEXT, encoding="utf-8")
    person = Entity(text="Torstein Lindqvist", label="PERSON", mentions=1, spans=((0, 18),), key="torstein lindqvist",
                    id=unknown_id("PERSON", "Torstein Lindqvist"), name="Torstein Lindqvist",
                    variants=("Torstein Lindqvist",))
    Runtime(settings).store.index_batch([analysed("t1", title="Torstein Lindqvist à Oslo",
                                                  text="Torstein Lindqvist parle.", entities=(person,))], refresh=True)
    forced = vigie_json(["entities", "merge", "Torstein Lindqvista", "Torstein Lindqvist"], env)
    assert forced["target_id"] == person.id

    merged = run_vigie(["analyze", "--json", str(article)], env, check=True)
    entity = lindqvista(merged.stdout)
    assert (entity["id"], entity["name"]) == (person.id, "Torstein Lindqvist")
    assert json.loads(merged.stdout)["merge_rules"] == {"applied": True, "rules": 1, "entities_changed": 1}
    assert MESSAGE not in merged.stderr

    # The function behind the command: the same rules in process; none when nothing answers.
    variant = Entity(text="Torstein Lindqvista", label="PERSON", mentions=1, spans=((0, 19),),
                     key="torstein lindqvista", id=unknown_id("PERSON", "Torstein Lindqvista"),
                     name="Torstein Lindqvista", variants=("Torstein Lindqvista",))
    analysis = analysed("t2", entities=(variant,)).analysis
    online, done = with_merge_rules(analysis, settings)
    assert [e.id for e in online.entities] == [person.id] and done["applied"] is True
    offline = {**env, "VIGIE_ES_URL": f"http://127.0.0.1:{free_port()}"}  # nothing listens there
    alone, said = with_merge_rules(analysis, settings_from(offline))
    assert alone == analysis  # the --json output: this analysis, and the field saying why
    assert said == {"applied": False, "rules": 0, "entities_changed": 0,
                    "reason": f"Elasticsearch at {offline['VIGIE_ES_URL']} is unreachable"}

    text = run_vigie(["analyze", str(article)], offline, check=True)
    assert "PERSON        Torstein Lindqvista (1)" in text.stdout
    lines = [line for line in text.stderr.splitlines() if MESSAGE in line]
    assert lines == [f"vigie: {MESSAGE} (no merge rules read): Elasticsearch at {offline['VIGIE_ES_URL']} is unreachable"]
