"""A fast `vigie`: `vigie --help` imports no command (no Elasticsearch, Celery, spaCy, FastAPI, Redis),
its table of summaries says what each command's own help says, and `vigie search` with words loads
neither spaCy nor the lemma tables nor the knowledge base (speed itself is measured by bench/cli.py)."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import click
import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.store import ArticleStore
from tests.index.factories import analysed
from tests.support.processes import ROOT
from vigie.cli.main import COMMANDS, cli

HEAVY = ("elasticsearch", "celery", "spacy", "fastapi", "pydantic", "redis", "numpy", "lxml", "httpx")


def _imported(args: list[str], env: dict[str, str] | None = None) -> tuple[set[str], str]:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "vigie", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300, check=True)
    modules = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    return modules, result.stdout


def test_help_imports_no_command_and_lists_them_all() -> None:
    modules, out = _imported(["--help"])
    assert not {name for name in modules if name.split(".")[0] in HEAVY}
    assert not {name for name in modules if name.startswith("vigie.cli.") and name != "vigie.cli.main"}
    listed = re.findall(r"^  (\w+)\s", out.split("Commands:")[1], flags=re.MULTILINE)
    assert listed == sorted(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_summary_is_the_commands_own(name: str) -> None:
    module, attribute, summary = COMMANDS[name]
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)
    assert command.get_short_help_str(1000) == summary
    assert cli.get_command(click.Context(cli), name) is command


def test_unknown_commands_and_failures_stay_clear() -> None:
    result = subprocess.run([sys.executable, "-m", "vigie", "serach"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and "No such command 'serach'" in result.stderr


@pytest.mark.integration
def test_search_with_words_loads_no_spacy_no_tables_no_knowledge_base(
        env: dict[str, str], settings: Settings, es: Elasticsearch) -> None:
    store = ArticleStore(es, settings.index_prefix)
    store.ensure_ready()
    store.index_batch([analysed("idleb", title="Les réfugiés d'Idleb", text="Des réfugiés fuient Idlib.",
                                lemmas="du réfugier fuir idlib")], refresh=True)
    _imported(["search", "réfugiés Idlib"], env)  # builds the query files in the cache once
    modules, out = _imported(["search", "réfugiés Idlib", "--json"], env)
    assert '"id": "idleb"' in out
    assert "spacy" not in modules and "celery" not in modules and "fastapi" not in modules
    assert {"ingest.entity_query_index", "ingest.query_lemma_index"} <= modules  # answered from the files
    # Nor what reading the registry and searching never use: numpy (lemma table building), the fetch
    # layer (httpcore, feedparser: adding and polling feeds), httpx's own command line (rich, pygments).
    unused = {"numpy", "httpcore", "feedparser", "rich", "pygments"}
    assert not {name for name in modules if name.split(".")[0] in unused or name == "ingest.fetch"}
