"""Breaking and trending: a story, entity or topic whose recent article rate beats its own baseline.

For one subject, ``recent`` articles arrived in the last ``window_hours``, ``baseline`` in the
``baseline_hours`` before that. Under the baseline rate (floored, so that a subject never seen
before still needs several articles), the number of articles in a window is Poisson with mean
``expected``; the chance of seeing ``recent`` or more is the Poisson tail. Below
``tail_probability`` the subject is *breaking*, below ``trending_probability`` *trending*, in both
cases only with at least ``min_articles`` recent articles. The explanation says when the burst
started (its first recent article) and its rate against the baseline.

Pure: counts and times in, verdicts out. index.trends counts in Elasticsearch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Level = Literal["breaking", "trending"]
Kind = Literal["story", "entity", "topic"]

#: Least baseline rate, articles per hour: a subject never seen before is treated as this quiet.
BASELINE_FLOOR_PER_HOUR = 0.25


@dataclass(frozen=True, slots=True)
class TrendParams:
    window_hours: float = 1.0
    baseline_hours: float = 24.0
    min_articles: int = 4
    tail_probability: float = 0.001
    trending_probability: float = 0.02

    def __post_init__(self) -> None:
        if self.window_hours <= 0 or self.baseline_hours <= 0:
            raise ValueError("trend window and baseline must be positive")
        if not 0 < self.tail_probability <= self.trending_probability < 1:
            raise ValueError("need 0 < breaking probability <= trending probability < 1")


@dataclass(frozen=True, slots=True)
class Trend:
    """A subject whose recent rate beats its baseline, and why."""

    kind: Kind
    subject: str
    level: Level
    started: datetime  # the first article of the recent window
    recent: int  # articles in the window
    expected: float  # articles the baseline rate predicts in the window
    rate_per_hour: float
    baseline_per_hour: float
    probability: float  # Poisson tail: chance of ``recent`` or more under the baseline

    @property
    def explanation(self) -> str:
        ratio = self.rate_per_hour / self.baseline_per_hour if self.baseline_per_hour else math.inf
        return (f"{self.recent} articles since {self.started.isoformat(timespec='minutes')}: "
                f"{self.rate_per_hour:.1f}/h against a baseline of {self.baseline_per_hour:.2f}/h "
                f"({ratio:.0f}x; chance under the baseline {self.probability:.1e})")

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "subject": self.subject, "level": self.level,
                "started": self.started.isoformat(), "recent": self.recent, "expected": round(self.expected, 3),
                "rate_per_hour": round(self.rate_per_hour, 3), "baseline_per_hour": round(self.baseline_per_hour, 3),
                "probability": self.probability, "explanation": self.explanation}


def poisson_tail(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean)."""
    if k <= 0:
        return 1.0
    term = math.exp(-mean)
    below = term
    for i in range(1, k):
        term *= mean / i
        below += term
    return max(0.0, 1.0 - below)


def assess(kind: Kind, subject: str, recent: int, baseline: int, started: datetime | None,
           params: TrendParams) -> Trend | None:
    """The verdict on one subject's counts, or None when its rate is ordinary."""
    if recent < params.min_articles or started is None:
        return None
    baseline_per_hour = max(baseline / params.baseline_hours, BASELINE_FLOOR_PER_HOUR)
    expected = baseline_per_hour * params.window_hours
    probability = poisson_tail(recent, expected)
    if probability < params.tail_probability:
        level: Level = "breaking"
    elif probability < params.trending_probability:
        level = "trending"
    else:
        return None
    return Trend(kind, subject, level, started, recent, expected, recent / params.window_hours,
                 baseline_per_hour, probability)


def trends_from_times(kind: Kind, times: Mapping[str, Sequence[datetime]], now: datetime,
                      params: TrendParams) -> list[Trend]:
    """The trends among subjects given their articles' times; breaking first, then by probability."""
    window_start = now - timedelta(hours=params.window_hours)
    baseline_start = window_start - timedelta(hours=params.baseline_hours)
    found = []
    for subject, moments in times.items():
        recent = sorted(moment for moment in moments if window_start < moment <= now)
        baseline = sum(1 for moment in moments if baseline_start < moment <= window_start)
        trend = assess(kind, subject, len(recent), baseline, recent[0] if recent else None, params)
        if trend is not None:
            found.append(trend)
    return ordered(found)


def ordered(trends: Iterable[Trend]) -> list[Trend]:
    return sorted(trends, key=lambda t: (t.level != "breaking", t.probability, -t.recent, t.kind, t.subject))


def params_from(window_hours: float, baseline_hours: float, min_articles: int, tail_probability: float,
                trending_probability: float) -> TrendParams:
    """TrendParams from the settings' values (VIGIE_TREND_*)."""
    return TrendParams(window_hours, baseline_hours, min_articles, tail_probability, trending_probability)


@dataclass(frozen=True, slots=True)
class VolumePoint:
    """One bucket of a query's volume over time, judged against the query's own preceding buckets."""

    count: int
    expected: float  # articles the baseline (mean of the preceding buckets, floored) predicts here
    probability: float  # Poisson tail: chance of ``count`` or more under that baseline
    level: Level | None


def volume_spikes(counts: Sequence[int], bucket_hours: float, params: TrendParams,
                  baseline_buckets: int = 24) -> list[VolumePoint]:
    """The same test as a story's, bucket by bucket: a bucket is breaking (trending) when its count has
    a Poisson tail below ``tail_probability`` (``trending_probability``) under the mean of up to
    ``baseline_buckets`` buckets before it, floored at BASELINE_FLOOR_PER_HOUR per hour, and holds at
    least ``min_articles``. The first bucket has no baseline and is never a spike."""
    floor = BASELINE_FLOOR_PER_HOUR * bucket_hours
    points = []
    for i, count in enumerate(counts):
        before = counts[max(0, i - baseline_buckets):i]
        expected = max(sum(before) / len(before), floor) if before else float(count)
        probability = poisson_tail(count, expected) if before else 1.0
        level: Level | None = None
        if before and count >= params.min_articles:
            if probability < params.tail_probability:
                level = "breaking"
            elif probability < params.trending_probability:
                level = "trending"
        points.append(VolumePoint(count, expected, probability, level))
    return points
