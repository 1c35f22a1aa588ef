"""Pid files, ports and signals: what both embedded services need."""

from __future__ import annotations

import errno
import os
import pwd
import signal
import socket
import time
from pathlib import Path

import psutil


def read_pid(pidfile: Path) -> int | None:
    """The pid in ``pidfile`` if that process is alive, else None (a stale file is removed)."""
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    if pid_alive(pid):
        return pid
    pidfile.unlink(missing_ok=True)
    return None


def pid_alive(pid: int) -> bool:
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def port_in_use(host: str, port: int) -> bool:
    """True when something listens on host:port (a bind attempt fails)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            return error.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def port_owner(port: int) -> str | None:
    """A short description of the process listening on ``port``, when the system tells us."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.Error, OSError):
        return None
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            try:
                proc = psutil.Process(conn.pid)
                return f"pid {conn.pid} ({' '.join(proc.cmdline()[:3]) or proc.name()})"
            except psutil.Error:
                return f"pid {conn.pid}"
    return None


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (for tests and the demo server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def terminate(pid: int, timeout: float, sig: int = signal.SIGTERM) -> bool:
    """Send ``sig`` to ``pid`` and wait up to ``timeout`` s; SIGKILL after that. True if it exited in time."""
    try:
        process = psutil.Process(pid)
        process.send_signal(sig)
    except psutil.Error:
        return True
    try:
        process.wait(timeout)
        return True
    except psutil.TimeoutExpired:
        pass
    try:
        process.kill()
        process.wait(10)
    except psutil.Error:
        pass
    return False


def wait_for(predicate, timeout: float, interval: float = 0.25, alive=None) -> bool:  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until true or ``timeout``; stop early when ``alive()`` turns false."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if alive is not None and not alive():
            return bool(predicate())
        time.sleep(interval)
    return bool(predicate())


def ensure_dir(path: Path, owner: str | None = None) -> Path:
    """Create ``path``; give it to ``owner`` (a user name) when we run as root."""
    path.mkdir(parents=True, exist_ok=True)
    if owner and os.geteuid() == 0:
        entry = pwd.getpwnam(owner)
        for root, dirs, files in os.walk(path):
            os.chown(root, entry.pw_uid, entry.pw_gid)
            for name in files:
                os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
    return path


def down_status(service: str, pidfile: Path, host: str, port: int, url: str, data: Path, log: Path) -> dict[str, object]:
    """A service's status before asking it anything: what runs (from its pid file) and where."""
    pid = read_pid(pidfile)
    return {
        "service": service,
        "running": pid is not None and pid_alive(pid),
        "pid": pid,
        "host": host,
        "port": port,
        "url": url,
        "data": str(data),
        "log": str(log),
        "version": None,
        "health": "down",
    }
