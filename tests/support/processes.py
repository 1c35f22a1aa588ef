"""Running the project's own commands and processes from tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from worker.queues import STORY_QUEUE

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
VIGIE = str(BIN / "vigie")


def run_vigie(args: list[str], env: dict[str, str], timeout: float = 180, check: bool = False,
              input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `vigie` command; the result carries stdout, stderr and the exit code."""
    result = subprocess.run([VIGIE, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=timeout, input=input)
    if check and result.returncode != 0:
        raise AssertionError(f"vigie {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def vigie_json(args: list[str], env: dict[str, str], timeout: float = 180, check: bool = True) -> Any:
    """What `vigie ARGS --json` printed, parsed (the command must succeed unless ``check`` is False)."""
    split = args.index("--") if "--" in args else len(args)  # options before a "--" that ends them
    result = run_vigie([*args[:split], "--json", *args[split:]], env, timeout=timeout, check=check)
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise AssertionError(f"vigie {' '.join(args)} --json printed no JSON ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}") from None


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    """Whether ``predicate`` became true within ``timeout`` seconds (asked every ``interval``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@dataclass
class Background:
    """A long-running child (worker, poller, `vigie up`) whose output is kept for assertions."""

    name: str
    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=5000))
    _reader: threading.Thread | None = None

    def start(self) -> Background:
        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, needle: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(needle in line for line in list(self.lines)):
                return True
            if self.process is not None and self.process.poll() is not None:
                return any(needle in line for line in list(self.lines))
            time.sleep(0.2)
        return False

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def kill_group(self) -> None:
        """SIGKILL the child and everything it started (a worker's pool processes too)."""
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(30)

    def stop(self, timeout: float = 60) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill_group()
        if self._reader is not None:
            self._reader.join(5)
        return self.process.returncode


def start_worker(env: dict[str, str], concurrency: int = 1, name: str = "worker") -> Background:
    """A real `celery worker` process (through `vigie worker`), ready to take tasks."""
    worker = Background(name, [VIGIE, "worker", "--concurrency", str(concurrency)], env).start()
    if not worker.wait_for_line("ready.", timeout=120):
        output = worker.output()
        worker.stop()
        raise AssertionError(f"the Celery worker did not become ready:\n{output[-4000:]}")
    return worker


@dataclass(frozen=True)
class WorkerTree:
    """The processes of a running `vigie worker`: with stories on, the `vigie worker` process is the
    parent of the article worker (a Celery prefork worker on the article queues) and of the story
    consumer (a solo Celery worker on the story queue); with stories off, it is the article worker."""

    top: int
    article_worker: int | None
    pool: tuple[int, ...]
    story_consumer: int | None


def worker_tree(pid: int) -> WorkerTree:
    """The processes under ``pid`` (a `vigie worker`), told apart by their Celery ``--queues``; empty
    parts for processes gone or not started yet."""
    article_worker = story_consumer = None
    pool: tuple[int, ...] = ()
    try:
        top = psutil.Process(pid)
        for process in (top, *top.children()):
            args = process.cmdline()
            if "celery" not in " ".join(args) or "--queues" not in args:
                continue
            if args[args.index("--queues") + 1] == STORY_QUEUE:
                story_consumer = process.pid
            else:
                article_worker = process.pid
                pool = tuple(sorted(child.pid for child in process.children()))
    except psutil.NoSuchProcess:
        pass
    return WorkerTree(pid, article_worker, pool, story_consumer)


def start_scheduler(env: dict[str, str], name: str = "scheduler") -> Background:
    """The real `vigie scheduler` (feed poller and alert clock), once it has started polling."""
    scheduler = Background(name, [VIGIE, "scheduler"], env).start()
    if not scheduler.wait_for_line("poller.started", timeout=60):
        output = scheduler.output()
        scheduler.stop()
        raise AssertionError(f"`vigie scheduler` did not start:\n{output[-4000:]}")
    return scheduler


def task_results(worker: Background, task: str) -> list[str]:
    """What a real worker's ``task`` runs returned, in order, from Celery's "succeeded" log lines."""
    marker = f"Task {task}["
    return [line.rsplit(": ", 1)[-1] for line in worker.output().splitlines()
            if marker in line and " succeeded in " in line]
