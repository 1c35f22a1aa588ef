"""state.feed_schedule: intervals stay in bounds, failures back off and recover, silence is noticed."""

from __future__ import annotations

import json
import random
from dataclasses import asdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from state.feed_schedule import (
    QUIET_FLOOR,
    FeedHealth,
    ScheduleBounds,
    after_failure,
    after_not_modified,
    after_success,
    backoff_ceiling,
    is_quiet,
    new_health,
)

BOUNDS = ScheduleBounds(min_interval=60.0, max_interval=3600.0, default_interval=300.0, backoff_max=6 * 3600.0)
HOUR = 3600.0
T0 = 1_700_000_000.0


def polled_once(now: float = T0) -> FeedHealth:
    return after_success(new_health(BOUNDS, now=now), new_items=20, total_items=20, now=now, bounds=BOUNDS)


def test_a_new_feed_is_due_now_at_the_default_interval() -> None:
    health = new_health(BOUNDS, now=T0)
    assert (health.interval, health.next_poll, health.consecutive_failures) == (300.0, T0, 0)
    assert new_health(BOUNDS, now=T0, interval=5.0).interval == 60.0  # the user's interval, within bounds


def test_first_success_keeps_the_interval_and_counts_items() -> None:
    health = polled_once()
    assert health.interval == 300.0 and health.next_poll == T0 + 300.0
    assert health.items_seen == 20 and health.last_success == T0 and health.last_new_item == T0


def test_busy_feed_is_polled_more_often_quiet_one_less_often() -> None:
    busy = after_success(polled_once(), new_items=15, total_items=20, now=T0 + 300, bounds=BOUNDS)
    assert busy.interval == 150.0
    calm = after_success(polled_once(), new_items=2, total_items=20, now=T0 + 300, bounds=BOUNDS)
    assert calm.interval == 300.0
    idle = after_success(polled_once(), new_items=0, total_items=20, now=T0 + 300, bounds=BOUNDS)
    assert idle.interval == 450.0
    unchanged = after_not_modified(polled_once(), now=T0 + 300, bounds=BOUNDS)
    assert unchanged.interval == 450.0 and unchanged.items_seen == 20 and unchanged.last_success == T0 + 300


def test_a_fixed_interval_is_kept() -> None:
    health = after_success(polled_once(), new_items=20, total_items=20, now=T0 + 300, bounds=BOUNDS,
                           fixed_interval=900.0)
    assert health.interval == 900.0 and health.next_poll == T0 + 300 + 900


def test_failures_back_off_with_jitter_up_to_the_cap_then_recover() -> None:
    rng = random.Random(7)
    health = polled_once()
    now = T0
    delays = []
    for _ in range(12):
        now = health.next_poll
        health = after_failure(health, error_kind="server-error", error_message="HTTP 500", transient=True,
                               retry_after=None, now=now, bounds=BOUNDS, rng=rng)
        delays.append(health.next_poll - now)
    assert health.consecutive_failures == 12 and health.last_error_kind == "server-error"
    ceilings = [backoff_ceiling(300.0, failures, BOUNDS) for failures in range(1, 13)]
    assert ceilings[:4] == [300.0, 600.0, 1200.0, 2400.0] and ceilings[-1] == BOUNDS.backoff_max
    assert all(BOUNDS.min_interval <= d <= c for d, c in zip(delays, ceilings))
    assert len(set(delays)) == len(delays)  # jittered: no two retries in lockstep
    recovered = after_success(health, new_items=1, total_items=20, now=now + 10, bounds=BOUNDS)
    assert recovered.consecutive_failures == 0 and recovered.next_poll == now + 10 + recovered.interval
    assert recovered.interval == health.interval  # back to the adaptive interval, not the backoff
    assert recovered.last_error_kind == "server-error"  # kept as history


def test_full_jitter_spreads_retries_over_the_whole_range_at_the_cap() -> None:
    rng = random.Random(3)
    capped = FeedHealth(interval=300.0, next_poll=T0, consecutive_failures=20)
    delays = [after_failure(capped, error_kind="timeout", transient=True, retry_after=None, now=T0, bounds=BOUNDS,
                            rng=rng).next_poll - T0 for _ in range(400)]
    assert min(delays) < HOUR and max(delays) > 5 * HOUR
    assert 2.5 * HOUR < sum(delays) / len(delays) < 3.5 * HOUR  # uniform over [1 min, 6 h]


def test_permanent_errors_back_off_faster() -> None:
    assert backoff_ceiling(300, 1, BOUNDS, transient=False) == 4 * backoff_ceiling(300, 1, BOUNDS, transient=True)


def test_retry_after_is_honoured_up_to_backoff_max() -> None:
    rng = random.Random(1)
    asked = after_failure(polled_once(), error_kind="rate-limited", transient=True, retry_after=2 * HOUR,
                          now=T0, bounds=BOUNDS, rng=rng)
    assert asked.next_poll - T0 >= 2 * HOUR
    greedy = after_failure(polled_once(), error_kind="rate-limited", transient=True, retry_after=30 * 24 * HOUR,
                           now=T0, bounds=BOUNDS, rng=rng)
    assert greedy.next_poll - T0 == BOUNDS.backoff_max


def test_quiet_after_silence_far_beyond_the_usual_rhythm() -> None:
    health = polled_once()
    now = T0
    for _ in range(6):  # publishes every hour
        now += HOUR
        health = after_success(health, new_items=2, total_items=20, now=now, bounds=BOUNDS)
    assert not is_quiet(health, now + 20 * HOUR)  # a day is the floor for an hourly feed
    assert is_quiet(health, now + QUIET_FLOOR + 1)
    silent = after_not_modified(health, now=now + 25 * HOUR, bounds=BOUNDS)
    assert silent.quiet
    woke = after_success(silent, new_items=1, total_items=20, now=now + 26 * HOUR, bounds=BOUNDS)
    assert not woke.quiet and not is_quiet(woke, now + 27 * HOUR)


def test_weekly_feed_is_quiet_only_after_four_weeks() -> None:
    week = 7 * 24 * HOUR
    health = polled_once()
    now = T0
    for _ in range(4):
        now += week
        health = after_success(health, new_items=1, total_items=10, now=now, bounds=BOUNDS)
    assert not is_quiet(health, now + 3 * week)
    assert is_quiet(health, now + 4 * week + 1)


def test_a_feed_that_never_published_is_never_quiet() -> None:
    health = new_health(BOUNDS, now=T0)
    for day in range(1, 60):
        health = after_not_modified(health, now=T0 + day * 24 * HOUR, bounds=BOUNDS)
    assert not health.quiet and not is_quiet(health, T0 + 365 * 24 * HOUR)


def test_health_survives_json_storage() -> None:
    health = polled_once()
    for hour in range(1, 5):
        health = after_success(health, new_items=1, total_items=5, now=T0 + hour * HOUR, bounds=BOUNDS)
    stored = json.loads(json.dumps(asdict(health)))
    assert FeedHealth(**stored) == health
    assert FeedHealth.from_dict(json.loads(json.dumps(health.to_dict()))) == health


def test_bounds_are_validated() -> None:
    with pytest.raises(ValueError):
        ScheduleBounds(min_interval=0, max_interval=10, default_interval=5, backoff_max=10)
    with pytest.raises(ValueError):
        ScheduleBounds(min_interval=100, max_interval=10, default_interval=50, backoff_max=1000)


# --- properties --------------------------------------------------------------------------------------

events = st.lists(
    st.one_of(
        st.tuples(st.just("success"), st.integers(0, 50), st.integers(0, 50)),
        st.tuples(st.just("not-modified"), st.just(0), st.just(0)),
        st.tuples(st.just("failure"), st.booleans(), st.one_of(st.none(), st.floats(0, 1e7))),
    ),
    max_size=40,
)
bounds_strategy = st.builds(
    lambda low, span, default, backoff: ScheduleBounds(low, low + span, default, max(low, backoff)),
    st.floats(1, 600), st.floats(0, 86_400), st.floats(0, 100_000), st.floats(1, 10 * 86_400),
)


@settings(max_examples=300)
@given(bounds_strategy, events, st.integers(0, 2**32))
def test_any_history_keeps_intervals_and_delays_in_bounds(bounds: ScheduleBounds, history: list[tuple],
                                                          seed: int) -> None:
    rng = random.Random(seed)
    now = T0
    health = new_health(bounds, now=now)
    for kind, a, b in history:
        now = max(now, health.next_poll)
        if kind == "success":
            new = min(a, b)
            health = after_success(health, new_items=new, total_items=max(a, b), now=now, bounds=bounds)
            assert health.next_poll - now == pytest.approx(health.interval)
        elif kind == "not-modified":
            health = after_not_modified(health, now=now, bounds=bounds)
        else:
            health = after_failure(health, error_kind="timeout", transient=a, retry_after=b, now=now,
                                   bounds=bounds, rng=rng)
            delay = health.next_poll - now
            assert bounds.min_interval - 1e-6 <= delay <= bounds.backoff_max + 1e-6
        assert bounds.min_interval <= health.interval <= bounds.max_interval
        assert health.next_poll > now
        assert len(health.new_item_gaps) <= 20


@given(bounds_strategy, st.floats(1, 100_000), st.booleans())
def test_backoff_ceiling_is_monotone_up_to_the_cap(bounds: ScheduleBounds, interval: float, transient: bool) -> None:
    ceilings = [backoff_ceiling(interval, failures, bounds, transient=transient) for failures in range(1, 80)]
    assert ceilings == sorted(ceilings)
    assert all(c <= bounds.backoff_max for c in ceilings)
    assert ceilings[-1] == bounds.backoff_max


@given(bounds_strategy, st.integers(1, 30), st.integers(0, 2**32))
def test_one_success_recovers_from_any_run_of_failures(bounds: ScheduleBounds, failures: int, seed: int) -> None:
    rng = random.Random(seed)
    health = new_health(bounds, now=T0)
    now = T0
    for _ in range(failures):
        health = after_failure(health, error_kind="dns", transient=True, retry_after=None, now=now, bounds=bounds,
                               rng=rng)
        now = health.next_poll
    health = after_success(health, new_items=1, total_items=3, now=now, bounds=bounds)
    assert health.consecutive_failures == 0 and health.next_poll == now + health.interval
    assert health.interval <= bounds.max_interval
