#!/usr/bin/env bash
# README "run": set everything up, then run the whole service in the foreground on its embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/vigie up "$@"
