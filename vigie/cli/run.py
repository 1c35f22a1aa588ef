"""`vigie worker` and `vigie scheduler`: the two long-running processes, one at a time (for compose)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import click

from conf.logs import configure_logging
from conf.settings import load_settings
from vigie.supervisor import story_consumer_command, worker_command


@click.command()
@click.option("--concurrency", type=click.IntRange(1, 64), help="Worker processes (default VIGIE_WORKER_CONCURRENCY).")
@click.option("-n", "--name", "node_name", metavar="NAME",
              help="The worker's node name on the broker (Celery's --hostname, e.g. host-a@%h); unique per "
                   "worker host. Default: vigie-<pid>@<host name>.")
def worker(concurrency: int | None, node_name: str | None) -> None:
    """Run a Celery worker that analyses and indexes articles (scale by running several, on one
    machine or many, all on the same VIGIE_REDIS_URL: see docs/scaling.md), and its story consumer
    (one process assigning stories, started once the worker is ready)."""
    settings = load_settings()
    command = worker_command(settings, concurrency, node_name)
    if not settings.stories:
        os.execv(command[0], command)
    sys.exit(_worker_and_story_consumer(command, story_consumer_command(settings)))


def _worker_and_story_consumer(command: list[str], stories: list[str]) -> int:
    """Run the article worker, then the story consumer once the worker says it is ready (so that
    "ready." still means the article worker is); SIGTERM or SIGINT stops both (a warm shutdown
    each, together); either ending ends both. Returns the article worker's exit code."""
    main = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    ready = threading.Event()

    def relay() -> None:
        assert main.stdout is not None
        for line in main.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            if " ready." in line:
                ready.set()
        ready.set()  # the worker ended before it was ready: wake the waiting thread

    reader = threading.Thread(target=relay, daemon=True)
    reader.start()
    stopping = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        stopping.set()
        ready.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ready.wait()
    consumer = None if stopping.is_set() or main.poll() is not None else subprocess.Popen(stories)
    while not stopping.wait(0.5):
        if main.poll() is not None or (consumer is not None and consumer.poll() is not None):
            break
    running = [process for process in (main, consumer) if process is not None and process.poll() is None]
    for process in running:  # both asked at once: each finishes its own tasks, neither waits for the other
        process.send_signal(signal.SIGTERM)
    for process in running:
        process.wait()
    reader.join(5)
    if consumer is not None and consumer.returncode and not stopping.is_set():
        return consumer.returncode  # the story consumer died: say so
    return main.returncode if main.returncode is not None else 1


@click.command()
def scheduler() -> None:
    """Run the poller: fetch each feed when due and queue its new articles."""
    from worker.poller import run_poller  # Celery: 0.47 s of every command's start-up (measured)

    settings = load_settings()
    configure_logging(settings.log_level)
    run_poller(settings)
