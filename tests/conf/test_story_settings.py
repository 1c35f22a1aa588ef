"""The story and trend settings: read from VIGIE_* variables, documented in the README, turned into the
parameters ingest.stories and ingest.trends use."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.stories import params_from as story_params
from ingest.trends import params_from as trend_params
from conf.settings import load_settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
VARIABLES = {
    "VIGIE_STORIES": ("false", False),
    "VIGIE_STORY_WINDOW_HOURS": ("24", 24.0),
    "VIGIE_STORY_THRESHOLD": ("0.3", 0.3),
    "VIGIE_STORY_MERGE_THRESHOLD": ("0.5", 0.5),
    "VIGIE_STORY_CANDIDATE_INDEX": ("false", False),
    "VIGIE_TREND_WINDOW_HOURS": ("2", 2.0),
    "VIGIE_TREND_BASELINE_HOURS": ("48", 48.0),
    "VIGIE_TREND_MIN_ARTICLES": ("6", 6),
    "VIGIE_TREND_TAIL_PROBABILITY": ("0.0001", 0.0001),
    "VIGIE_TREND_TRENDING_PROBABILITY": ("0.01", 0.01),
}


def test_each_variable_is_read_and_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, (raw, _) in VARIABLES.items():
        monkeypatch.setenv(name, raw)
        assert f"`{name}`" in README, name
    settings = load_settings()
    for name, (_, value) in VARIABLES.items():
        assert getattr(settings, name[len("VIGIE_"):].lower()) == value, name
    stories = story_params(settings.story_window_hours, settings.story_threshold, settings.story_merge_threshold)
    assert (stories.window_hours, stories.threshold, stories.merge_threshold) == (24.0, 0.3, 0.5)
    trends = trend_params(settings.trend_window_hours, settings.trend_baseline_hours, settings.trend_min_articles,
                          settings.trend_tail_probability, settings.trend_trending_probability)
    assert (trends.window_hours, trends.baseline_hours, trends.min_articles) == (2.0, 48.0, 6)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.stories and settings.story_window_hours == 72.0 and settings.story_candidate_index
    assert (settings.story_threshold, settings.story_merge_threshold) == (0.24, 0.45)
    assert (settings.trend_window_hours, settings.trend_baseline_hours) == (1.0, 24.0)
