"""The spike rule of a query's volume chart: the stories' Poisson test, bucket by bucket, against the
query's own preceding buckets."""

from __future__ import annotations

from ingest.trends import TrendParams, volume_spikes

PARAMS = TrendParams(min_articles=4, tail_probability=0.001, trending_probability=0.02)


def test_a_burst_after_quiet_hours_is_breaking_and_a_steady_rate_is_not() -> None:
    points = volume_spikes([0, 0, 0, 0, 7, 1], 1.0, PARAMS)
    assert [point.level for point in points] == [None, None, None, None, "breaking", None]
    assert points[4].expected == 0.25  # the floor: a quiet query still needs several articles
    assert all(point.level is None for point in volume_spikes([3] * 30, 1.0, PARAMS))


def test_the_baseline_is_the_query_s_own_recent_buckets() -> None:
    # Nine an hour is ordinary for a query that has been at eight an hour, a spike for one at one.
    busy = volume_spikes([8] * 24 + [9], 1.0, PARAMS)
    quiet = volume_spikes([1] * 24 + [9], 1.0, PARAMS)
    assert busy[-1].level is None and quiet[-1].level == "breaking"
    assert quiet[-1].expected == 1.0 and quiet[-1].probability < 0.001


def test_few_articles_are_never_a_spike_and_the_first_bucket_has_no_baseline() -> None:
    assert volume_spikes([0, 0, 3], 1.0, PARAMS)[-1].level is None  # below min_articles
    assert volume_spikes([50], 1.0, PARAMS)[0].level is None
    # By day the floor is 24 times the hourly one: six articles in a day after quiet days is ordinary.
    assert volume_spikes([0, 0, 6], 24.0, PARAMS)[-1].level is None


def test_a_moderate_rise_is_trending() -> None:
    levels = [point.level for point in volume_spikes([2] * 24 + [7], 1.0, PARAMS)]
    assert levels[-1] == "trending"
