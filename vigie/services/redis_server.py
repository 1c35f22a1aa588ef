"""The embedded Redis: Debian's redis-server on loopback, append-only, data under VIGIE_HOME/redis."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from state.client import Redis, RedisError, connect_host
from vigie.services.base import EmbeddedService
from vigie.services.errors import ServiceError
from vigie.services.processes import ensure_dir

NAME = "redis"


@dataclass(frozen=True)
class RedisService(EmbeddedService):
    home: Path  # VIGIE_HOME
    host: str
    port: int
    timeout: float = 30.0

    NAME = NAME
    DISPLAY = "Redis"
    PROCESS = "running Redis"
    PORT_SETTING = "VIGIE_REDIS_URL=redis://127.0.0.1:<port>/0"
    # SIGTERM makes Redis flush its append-only file before it exits.
    STOP_TIMEOUT = 30.0
    STOP_KILLED_HINT = "Its append-only file is still valid; start it again."
    READY_INTERVAL = 0.25

    @property
    def directory(self) -> Path:
        return self.home / "redis"

    @property
    def data_directory(self) -> Path:
        return self.directory

    @property
    def pidfile(self) -> Path:
        return self.home / "run" / "redis.pid"

    @property
    def logfile(self) -> Path:
        return self.home / "logs" / "redis.log"

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def _client(self) -> Redis:
        return connect_host(self.host, self.port, connect_timeout=1, timeout=2)

    def ping(self) -> bool:
        try:
            return bool(self._client().ping())
        except RedisError:
            return False

    def ready(self) -> bool:
        return self.ping()

    def _alive(self) -> bool:
        return self.pid() is not None or not self.pidfile.exists()

    def _check_installed(self) -> None:
        if shutil.which("redis-server") is None:
            raise ServiceError(
                NAME,
                "the redis-server program is not installed (not found on PATH).",
                "Run scripts/setup.sh, which installs Debian's redis-server (as root or with sudo), "
                "or install it yourself with `apt-get install redis-server`.",
            )

    def _launch(self) -> None:
        ensure_dir(self.directory)
        ensure_dir(self.pidfile.parent)
        ensure_dir(self.logfile.parent)
        command = [
            str(shutil.which("redis-server")),
            "--bind", self.host,
            "--port", str(self.port),
            "--dir", str(self.directory),
            "--daemonize", "yes",
            "--pidfile", str(self.pidfile),
            "--logfile", str(self.logfile),
            # Queued articles and the feed registry must survive a restart: append-only file,
            # fsync every second (at most one second of writes lost on a power cut, none on a crash).
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--protected-mode", "yes",
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        if result.returncode != 0:
            raise ServiceError(
                NAME,
                f"redis-server exited with code {result.returncode} while starting on port {self.port}: "
                f"{(result.stderr or result.stdout).strip()[:300]}",
                "Read the log below, fix the cause and run `vigie services start` again.",
                self.logfile,
            )

    def _not_ready(self) -> ServiceError:
        return ServiceError(
            NAME,
            f"Redis did not answer PING on {self.host}:{self.port} within {self.timeout:.0f} s.",
            "Read the log below; check the disk under VIGIE_HOME is writable and not full.",
            self.logfile,
        )

    def _details(self, info: dict[str, object]) -> None:
        try:
            server = self._client().info("server")
            persistence = self._client().info("persistence")
            info["version"] = server.get("redis_version")
            info["appendonly"] = bool(persistence.get("aof_enabled"))
            info["health"] = "ok"
        except RedisError:
            pass
