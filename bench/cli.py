"""Start-up of the `vigie` command: `vigie --help` and `vigie search` as a person runs them.

    .venv/bin/python bench/cli.py [--runs 5]

1. Redis and Elasticsearch of its own (`vigie services start` under .vigie-bench/, free ports);
2. 200 analysed articles (French and English, topics, two feeds, one with a title in the registry)
   written through ``ArticleStore.index_batch``, the worker's write path;
3. each command below run ``--runs`` times as a fresh subprocess (the real `.venv/bin/vigie` entry
   point, stdout to a pipe), after one unmeasured warm-up run (file cache, .pyc files, the query
   files of the cache directory); the median wall time and CPU time (user + system) of each is
   printed with Elasticsearch's own ``took_ms`` for the searches, so the share of start-up is
   visible. With ``--baseline PATH`` another entry point (an older checkout) runs alternately with
   this one, run by run, and the ratio of the medians is printed.

Results also go to bench/results/cli.json, with the load average (the machine is shared: compare
figures of one run).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import VIGIE, bench_services, machine_load, median, write_result  # noqa: E402
from index.client import connect  # noqa: E402
from index.store import ArticleStore  # noqa: E402
from ingest.models import TopicMatch  # noqa: E402
from state.registry import registry_for  # noqa: E402
from tests.index.factories import analysed  # noqa: E402

WIRE = "http://wire.example.org/rss.xml"
WORLD = "http://world.example.com/atom"

COMMANDS: list[tuple[str, list[str]]] = [
    ("vigie --help", ["--help"]),
    ("vigie search Idleb", ["search", "Idleb"]),
    ("vigie search réfugiés --lang fr", ["search", "réfugiés", "--lang", "fr"]),
    ("vigie search --topic ceasefire", ["search", "--topic", "ceasefire"]),
    ("vigie search Idleb --json", ["search", "Idleb", "--json"]),
]


def _articles(count: int) -> list:  # type: ignore[type-arg]
    start = datetime.now(timezone.utc) - timedelta(days=10)
    items = []
    for number in range(count):
        french = number % 3 != 0
        items.append(analysed(
            f"cli-bench-{number:04d}",
            title=f"Idleb : les réfugiés attendent le cessez-le-feu ({number})" if french else f"Storm report {number}",
            text=("Des milliers de réfugiés ont fui Idleb, où un cessez-le-feu est espéré. " * 8) if french
            else ("Thousands of migrants were evacuated as the storm hit the coast. " * 8),
            lemmas=("du millier de réfugié avoir fuir idleb où un cessez-le-feu être espérer " * 8) if french
            else ("thousand of migrant be evacuate as the storm hit the coast " * 8),
            language="fr" if french else "en",
            topics=(TopicMatch("ceasefire", 0.8, ("cessez-le-feu",)),) if french else (),
            feed=WIRE if french else WORLD, published=start + timedelta(hours=number)))
    return items


_CPU: list[float] = []  # CPU seconds (user + system) of each timed command, in order


def _timed(args: list[str], env: dict[str, str], vigie: str = VIGIE) -> tuple[float, str]:
    """Wall seconds and stdout of one run; its CPU seconds are appended to ``_CPU`` (on a loaded
    machine they say what the command costs better than the wall time, which includes waiting)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([vigie, *args], env=env, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    _CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return elapsed, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-bytecode", action="store_true",
                        help="run with PYTHONDONTWRITEBYTECODE=1 (every module compiled at each start); by "
                             "default the commands run as installed, with their .pyc files")
    parser.add_argument("--vigie", default=VIGIE, help="the `vigie` entry point to time")
    parser.add_argument("--baseline", help="another `vigie` entry point (an older checkout's) timed alternately "
                                           "with --vigie, run by run, for a before/after ratio under the same load")
    options = parser.parse_args()
    with bench_services() as services:
        env = dict(services.env)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if options.no_bytecode:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        store = ArticleStore(connect(services.settings.es_url), services.settings.index_prefix)
        store.ensure_ready()
        store.index_batch(_articles(200), refresh=True)
        registry_for(services.settings).add(WIRE, title="Le Fil", poll_now=False)
        rows = []
        programs = [("this", options.vigie)] + ([("baseline", options.baseline)] if options.baseline else [])
        for label, args in COMMANDS:
            seconds: dict[str, list[float]] = {name: [] for name, _ in programs}
            cpu: dict[str, list[float]] = {name: [] for name, _ in programs}
            took: list[float] = []
            for _, program in programs:
                _timed(args, env, program)  # warm-up: file cache, .pyc files, query files; not measured
            for _ in range(options.runs):
                for name, program in programs:  # alternately: both see the same load
                    elapsed, out = _timed(args, env, program)
                    seconds[name].append(elapsed)
                    cpu[name].append(_CPU[-1])
                if args[0] == "search":
                    text = out if "--json" in args else _timed([*args, "--json"], env, options.vigie)[1]
                    took.append(json.loads(text)["took_ms"])
            row = {"command": label, "median_s": round(median(seconds["this"]), 3),
                   "runs_s": [round(value, 3) for value in seconds["this"]],
                   "cpu_median_s": round(median(cpu["this"]), 3),
                   "es_took_ms_median": median(took) if took else None, "load": machine_load()}
            line = (f"{label:<34} median {row['median_s']:.3f} s (runs {', '.join(f'{v:.2f}' for v in seconds['this'])}"
                    f"; CPU {row['cpu_median_s']:.3f} s)")
            if options.baseline:
                row["baseline_median_s"] = round(median(seconds["baseline"]), 3)
                row["baseline_runs_s"] = [round(value, 3) for value in seconds["baseline"]]
                row["ratio"] = round(row["median_s"] / row["baseline_median_s"], 3)
                row["baseline_cpu_median_s"] = round(median(cpu["baseline"]), 3)
                line += (f"  baseline {row['baseline_median_s']:.3f} s (CPU {row['baseline_cpu_median_s']:.3f} s)"
                         f"  ratio {row['ratio']:.2f}")
            if took:
                line += f"  Elasticsearch took {row['es_took_ms_median']} ms"
            rows.append(row)
            print(f"{line}  [{row['load']}]", flush=True)
    path = write_result("cli", {"runs": options.runs, "vigie": options.vigie, "baseline": options.baseline,
                                "bytecode": not options.no_bytecode, "commands": rows})
    print(f"results in {path}")


if __name__ == "__main__":
    main()
