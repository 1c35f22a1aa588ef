"""The environment of the Vigie processes tests start, and cleaning up what a test indexed.

Every process runs under a private VIGIE_HOME in .vigie-test/ of the checkout (ignored by git, readable
by the unprivileged Elasticsearch user), on free ports, with its own index prefix."""

from __future__ import annotations

import os
import random
import uuid
from pathlib import Path

from elasticsearch import Elasticsearch

from tests.support.processes import ROOT
from conf.settings import Settings
from vigie.services.processes import port_in_use

TEST_HOME = ROOT / ".vigie-test"


#: The lowest port tried by ``quiet_ports``.
QUIET_LOW = 20000


def quiet_ports(count: int, consecutive: bool = False, avoid: frozenset[int] = frozenset()) -> list[int]:
    """``count`` ports nobody listens on, below the system's ephemeral range: a port the system picks
    (a bind to port 0, any outgoing connection) may be handed to a client socket of another test before
    the service that should bind it starts, and a node that starts tens of seconds after the ports were
    chosen (the nodes of a cluster, one after the other) then fails with "Address already in use".
    Below that range only explicit binds take a port. ``consecutive``: a run of ``count`` ports (the
    transport ports of a cluster's nodes)."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    pick = random.SystemRandom()
    for _ in range(200):
        if consecutive:
            base = pick.randrange(QUIET_LOW, low - count)
            ports = list(range(base, base + count))
        else:
            ports = pick.sample(range(QUIET_LOW, low), count)
        if not avoid.intersection(ports) and not any(port_in_use("127.0.0.1", port) for port in ports):
            return ports
    raise AssertionError(f"no {count} free ports between {QUIET_LOW} and {low}")


def vigie_env(home: Path, es_nodes: int = 1, **overrides: str) -> dict[str, str]:
    """The environment of a Vigie process in tests: private home, free ports below the ephemeral range
    (``quiet_ports``: all different, the Elasticsearch nodes' HTTP ports included), own index prefix."""
    redis_port, demo_port, api_port, *es_ports = quiet_ports(3 + es_nodes)
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
