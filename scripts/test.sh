#!/usr/bin/env bash
# README "test": set up what the tests need, then run the whole suite (unit, integration, end to end).
# Integration tests start their own Redis and Elasticsearch through `vigie services` under a private
# VIGIE_HOME and free ports, so a running `vigie up` is not disturbed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser  # the browser tests drive Debian's chromium through chromedriver
.venv/bin/lint-imports  # every import points down the layers (pyproject.toml [tool.importlinter])
exec .venv/bin/python -m pytest "$@"
