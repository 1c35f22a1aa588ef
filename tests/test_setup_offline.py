"""README: "A second run downloads nothing and takes seconds." `scripts/setup.sh` run again on this
checkout (already set up: scripts/test.sh ran it before the tests) with every way of downloading
blocked: the package index and proxies point at a closed port, pip may not use an index, and `mvn`,
`apt-get`, `sudo`, `curl` and `wget` are replaced on PATH by stand-ins that record being called and
fail. It must succeed, call none of them, and say nothing was installed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.processes import ROOT

BLOCKED = ("mvn", "apt-get", "apt", "sudo", "curl", "wget", "pip", "pip3")
CLOSED = "http://127.0.0.1:9/"


def test_a_second_setup_run_downloads_and_installs_nothing(tmp_path: Path) -> None:
    calls = tmp_path / "calls.log"
    stand_ins = tmp_path / "bin"
    stand_ins.mkdir()
    for name in BLOCKED:
        script = stand_ins / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> {calls}\nexit 1\n')
        script.chmod(0o755)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("VIGIE_") and not key.lower().endswith("_proxy")}
    env.update(PATH=f"{stand_ins}:{os.environ['PATH']}", PIP_INDEX_URL=CLOSED, PIP_EXTRA_INDEX_URL=CLOSED,
               PIP_NO_INDEX="1", HTTP_PROXY=CLOSED, HTTPS_PROXY=CLOSED, ALL_PROXY=CLOSED, http_proxy=CLOSED,
               https_proxy=CLOSED, MAVEN_OPTS="-o")
    venv_stamp = ROOT / ".venv" / ".vigie-deps"
    pip_log = ROOT / ".venv" / "pip.log"
    before = {path: path.stat().st_mtime_ns for path in (venv_stamp, pip_log)}

    result = subprocess.run(["scripts/setup.sh", "--browser"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)

    assert result.returncode == 0, result.stderr
    assert not calls.exists(), calls.read_text()  # no mvn, apt-get, sudo, curl, wget or pip was run
    lines = result.stderr.splitlines()
    assert "setup: Python dependencies up to date (requirements.lock and pyproject.toml unchanged): " \
           "nothing installed" in lines
    (summary,) = result.stdout.splitlines()  # `vigie setup`'s one line: what it found, what it installed
    assert summary.startswith("setup: ready; ") and "; installed: nothing; " in summary, result.stdout
    for word in ("installing", "resolving", "unpacking"):
        assert word not in result.stderr.lower(), result.stderr
    assert {path: path.stat().st_mtime_ns for path in before} == before  # the venv was not touched
