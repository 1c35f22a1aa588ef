#!/usr/bin/env bash
# README "test": set up what the tests need, then run the whole suite (unit, integration, end to end).
# Integration tests start their own Redis and Elasticsearch through `vigie services` under a private
# VIGIE_HOME and free ports, so a running `vigie up` is not disturbed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser  # the browser tests drive Debian's chromium through chromedriver
.venv/bin/lint-imports  # every import points down the layers (pyproject.toml [tool.importlinter])
# Two processes (VIGIE_TEST_PROCESSES; 0 runs the suite in this one), each taking a whole test file
# at a time: the module fixtures (an API server, a three-node cluster) start once per file, and each
# process starts its own Redis and Elasticsearch (tests/conftest.py). Much of the suite waits on
# services starting and articles flowing, so two processes cut its time by about 40% even on two cores.
exec .venv/bin/python -m pytest -n "${VIGIE_TEST_PROCESSES:-2}" --dist loadfile "$@"
