"""The table of hostile feed cases: what `vigie fetch --json` does with each, and its peak memory.

    .venv/bin/python bench/hostile_feeds.py

Runs the real command against the torture server of the test suite (tests/ingest/torture_server.py),
one case at a time, and prints kind, exit code, articles, warnings and peak RSS (VmHWM) per case.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.ingest.torture_server import TortureServer, closed_port  # noqa: E402
from tests.vigie.test_cli_fetch import FAILURES, run_fetch  # noqa: E402

OK_CASES = ["/billion-laughs", "/xxe", "/xxe-parameter", "/charset/cp1252-undeclared", "/charset/latin1-declared",
            "/charset/header-lies-utf8", "/charset/header-lies-latin1", "/charset/utf16", "/truncated",
            "/duplicates", "/relative", "/hostile", "/feed/rss20", "/feed/atom", "/feed/big-valid"]


def main() -> None:
    server = TortureServer().start()
    try:
        urls = [server.url(path) for path, _ in FAILURES] + [server.url(path) for path in OK_CASES]
        urls += [f"http://127.0.0.1:{closed_port()}/feed.xml", "file:///etc/passwd"]
        print("| case | ok | kind | exit | articles | warnings | peak RSS |")
        print("|---|---|---|---|---|---|---|")
        for url in urls:
            run = run_fetch(url, "--json", timeout=120)
            data = run.json
            kind = data["error"]["kind"] if data["error"] else "-"
            case = url.split("/", 3)[-1] if url.startswith("http") else url
            print(f"| `{case}` | {data['ok']} | {kind} | {run.code} | {len(data['articles'])} | "
                  f"{len(data.get('warnings', []))} | {run.peak_rss_mb:.0f} MB |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
