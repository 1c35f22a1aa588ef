"""The local cluster's node configurations, without starting a node: distinct ports and folders, every
transport port a seed host, the bootstrap list only until the cluster has formed."""

from __future__ import annotations

from pathlib import Path

import pytest

from conf.settings import Settings
from vigie.services import ElasticsearchCluster, ElasticsearchService, ServiceError, embedded_services


def _cluster(home: Path, **values: object) -> ElasticsearchCluster:
    values = {"es_url": "http://127.0.0.1:9210", **values}
    settings = Settings(home=home, es_nodes=3, es_transport_port=9310, **values)
    _, elasticsearch = embedded_services(settings)
    assert isinstance(elasticsearch, ElasticsearchCluster)
    return elasticsearch


def test_three_nodes_with_their_own_ports_and_folders(tmp_path: Path) -> None:
    cluster = _cluster(tmp_path)
    configs = [node._node_settings() for node in cluster.nodes]
    assert [c["http.port"] for c in configs] == [9210, 9211, 9212]
    assert [c["transport.port"] for c in configs] == [9310, 9311, 9312]
    assert len({c["path.data"] for c in configs}) == 3 and len({c["path.logs"] for c in configs}) == 3
    assert len({node.pidfile for node in cluster.nodes}) == 3
    assert len({c["node.name"] for c in configs}) == 3 and {c["cluster.name"] for c in configs} == {"vigie"}
    for config in configs:
        assert config["discovery.seed_hosts"] == ["127.0.0.1:9310", "127.0.0.1:9311", "127.0.0.1:9312"]
        assert "discovery.type" not in config and config["network.host"] == "127.0.0.1"
        assert config["xpack.security.enabled"] is False
    assert {node.heap for node in cluster.nodes} == {"512m"}  # -Xms and -Xmx both take it


def test_initial_master_nodes_only_until_the_cluster_has_formed(tmp_path: Path) -> None:
    cluster = _cluster(tmp_path)
    names = ["vigie-node-1", "vigie-node-2", "vigie-node-3"]
    assert all(node._node_settings()["cluster.initial_master_nodes"] == names for node in cluster.nodes)
    cluster.nodes[0].formed_marker.parent.mkdir(parents=True)
    cluster._record_formed()  # what start() does once the cluster is green with all its nodes
    for node in cluster.nodes:
        assert "cluster.initial_master_nodes" not in node._node_settings()
        assert "cluster.initial_master_nodes" not in (node.config_dir / "elasticsearch.yml").read_text()


def test_listed_urls_give_the_ports_and_a_short_list_is_refused(tmp_path: Path) -> None:
    listed = _cluster(tmp_path, es_url="http://127.0.0.1:9201,http://127.0.0.1:9301,http://127.0.0.1:9401")
    assert [node.port for node in listed.nodes] == [9201, 9301, 9401]
    with pytest.raises(ServiceError, match="VIGIE_ES_URL lists 2 URLs"):
        embedded_services(Settings(home=tmp_path, es_nodes=3, es_url="http://127.0.0.1:9201,http://127.0.0.1:9202"))
    _, single = embedded_services(Settings(home=tmp_path))
    assert type(single) is ElasticsearchService and single._node_settings()["discovery.type"] == "single-node"
