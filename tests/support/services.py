"""The environment of the Vigie processes tests start, and cleaning up what a test indexed.

Every process runs under a private VIGIE_HOME in .vigie-test/ of the checkout (ignored by git, readable
by the unprivileged Elasticsearch user), on free ports, with its own index prefix."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from elasticsearch import Elasticsearch

from tests.support.processes import ROOT
from vigie.services.processes import free_port
from conf.settings import Settings

TEST_HOME = ROOT / ".vigie-test"


def vigie_env(home: Path, **overrides: str) -> dict[str, str]:
    """The environment of a Vigie process in tests: private home, free ports, own index prefix."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("VIGIE_")}
    env.update(
        VIGIE_HOME=str(home),
        VIGIE_CACHE_DIR=str(ROOT / ".cache"),
        VIGIE_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        VIGIE_ES_URL=f"http://127.0.0.1:{free_port()}",
        VIGIE_INDEX_PREFIX=f"test-{uuid.uuid4().hex[:8]}",
        VIGIE_DEMO_PORT=str(free_port()),
        VIGIE_API_PORT=str(free_port()),
        VIGIE_LOG_LEVEL="INFO",
    )
    env.update(overrides)
    return env


def settings_from(env: dict[str, str]) -> Settings:
    values = {key[len("VIGIE_"):].lower(): value for key, value in env.items() if key.startswith("VIGIE_")}
    return Settings(**values)  # type: ignore[arg-type]


def drop_indices(es: Elasticsearch | str, prefix: str) -> None:
    """Delete every index and the index templates of ``prefix`` (by name: wildcard deletes are refused,
    ``destructive_requires_name``). ``es`` is a client or Elasticsearch's URL."""
    client = Elasticsearch(es, request_timeout=30) if isinstance(es, str) else es
    try:
        names = list(client.indices.get(index=f"{prefix}-*", allow_no_indices=True).keys())
        if names:
            client.indices.delete(index=",".join(names))
        client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-*")
    finally:
        if isinstance(es, str):
            client.close()
