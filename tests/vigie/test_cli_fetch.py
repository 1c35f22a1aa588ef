"""`vigie fetch URL --json`, the real command in a subprocess, against every case of the torture server.

Each case checks the JSON contract (``ok``, ``error.kind``), the exit code, that stderr holds no
traceback, and the child's peak resident memory: its ``VmHWM`` (the high-water mark of its own memory
since exec), sampled until it exits. Not ``ru_maxrss``: on Linux a child forked from this test process
inherits the parent's high-water mark, so after another test loaded the spaCy models here it would
report gigabytes the child never used.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ingest.torture_server import FRENCH_TITLE, TortureServer, closed_port
from tests.support.processes import VIGIE

PEAK_RSS_LIMIT_MB = 300
TOTAL_TIMEOUT = "3"  # seconds: the drip case must fail fast here


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    peak_rss_mb: float

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)


def run_fetch(*args: str, timeout: float = 60.0, **settings: str) -> Run:
    env = {key: value for key, value in os.environ.items() if not key.startswith("VIGIE_")}
    env["VIGIE_TOTAL_TIMEOUT"] = TOTAL_TIMEOUT
    env.update(settings)
    with tempfile.TemporaryDirectory() as workdir, \
            open(Path(workdir) / "out", "w+b") as out, open(Path(workdir) / "err", "w+b") as err:
        child = subprocess.Popen([VIGIE, "fetch", *args], stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                 env=env, cwd=workdir)
        peak_kb = 0
        deadline = time.monotonic() + timeout
        while child.poll() is None and time.monotonic() < deadline:
            peak_kb = max(peak_kb, _high_water_kb(child.pid))
            time.sleep(0.005)
        if child.poll() is None:
            child.kill()
        code = child.wait()
        out.seek(0)
        err.seek(0)
        return Run(code, out.read().decode(), err.read().decode(), peak_kb / 1024)


def _high_water_kb(pid: int) -> int:
    """The process's peak resident set so far (0 once it has become a zombie)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@pytest.fixture(scope="module")
def server() -> Iterator[TortureServer]:
    server = TortureServer().start()
    yield server
    server.stop()


def check(run: Run, *, ok: bool, kind: str | None, url: str) -> dict[str, Any]:
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout
    assert run.peak_rss_mb < PEAK_RSS_LIMIT_MB, f"peak RSS {run.peak_rss_mb:.0f} MB"
    data = run.json
    assert set(data) >= {"feed", "ok", "status", "error", "articles"}
    assert data["feed"] == url and data["ok"] is ok
    if ok:
        assert run.code == 0 and data["error"] is None
    else:
        assert run.code == 1 and data["articles"] == []
        assert data["error"]["kind"] == kind and url in data["error"]["message"]
    return data


FAILURES = [
    ("/status/404", "http-404"),
    ("/status/500", "server-error"),
    ("/status/429", "rate-limited"),
    ("/redirect/loop-a", "too-many-redirects"),
    ("/redirect/file", "unsupported-scheme"),
    ("/drip", "timeout"),
    ("/drip-headers", "timeout"),
    ("/big", "too-large"),
    ("/big-chunked", "too-large"),
    ("/gzip-bomb", "too-large"),
    ("/html", "not-a-feed"),
    ("/html-as-rss", "not-a-feed"),
    ("/empty", "not-a-feed"),
    ("/garbage", "not-a-feed"),
    ("/json", "not-a-feed"),
    ("/path-body", "not-a-feed"),
    ("/feed/brotli", "unsupported-encoding"),
    ("/redirect/metadata", "blocked-address"),
]


@pytest.mark.parametrize(("path", "kind"), FAILURES)
def test_hostile_servers_end_in_a_clear_error(server: TortureServer, path: str, kind: str) -> None:
    url = server.url(path)
    check(run_fetch(url, "--json"), ok=False, kind=kind, url=url)


def test_closed_port(server: TortureServer) -> None:
    url = f"http://127.0.0.1:{closed_port()}/feed.xml"
    data = check(run_fetch(url, "--json"), ok=False, kind="connection-refused", url=url)
    assert data["status"] is None


def test_private_addresses_are_refused_when_configured(server: TortureServer) -> None:
    url = server.url("/feed/rss20")
    before = len(server.requests_to("/feed/rss20"))
    run = run_fetch(url, "--json", VIGIE_FETCH_PRIVATE_ADDRESSES="false")
    data = check(run, ok=False, kind="blocked-address", url=url)
    assert "VIGIE_FETCH_PRIVATE_ADDRESSES" in data["error"]["message"] and data["status"] is None
    assert len(server.requests_to("/feed/rss20")) == before  # no connection was made


def test_file_url_is_refused_without_reading_it() -> None:
    run = run_fetch("file:///etc/passwd", "--json")
    check(run, ok=False, kind="unsupported-scheme", url="file:///etc/passwd")
    assert "root:" not in run.stdout


def test_a_good_feed(server: TortureServer) -> None:
    url = server.url("/feed/rss20")
    data = check(run_fetch(url, "--json"), ok=True, kind=None, url=url)
    assert data["status"] == 200 and len(data["articles"]) == 3
    article = data["articles"][0]
    assert article["title"] == "Item 1" and article["url"] == "http://news.example.org/articles/1.html"
    assert article["published"] == "2024-05-05T23:00:00+00:00" and article["summary"] == "<p>Summary 1</p>"
    assert len(article["id"]) == 32


def test_unchanged_feed_is_a_304(server: TortureServer) -> None:
    url = server.url("/feed/conditional")
    first = check(run_fetch(url, "--json"), ok=True, kind=None, url=url)
    assert len(first["articles"]) == 3
    again = check(run_fetch(url, "--json", "--etag", '"v1-abc"'), ok=True, kind=None, url=url)
    assert again["status"] == 304 and again["not_modified"] is True and again["articles"] == []


@pytest.mark.parametrize("path", ["/billion-laughs", "/xxe", "/xxe-parameter"])
def test_xml_attacks_are_defused(server: TortureServer, path: str) -> None:
    url = server.url(path)
    run = run_fetch(url, "--json")
    data = check(run, ok=True, kind=None, url=url)
    assert len(data["articles"]) == 1
    assert "root:" not in run.stdout and "lollollol" not in run.stdout and len(run.stdout) < 5_000
    assert server.requests_to("/evil.dtd") == []


@pytest.mark.parametrize("path", ["/charset/cp1252-undeclared", "/charset/latin1-declared",
                                  "/charset/header-lies-utf8", "/charset/header-lies-latin1", "/charset/utf16"])
def test_french_accents(server: TortureServer, path: str) -> None:
    url = server.url(path)
    data = check(run_fetch(url, "--json"), ok=True, kind=None, url=url)
    assert data["articles"][0]["title"] == FRENCH_TITLE


def test_recoverable_and_messy_feeds(server: TortureServer) -> None:
    truncated = check(run_fetch(server.url("/truncated"), "--json"), ok=True, kind=None, url=server.url("/truncated"))
    assert [a["title"] for a in truncated["articles"]] == ["Whole one", "Whole two"] and truncated["warnings"]
    dups = check(run_fetch(server.url("/duplicates"), "--json"), ok=True, kind=None, url=server.url("/duplicates"))
    assert len(dups["articles"]) == 3
    relative = check(run_fetch(server.url("/relative"), "--json"), ok=True, kind=None, url=server.url("/relative"))
    assert relative["articles"][0]["url"] == server.url("/articles/1.html")


def test_hostile_markup_never_reaches_the_output(server: TortureServer) -> None:
    url = server.url("/hostile")
    run = run_fetch(url, "--json")
    summary = check(run, ok=True, kind=None, url=url)["articles"][0]["summary"]
    for forbidden in ("<script", "onerror", "onclick", "javascript:", "<iframe", "data:image"):
        assert forbidden not in summary


def test_a_feed_near_the_size_limit_stays_within_memory(server: TortureServer) -> None:
    url = server.url("/feed/big-valid")
    data = check(run_fetch(url, "--json", timeout=120), ok=True, kind=None, url=url)
    assert len(data["articles"]) >= 4_000


def test_text_output_and_failure_line(server: TortureServer) -> None:
    ok = run_fetch(server.url("/feed/atom"))
    assert ok.code == 0 and "Torture Atom: 2 article(s), HTTP 200" in ok.stdout and "Premier" in ok.stdout
    failed = run_fetch(server.url("/status/404"))
    assert failed.code == 1 and failed.stdout == ""
    assert failed.stderr.startswith("vigie fetch: ") and "[http-404]" in failed.stderr


@pytest.mark.parametrize("args", [[], ["--json"], ["example.com/feed.xml", "--json"], ["http://", "--json"],
                                  ["https://example.org/feed", "--no-such-option"]])
def test_usage_errors_exit_2_without_traceback(args: list[str]) -> None:
    run = run_fetch(*args)
    assert run.code == 2 and run.stdout == "" and "Traceback" not in run.stderr
    assert "Usage:" in run.stderr or "Error:" in run.stderr
