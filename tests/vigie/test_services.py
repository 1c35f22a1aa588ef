"""`vigie services` and `vigie setup` against the real Redis and Elasticsearch, and their faults."""

from __future__ import annotations

import shutil
import socket
import stat
from pathlib import Path

import pytest
import redis
from elasticsearch import Elasticsearch

from tests.support.services import TEST_HOME, vigie_env
from tests.support.processes import run_vigie, vigie_json
from conf.settings import ELASTICSEARCH_VERSION

pytestmark = [pytest.mark.integration, pytest.mark.long(100)]


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


@pytest.fixture()
def private_home(request: pytest.FixtureRequest):
    home = TEST_HOME / f"svc-{request.node.name[:40]}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    yield home
    shutil.rmtree(home, ignore_errors=True)


def test_status_reports_versions_ports_and_health(service_env: dict[str, str]) -> None:
    statuses = vigie_json(["services", "status"], service_env)
    by_name = {status["service"]: status for status in statuses}
    assert by_name["redis"]["health"] == "ok"
    assert by_name["redis"]["version"].startswith("7.")
    assert by_name["redis"]["appendonly"] is True
    assert by_name["redis"]["url"] == service_env["VIGIE_REDIS_URL"]
    assert by_name["elasticsearch"]["health"] in ("green", "yellow")
    assert by_name["elasticsearch"]["version"] == ELASTICSEARCH_VERSION
    assert by_name["elasticsearch"]["url"] == service_env["VIGIE_ES_URL"]
    for status in statuses:
        assert status["running"] is True and status["pid"] > 0
        assert Path(status["data"]).is_relative_to(Path(service_env["VIGIE_HOME"]))


def test_start_is_idempotent_and_data_survives_stop_and_start(private_home: Path) -> None:
    env = vigie_env(private_home)
    try:
        first = vigie_json(["services", "start"], env, timeout=300)
        pids = {status["service"]: status["pid"] for status in first}
        again = vigie_json(["services", "start"], env, timeout=300)
        assert {status["service"]: status["pid"] for status in again} == pids  # nothing started twice

        es = Elasticsearch(env["VIGIE_ES_URL"])
        es.indices.create(index="survivor")
        es.index(index="survivor", id="1", document={"t": "still here"}, refresh=True)
        redis.Redis.from_url(env["VIGIE_REDIS_URL"]).rpush("survivor", "queued article")

        stopped = vigie_json(["services", "stop"], env, timeout=120)
        assert all(not status["running"] and status["health"] == "down" for status in stopped)
        down = run_vigie(["services", "status"], env)
        assert down.returncode == 1  # status says so when a service is down

        run_vigie(["services", "start"], env, timeout=300, check=True)
        assert Elasticsearch(env["VIGIE_ES_URL"]).get(index="survivor", id="1")["_source"] == {"t": "still here"}
        assert redis.Redis.from_url(env["VIGIE_REDIS_URL"]).lrange("survivor", 0, -1) == [b"queued article"]
    finally:
        run_vigie(["services", "stop"], env, timeout=120)


def _occupied_port() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock


def test_redis_port_in_use_is_one_clear_paragraph(private_home: Path) -> None:
    with _occupied_port() as sock:
        port = sock.getsockname()[1]
        env = vigie_env(private_home, VIGIE_REDIS_URL=f"redis://127.0.0.1:{port}/0")
        result = run_vigie(["services", "start"], env)
    assert result.returncode == 1
    _no_traceback(result.stderr)
    assert f"port {port}" in result.stderr and "already in use" in result.stderr
    assert "VIGIE_REDIS_URL" in result.stderr  # says what to do


def test_elasticsearch_port_in_use_is_one_clear_paragraph(private_home: Path) -> None:
    with _occupied_port() as sock:
        port = sock.getsockname()[1]
        env = vigie_env(private_home, VIGIE_ES_URL=f"http://127.0.0.1:{port}")
        try:
            result = run_vigie(["services", "start"], env, timeout=300)
        finally:
            run_vigie(["services", "stop"], env, timeout=120)
    assert result.returncode == 1
    _no_traceback(result.stderr)
    assert "\nelasticsearch: port" in result.stderr  # the paragraph names the service first
    assert f"port {port}" in result.stderr and "VIGIE_ES_URL" in result.stderr


def _fake_jdk(root: Path, version: str) -> Path:
    java = root / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f'#!/bin/sh\necho \'openjdk version "{version}" 2019-01-15\' >&2\n')
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return root


def test_java_too_old_names_the_version_and_the_remedy(private_home: Path, tmp_path: Path) -> None:
    env = vigie_env(private_home, VIGIE_JAVA_HOME=str(_fake_jdk(tmp_path / "jdk11", "11.0.2")))
    try:
        result = run_vigie(["services", "start"], env, timeout=120)
    finally:
        run_vigie(["services", "stop"], env, timeout=120)
    assert result.returncode == 1
    _no_traceback(result.stderr)
    assert "Java 17 or newer" in result.stderr and "Java 11" in result.stderr
    assert str(tmp_path / "jdk11") in result.stderr


def test_java_missing_names_where_it_looked(private_home: Path, tmp_path: Path) -> None:
    env = vigie_env(private_home, VIGIE_JAVA_HOME=str(tmp_path / "nowhere"))
    try:
        result = run_vigie(["services", "start"], env, timeout=120)
    finally:
        run_vigie(["services", "stop"], env, timeout=120)
    assert result.returncode == 1
    _no_traceback(result.stderr)
    assert "does not hold a working JDK" in result.stderr and "VIGIE_JAVA_HOME" in result.stderr


def test_elasticsearch_that_fails_to_start_shows_its_log(private_home: Path) -> None:
    # A heap the JVM refuses: the node dies during start, as it would on a bad setting.
    env = vigie_env(private_home, VIGIE_ES_HEAP="1k")
    try:
        result = run_vigie(["services", "start"], env, timeout=300)
    finally:
        run_vigie(["services", "stop"], env, timeout=120)
    assert result.returncode == 1
    _no_traceback(result.stderr)
    assert "Elasticsearch failed to start" in result.stderr
    assert "Last lines of" in result.stderr  # the log tail is there
    assert "heap" in result.stderr.lower()


def test_redis_not_installable_says_what_to_do(private_home: Path, tmp_path: Path) -> None:
    # A PATH with no redis-server and an apt-get that cannot install it.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    apt = fake_bin / "apt-get"
    apt.write_text("#!/bin/sh\necho 'E: Unable to locate package redis-server' >&2\nexit 100\n")
    apt.chmod(0o755)
    env = vigie_env(private_home, PATH=str(fake_bin))
    result = run_vigie(["setup"], env, timeout=120)
    assert result.returncode == 1
    _no_traceback(result.stderr)
    assert "redis" in result.stderr and "apt-get install" in result.stderr
    assert "Unable to locate package redis-server" in result.stderr  # apt's own words, for the reader
