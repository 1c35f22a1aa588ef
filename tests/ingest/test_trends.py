"""Breaking and trending (ingest.trends): a burst is flagged within one poll, a steady story never."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from ingest.trends import TrendParams, assess, poisson_tail, trends_from_times

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)
POLL = timedelta(minutes=5)


def test_poisson_tail() -> None:
    assert poisson_tail(0, 3.0) == 1.0
    assert poisson_tail(1, 2.0) == pytest.approx(1 - math.exp(-2))
    assert poisson_tail(3, 1.0) == pytest.approx(1 - math.exp(-1) * (1 + 1 + 0.5))


def test_a_burst_is_flagged_breaking_within_one_poll_and_a_steady_story_never() -> None:
    params = TrendParams()
    steady = [T0 + timedelta(hours=hour) for hour in range(48)]  # one article an hour for two days
    # A story that had one article every three hours, then six articles in fifteen minutes.
    burst_start = T0 + timedelta(hours=30, minutes=2)
    burst = [T0 + timedelta(hours=hour) for hour in range(0, 30, 3)]
    burst += [burst_start + timedelta(minutes=3 * i) for i in range(6)]
    last_of_burst = burst[-1]
    flagged_at = None
    poll = T0 + timedelta(hours=2)
    while poll <= T0 + timedelta(hours=47):
        times = {"steady": [t for t in steady if t <= poll], "burst": [t for t in burst if t <= poll]}
        trends = {trend.subject: trend for trend in trends_from_times("story", times, poll, params)}
        assert "steady" not in trends, (poll, trends["steady"].explanation)
        if flagged_at is None and "burst" in trends and trends["burst"].level == "breaking":
            flagged_at = poll
            trend = trends["burst"]
            assert trend.started == burst_start
            assert trend.recent >= params.min_articles and trend.rate_per_hour > 10 * trend.baseline_per_hour
            assert "against a baseline of" in trend.explanation
        poll += POLL
    assert flagged_at is not None and flagged_at - last_of_burst <= POLL
    # Once the window has moved past the burst, the story is no longer breaking.
    later = last_of_burst + timedelta(hours=params.window_hours, minutes=5)
    assert not trends_from_times("story", {"burst": burst}, later, params)


def test_a_subject_already_busy_needs_more_to_break() -> None:
    params = TrendParams()
    # Busy topic: 5 articles an hour for a day; 7 in the last hour is ordinary for it.
    assert assess("topic", "politics", 7, 120, T0, params) is None
    # A quiet one with the same 7 articles is breaking.
    trend = assess("topic", "volcanoes", 7, 0, T0, params)
    assert trend is not None and trend.level == "breaking"
    # Too few articles to say anything.
    assert assess("entity", "x", params.min_articles - 1, 0, T0, params) is None


def test_trending_sits_between_ordinary_and_breaking() -> None:
    params = TrendParams(min_articles=4, tail_probability=0.001, trending_probability=0.02)
    # Baseline 1/h: 4 in an hour has a tail of about 0.019 (trending), 6 about 0.0006 (breaking).
    assert assess("story", "s", 4, 24, T0, params).level == "trending"  # type: ignore[union-attr]
    assert assess("story", "s", 6, 24, T0, params).level == "breaking"  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        TrendParams(tail_probability=0.1, trending_probability=0.01)
