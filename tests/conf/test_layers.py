"""conf/ is the bottom layer: importing it loads nothing else of Vigie."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import json, sys
import conf.limits, conf.logs, conf.settings
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_conf_loads_no_other_vigie_package() -> None:
    result = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True,
                            check=True, timeout=60)
    roots = {name.split(".")[0] for name in json.loads(result.stdout)}
    assert "conf" in roots
    assert roots & {"ingest", "index", "state", "worker", "vigie"} == set()
