"""`vigie up`: the whole service in the foreground, and a clean stop on Ctrl-C or SIGTERM.

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


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str]) -> None:
        # A session of its own: Ctrl-C in the terminal reaches only the supervisor, which then stops
        # each child once, in order, instead of every process receiving SIGINT at the same moment.
        self.process = subprocess.Popen(self.command, env=env, start_new_session=True)
        log_event(log, "child.started", child=self.name, pid=self.process.pid)

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        clean = terminate(self.process.pid, timeout=CHILD_STOP_SECONDS)
        self.process.wait()
        log_event(log, "child.stopped", child=self.name, pid=self.process.pid,
                  exit_code=self.process.returncode, clean=clean)


def worker_command(settings: Settings, concurrency: int | None = None) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "worker.app", "worker",
        "--queues", ",".join(WORKER_QUEUES),
        "--concurrency", str(concurrency or settings.worker_concurrency),
        "--loglevel", settings.log_level,
        "--hostname", f"vigie-{os.getpid()}@%h",
        "--without-gossip", "--without-mingle",
    ]


def story_consumer_command(settings: Settings) -> list[str]:
    """The story consumer: one process (solo pool, no models) taking the story queue in order."""
    return [
        sys.executable, "-m", "celery", "-A", "worker.app", "worker",
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
            children = [Child("worker", worker_command(self.settings))]
            if self.settings.stories:
                children.append(Child("stories", story_consumer_command(self.settings)))
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
        log_event(log, "vigie.stopped")
