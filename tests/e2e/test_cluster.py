"""A 3-node Elasticsearch on loopback (`vigie services start` with VIGIE_ES_NODES=3), as a person would
run it: the elected master is killed with `kill -9` while 2,000 articles flow through the real
pipeline (a real worker); none is lost or duplicated (counted by id), a new master is elected, and the
cluster is green again once the node is restarted by `vigie services start`.

Three nodes take about 70 s (up to 2 min under load) to go green and about 2.2 GB of memory: this is
the one module that starts them, once."""

from __future__ import annotations

import os
import re
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch

from conf.settings import Settings
from tests.support.feeds import make_story
from tests.support.pipeline import feed_items, send
from tests.support.processes import run_vigie, start_worker, vigie_json, wait_until
from tests.support.quiescence import settled
from tests.support.services import TEST_HOME, quiet_ports, settings_from, vigie_env
from worker.app import create_app

pytestmark = [pytest.mark.integration, pytest.mark.long(240)]

NODES = 3
ARTICLES = 2000


@pytest.fixture(scope="module")
def cluster_env() -> Iterator[dict[str, str]]:
    home = TEST_HOME / f"cluster-{os.getpid()}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = vigie_env(home, es_nodes=NODES, VIGIE_ES_NODES=str(NODES), VIGIE_ES_REPLICAS="1",
                    VIGIE_SERVICE_TIMEOUT="300")
    # The nodes start one after the other: their HTTP and transport ports are chosen where no
    # outgoing connection can take them meanwhile (``quiet_ports``).
    http = quiet_ports(NODES)
    env["VIGIE_ES_URL"] = ",".join(f"http://127.0.0.1:{port}" for port in http)
    env["VIGIE_ES_TRANSPORT_PORT"] = str(quiet_ports(NODES, consecutive=True, avoid=frozenset(http))[0])
    began = time.monotonic()
    result = run_vigie(["services", "start", "--json"], env, timeout=900)
    if result.returncode != 0:
        run_vigie(["services", "stop"], env, timeout=300)
        pytest.fail(f"`vigie services start` with {NODES} Elasticsearch nodes failed:\n{result.stderr}")
    print(f"FIGURES cluster: {NODES} nodes green in {time.monotonic() - began:.0f} s "
          f"(load average {os.getloadavg()[0]:.1f})")
    yield env
    run_vigie(["services", "stop"], env, timeout=300)
    shutil.rmtree(home, ignore_errors=True)


def _cluster_status(env: dict[str, str]) -> dict:  # type: ignore[type-arg]
    statuses = vigie_json(["services", "status", "--json"], env, check=False)
    return next(status for status in statuses if status["service"] == "elasticsearch")


def _count(es: Elasticsearch, alias: str) -> int:
    """Articles searchable now; -1 while the index or a shard is not there (just created, or moving to
    its replica after a node died)."""
    try:
        if not es.indices.exists_alias(name=alias):
            return -1
        return int(es.count(index=alias)["count"])
    except (ApiError, TransportError):
        return -1


def _ids(es: Elasticsearch, alias: str) -> list[str]:
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, size=ARTICLES + 500, source=False, query={"match_all": {}})["hits"]["hits"]
    return [hit["_id"] for hit in hits]


def test_the_cluster_forms_with_seed_hosts_equal_heaps_and_bootstraps_once(cluster_env: dict[str, str]) -> None:
    status = _cluster_status(cluster_env)
    assert status["health"] == "green" and len(status["nodes"]) == NODES
    assert status["master"] in {node["name"] for node in status["nodes"]}
    transport = sorted(node["transport_port"] for node in status["nodes"])
    root = Path(status["data"])
    assert (root / "formed").is_file()
    for number in range(1, NODES + 1):
        config = (root / f"node-{number}" / "config" / "elasticsearch.yml").read_text()
        # Every transport port is a seed host; the bootstrap list is gone once the cluster formed.
        assert all(f"127.0.0.1:{port}" in config for port in transport)
        assert "cluster.initial_master_nodes" not in config and "discovery.type" not in config
    es = Elasticsearch(settings_from(cluster_env).es_urls, request_timeout=30)
    jvm = es.nodes.info(metric="jvm")["nodes"].values()
    assert len(jvm) == NODES
    for node in jvm:
        assert node["jvm"]["mem"]["heap_init_in_bytes"] == node["jvm"]["mem"]["heap_max_in_bytes"]


def test_master_killed_while_2000_articles_flow_loses_and_duplicates_nothing(cluster_env: dict[str, str]) -> None:
    settings: Settings = settings_from(cluster_env)
    es = Elasticsearch(list(settings.es_urls), request_timeout=30, max_retries=NODES, retry_on_timeout=True)
    client = redis.Redis.from_url(settings.redis_url)
    alias = f"{settings.index_prefix}-articles"
    items = feed_items([make_story(n, words=60, prefix="cluster") for n in range(ARTICLES)])
    app = create_app(settings)
    worker = start_worker(cluster_env, concurrency=2, name="cluster-worker")
    try:
        send(app, items)
        assert wait_until(lambda: _count(es, alias) >= 100, timeout=600), worker.output()[-4000:]
        # The articles index got VIGIE_ES_REPLICAS: a copy of every shard on another node.
        index_settings = es.indices.get_settings(index=alias)
        assert {body["settings"]["index"]["number_of_replicas"] for body in index_settings.values()} == {"1"}

        before = _cluster_status(cluster_env)
        master = before["master"]
        victim = next(node for node in before["nodes"] if node["name"] == master)
        os.kill(int(victim["pid"]), signal.SIGKILL)
        killed_at = time.monotonic()
        at_kill = _count(es, alias)
        assert at_kill < ARTICLES, "the stream ended before the kill; the test proves nothing"

        survivors = [url for url in settings.es_urls if url != victim["url"]]
        watcher = Elasticsearch(survivors, request_timeout=10)

        def new_master() -> bool:
            try:
                elected = watcher.cat.master(format="json")
                return bool(elected) and elected[0]["node"] != master
            except Exception:  # noqa: BLE001 (no master yet)
                return False

        assert wait_until(new_master, timeout=120)
        elected_after = time.monotonic() - killed_at

        wait_until(lambda: _count(watcher, alias) >= ARTICLES, timeout=1200, interval=2)
        settled(client, lambda: _count(watcher, alias), timeout=600)
        ids = _ids(watcher, alias)
        assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} articles indexed twice"
        assert set(ids) == {item.article_id for item in items}, (
            f"{ARTICLES - len(set(ids))} articles lost\n{worker.output()[-4000:]}")
        retried = len(re.findall(r"retry", worker.output()))

        # The killed node comes back through the same command and the cluster returns to green.
        began = time.monotonic()
        restarted = run_vigie(["services", "start", "--json"], cluster_env, timeout=900)
        assert restarted.returncode == 0, restarted.stderr
        assert wait_until(lambda: _cluster_status(cluster_env)["health"] == "green", timeout=300)
        green_after = time.monotonic() - began
        after = _cluster_status(cluster_env)
        assert all(node["running"] for node in after["nodes"]) and len(after["nodes"]) == NODES
        # Every Vigie index (articles, stories, alerts, entity merges...) has its copy on another node.
        replicas = {name: body["settings"]["index"]["number_of_replicas"]
                    for name, body in es.indices.get_settings(index=f"{settings.index_prefix}-*").items()}
        assert len(replicas) >= 4 and set(replicas.values()) == {"1"}, replicas
        log = Path(after["data"]) / f"node-{victim['name'].rsplit('-', 1)[1]}" / "logs" / "vigie.log"
        assert "remove this setting" not in log.read_text(errors="replace")
        assert sorted(_ids(es, alias)) == sorted(ids)
        print(f"FIGURES cluster kill -9 of the master {master}: {at_kill}/{ARTICLES} indexed at the kill, new "
              f"master in {elected_after:.1f} s, {len(set(ids))}/{ARTICLES} indexed, 0 lost, "
              f"{len(ids) - len(set(ids))} duplicated, {retried} retry log lines; green {green_after:.0f} s after "
              f"the restart (load average {os.getloadavg()[0]:.1f})")
    finally:
        worker.stop(timeout=60)
        logs = TEST_HOME / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        (logs / "test_cluster-worker.log").write_text(worker.output())
        app.close()
