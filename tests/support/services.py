"""The environment of the Vigie processes tests start, and cleaning up what a test indexed.

Every process runs under a private VIGIE_HOME in .vigie-test/ of the checkout (ignored by git, readable
by the unprivileged Elasticsearch user), on free ports, with its own index prefix."""

from __future__ import annotations

import os
import socket
import uuid
from contextlib import ExitStack
from pathlib import Path

from elasticsearch import Elasticsearch

from tests.support.processes import ROOT
from conf.settings import Settings

TEST_HOME = ROOT / ".vigie-test"


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` ports nobody listens on right now, all different: the sockets are held open together
    while the system picks them (picked one after the other, the system may hand the same free port
    out twice, and two services of one test then meet on it)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for sock in sockets:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]


def vigie_env(home: Path, es_nodes: int = 1, **overrides: str) -> dict[str, str]:
    """The environment of a Vigie process in tests: private home, free ports (all different, the
    Elasticsearch nodes' HTTP ports included), own index prefix."""
    redis_port, demo_port, api_port, *es_ports = free_ports(3 + es_nodes)
    env = {key: value for key, value in os.environ.items() if not key.startswith("VIGIE_")}
    env.update(
        VIGIE_HOME=str(home),
        VIGIE_CACHE_DIR=str(ROOT / ".cache"),
        VIGIE_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        VIGIE_ES_URL=",".join(f"http://127.0.0.1:{port}" for port in es_ports),
        VIGIE_INDEX_PREFIX=f"test-{uuid.uuid4().hex[:8]}",
        VIGIE_DEMO_PORT=str(demo_port),
        VIGIE_API_PORT=str(api_port),
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
