"""A local Elasticsearch cluster: N nodes of the same distribution on loopback (VIGIE_ES_NODES,
`vigie services start --es-nodes 3`), for trying what a real cluster does on one machine.

Each node has its own HTTP port (the ports of VIGIE_ES_URL), transport port (VIGIE_ES_TRANSPORT_PORT
and the next ones), data, logs and config under ``VIGIE_HOME/elasticsearch-cluster/node-<i>``, and
the same heap as its -Xms and -Xmx. Every node lists every transport port as a seed host.
``cluster.initial_master_nodes`` is written only until the cluster has first formed: once Vigie has
seen it formed it records so (``formed`` beside the nodes) and rewrites each node's configuration
without it, as Elasticsearch asks ("locked into cluster UUID ... remove this setting" otherwise).

Three nodes take about 70 s to go green on a loaded 2-core machine and about 2.2 GB of memory.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from vigie.services.elasticsearch_server import CLUSTER_NAME, NAME, ElasticsearchService
from vigie.services.errors import ServiceError
from vigie.services.processes import wait_for


@dataclass(frozen=True)
class ClusterNode(ElasticsearchService):
    """One node of the local cluster. ``number`` counts from 1."""

    number: int = 1
    cluster_root: Path = Path(".")
    transport_port: int = 9310
    seed_ports: tuple[int, ...] = ()
    node_names: tuple[str, ...] = ()

    PORT_SETTING = "VIGIE_ES_URL (one URL per node, comma-separated)"

    @property
    def name(self) -> str:
        return node_name(self.number)

    @property
    def root(self) -> Path:
        return self.cluster_root / f"node-{self.number}"

    @property
    def pidfile(self) -> Path:
        return self.root / "run" / "elasticsearch.pid"

    @property
    def launcher_log(self) -> Path:
        return self.home / "logs" / f"elasticsearch-{self.name}-launcher.log"

    @property
    def formed_marker(self) -> Path:
        return self.cluster_root / "formed"

    def _node_settings(self) -> dict[str, object]:
        settings = super()._node_settings()
        del settings["discovery.type"]
        settings.update({
            "node.name": self.name,
            "transport.port": self.transport_port,
            "discovery.seed_hosts": [f"{self.host}:{port}" for port in self.seed_ports],
        })
        if not self.formed_marker.exists():
            settings["cluster.initial_master_nodes"] = list(self.node_names)
        return settings

    def write_config(self) -> None:
        self._write_config()


def node_name(number: int) -> str:
    return f"vigie-node-{number}"


class ElasticsearchCluster:
    """The nodes of the local cluster, started, stopped and reported as one service."""

    NAME = NAME
    DISPLAY = "Elasticsearch cluster"

    def __init__(self, nodes: list[ClusterNode], timeout: float) -> None:
        self.nodes = nodes
        self.timeout = timeout

    @property
    def host(self) -> str:
        return self.nodes[0].host

    @property
    def port(self) -> int:
        return self.nodes[0].port

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def health(self) -> dict[str, object] | None:
        """The cluster's health from the first node that answers."""
        for node in self.nodes:
            body = node._get("/_cluster/health")
            if body:
                return body
        return None

    def start(self) -> dict[str, object]:
        """Start every node that is not running (all at once: a node waits for a master before its
        launcher returns), then wait until the cluster is green with all of them."""
        missing = [node for node in self.nodes if node.pid() is None or not node.ready()]
        errors: list[ServiceError] = []

        def start(node: ClusterNode) -> None:
            try:
                node.start()
            except ServiceError as error:
                errors.append(error)

        threads = [threading.Thread(target=start, args=(node,), name=node.name) for node in missing]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        if not wait_for(self._green, self.timeout, interval=1.0):
            health = self.health() or {}
            raise ServiceError(
                NAME,
                f"the local Elasticsearch cluster ({len(self.nodes)} nodes on {', '.join(self.urls)}) was not "
                f"green with all its nodes within {self.timeout:.0f} s (status {health.get('status', 'unknown')}, "
                f"{health.get('number_of_nodes', 0)} nodes).",
                "Read the nodes' logs; each node needs its heap (VIGIE_ES_HEAP) free in memory. Raise "
                "VIGIE_SERVICE_TIMEOUT on a slow machine.",
                self.nodes[0].logfile,
            )
        self._record_formed()
        return self.status()

    def _green(self) -> bool:
        health = self.health()
        return bool(health) and health.get("status") == "green" and health.get("number_of_nodes") == len(self.nodes)

    def _record_formed(self) -> None:
        """The cluster has formed: from now on no node may bootstrap a new one."""
        marker = self.nodes[0].formed_marker
        if marker.exists():
            return
        marker.write_text(json.dumps({"nodes": [node.name for node in self.nodes]}) + "\n")
        for node in self.nodes:
            node.write_config()

    def stop(self) -> dict[str, object]:
        errors: list[ServiceError] = []
        for node in reversed(self.nodes):
            try:
                node.stop()
            except ServiceError as error:
                errors.append(error)
        if errors:
            raise errors[0]
        return self.status()

    def status(self) -> dict[str, object]:
        statuses = [node.status() for node in self.nodes]
        health = self.health()
        return {
            "service": NAME,
            "running": all(status["running"] for status in statuses),
            "pid": ",".join(str(status["pid"]) for status in statuses if status["pid"]) or None,
            "host": self.host,
            "port": self.port,
            "url": ",".join(self.urls),
            "data": str(self.nodes[0].cluster_root),
            "log": str(self.nodes[0].logfile),
            "version": next((status.get("version") for status in statuses if status.get("version")), None),
            "health": str(health.get("status")) if health else "down",
            "cluster": CLUSTER_NAME,
            "nodes": [{"name": node.name, "url": node.url, "transport_port": node.transport_port,
                       "pid": status["pid"], "running": status["running"], "health": status["health"]}
                      for node, status in zip(self.nodes, statuses)],
            "master": self._master(),
        }

    def _master(self) -> str | None:
        for node in self.nodes:
            try:
                with urllib.request.urlopen(node.url + "/_cat/master?h=node", timeout=3) as response:  # noqa: S310
                    return response.read().decode().strip() or None
            except (urllib.error.URLError, OSError):
                continue
        return None
