"""The embedded Redis: Debian's redis-server on loopback, append-only, data under VIGIE_HOME/redis."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from state.client import Redis, RedisError, connect_host
from vigie.services.errors import ServiceError
from vigie.services.processes import (
    down_status,
    ensure_dir,
    port_in_use,
    port_owner,
    read_pid,
    terminate,
    wait_for,
)

NAME = "redis"


@dataclass(frozen=True)
class RedisService:
    home: Path  # VIGIE_HOME
    host: str
    port: int
    timeout: float = 30.0

    @property
    def directory(self) -> Path:
        return self.home / "redis"

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

    def pid(self) -> int | None:
        return read_pid(self.pidfile)

    def start(self) -> dict[str, object]:
        """Start Redis unless ours already runs; wait until it answers PING."""
        if self.pid() is not None and self.ping():
            return self.status()
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceError(
                NAME,
                "the redis-server program is not installed (not found on PATH).",
                "Run scripts/setup.sh, which installs Debian's redis-server (as root or with sudo), "
                "or install it yourself with `apt-get install redis-server`.",
            )
        if port_in_use(self.host, self.port):
            owner = port_owner(self.port)
            raise ServiceError(
                NAME,
                f"port {self.port} on {self.host} is already in use"
                + (f" by {owner}" if owner else " by another program")
                + f", so Vigie's Redis cannot listen there (pid file {self.pidfile} names no running Redis of ours).",
                "Stop that program, or choose another port with VIGIE_REDIS_URL=redis://127.0.0.1:<port>/0.",
            )
        ensure_dir(self.directory)
        ensure_dir(self.pidfile.parent)
        ensure_dir(self.logfile.parent)
        command = [
            binary,
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
        if not wait_for(self.ping, self.timeout, alive=lambda: self.pid() is not None or not self.pidfile.exists()):
            raise ServiceError(
                NAME,
                f"Redis did not answer PING on {self.host}:{self.port} within {self.timeout:.0f} s.",
                "Read the log below; check the disk under VIGIE_HOME is writable and not full.",
                self.logfile,
            )
        return self.status()

    def stop(self) -> dict[str, object]:
        pid = self.pid()
        if pid is not None:
            # SIGTERM makes Redis flush its append-only file before it exits.
            if not terminate(pid, timeout=30):
                raise ServiceError(
                    NAME, f"Redis (pid {pid}) did not stop within 30 s and was killed.",
                    "Its append-only file is still valid; start it again.", self.logfile,
                )
        self.pidfile.unlink(missing_ok=True)
        return self.status()

    def status(self) -> dict[str, object]:
        info = down_status(NAME, self.pidfile, self.host, self.port, self.url, self.directory, self.logfile)
        try:
            server = self._client().info("server")
            persistence = self._client().info("persistence")
            info["version"] = server.get("redis_version")
            info["appendonly"] = bool(persistence.get("aof_enabled"))
            info["health"] = "ok"
        except RedisError:
            pass
        return info
