"""`vigie up --detach` runs the service in the background and `vigie down` stops all of it; the
worker's Celery banner and warnings stay out of Vigie's log."""

from __future__ import annotations

import re

import httpx
import psutil
import pytest

from tests.support.processes import run_vigie, wait_until
from vigie.services.processes import free_port

pytestmark = pytest.mark.integration


def _page_served(env: dict[str, str]) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{env['VIGIE_API_PORT']}/", timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


def test_detach_then_down_stops_the_whole_tree(service_env: dict[str, str]) -> None:
    env = {**service_env, "VIGIE_API_PORT": str(free_port())}
    home = service_env["VIGIE_HOME"]
    started = run_vigie(["up", "--detach", "--no-demo"], env, timeout=600)
    try:
        assert started.returncode == 0, started.stderr
        # It returned, ready: the pid, the log and the page are named.
        found = re.search(r"vigie runs in the background \(ready\): pid (\d+), log (\S+), web page (\S+);",
                          started.stdout)
        assert found, started.stdout
        pid, log = int(found.group(1)), found.group(2)
        assert log == f"{home}/vigie.log" and found.group(3) == f"http://127.0.0.1:{env['VIGIE_API_PORT']}/"
        with open(f"{home}/vigie.pid") as pid_file:
            assert int(pid_file.read()) == pid
        supervisor = psutil.Process(pid)
        children = supervisor.children(recursive=True)
        assert any("celery" in " ".join(child.cmdline()) for child in children)
        assert wait_until(lambda: _page_served(env), timeout=120), "the detached API never answered"

        again = run_vigie(["up", "--detach", "--no-demo"], env, timeout=120)
        assert again.returncode == 1 and f"already runs on {home} (pid {pid})" in again.stderr + again.stdout

        stopped = run_vigie(["down"], env, timeout=300)
        assert stopped.returncode == 0 and f"vigie (pid {pid}) stopped" in stopped.stdout, stopped.stderr
    finally:
        run_vigie(["down"], env, timeout=300)
    assert not supervisor.is_running() or supervisor.status() == psutil.STATUS_ZOMBIE
    assert all(not child.is_running() or child.status() == psutil.STATUS_ZOMBIE for child in children)
    with open(log, encoding="utf-8") as output:
        text = output.read()
    assert "vigie.ready" in text and "vigie.stopped" in text and "child.stopped child=worker" in text
    # Celery's banner ("-------------- celery@host v5...", "[queues]") is not in Vigie's log, and no
    # line is loose text: every line but a traceback's is a Vigie key=value line.
    assert "celery@" not in text and "[queues]" not in text and "[config]" not in text
    assert not [line for line in text.splitlines() if line.strip() and not re.match(r"^\d{4}-\d\d-\d\dT\S+ \w+ ", line)
                and not line.startswith((" ", "\t", "Traceback"))], text[-3000:]
    # Stopped: a second down says so, and the pid file is gone.
    after = run_vigie(["down"], env, timeout=60)
    assert after.returncode == 0 and "vigie is not running" in after.stdout
