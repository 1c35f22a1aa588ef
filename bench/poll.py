"""Polling throughput: 500 local feeds through Vigie's own poll path, against bare feedparser.

    .venv/bin/python bench/poll.py [--feeds 500] [--items 20] [--threads 8] [--repeat 3]

A separate process serves the feeds on 127.0.0.1 (HTTP/1.1 keep-alive, an ETag per feed), so the
server does not share the poller's interpreter lock. Then, in this process:

1. first poll: every feed answers 200 with ``--items`` items, through ``ingest.poll.fetch_feed`` on a
   thread pool like the poller's (``--threads``, default 8, as ``poll_threads``). The per-host limit
   is raised to the thread count for the bench, since all 500 feeds live on one host (127.0.0.1);
   the default of 2 would measure that limit, not Vigie;
2. second poll: the same with the ETags from the first, so every feed answers 304;
3. baselines on the same bytes, in the same run, single-threaded: bare ``feedparser.parse`` (its
   defaults: its own sanitiser on), and Vigie's ``parse_feed`` alone (no network), which shows what
   the defusing, repair pass, nh3 sanitising and identities cost or save against bare feedparser.

Each figure is the median of ``--repeat`` runs. Prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import platform
import socket
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import feedparser  # noqa: E402

from conf.limits import FetchLimits  # noqa: E402
from ingest.feeds import parse_feed  # noqa: E402
from ingest.fetch import Fetcher  # noqa: E402
from ingest.poll import FeedPoll, fetch_feed  # noqa: E402


def feed_bytes(feed: int, items: int) -> bytes:
    """A realistic news feed: HTML summaries, tracking parameters, a relative link, dates."""
    entries = []
    for n in range(items):
        entries.append(
            f"<item><title>Feed {feed} story {n}: élections, budget &amp; climat</title>"
            f"<link>https://news{feed % 7}.example.org/{2024 - n % 3}/story-{feed}-{n}.html?utm_source=rss"
            f"&amp;utm_medium=feed</link>"
            f'<guid isPermaLink="false">feed-{feed}-story-{n}</guid>'
            f"<pubDate>Mon, {1 + n % 28:02d} Apr 2024 {n % 24:02d}:15:00 +0200</pubDate>"
            f"<description>&lt;p&gt;Le conseil a adopté le texte par {n} voix. &lt;a href=\"/related/{n}\"&gt;"
            f"Lire aussi&lt;/a&gt; &lt;img src=\"https://cdn.example.org/{n}.jpg\" alt=\"photo\"&gt; Une phrase "
            f"de plus pour que le résumé ait la taille d’un vrai résumé de dépêche.&lt;/p&gt;</description>"
            f"</item>"
        )
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Bench feed {feed}'
            f"</title><link>https://news{feed % 7}.example.org/</link><language>fr</language>"
            + "".join(entries) + "</channel></rss>").encode()


def serve(feeds: int, items: int, ready: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    bodies = [feed_bytes(feed, items) for feed in range(feeds)]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def setup(self) -> None:
            super().setup()
            # http.server sends headers and body in two writes; with Nagle on, a kept-alive connection
            # then waits for the client's delayed ACK (40 ms) on every response. Real servers don't.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:  # noqa: N802
            feed = int(self.path.rsplit("/", 1)[-1])
            etag = f'"bench-{feed}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = bodies[feed]
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ready.put(server.server_port)
    server.serve_forever()


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median seconds of ``repeat`` runs, and the last run's result."""
    times = []
    result: object = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    ready: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=serve, args=(args.feeds, args.items, ready), daemon=True)
    server.start()
    port = ready.get(timeout=60)
    urls = [f"http://127.0.0.1:{port}/feed/{feed}" for feed in range(args.feeds)]
    bodies = [feed_bytes(feed, args.items) for feed in range(args.feeds)]
    limits = FetchLimits(user_agent="Vigie/0.1 (bench)", per_host_concurrency=args.threads)

    try:
        with Fetcher(limits) as fetcher, ThreadPoolExecutor(max_workers=args.threads) as pool:
            def first_poll() -> list[FeedPoll]:
                return list(pool.map(lambda url: fetch_feed(fetcher, url), urls))

            first_s, polls = timed(first_poll, args.repeat)
            first = list(polls)  # type: ignore[call-overload]
            assert all(p.ok and len(p.items) == args.items for p in first), "first poll failed"
            etags = [p.etag for p in first]

            def second_poll() -> list[FeedPoll]:
                return list(pool.map(lambda pair: fetch_feed(fetcher, pair[0], etag=pair[1]), zip(urls, etags)))

            second_s, polls = timed(second_poll, args.repeat)
            assert all(p.ok and p.not_modified for p in polls), "second poll was not all 304"  # type: ignore[attr-defined]

            fetch_only_s, _ = timed(lambda: list(pool.map(fetcher.fetch, urls)), args.repeat)
    finally:
        server.terminate()

    bare_s, _ = timed(lambda: [feedparser.parse(io.BytesIO(body)) for body in bodies], args.repeat)
    bare_nosan_s, _ = timed(lambda: [feedparser.parse(io.BytesIO(body), sanitize_html=False,
                                                      resolve_relative_uris=False) for body in bodies], args.repeat)
    ours_s, _ = timed(lambda: [parse_feed(body, feed_url=url) for body, url in zip(bodies, urls)], args.repeat)

    n, items = args.feeds, args.feeds * args.items
    rows = [
        ("first poll, 200 (fetch_feed, %d threads)" % args.threads, first_s, items),
        ("second poll, 304 (fetch_feed, %d threads)" % args.threads, second_s, 0),
        ("fetch only, 200, no parsing (%d threads)" % args.threads, fetch_only_s, items),
        ("bare feedparser.parse, same bytes, 1 thread", bare_s, items),
        ("feedparser.parse, its sanitiser off, 1 thread", bare_nosan_s, items),
        ("Vigie parse_feed, same bytes, 1 thread", ours_s, items),
    ]
    print(f"{n} feeds x {args.items} items, {sum(map(len, bodies)) / n / 1024:.1f} KiB each; "
          f"median of {args.repeat}; Python {platform.python_version()}, feedparser {feedparser.__version__}")
    print()
    print("| what | seconds | feeds/s | items/s |")
    print("| --- | ---: | ---: | ---: |")
    for label, seconds, count in rows:
        print(f"| {label} | {seconds:.2f} | {n / seconds:,.0f} | {count / seconds:,.0f} |" if count else
              f"| {label} | {seconds:.2f} | {n / seconds:,.0f} | - |")
    print()
    print(f"first poll / bare feedparser: {bare_s / first_s:.2f}x the feeds/s of a bare parse of the same bytes; "
          f"parse_feed alone: {bare_s / ours_s:.2f}x")


if __name__ == "__main__":
    main()
