#!/usr/bin/env bash
# Refresh the screenshots of docs/screenshots/ from the browser tests.
# The tests write them into .vigie-test/screenshots/ (or $VIGIE_TEST_SCREENSHOTS), never into the tracked
# docs/, so a test run leaves the checkout clean. This copies what the last run took; with --run it first
# runs the browser test files (they need `scripts/setup.sh --browser`).
set -euo pipefail
cd "$(dirname "$0")/.."
source="${VIGIE_TEST_SCREENSHOTS:-.vigie-test/screenshots}"
if [[ "${1:-}" == "--run" ]]; then
  VIGIE_TEST_SCREENSHOTS="$source" .venv/bin/python -m pytest -q -p no:cacheprovider \
    tests/api/test_web_page.py tests/api/test_alerts_page.py tests/api/test_stories_page.py \
    tests/api/test_volume_and_entity_pages.py tests/api/test_phone_width.py
fi
shopt -s nullglob
shots=("$source"/*.png)
if (( ${#shots[@]} == 0 )); then
  echo "screenshots: none in $source; run the browser tests first (scripts/screenshots.sh --run)" >&2
  exit 1
fi
mkdir -p docs/screenshots
for shot in "${shots[@]}"; do
  cp "$shot" docs/screenshots/
  echo "screenshots: docs/screenshots/$(basename "$shot")"
done
