"""A Server-Sent Events client for tests: reads a stream in a thread, as a browser's EventSource would,
and keeps the events it got (event name, JSON data, id)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class ServerEvent:
    event: str
    data: Any
    id: str | None


class EventReader:
    """``GET url`` as a stream; ``events`` fills as they come. Heartbeat comments are skipped."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.headers = {"Accept": "text/event-stream", **(headers or {})}
        self.events: list[ServerEvent] = []
        self.status: int | None = None
        self.error: BaseException | None = None
        self._opened = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=httpx.Timeout(10.0, read=60.0))
        threading.Thread(target=self._read, name="sse-reader", daemon=True).start()
        if not self._opened.wait(30):
            raise AssertionError(f"{url} did not answer within 30 s")
        if self.error is not None:
            raise AssertionError(f"{url} failed: {self.error}")

    def _read(self) -> None:
        try:
            with self._client.stream("GET", self.url, headers=self.headers) as response:
                self.status = response.status_code
                self._opened.set()
                fields: dict[str, str] = {}
                for line in response.iter_lines():
                    if self._closed.is_set():
                        return
                    if line:
                        name, _, value = line.partition(":")
                        if name:  # a line starting with ":" is a comment (heartbeat)
                            fields[name] = value.removeprefix(" ")
                        continue
                    if "data" in fields:
                        event = ServerEvent(fields.get("event", "message"), json.loads(fields["data"]), fields.get("id"))
                        with self._lock:
                            self.events.append(event)
                    fields = {}
        except Exception as error:  # noqa: BLE001 - closing the client ends the read with an error
            if not self._closed.is_set():
                self.error = error
        finally:
            self._opened.set()

    def received(self, event: str | None = None) -> list[ServerEvent]:
        with self._lock:
            return [item for item in self.events if event is None or item.event == event]

    def wait_for(self, predicate: Callable[[ServerEvent], bool], timeout: float) -> ServerEvent:
        """The first event matching ``predicate``, once it came."""
        deadline = time.monotonic() + timeout
        while True:
            for item in self.received():
                if predicate(item):
                    return item
            if self.error is not None:
                raise AssertionError(f"the stream {self.url} failed: {self.error}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching event on {self.url} within {timeout} s; got {self.received()}")
            time.sleep(0.1)

    def close(self) -> None:
        self._closed.set()
        self._client.close()

    def __enter__(self) -> EventReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
