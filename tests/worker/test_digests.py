"""The poller's alert clock: a digest when a period ends, a sweep every minute, nothing in between."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from conf.settings import Settings
from worker.digests import AlertClock


def test_digests_are_queued_once_per_period_and_at_start() -> None:
    sent: list[tuple[str, list[object]]] = []
    clock = AlertClock(Settings(digest_hourly_seconds=3600, digest_daily_seconds=86400),
                       lambda name, args: sent.append((name, args)))
    start = datetime(2026, 11, 25, 13, 59, 50, tzinfo=timezone.utc).timestamp()
    clock.tick(start)  # at start: whatever is pending from before the current periods
    assert sent == [("vigie.send_digests", ["hourly", "2026-11-25T13:00:00+00:00"]),
                    ("vigie.send_digests", ["daily", "2026-11-25T00:00:00+00:00"]),
                    ("vigie.sweep_notifications", [])]
    sent.clear()
    for step in range(1, 48):  # 0.25 s ticks past 14:00:00 — the hour ends once
        clock.tick(start + step * 0.25)
    assert sent == [("vigie.send_digests", ["hourly", "2026-11-25T14:00:00+00:00"])]
    sent.clear()
    clock.tick(start + 61)
    assert sent == [("vigie.sweep_notifications", [])]


def test_a_broker_outage_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def down(name: str, args: list[object]) -> None:
        raise ConnectionError("Redis is down")

    with caplog.at_level(logging.ERROR, logger="vigie.poller"):
        AlertClock(Settings(), down).tick(1_000_000.0)
    failed = [(record.getMessage(), getattr(record, "task", None), getattr(record, "error", None))
              for record in caplog.records if record.levelno == logging.ERROR]
    assert failed == [("alerts.queue_failed", "vigie.send_digests", "Redis is down"),
                      ("alerts.queue_failed", "vigie.send_digests", "Redis is down"),
                      ("alerts.queue_failed", "vigie.sweep_notifications", "Redis is down")]
