"""The Server-Sent Events plumbing phase 2 streams notifications through (no server needed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from vigie.api.sse import HEARTBEAT, Event, frames, sse_frame


class FakeRequest:
    def __init__(self, disconnect_after: int = 10**9) -> None:
        self.checks = 0
        self.disconnect_after = disconnect_after

    async def is_disconnected(self) -> bool:
        self.checks += 1
        return self.checks > self.disconnect_after


def collect(request: FakeRequest, source, heartbeat: float = 5.0) -> list[bytes]:  # type: ignore[no-untyped-def]
    async def run() -> list[bytes]:
        return [chunk async for chunk in frames(request, source, heartbeat)]  # type: ignore[arg-type]

    return asyncio.run(asyncio.wait_for(run(), 10))


def test_a_frame_is_one_json_line_with_its_event_and_id() -> None:
    frame = sse_frame("notification", {"title": "Idleb\n<b>x</b>", "n": 1}, "42")
    assert frame == b'id: 42\nevent: notification\ndata: {"title":"Idleb\\n<b>x</b>","n":1}\n\n'
    assert sse_frame("ping", None) == b"event: ping\ndata: null\n\n"
    with pytest.raises(ValueError):
        sse_frame("a\nb", {})


def test_events_flow_then_the_stream_ends_with_its_source() -> None:
    async def source() -> AsyncIterator[Event]:
        for number in range(3):
            yield "notification", {"n": number}, str(number)

    chunks = collect(FakeRequest(), source)
    assert chunks[0].startswith(b"retry: ")
    assert chunks[1:] == [sse_frame("notification", {"n": n}, str(n)) for n in range(3)]


def test_heartbeats_while_nothing_happens_and_the_end_when_the_client_leaves() -> None:
    closed = []

    async def silent() -> AsyncIterator[Event]:
        try:
            await asyncio.sleep(3600)
            yield "never", None, None
        finally:
            closed.append(True)

    chunks = collect(FakeRequest(disconnect_after=3), silent, heartbeat=0.01)
    assert chunks[1:] == [HEARTBEAT] * 3
    assert closed == [True]  # the source is stopped, not left running
