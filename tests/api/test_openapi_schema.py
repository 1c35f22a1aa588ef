"""Schemathesis against a live `vigie api`: requests generated from /openapi.json, valid and invalid,
through every phase (examples, coverage, fuzzing, stateful), every answer checked: no 5xx, statuses,
content types, headers and bodies as the schema documents them, invalid bodies refused.

Two checks are narrowed, for reasons the schema cannot express:
- ``positive_data_acceptance`` (schema-valid input must succeed): ``q`` is a query language and
  ``since``/``until`` durations or dates, which JSON Schema cannot describe; a schema-valid string
  that does not parse rightly gets a 400 or 422;
- ``negative_data_rejection`` on search, facets and volume: a query string has no types, so "null" or an
  "object" sent as a query parameter arrives as the text it is, which is a valid filter value.
The live notification stream is left out (it never ends by itself).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.api import ApiServer, api_env, start_api
from tests.support.services import drop_indices

pytestmark = [pytest.mark.integration, pytest.mark.long(120)]

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
EXAMPLES = 100  # per operation and phase: about 1,700 requests, about a minute here
SEED = 20261125
CONFIG = """
[checks]
positive_data_acceptance.enabled = false

[[operations]]
include-path-regex = "^/api/(search|facets|volume)$"
checks.negative_data_rejection.enabled = false
"""


@pytest.fixture(scope="module")
def fuzzed_api(service_env: dict[str, str]) -> Iterator[ApiServer]:
    # Thousands of writes in a minute: the write limit (tested in test_security.py) would turn the
    # checks of authentication and validation into 429s.
    server = start_api(api_env(service_env, VIGIE_API_WRITE_RATE="1000000", VIGIE_API_WRITE_BURST="100000"))
    yield server
    server.stop()
    drop_indices(server.settings.es_url, server.settings.index_prefix)


def test_every_answer_conforms_to_the_schema(fuzzed_api: ApiServer, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        SCHEMATHESIS, "--config-file", str(config), "run", f"{fuzzed_api.base_url}/openapi.json",
        "--header", f"Authorization: Bearer {fuzzed_api.token}",
        "--max-examples", str(EXAMPLES), "--seed", str(SEED), "--workers", "2",
        "--request-timeout", "30", "--suppress-health-check", "all", "--max-failures", "20",
        "--output-truncate", "true", "--no-color",
        # An open stream answers until the client leaves: every valid request would end in the
        # request timeout. Its parameters and errors are tested in test_notification_stream.py.
        "--exclude-path", "/api/notifications/stream",
    ]
    status, report = _run(command, tmp_path)
    if status != 0 and _only_runtime_errors(report):
        # A "Runtime Error" is the tool's own exception, not an answer of the API (those are failures,
        # network errors or unhealthy-API errors, never retried here). It happened once in CI, under
        # load, in the coverage phase. The run is repeated once, and must then be clean.
        first = _section(report, "ERRORS")
        status, report = _run(command, tmp_path)
        assert status == 0, f"first run:\n{first}\nsecond run:\n{_explain(report)}"
    assert status == 0, _explain(report)
    assert " passed" in report and "failed" not in report.split("SUMMARY")[-1], report[-5000:]
    server_log = fuzzed_api.process.output()
    assert "Traceback" not in server_log and "api.unexpected_error" not in server_log, server_log[-5000:]


def _run(command: list[str], cwd: Path) -> tuple[int, str]:
    """Schemathesis's exit status and its report."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=cwd)
    return result.returncode, result.stdout + result.stderr


def _section(report: str, name: str) -> str:
    """The text of one of the report's sections ("=== ERRORS ===" up to the next "=== ... ===")."""
    head = f" {name} ="
    if head not in report:
        return ""
    body = report.split(head, 1)[1].split("\n", 1)[-1]
    for line in body.splitlines():
        if line.startswith("=====") and line.strip("= "):
            return body.split(line, 1)[0][:10000]
    return body[:10000]


def _only_runtime_errors(report: str) -> bool:
    summary = report.split(" SUMMARY ", 1)[-1]
    return ("Runtime Error" in summary and "Failures:" not in summary
            and "Network Error" not in summary and "Unhealthy API" not in summary)


def _explain(report: str) -> str:
    return "\n".join(part for part in (_section(report, "FAILURES"), _section(report, "ERRORS"),
                                        report[-4000:]) if part)
