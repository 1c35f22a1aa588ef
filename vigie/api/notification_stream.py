"""The live notifications of `GET /api/notifications/stream`: each new notification once, in the order
they were made, with an id a reconnecting client sends back (``Last-Event-ID``) to go on from there.

Notifications are documents the workers write to Elasticsearch; nothing pushes them to the API. The
stream looks every ``POLL_SECONDS`` at those made in the ``LOOKBACK`` before its position and sends
the ones it has not sent. The look-back is there because a notification becomes searchable only at
the next refresh (up to a second) and two workers may finish their writes in either order: one made
earlier can appear after one made later, and is still sent.

The position is (``created_at`` in milliseconds, notification id), the index's own sort order, and
it never goes back: a notification that appears late is sent with the position already reached, so
the id a client last received covers everything sent before it. Reconnecting with it, the client gets
what was made after it and nothing twice. What it can miss: a notification made before that position
that became searchable only after the client left (a window of about a second). `vigie alerts fired`
and `GET /api/notifications` list everything.

The delivery of each notification sent is followed while it is pending (``WATCHED`` at most, the
newest): its changes (delivered, failed, one more attempt) are ``notification-update`` events, which
carry no id since they move no position. ``status`` events say when Elasticsearch cannot be read and
when it can again; the stream itself stays open.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from starlette.concurrency import run_in_threadpool

from index.errors import IndexRejected, IndexUnavailable
from index.notifications import PENDING, Notification, NotificationStore
from vigie.api.sse import Event
from vigie.logs import log_event

log = logging.getLogger("vigie.api")

POLL_SECONDS = 1.0
LOOKBACK = timedelta(seconds=30)
RETRY_SECONDS = 5.0
PAGE = 500
MAX_SCAN = 5000  # notifications read per poll at most; a longer backlog goes out over the next polls
WATCHED = 200

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: What a position looks like as an event id: milliseconds since the epoch, a dash, a notification id.
POSITION_PATTERN = r"^[0-9]{1,15}-[0-9a-f]{0,64}$"
_POSITION = re.compile(POSITION_PATTERN)


@dataclass(frozen=True, order=True)
class Position:
    """A place in the notifications, in the order of the index (created_at, then id)."""

    ms: int
    notification_id: str = ""

    @classmethod
    def of(cls, item: Notification) -> Position:
        return cls(_milliseconds(item.created_at), item.notification_id)

    @classmethod
    def at(cls, moment: datetime) -> Position:
        """Before every notification made at ``moment`` or later."""
        return cls(_milliseconds(moment))

    @classmethod
    def parse(cls, text: str) -> Position:
        """The position an event id names; ValueError for anything this stream did not send."""
        if not _POSITION.fullmatch(text):
            raise ValueError(f"{text!r} is not an event id of this stream")
        ms, notification_id = text.split("-", 1)
        return cls(int(ms), notification_id)

    def encode(self) -> str:
        return f"{self.ms}-{self.notification_id}"

    @property
    def moment(self) -> datetime:
        return EPOCH + timedelta(milliseconds=self.ms)


def _milliseconds(moment: datetime) -> int:
    """As Elasticsearch keeps a ``date``: whole milliseconds, truncated."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - EPOCH) // timedelta(milliseconds=1)


class Unsent:
    """Which notifications of the look-back window the client has not had yet, and the position after
    what it had."""

    def __init__(self, position: Position, lookback: timedelta = LOOKBACK) -> None:
        self.position = position
        self.lookback_ms = lookback // timedelta(milliseconds=1)
        self._sent: dict[str, int] = {}  # id -> ms, for the window

    @property
    def window_start(self) -> datetime:
        return Position(self.position.ms - self.lookback_ms).moment

    def had(self, items: Iterable[Notification]) -> None:
        """The client has these already (a backlog, or what came before the position it gave)."""
        for item in items:
            self._sent[item.notification_id] = _milliseconds(item.created_at)

    def take(self, items: Iterable[Notification]) -> list[tuple[Notification, Position]]:
        """The notifications of ``items`` not sent yet, oldest first, each with the position after it."""
        fresh: list[tuple[Notification, Position]] = []
        for item in sorted(items, key=Position.of):
            if item.notification_id in self._sent:
                continue
            here = Position.of(item)
            self._sent[item.notification_id] = here.ms
            self.position = max(self.position, here)
            fresh.append((item, self.position))
        cutoff = self.position.ms - self.lookback_ms
        for key in [key for key, ms in self._sent.items() if ms < cutoff]:
            del self._sent[key]
        return fresh


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


def window(store: NotificationStore, alert_id: str | None, since: datetime) -> list[Notification]:
    """The notifications made since ``since``, oldest first (``MAX_SCAN`` at most)."""
    found: list[Notification] = []
    cursor: tuple[str, str] | None = None
    while True:
        items, cursor = store.newer(cursor, alert_id, since=since, limit=PAGE)
        found.extend(items)
        if len(items) < PAGE or len(found) >= MAX_SCAN:
            return found


def start(store: NotificationStore, alert_id: str | None, after: Position | None,
          backlog: int) -> tuple[list[Notification], Unsent]:
    """Where a stream starts: after ``after`` (a reconnection), or after the ``backlog`` newest
    notifications, which it sends first, oldest first."""
    if after is not None:
        unsent = Unsent(after)
        unsent.had(item for item in window(store, alert_id, unsent.window_start) if Position.of(item) <= after)
        return [], unsent
    recent = store.recent(alert_id, limit=backlog) if backlog else []
    unsent = Unsent(Position.of(recent[0]) if recent else Position.at(datetime.now(timezone.utc)))
    oldest = Position.of(recent[-1]) if recent else unsent.position
    # Older than the backlog: the client does not want them. Between the backlog's oldest and newest
    # but not in it: they became searchable since recent() was read; the first poll sends them.
    unsent.had(item for item in window(store, alert_id, unsent.window_start) if Position.of(item) < oldest)
    unsent.had(recent)
    return list(reversed(recent)), unsent


async def notification_events(store: NotificationStore, *, alert_id: str | None = None,
                              after: Position | None = None, backlog: int = 0,
                              poll: float = POLL_SECONDS) -> AsyncIterator[Event]:
    """The events of one client's stream (``vigie.api.sse.event_stream`` sends them), until it leaves."""
    unsent: Unsent | None = None
    watch = DeliveryWatch()
    down = False
    while True:
        try:
            if unsent is None:
                first, unsent = await run_in_threadpool(start, store, alert_id, after, backlog)
                for item in first:
                    watch.add(item)
                    yield "notification", item.to_dict(), Position.of(item).encode()
            items = await run_in_threadpool(window, store, alert_id, unsent.window_start)
            for item, position in unsent.take(items):
                watch.add(item)
                yield "notification", item.to_dict(), position.encode()
            if watch:
                for item in watch.changed(await run_in_threadpool(store.get_many, watch.ids())):
                    yield "notification-update", item.to_dict(), None
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
