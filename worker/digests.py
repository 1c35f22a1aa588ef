"""The periodic side of alerts, ticked by the poller's loop (`vigie scheduler`, every 0.25 s).

- When an hourly or daily period ends (periods are aligned on the epoch, so days end at midnight UTC;
  ``VIGIE_DIGEST_HOURLY_SECONDS``/``VIGIE_DIGEST_DAILY_SECONDS`` shorten them for tests), it queues
  ``vigie.send_digests`` for that period: one message per alert lists its matches of the period.
  When the poller starts it queues the current period's start too, so matches left pending while
  it was down go out at once.
- Every minute it queues ``vigie.sweep_notifications``, which finds the immediate notifications
  whose delivery task was lost and queues them again.

The clock only decides; queueing is the ``send`` function it is given, and a broker outage is logged,
never raised into the poller.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from conf.logs import log_event
from conf.settings import Settings

log = logging.getLogger("vigie.poller")

SWEEP_SECONDS = 60.0

Send = Callable[[str, list[Any]], None]


class AlertClock:
    def __init__(self, settings: Settings, send: Send) -> None:
        self.periods = {"hourly": settings.digest_hourly_seconds, "daily": settings.digest_daily_seconds}
        self.send = send
        self._queued: dict[str, float] = {}  # mode -> end of the last period queued
        self._next_sweep = 0.0

    def due(self, now: float) -> list[tuple[str, list[Any]]]:
        """The tasks to queue at ``now`` (epoch seconds), as (task name, arguments)."""
        tasks: list[tuple[str, list[Any]]] = []
        for mode, length in self.periods.items():
            end = math.floor(now / length) * length
            if self._queued.get(mode, -1.0) < end:
                self._queued[mode] = end
                tasks.append(("vigie.send_digests", [mode, datetime.fromtimestamp(end, timezone.utc).isoformat()]))
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_SECONDS
            tasks.append(("vigie.sweep_notifications", []))
        return tasks

    def tick(self, now: float) -> None:
        for name, args in self.due(now):
            try:
                self.send(name, args)
            except Exception as error:  # noqa: BLE001 - the broker is down: the next period or sweep catches up
                log_event(log, "alerts.queue_failed", logging.ERROR, task=name, error=str(error))
