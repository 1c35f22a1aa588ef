"""The live notifications of `GET /api/notifications/stream`: each new notification once, in the order
they were made, with an id a reconnecting client sends back (``Last-Event-ID``) to go on from there.
Which notifications to send and the position an id names: ``index.notification_follow`` (the same
bookkeeping as `vigie alerts fired --follow`); the stream looks every ``POLL_SECONDS``.

The delivery of each notification sent is followed while it is pending (``WATCHED`` at most, the
newest): its changes (delivered, failed, one more attempt) are ``notification-update`` events, which
carry no id since they move no position. ``status`` events say when Elasticsearch cannot be read and
when it can again; the stream itself stays open.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from starlette.concurrency import run_in_threadpool

from conf.logs import log_event
from index.errors import IndexRejected, IndexUnavailable
from index.notification_follow import Position, Unsent, start, window
from index.notifications import NotificationStore
from ingest.notification_records import PENDING, Notification
from vigie.api.sse import Event

log = logging.getLogger("vigie.api")

POLL_SECONDS = 1.0
RETRY_SECONDS = 5.0
WATCHED = 200


#: What a reader without the token sees instead of the text a webhook target answered.
WITHHELD = "the delivery failed; the reason is shown with the API token (Authorization: Bearer)"


def shown_as_is(item: dict[str, Any]) -> dict[str, Any]:
    return item


def withheld_error(item: dict[str, Any]) -> dict[str, Any]:
    """A notification without the text its webhook target answered: what an Elasticsearch or an
    intranet service said is not for readers without the token."""
    return {**item, "last_error": WITHHELD} if item.get("last_error") else item


class DeliveryWatch:
    """The pending notifications a client was sent, to tell it when their delivery moves."""

    def __init__(self, size: int = WATCHED) -> None:
        self.size = size
        self._known: OrderedDict[str, tuple[str, int, str | None]] = OrderedDict()

    def __bool__(self) -> bool:
        return bool(self._known)

    def ids(self) -> list[str]:
        return list(self._known)

    def add(self, item: Notification) -> None:
        if item.state != PENDING:
            return
        self._known[item.notification_id] = _delivery_of(item)
        while len(self._known) > self.size:
            self._known.popitem(last=False)

    def changed(self, current: Iterable[Notification]) -> list[Notification]:
        """Those of ``current`` (read again) whose delivery moved; they are followed while pending."""
        moved: list[Notification] = []
        for item in current:
            before = self._known.get(item.notification_id)
            if before is None or before == _delivery_of(item):
                continue
            moved.append(item)
            if item.state == PENDING:
                self._known[item.notification_id] = _delivery_of(item)
            else:
                del self._known[item.notification_id]
        return moved


def _delivery_of(item: Notification) -> tuple[str, int, str | None]:
    return item.state, item.attempts, item.last_error


async def notification_events(store: NotificationStore, *, alert_id: str | None = None,
                              after: Position | None = None, backlog: int = 0,
                              poll: float = POLL_SECONDS,
                              shown: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> AsyncIterator[Event]:
    """The events of one client's stream (``vigie.api.sse.event_stream`` sends them), until it leaves."""
    shown = shown or shown_as_is
    unsent: Unsent | None = None
    watch = DeliveryWatch()
    down = False
    while True:
        try:
            if unsent is None:
                first, unsent = await run_in_threadpool(start, store, alert_id, after, backlog)
                for item in first:
                    watch.add(item)
                    yield "notification", shown(item.to_dict()), Position.of(item).encode()
            items = await run_in_threadpool(window, store, alert_id, unsent.window_start)
            for item, position in unsent.take(items):
                watch.add(item)
                yield "notification", shown(item.to_dict()), position.encode()
            if watch:
                for item in watch.changed(await run_in_threadpool(store.get_many, watch.ids())):
                    yield "notification-update", shown(item.to_dict()), None
        except (IndexUnavailable, IndexRejected) as error:
            if not down:
                log_event(log, "api.stream_index_unavailable", logging.WARNING, error=str(error))
                yield "status", {"elasticsearch": "unavailable", "message": str(error),
                                 "retry_after": RETRY_SECONDS}, None
                down = True
            await asyncio.sleep(RETRY_SECONDS)
            continue
        if down:
            yield "status", {"elasticsearch": "ok"}, None
            down = False
        await asyncio.sleep(poll)
