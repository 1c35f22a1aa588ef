"""A local webhook receiver for alert tests: records every POST (body, headers, when) and answers as
told: 2xx, a 500, slowly, only once the test releases it, or not at all (holding a POST until the test
releases it, then hanging up)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float  # time.time() when the body was read
    status: int | None = None  # what the receiver answered; None: it hung up without answering

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class WebhookReceiver:
    status: int = 200
    delay: float = 0.0
    hold_first: bool = False  # keep the first POST open until release(), then hang up
    answer_on_release: bool = False  # keep every POST open until release(), then answer ``status``
    drip: bool = False  # answer a status line, then a header byte every 0.1 s for 4 s: never a whole answer
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.holding = threading.Event()  # set while the first POST is held
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                entry = Received(self.path, {key.lower(): value for key, value in self.headers.items()}, body, time.time())
                with receiver._lock:
                    first = not receiver.received
                    receiver.received.append(entry)
                if receiver.hold_first and first:
                    receiver.holding.set()
                    receiver._release.wait(120)
                    self.close_connection = True
                    return  # no answer: the sender never learns whether it arrived
                if receiver.drip:
                    try:
                        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                        for _ in range(40):  # each read gets a byte, the whole never ends
                            self.wfile.write(b"X")
                            self.wfile.flush()
                            time.sleep(0.1)
                    except OSError:
                        pass  # the sender hung up, as it should
                    self.close_connection = True
                    return
                if receiver.answer_on_release:
                    receiver.holding.set()
                    receiver._release.wait(120)
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.status
                answer = b'{"ok": true}' if status < 300 else b'{"error": "receiver says no"}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    entry.status = status
                except OSError:
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def release(self) -> None:
        self._release.set()

    def posts(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def acknowledged(self) -> list[Received]:
        return [post for post in self.posts() if post.acknowledged]

    def wait_for(self, count: int, timeout: float, acknowledged: bool = False) -> list[Received]:
        """Wait until ``count`` POSTs (acknowledged ones only, if asked) arrived; return them all.

        Raises AssertionError, saying what did arrive, if fewer than ``count`` came within ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.acknowledged() if acknowledged else self.posts()
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                kind = "acknowledged POSTs" if acknowledged else "POSTs"
                raise AssertionError(f"{len(found)} {kind} of {count} reached {self.url} within {timeout} s: "
                                     f"{[(post.path, post.status) for post in self.posts()]}")
            time.sleep(0.05)

    def close(self) -> None:
        self._release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
