"""ingest/ is pure transformation: importing every one of its modules loads no queue, index or store
client (the layers are also checked by `lint-imports`; this checks what is really loaded)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import json, pkgutil, importlib, sys
import ingest
names = [info.name for info in pkgutil.walk_packages(ingest.__path__, "ingest.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "loaded": sorted(sys.modules)}))
"""


def test_importing_ingest_loads_neither_celery_elasticsearch_nor_redis() -> None:
    result = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True,
                            check=True, timeout=120)
    report = json.loads(result.stdout)
    assert "ingest.fetch" in report["modules"] and "ingest.analyze" in report["modules"]  # all were imported
    roots = {name.split(".")[0] for name in report["loaded"]}
    assert roots & {"celery", "kombu", "elasticsearch", "elastic_transport", "redis"} == set()
    assert roots & {"index", "state", "worker", "vigie"} == set()
