"""Server-Sent Events: a live stream of JSON events to the page (``EventSource``; ``Vigie.subscribe`` in
static/app.js is the other end). Prepared for the live notifications of phase 2:

    @router.get("/api/notifications/stream")
    async def stream(request: Request) -> StreamingResponse:
        return event_stream(request, lambda: notifications_after(request.headers.get("last-event-id")))

``source`` yields ``(event, data, id)``; ``id`` lets a reconnecting browser say where it stopped
(``Last-Event-ID``). A comment line goes out every ``heartbeat`` seconds so proxies and the browser
keep the connection, and the stream ends when the client goes away. `vigie api` gives open streams
5 seconds on shutdown (uvicorn's ``timeout_graceful_shutdown``); the request histogram leaves them out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse

Event = tuple[str, Any, str | None]  # (event name, JSON-able data, id or None)

HEARTBEAT = b": keep-alive\n\n"


def sse_frame(event: str, data: Any, event_id: str | None = None) -> bytes:
    """One event. The data is one line of JSON (json.dumps escapes newlines), so one ``data:`` field."""
    if "\n" in event or "\r" in event or (event_id and ("\n" in event_id or "\r" in event_id)):
        raise ValueError("event names and ids are single lines")
    lines = [f"id: {event_id}"] if event_id else []
    lines += [f"event: {event}", "data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":"))]
    return ("\n".join(lines) + "\n\n").encode("utf-8")


async def frames(request: Request, source: Callable[[], AsyncIterator[Event]], heartbeat: float = 15.0,
                 retry_ms: int = 3000) -> AsyncIterator[bytes]:
    """The bytes of the stream: a retry hint, then events and heartbeats until either side ends."""
    yield f"retry: {retry_ms}\n\n".encode()
    events = source().__aiter__()
    pending: asyncio.Future[Event] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(events.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=heartbeat)
            if await request.is_disconnected():
                return
            if not done:
                yield HEARTBEAT
                continue
            try:
                event, data, event_id = pending.result()
            except StopAsyncIteration:
                return
            finally:
                if done:
                    pending = None
            yield sse_frame(event, data, event_id)
    finally:
        if pending is not None:
            pending.cancel()  # the source is waiting: cancelling that wait ends it (its finally runs)
            await asyncio.gather(pending, return_exceptions=True)
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()


def event_stream(request: Request, source: Callable[[], AsyncIterator[Event]],
                 heartbeat: float = 15.0) -> StreamingResponse:
    return StreamingResponse(
        frames(request, source, heartbeat), media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
