"""`vigie up`: the whole service in the foreground, and a clean stop on Ctrl-C or SIGTERM.

`vigie up --detach` runs the same supervisor in the background (its own session, output appended to
``$VIGIE_HOME/vigie.log``) and returns once it logs ``vigie.ready``; every supervisor writes its pid
to ``$VIGIE_HOME/vigie.pid``, which `vigie down` reads to stop it with SIGTERM, the same clean stop as
Ctrl-C. The Celery worker runs with ``--quiet``: no banner in the middle of Vigie's log, and its
warnings (running as root) come out as Vigie log lines (``worker.app`` captures them).

Order of start: Redis and Elasticsearch (unless already running), the articles index, the demo feed,
then the Celery worker, the story consumer (worker.story_tasks), the poller and the HTTP API (`vigie api`)
as child processes. Order of stop:
the children (the worker finishes or gives back its current task), the demo feed, then the services
this run started.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from conf.logs import log_event
from conf.settings import Settings
from index.client import connect
from index.store import ArticleStore
from state.registry import registry_for
from vigie.api.token import api_token
from vigie.demo_feed import DemoFeedServer
from vigie.services import ServiceError, embedded_services
from vigie.services.processes import port_in_use, port_owner, terminate
from worker.queues import STORY_CONSUMER, STORY_QUEUE, WORKER_QUEUES

log = logging.getLogger("vigie.up")

CHILD_STOP_SECONDS = 60.0
PID_FILE = "vigie.pid"
LOG_FILE = "vigie.log"
#: How long `vigie down` waits for the supervisor to stop its children and services before killing the tree.
DOWN_SECONDS = CHILD_STOP_SECONDS * 3 + 60


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen[bytes] | None = None
    #: Re-emit what the child prints on stdout as Vigie log lines (Celery's console messages, such as
    #: "worker: Warm shutdown (MainProcess)"); its log lines go to stderr, untouched.
    relay_stdout: bool = False

    def start(self, env: dict[str, str]) -> None:
        # A session of its own: Ctrl-C in the terminal reaches only the supervisor, which then stops
        # each child once, in order, instead of every process receiving SIGINT at the same moment.
        self.process = subprocess.Popen(self.command, env=env, start_new_session=True,
                                        stdout=subprocess.PIPE if self.relay_stdout else None)
        log_event(log, "child.started", child=self.name, pid=self.process.pid)
        if self.relay_stdout:
            threading.Thread(target=self._relay, name=f"{self.name}-stdout", daemon=True).start()

    def _relay(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in self.process.stdout:
            text = " ".join(raw.decode("utf-8", "replace").split())
            if text:
                log_event(log, "child.output", child=self.name, text=text)

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        clean = terminate(self.process.pid, timeout=CHILD_STOP_SECONDS)
        self.process.wait()
        log_event(log, "child.stopped", child=self.name, pid=self.process.pid,
                  exit_code=self.process.returncode, clean=clean)


def worker_command(settings: Settings, concurrency: int | None = None, node_name: str | None = None) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "worker.app", "--quiet", "worker",
        "--queues", ",".join(WORKER_QUEUES),
        "--concurrency", str(concurrency or settings.worker_concurrency),
        "--loglevel", settings.log_level,
        "--hostname", node_name or f"vigie-{os.getpid()}@%h",
        "--without-gossip", "--without-mingle",
    ]


def story_consumer_command(settings: Settings) -> list[str]:
    """The story consumer: one process (solo pool, no models) taking the story queue in order."""
    return [
        sys.executable, "-m", "celery", "-A", "worker.app", "--quiet", "worker",
        "--queues", STORY_QUEUE, "--pool", "solo", "--concurrency", "1",
        "--loglevel", settings.log_level,
        "--hostname", f"{STORY_CONSUMER}-{os.getpid()}@%h",
        "--without-gossip", "--without-mingle",
    ]


def scheduler_command() -> list[str]:
    return [sys.executable, "-m", "vigie", "scheduler"]


def api_command() -> list[str]:
    return [sys.executable, "-m", "vigie", "api"]


@dataclass
class Supervisor:
    settings: Settings
    demo: bool = True
    children: list[Child] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _started_services: list = field(default_factory=list)  # type: ignore[type-arg]
    _demo_server: DemoFeedServer | None = None

    def request_stop(self, signum: int, _frame: object) -> None:
        log_event(log, "vigie.stopping", signal=signal.Signals(signum).name)
        self._stop.set()

    def run(self) -> int:
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGTERM, self.request_stop)
        began = time.monotonic()
        code = 0
        claim_pid_file(self.settings)
        try:
            self._start_services()
            if self._stop.is_set():
                return 130
            index = ArticleStore(connect(self.settings.es_url), self.settings.index_prefix).ensure_ready()
            log_event(log, "index.ready", index=index)
            if self.demo and self.settings.demo_feed:
                self._start_demo()
            web, token_source = self._api_address()
            env = dict(os.environ)
            children = [Child("worker", worker_command(self.settings), relay_stdout=True)]
            if self.settings.stories:
                children.append(Child("stories", story_consumer_command(self.settings), relay_stdout=True))
            for child in (*children, Child("scheduler", scheduler_command()), Child("api", api_command())):
                child.start(env)
                self.children.append(child)
            log_event(log, "vigie.ready", seconds=round(time.monotonic() - began, 1),
                      search="vigie search Idleb", open=web, api_token=token_source, stop="Ctrl-C")
            code = self._watch()
        finally:
            self._shutdown()
        return code

    def _start_services(self) -> None:
        for service in embedded_services(self.settings):
            status = service.status()
            if status["health"] in ("ok", "green", "yellow"):
                log_event(log, "service.already_running", service=status["service"], port=status["port"])
                continue
            log_event(log, "service.starting", service=status["service"], port=status["port"])
            began = time.monotonic()
            status = service.start()
            self._started_services.append(service)
            log_event(log, "service.ready", service=status["service"], version=status["version"],
                      port=status["port"], seconds=round(time.monotonic() - began, 1))

    def _start_demo(self) -> None:
        port = self.settings.demo_port
        if port_in_use("127.0.0.1", port):
            owner = port_owner(port)
            raise ServiceError(
                "demo feed",
                f"port {port} on 127.0.0.1 is already in use" + (f" by {owner}" if owner else "") + ".",
                "Stop that program, choose another port with VIGIE_DEMO_PORT, or run without the demo "
                "feed (VIGIE_DEMO_FEED=false or `vigie up --no-demo`).",
            )
        self._demo_server = DemoFeedServer(port).start()
        feed = registry_for(self.settings).add(self._demo_server.feed_url, name="Vigie demo wire",
                                               interval=60.0, exist_ok=True, poll_now=True)
        log_event(log, "demo.serving", feed=feed.url)

    def _api_address(self) -> tuple[str, str]:
        """The web page's URL and where its write token is, after checking the port is free."""
        host, port = self.settings.api_host, self.settings.api_port
        probe = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        if port_in_use(probe, port):
            owner = port_owner(port)
            raise ServiceError(
                "api",
                f"port {port} on {host} is already in use" + (f" by {owner}" if owner else "") + ".",
                "Stop that program (another `vigie up`?) or choose another port with VIGIE_API_PORT.",
            )
        token = api_token(self.settings)
        shown = probe if ":" not in probe else f"[{probe}]"
        return f"http://{shown}:{port}/", token.source

    def _watch(self) -> int:
        while not self._stop.wait(0.5):
            for child in self.children:
                code = child.exited()
                if code is not None:
                    log_event(log, "child.died", logging.ERROR, child=child.name, exit_code=code,
                              hint="see its log lines above; `vigie up` stops everything")
                    return 1
        return 0

    def _shutdown(self) -> None:
        for child in reversed(self.children):
            child.stop()
        if self._demo_server is not None:
            self._demo_server.stop()
        for service in reversed(self._started_services):
            try:
                status = service.stop()
                log_event(log, "service.stopped", service=status["service"])
            except ServiceError as error:
                log_event(log, "service.stop_failed", logging.ERROR, error=error.paragraph())
        release_pid_file(self.settings)
        log_event(log, "vigie.stopped")


# -- in the background: the pid file, `vigie up --detach` and `vigie down` -------------------------------


def pid_path(settings: Settings) -> Path:
    return settings.home / PID_FILE


def running_pid(settings: Settings) -> int | None:
    """The pid of the `vigie up` of this home, if one runs (a pid file left by a dead one is stale)."""
    try:
        pid = int(pid_path(settings).read_text().strip())
        command = psutil.Process(pid).cmdline()
    except (OSError, ValueError, psutil.Error):
        return None
    return pid if "vigie" in " ".join(command) and "up" in command else None


def claim_pid_file(settings: Settings) -> None:
    """Write this process's pid, or refuse when another `vigie up` runs on the same home."""
    other = running_pid(settings)
    if other is not None and other != os.getpid():
        raise ServiceError("vigie up", f"Vigie already runs on {settings.home} (pid {other}).",
                           "Stop it with `vigie down` (or Ctrl-C where it runs), or use another VIGIE_HOME.")
    settings.home.mkdir(parents=True, exist_ok=True)
    pid_path(settings).write_text(f"{os.getpid()}\n")


def release_pid_file(settings: Settings) -> None:
    try:
        if int(pid_path(settings).read_text().strip()) == os.getpid():
            pid_path(settings).unlink()
    except (OSError, ValueError):
        pass


@dataclass(frozen=True)
class Detached:
    pid: int
    log: Path
    ready: str | None  # the vigie.ready line; None: not ready within the wait (still starting)


def start_detached(settings: Settings, demo: bool, timeout: float = 600.0) -> Detached:
    """Start `vigie up` in the background, its output appended to ``$VIGIE_HOME/vigie.log``, and wait
    for it to be ready. ServiceError when one already runs or it stops before being ready."""
    other = running_pid(settings)
    if other is not None:
        raise ServiceError("vigie up", f"Vigie already runs on {settings.home} (pid {other}).",
                           "Stop it with `vigie down` first.")
    settings.home.mkdir(parents=True, exist_ok=True)
    log_path = settings.home / LOG_FILE
    start = log_path.stat().st_size if log_path.exists() else 0
    with open(log_path, "ab") as output:
        process = subprocess.Popen([sys.executable, "-m", "vigie", "up", *([] if demo else ["--no-demo"])],
                                   stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True, env=dict(os.environ))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(log_path, "rb") as output:
            output.seek(start)
            lines = output.read().decode("utf-8", "replace").splitlines()
        ready = next((line for line in lines if " vigie.ready " in line), None)
        if ready is not None:
            return Detached(process.pid, log_path, ready)
        if process.poll() is not None:
            raise ServiceError("vigie up", f"the background `vigie up` stopped with code {process.returncode} "
                               "before it was ready.", f"See {log_path}.", log=log_path)
        time.sleep(0.25)
    return Detached(process.pid, log_path, None)


def stop_detached(settings: Settings, timeout: float = DOWN_SECONDS) -> tuple[int | None, bool]:
    """SIGTERM the `vigie up` of this home and wait for it: it stops its children, the demo feed and
    the services it started, as on Ctrl-C. Past ``timeout`` the whole tree is killed. Returns its pid
    (None: none ran) and whether it stopped cleanly."""
    pid = running_pid(settings)
    if pid is None:
        pid_path(settings).unlink(missing_ok=True)  # a stale file from a process that died
        return None, True
    process = psutil.Process(pid)
    tree = [process, *process.children(recursive=True)]
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
        return pid, True
    except psutil.TimeoutExpired:
        for member in tree:
            try:
                member.kill()
            except psutil.Error:
                pass
        pid_path(settings).unlink(missing_ok=True)
        return pid, False
