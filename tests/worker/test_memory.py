"""A pool process gives the memory a batch freed back to the system (worker.memory): measured on this
process's own pages, in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import json
from pathlib import Path
from worker.memory import release_free_memory

def private_mb():
    fields = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        fields[name.strip()] = int(rest.split()[0])
    return (fields["Private_Clean"] + fields["Private_Dirty"]) / 1024

start = private_mb()
blocks = [bytearray(4096) for _ in range(25_000)]   # about 100 MB in the heap, as a batch allocates
keep = bytearray(4096)                               # allocated last: the freed blocks are not the heap's top
held = private_mb()
del blocks
freed = private_mb()
released = release_free_memory()
print(json.dumps({"start": start, "held": held, "freed": freed, "trimmed": private_mb(), "released": released}))
"""


def test_memory_freed_by_a_batch_goes_back_to_the_system() -> None:
    result = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True,
                            check=True, timeout=60)
    sizes = json.loads(result.stdout)
    assert sizes["released"] is True  # glibc: the C library of the machines Vigie runs on
    assert sizes["held"] - sizes["start"] > 90
    assert sizes["freed"] - sizes["start"] > 90, sizes  # freed, yet still the process's: what glibc does
    assert sizes["trimmed"] - sizes["start"] < 20, sizes  # given back
