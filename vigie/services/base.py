"""What the embedded Redis and Elasticsearch share: their pid file, the busy-port error, the wait for
readiness, stop and status. A service says how to launch itself, when it is ready and what its
status adds."""

from __future__ import annotations

from pathlib import Path

from vigie.services.errors import ServiceError
from vigie.services.processes import down_status, port_in_use, port_owner, read_pid, terminate, wait_for


class EmbeddedService:
    """Subclasses are frozen dataclasses with ``home``, ``host``, ``port`` and ``timeout`` fields."""

    #: The name in messages and statuses ("redis", "elasticsearch").
    NAME: str
    #: Shown in the busy-port error: which variable moves the service elsewhere.
    PORT_SETTING: str
    #: The name in sentences ("Redis", "Elasticsearch"), and what its pid file holds ("node").
    PROCESS: str
    #: How long a stop may take, and what to tell when it had to kill the process.
    STOP_TIMEOUT: float
    STOP_KILLED_HINT: str
    READY_INTERVAL: float = 0.5

    host: str
    port: int
    timeout: float

    # -- what a service defines ---------------------------------------------------------------------

    @property
    def pidfile(self) -> Path:
        raise NotImplementedError

    @property
    def logfile(self) -> Path:
        raise NotImplementedError

    @property
    def url(self) -> str:
        raise NotImplementedError

    @property
    def data_directory(self) -> Path:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def _check_installed(self) -> None:
        """ServiceError when what the service runs is missing."""

    def _launch(self) -> None:
        """Start the process (daemonised, writing ``pidfile``); ServiceError when it fails at once."""
        raise NotImplementedError

    def _not_ready(self) -> ServiceError:
        raise NotImplementedError

    def _details(self, info: dict[str, object]) -> None:
        """Add what a running service reports (version, health) to ``info``."""

    # -- shared -------------------------------------------------------------------------------------

    def pid(self) -> int | None:
        return read_pid(self.pidfile)

    def start(self) -> dict[str, object]:
        """Start the service unless ours already runs; wait until it is ready."""
        if self.pid() is not None and self.ready():
            return self.status()
        self._check_installed()
        if port_in_use(self.host, self.port):
            owner = port_owner(self.port)
            raise ServiceError(
                self.NAME,
                f"port {self.port} on {self.host} is already in use"
                + (f" by {owner}" if owner else " by another program")
                + f", so Vigie's {self.DISPLAY} cannot listen there (pid file {self.pidfile} names no "
                  f"{self.PROCESS} of ours).",
                f"Stop that program, or choose another port with {self.PORT_SETTING}.",
            )
        self._launch()
        if not wait_for(self.ready, self.timeout, interval=self.READY_INTERVAL, alive=self._alive):
            raise self._not_ready()
        return self.status()

    def _alive(self) -> bool:
        return self.pid() is not None

    def stop(self) -> dict[str, object]:
        pid = self.pid()
        if pid is not None and not terminate(pid, timeout=self.STOP_TIMEOUT):
            raise ServiceError(
                self.NAME, f"{self.DISPLAY} (pid {pid}) did not stop within {self.STOP_TIMEOUT:.0f} s and was killed.",
                self.STOP_KILLED_HINT, self.logfile,
            )
        self.pidfile.unlink(missing_ok=True)
        return self.status()

    def status(self) -> dict[str, object]:
        info = down_status(self.NAME, self.pidfile, self.host, self.port, self.url, self.data_directory, self.logfile)
        self._details(info)
        return info

