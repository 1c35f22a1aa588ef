"""`vigie api --host/--port`, and the Host headers it answers (VIGIE_API_ALLOWED_HOSTS): on loopback only
loopback names; on every interface (0.0.0.0, reached here through 127.0.0.1 only) the names listed,
or any name when none is listed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import psutil
import pytest

from tests.support.processes import VIGIE, Background
from vigie.services.processes import free_port

pytestmark = pytest.mark.integration


def listening(process: Background) -> set[tuple[str, int]]:
    """The TCP addresses the `vigie api` process listens on."""
    return {(conn.laddr.ip, conn.laddr.port) for conn in psutil.Process(process.pid).net_connections(kind="tcp")
            if conn.status == psutil.CONN_LISTEN}


def status(port: int, host: str) -> int:
    with httpx.Client(timeout=10) as client:
        return client.get(f"http://127.0.0.1:{port}/health", headers={"Host": host}).status_code


@pytest.fixture()
def api(env: dict[str, str]) -> Iterator[Callable[..., Background]]:
    started: list[Background] = []

    def start(*args: str, ready_host: str, port: int, **overrides: str) -> Background:
        process = Background("api", [VIGIE, "api", *args], {**env, "VIGIE_LANGUAGES": "fr,en", **overrides}).start()
        started.append(process)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert process.process is not None
            if process.process.poll() is not None:
                raise AssertionError(f"`vigie api` exited:\n{process.output()[-4000:]}")
            try:
                status(port, ready_host)
                return process
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"`vigie api` did not answer on {port}:\n{process.output()[-4000:]}")

    yield start
    for process in started:
        process.stop(timeout=30)


def test_host_and_port_options_choose_where_it_listens_and_loopback_answers_loopback_names(
        api: Callable[..., Background]) -> None:
    port, configured = free_port(), free_port()
    process = api("--host", "127.0.0.1", "--port", str(port), ready_host="localhost", port=port,
                  VIGIE_API_HOST="0.0.0.0", VIGIE_API_PORT=str(configured))
    assert listening(process) == {("127.0.0.1", port)}  # the options win over VIGIE_API_HOST/PORT
    assert f"url=http://127.0.0.1:{port}/" in process.output()
    assert status(port, "localhost") == 200 and status(port, f"127.0.0.1:{port}") == 200
    assert status(port, "evil.example") == 400  # a name pointed at this machine by someone else


def test_every_interface_with_allowed_hosts_answers_only_the_names_listed(api: Callable[..., Background]) -> None:
    port = free_port()
    process = api("--host", "0.0.0.0", "--port", str(port), ready_host="vigie.example", port=port,
                  VIGIE_API_ALLOWED_HOSTS="vigie.example,news.example")
    assert listening(process) == {("0.0.0.0", port)}
    assert status(port, f"vigie.example:{port}") == 200 and status(port, "news.example") == 200
    assert status(port, "evil.example") == 400
    assert status(port, f"127.0.0.1:{port}") == 400 and status(port, "localhost") == 400  # not listed


def test_every_interface_without_allowed_hosts_answers_any_name(api: Callable[..., Background]) -> None:
    port = free_port()
    process = api("--host", "0.0.0.0", "--port", str(port), ready_host="anything.example", port=port)
    assert listening(process) == {("0.0.0.0", port)}
    assert status(port, "anything.example") == 200 and status(port, f"127.0.0.1:{port}") == 200
