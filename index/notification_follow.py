"""Following the notifications as they are made, without missing or repeating one: the bookkeeping
behind `GET /api/notifications/stream` (vigie.api.notification_stream) and `vigie alerts fired --follow`.

Notifications are documents the workers write to Elasticsearch; nothing pushes them. A follower
looks every second or so at those made in the ``LOOKBACK`` before its position and takes the ones it
has not had. The look-back is there because a notification becomes searchable only at the next
refresh (up to a second) and two workers may finish their writes in either order: one made earlier
can appear after one made later, and is still taken.

The position is (``created_at`` in milliseconds, notification id), the index's own sort order, and
it never goes back: a notification that appears late is taken with the position already reached, so
the position after the last one taken covers everything taken before it. Going on from it, a
follower gets what was made after it and nothing twice. What it can miss: a notification made before
that position that became searchable only after the follower left (a window of about a second).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from index.notifications import NotificationStore
from ingest.notification_records import Notification

LOOKBACK = timedelta(seconds=30)
PAGE = 500
MAX_SCAN = 5000  # notifications read per look at most; a longer backlog comes over the next looks

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
