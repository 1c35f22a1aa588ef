"""docker-compose.yml cannot run here (no Docker engine); this checks it agrees with the project."""

from __future__ import annotations

import re
from importlib.metadata import version

import yaml

from tests.support.processes import ROOT
from conf.settings import ELASTICSEARCH_VERSION, REDIS_IMAGE, Settings

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_the_five_services_are_there() -> None:
    assert {"redis", "elasticsearch", "worker", "scheduler", "api"} <= set(SERVICES)


def test_elasticsearch_is_the_official_image_of_the_local_version() -> None:
    image = SERVICES["elasticsearch"]["image"]
    assert image == f"docker.elastic.co/elasticsearch/elasticsearch:{ELASTICSEARCH_VERSION}"
    assert Settings().es_version == ELASTICSEARCH_VERSION  # the local default is the same version
    env = SERVICES["elasticsearch"]["environment"]
    assert env["discovery.type"] == "single-node"


def test_python_client_has_the_server_major() -> None:
    client_major = version("elasticsearch").split(".")[0]
    assert client_major == ELASTICSEARCH_VERSION.split(".")[0]
    lock = (ROOT / "requirements.lock").read_text()
    pinned = re.search(r"^elasticsearch==(\d+)\.", lock, re.MULTILINE)
    assert pinned and pinned.group(1) == client_major


def test_redis_is_the_documented_image_with_append_only_persistence() -> None:
    assert SERVICES["redis"]["image"] == REDIS_IMAGE
    assert "--appendonly" in SERVICES["redis"]["command"]


def test_worker_and_scheduler_are_built_from_the_dockerfile_and_configured_by_vigie_variables() -> None:
    fields = set(Settings.model_fields)
    for name in ("worker", "scheduler"):
        service = SERVICES[name]
        assert service["build"] == "."
        assert service["command"][:2] == ["vigie", name]
        for key in service["environment"]:
            assert key.startswith("VIGIE_") and key[len("VIGIE_"):].lower() in fields, key
        assert service["environment"]["VIGIE_REDIS_URL"].startswith("redis://redis:")
        assert service["environment"]["VIGIE_ES_URL"].startswith("http://elasticsearch:")
        assert set(service["depends_on"]) == {"redis", "elasticsearch"}
    assert (ROOT / "Dockerfile").is_file()
    assert "requirements.lock" in (ROOT / "Dockerfile").read_text()


def test_worker_can_be_scaled() -> None:
    worker = SERVICES["worker"]
    assert "container_name" not in worker and "ports" not in worker


def test_the_api_is_published_on_loopback_only_with_its_token_kept() -> None:
    api = SERVICES["api"]
    assert api["build"] == "." and api["command"] == ["vigie", "api"]
    env = api["environment"]
    fields = set(Settings.model_fields)
    for key in env:
        assert key.startswith("VIGIE_") and key[len("VIGIE_"):].lower() in fields, key
    port = env["VIGIE_API_PORT"]
    assert int(port) == Settings().api_port
    # Listening on every interface inside the container, published on the host's loopback alone.
    assert env["VIGIE_API_HOST"] == "0.0.0.0"
    assert api["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert set(env["VIGIE_API_ALLOWED_HOSTS"].split(",")) == {"localhost", "127.0.0.1"}
    # The generated token lives in VIGIE_HOME, on a volume: it survives a restart of the container.
    home = SERVICES["worker"]["environment"]["VIGIE_HOME"]
    assert env["VIGIE_HOME"] == home and any(volume.endswith(f":{home}") for volume in api["volumes"])
    assert env["VIGIE_REDIS_URL"].startswith("redis://redis:") and env["VIGIE_ES_URL"].startswith("http://elasticsearch:")
    assert set(api["depends_on"]) == {"redis", "elasticsearch"}


# --- the cluster profile (docs/scaling.md) ---------------------------------------------------------

NODES = ("es01", "es02", "es03")


def test_the_cluster_profile_has_three_nodes_that_find_each_other() -> None:
    for name in NODES:
        node = SERVICES[name]
        assert node["profiles"] == ["cluster"]
        assert node["image"] == f"docker.elastic.co/elasticsearch/elasticsearch:{ELASTICSEARCH_VERSION}"
        env = node["environment"]
        assert env["node.name"] == name and env["cluster.name"] == "vigie"
        assert "discovery.type" not in env  # not single-node
        assert set(env["discovery.seed_hosts"].split(",")) == set(NODES)
        assert set(env["cluster.initial_master_nodes"].split(",")) == set(NODES)
        heap = dict(re.findall(r"-Xm([sx])(\S+)", env["ES_JAVA_OPTS"]))
        assert heap["s"] == heap["x"], f"{name}: -Xms and -Xmx differ"
        assert env["xpack.security.enabled"] == "false"
        # Each node keeps its own data.
        assert node["volumes"] == [f"{name}-data:/usr/share/elasticsearch/data"]
        assert f"{name}-data" in COMPOSE["volumes"]
    heaps = {SERVICES[name]["environment"]["ES_JAVA_OPTS"] for name in NODES}
    assert len(heaps) == 1  # the same heap on every node


def test_vigie_on_the_cluster_knows_every_node_and_keeps_a_replica() -> None:
    fields = set(Settings.model_fields)
    for name in ("worker-cluster", "scheduler-cluster", "api-cluster"):
        service = SERVICES[name]
        assert service["profiles"] == ["cluster"] and service["build"] == "."
        assert service["command"] == ["vigie", name.split("-")[0]]
        env = service["environment"]
        for key in env:
            assert key.startswith("VIGIE_") and key[len("VIGIE_"):].lower() in fields, key
        urls = Settings(es_url=env["VIGIE_ES_URL"]).es_urls
        assert urls == tuple(f"http://{node}:9200" for node in NODES)
        assert int(env["VIGIE_ES_REPLICAS"]) >= 1
        assert set(service["depends_on"]) == {"redis", *NODES}
    # The single-node stack is untouched: it starts without a profile.
    for name in ("redis", "elasticsearch", "worker", "scheduler", "api"):
        assert "profiles" not in SERVICES[name]
