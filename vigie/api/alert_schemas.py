"""The shapes of the alerts and notifications API (routes/alerts.py, routes/notifications.py).

A request body says what `vigie alerts add` says with options (``topics`` for ``--topic``, ``digest``
for ``--digest``, ...), every field bounded and unknown fields refused; what the rule means is then
checked by ``index.alerts.validate_rule``, as for the command line. Answers are
``AlertRule.to_dict`` and ``Notification.to_dict``: what `vigie alerts ... --json` prints.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from index.alerts import MAX_NAME_CHARS, MAX_TAG_CHARS, MIN_SECRET_CHARS
from ingest.notification_records import Notification
from vigie.api.schemas import Hit, TopicOut, http_url, record_schema

MAX_QUERY_CHARS = 2000  # as `q` of /api/search: index.query refuses longer queries anyway
MAX_SECRET_CHARS = 512

TopicName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
EntityName = Annotated[str, StringConstraints(min_length=1, max_length=256)]
LanguageCode = Annotated[str, StringConstraints(min_length=1, max_length=8)]
FeedName = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
TagName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TAG_CHARS)]
NotificationState = Literal["pending", "delivered", "failed", "stored"]


def _webhook(url: str | None) -> str | None:
    return None if url is None else http_url(url)


def _without_null_defaults(schema: dict[str, Any]) -> None:
    """A field that may be left out but not set to null shows no ``default: null`` in the schema."""
    for field in schema.get("properties", {}).values():
        if "default" in field and field["default"] is None and "anyOf" not in field:
            del field["default"]


# -- requests --------------------------------------------------------------------------------------


class AlertIn(BaseModel):
    """A new alert: at least one of topics, query, entities, languages, feeds or tags."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS, examples=["Migration Turquie"],
                      description="Unique, whatever the case; the alert is also reached by it.")
    topics: list[TopicName] = Field(default_factory=list, max_length=20,
                                    description="Topics (`GET /api/topics`): any of them, or all with `all_topics`.")
    all_topics: bool = Field(False, description="The article must have every topic, not one of them.")
    query: str = Field("", max_length=MAX_QUERY_CHARS, examples=["Turquie OR Turkey"],
                       description="`vigie search`'s query language (docs/query-language.md).")
    entities: list[EntityName] = Field(default_factory=list, max_length=20,
                                       description="Names the article must all mention (entity keys or phrases).")
    languages: list[LanguageCode] = Field(default_factory=list, max_length=20,
                                          description="ISO 639-1 codes: any of them.")
    feeds: list[FeedName] = Field(default_factory=list, max_length=10,
                                  description="Feed URLs or article domains: any of them.")
    tags: list[TagName] = Field(default_factory=list, max_length=20, examples=[["News"]],
                                description="Feed tags (OPML folders, `vigie feeds tag`): articles from the feeds "
                                            "carrying any of them, as `tag` of /api/search (case-insensitive; "
                                            "\"News\" takes \"News/World\").")
    min_score: float | None = Field(None, gt=0, le=1, allow_inf_nan=False,
                                    description="A topic counts only with at least this score; needs topics.")
    webhook: str | None = Field(None, max_length=2048, examples=["https://hooks.example.org/vigie"],
                                description="http(s) URL receiving a signed JSON POST per match (or per digest). "
                                            "None: the matches are only stored (list, stream, Atom feed).")
    secret: str | None = Field(None, min_length=MIN_SECRET_CHARS, max_length=MAX_SECRET_CHARS,
                               description="HMAC-SHA256 key of X-Vigie-Signature; 32 random bytes when not given. "
                                           "Answered in full once, by this request.")
    digest: Literal["hourly", "daily"] | None = Field(None, description="One message per period instead of one "
                                                                         "per match; needs a webhook or an e-mail.")
    email: str | None = Field(None, max_length=254, examples=["ana@example.org"],
                              description="An address that gets an e-mail per match (or per digest), sent through "
                                          "VIGIE_SMTP_HOST; instead of a webhook.")
    paused: bool = Field(False, description="Create it paused.")
    per_story: bool = Field(False, description="Notify once per story (its first matching article), not per article.")
    story_updates: int = Field(0, ge=0, le=100_000, description="With per_story: notify again each time the story "
                                                                "has grown by this many articles (0: never).")
    story_new_language: bool = Field(False, description="With per_story: notify again when the story reaches a "
                                                        "new language.")

    @field_validator("webhook")
    @classmethod
    def _http_only(cls, url: str | None) -> str | None:
        return _webhook(url)


class AlertChanges(BaseModel):
    """Fields to change; the others stay. ``webhook``, ``min_score``, ``digest`` and ``secret`` may be
    null: no webhook (matches only stored), no minimum score, immediate delivery, a new random secret."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_without_null_defaults)

    name: str = Field(None, min_length=1, max_length=MAX_NAME_CHARS)  # type: ignore[assignment]
    topics: list[TopicName] = Field(None, max_length=20)  # type: ignore[assignment]
    all_topics: bool = Field(None)  # type: ignore[assignment]
    query: str = Field(None, max_length=MAX_QUERY_CHARS)  # type: ignore[assignment]
    entities: list[EntityName] = Field(None, max_length=20)  # type: ignore[assignment]
    languages: list[LanguageCode] = Field(None, max_length=20)  # type: ignore[assignment]
    feeds: list[FeedName] = Field(None, max_length=10)  # type: ignore[assignment]
    tags: list[TagName] = Field(None, max_length=20)  # type: ignore[assignment]
    min_score: float | None = Field(None, gt=0, le=1, allow_inf_nan=False)
    webhook: str | None = Field(None, max_length=2048)
    secret: str | None = Field(None, min_length=MIN_SECRET_CHARS, max_length=MAX_SECRET_CHARS)
    digest: Literal["hourly", "daily"] | None = None
    paused: bool = Field(None)  # type: ignore[assignment]
    email: str | None = Field(None, max_length=254)

    @field_validator("webhook")
    @classmethod
    def _http_only(cls, url: str | None) -> str | None:
        return _webhook(url)


# -- answers ---------------------------------------------------------------------------------------


class DeliveryOut(BaseModel):
    webhook: str | None = Field(description="None: the matches are only stored.")
    secret: str = Field(description="In full only in the answer that created it; otherwise its last four "
                                    "characters ('…abcd'), or '' without a webhook.")
    mode: Literal["immediate", "hourly", "daily"]
    email: str | None = Field(None, exclude_if=lambda value: value is None,
                              description="The address of an e-mailed alert; absent: not e-mailed.")


class FiredOut(BaseModel):
    matches: int = Field(description="Notifications the alert made (one per match).")
    last_match: str | None = Field(description="When the last of them was made (ISO); None: never.")


class AlertOut(BaseModel):
    """An alert as `vigie alerts show --json` prints it."""

    alert_id: str
    name: str
    topics: list[str]
    all_topics: bool
    query: str
    entities: list[str]
    languages: list[str]
    feeds: list[str]
    tags: list[str] = Field(default_factory=list, description="Feed tags, any of them (compared case-folded).")
    min_score: float | None
    delivery: DeliveryOut
    paused: bool
    created_at: str | None
    updated_at: str | None
    per_story: bool = False
    story_updates: int = 0
    story_new_language: bool = False
    fired: FiredOut | None = Field(None, exclude_if=lambda value: value is None,
                                   description="How often the alert fired (`GET /api/alerts?counts=true`).")


class BacktestOut(BaseModel):
    """`vigie alerts test NAME --json`: the articles the alert's search finds, newest first."""

    alert: str = Field(description="The alert's name.")
    since: str | None = Field(description="Published since (ISO); None: any date.")
    query: str
    total: int
    took_ms: int
    hits: list[Hit]


class TopicSummary(BaseModel):
    name: str
    label: str
    languages: list[str]
    threshold: float


class MatchedOut(BaseModel):
    topics: list[TopicOut] = Field(description="The alert's topics the article has.")
    terms: list[str] = Field(description="The words of the alert's query found in the article.")
    entities: list[str] = Field(description="The alert's entities (and query words that are names) found.")
    highlights: dict[str, list[str]] = Field(
        description="Passages with the matched words between <mark> and </mark>; the rest is the article's "
                    "text, not HTML.")


NotificationOut = record_schema(
    Notification, "NotificationOut",
    "One (alert, article) match and its delivery, as `vigie alerts fired --json` prints it.",
    json_types={"matched": MatchedOut, "state": NotificationState},
    descriptions={"mode": "immediate, hourly, daily, or none (no webhook).",
                  "state": "pending, delivered, failed (dead-lettered), or stored (no webhook).",
                  "story": "Per-story alerts: the story (id, headline, size, languages) and why it was notified."},
    derived={"story_id": (str | None, "Per-story alerts: the story's id.")},
)

