"""The shapes of the stories API (routes/stories.py): what `vigie stories ... --json` prints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class StorySummary(BaseModel):
    """The story of a search hit."""

    id: str
    headline: str
    size: int = Field(description="Articles in the story.")


class TrendOut(BaseModel):
    kind: Literal["story", "entity", "topic"]
    subject: str
    level: Literal["breaking", "trending"]
    started: str = Field(description="Time of the first article of the recent window.")
    recent: int
    expected: float
    rate_per_hour: float
    baseline_per_hour: float
    probability: float = Field(description="Chance of as many articles under the baseline rate (Poisson tail).")
    explanation: str


class StoryOut(BaseModel):
    id: str
    headline: str
    headline_article: str
    languages: list[str]
    language_counts: dict[str, int]
    sources: list[str]
    size: int
    first_seen: str
    last_seen: str
    top_entities: list[str]
    top_topics: list[str]
    hours: dict[str, int] = Field(description="Articles per hour (UTC, 'YYYY-MM-DDTHH').")
    merged_into: str | None
    merges: list[dict[str, Any]]
    trend: TrendOut | None


class StoryList(BaseModel):
    stories: list[StoryOut]
    subjects: list[TrendOut] = Field(default_factory=list, description="With breaking=true: entities and "
                                                                      "topics breaking or trending now.")


class StoryArticle(BaseModel):
    id: str
    title: str
    url: str | None
    language: str | None
    source: str | None
    time: str | None
    reason: str | None
    score: float | None


class StoryDetail(StoryOut):
    articles: list[StoryArticle]
    by_language: dict[str, dict[str, list[str]]] = Field(description="Article ids by language, then by source.")


class StoryArticles(BaseModel):
    """The first articles of one story, with their ids by language then source."""

    articles: list[StoryArticle]
    by_language: dict[str, dict[str, list[str]]] = Field(description="Article ids by language, then by source.")


class StoriesArticles(BaseModel):
    stories: dict[str, StoryArticles] = Field(description="By story id; a story without articles is left out.")
