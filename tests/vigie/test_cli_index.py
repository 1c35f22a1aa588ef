"""`vigie index status`, `migrate` and `rollover` as a person types them, on the real services: the
status names the index behind the alias and its mapping version, the migration moves the articles to
the version of this code, and searching works on the new index."""

from __future__ import annotations

import os
import pty
import subprocess

import pytest
from elasticsearch import Elasticsearch

from index.mappings import ARTICLES_VERSION, articles_alias, articles_index
from index.store import ArticleStore
from tests.index.factories import analysed, person, topic
from tests.support.processes import ROOT, VIGIE, run_vigie, vigie_json
from conf.settings import Settings

pytestmark = pytest.mark.integration

#: What `vigie index status --json` said before rollover; it now adds the backing indices, the
#: rollover conditions and the retention (tests/index/test_rollover.py).
SUMMARY = ("alias", "index", "code_version", "documents", "up_to_date")


def _summary(status: dict) -> dict:  # type: ignore[type-arg]
    assert set(status) == {*SUMMARY, "backing", "rollover", "retention_days"}
    return {key: status[key] for key in SUMMARY}


def test_status_shows_the_version_and_migrate_moves_to_the_code_version(
        env: dict[str, str], settings: Settings, es: Elasticsearch) -> None:
    prefix = settings.index_prefix
    old = articles_index(prefix, 0)
    # An older deployment: version 0 of the mapping, behind the alias.
    es.indices.create(index=old, mappings={"dynamic": True, "properties": {"title": {"type": "text"}}},
                      settings={"number_of_replicas": 0}, aliases={articles_alias(prefix): {"is_write_index": True}})
    ArticleStore(es, prefix).index_batch(
        [analysed(f"old-{i}", title=f"Ancien article {i}", text=f"Le texte numéro {i} parle de Idleb.",
                  entities=(person("Erdogan"),), topics=(topic("migration"),)) for i in range(25)],
        refresh=True)

    status = vigie_json(["index", "status"], env)
    assert _summary(status) == {"alias": articles_alias(prefix), "index": old, "code_version": ARTICLES_VERSION,
                                "documents": 25, "up_to_date": False}
    assert [(b["index"], b["documents"], b["write_index"]) for b in status["backing"]] == [(old, 25, True)]
    text = run_vigie(["index", "status"], env, check=True).stdout
    assert f"{articles_alias(prefix)} → {old} (25 documents)" in text and "run `vigie index migrate`" in text

    migrated = vigie_json(["index", "migrate"], env)
    target = articles_index(prefix, ARTICLES_VERSION)
    assert isinstance(migrated, dict)
    assert (migrated["migrated"], migrated["source"], migrated["target"], migrated["documents"]) == (
        True, old, target, 25)

    status = vigie_json(["index", "status"], env)
    assert _summary(status) == {"alias": articles_alias(prefix), "index": target, "code_version": ARTICLES_VERSION,
                                "documents": 25, "up_to_date": True}
    assert [(b["index"], b["documents"], b["write_index"]) for b in status["backing"]] == [(target, 25, True)]
    assert "run `vigie index migrate`" not in run_vigie(["index", "status"], env, check=True).stdout
    again = run_vigie(["index", "migrate"], env, check=True)
    assert f"already on mapping version {ARTICLES_VERSION}; nothing to do" in again.stdout

    # Search goes on through the alias, now on the new index with this code's mapping.
    query_env = {**env, "VIGIE_QUERY_LANGUAGES": "fr"}
    found = vigie_json(["search", "Ancien", "--limit", "100"], query_env)
    assert isinstance(found, dict) and found["total"] == 25
    narrowed = vigie_json(["search", "person:Erdogan", "--topic", "migration", "--limit", "100"], query_env)
    assert isinstance(narrowed, dict) and narrowed["total"] == 25
    one = vigie_json(["search", '"texte numéro 7"'], query_env)
    assert isinstance(one, dict) and [hit["id"] for hit in one["hits"]] == ["old-7"]


def _on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run `vigie ARGS` with its stderr on a pseudo-terminal (as a person's shell gives it): exit code,
    stdout, and what the terminal received."""
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen([VIGIE, *args], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=slave, text=True)
        os.close(slave)
        stdout, _ = process.communicate(timeout=180)
        received = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal's other end closed: everything was read
                break
            if not chunk:
                break
            received += chunk
    finally:
        os.close(master)
    return process.returncode, stdout, received.decode("utf-8", "replace")


def test_rollover_shows_its_steps_on_a_terminal_and_nothing_with_json(
        env: dict[str, str], settings: Settings, es: Elasticsearch) -> None:
    ArticleStore(es, settings.index_prefix).index_batch([analysed("roll-1", title="Un article")], refresh=True)
    code, stdout, terminal = _on_a_terminal(["index", "rollover", "--force"], env)
    assert code == 0 and "rolled over:" in stdout, (stdout, terminal)
    assert "vigie: rollover 1/2" in terminal and "vigie: rollover 2/2  rolling over" in terminal, terminal
    code, stdout, terminal = _on_a_terminal(["index", "rollover", "--force", "--json"], env)
    assert code == 0 and '"rolled_over": true' in stdout and "vigie:" not in terminal, terminal
