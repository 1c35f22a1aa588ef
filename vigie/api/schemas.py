"""The shapes the API accepts and returns (they make the OpenAPI schema).

Request bodies are untrusted: every model forbids unknown fields and bounds its strings. Response
models mirror what ``index/`` and ``worker/`` return (``SearchResult.to_dict()``, ``article_stats``,
``Feed.describe()``), so the routes hand those over as they are and FastAPI checks them.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model, field_validator
from starlette.responses import Response

from index.search import SearchHit
from vigie.api.story_schemas import StorySummary

EntityLabel = Literal["PERSON", "LOCATION", "ORGANIZATION", "MISC"]


@lru_cache(maxsize=None)
def _adapter(shape: Any) -> TypeAdapter[Any]:
    return TypeAdapter(shape)


def checked_json(shape: Any, data: Any, status_code: int = 200, *, exclude_none: bool = False) -> Response:
    """``data`` checked against ``shape`` (a model, or ``list[Model]``) and written as JSON by pydantic
    in one pass: what FastAPI's ``response_model`` does, at less than half its cost on a page of hits.
    Routes still declare ``response_model`` for the OpenAPI schema."""
    adapter = _adapter(shape)
    return Response(adapter.dump_json(adapter.validate_python(data), exclude_none=exclude_none), status_code=status_code,
                    media_type="application/json")


def _json_form(annotation: Any) -> Any:
    """A record field's type as its ``to_dict()`` writes it: a datetime is an ISO string."""
    if annotation is datetime:
        return str
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.Union[tuple(_json_form(arg) for arg in typing.get_args(annotation))]
    return annotation


def record_schema(record: type, name: str, doc: str | None, *, json_types: dict[str, Any] | None = None,
                  descriptions: dict[str, str] | None = None, rename: dict[str, str] | None = None,
                  exclude: frozenset[str] = frozenset(),
                  derived: dict[str, tuple[Any, str]] | None = None) -> type[BaseModel]:
    """The response model of a record dataclass, derived from it rather than copied: one field per
    field of the record, in its order, as its ``to_dict()`` writes it. ``json_types``: the JSON form of the
    fields that hold other records (their own response models); ``rename``: fields ``to_dict()``
    writes under another name; ``exclude``: fields ``to_dict()`` leaves out; ``derived``: what
    ``to_dict()`` adds that is no field (name: (type, description)). A field with a default is optional."""
    hints = typing.get_type_hints(record)
    fields: dict[str, Any] = {}
    for item in dataclasses.fields(record):
        if item.name in exclude:
            continue
        key = (rename or {}).get(item.name, item.name)
        annotation = (json_types or {}).get(item.name, _json_form(hints[item.name]))
        description = (descriptions or {}).get(item.name)
        default = item.default if item.default is not dataclasses.MISSING else ...
        fields[key] = (annotation, Field(default, description=description))
    for key, (annotation, description) in (derived or {}).items():
        fields[key] = (annotation, Field(None, description=description))
    return create_model(name, __doc__=doc, **fields)  # type: ignore[call-overload, no-any-return]


def http_url(url: str) -> str:
    """``url`` stripped, or ValueError unless it is an http(s) URL with a host (feeds, webhooks)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise ValueError(f"not a valid URL: {error}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("the URL must start with http:// or https://")
    if not parts.hostname:
        raise ValueError("the URL has no host name")
    if any(ord(char) < 0x20 or char.isspace() for char in url):
        raise ValueError("the URL holds spaces or control characters")
    return url


class FieldProblem(BaseModel):
    location: str = Field(description="Where: 'query.limit', 'body.url', ...")
    message: str


class Problem(BaseModel):
    """Every error answer: a stable ``kind`` for programs and a ``message`` for people."""

    kind: str = Field(description="Stable, kebab-case: query-syntax, invalid-request, not-found, ...")
    message: str
    position: int | None = Field(None, description="query-syntax: character (0-based) where parsing stopped.")
    reason: str | None = Field(None, description="query-syntax: what was wrong there.")
    errors: list[FieldProblem] | None = Field(None, description="invalid-request: each invalid field.")
    retry_after: float | None = Field(None, description="rate-limited, unavailable: seconds to wait.")


# -- search ------------------------------------------------------------------------------------------


class EntityOut(BaseModel):
    text: str = Field(description="The longest form seen, e.g. 'Recep Tayyip Erdogan'.")
    label: EntityLabel
    mentions: int
    spans: list[list[int]] = Field(description="[start, end) character offsets into the article text.")
    key: str = Field(description="Normalised form, used by the entity filter and facets.")


class TopicOut(BaseModel):
    name: str
    score: float
    evidence: list[str] = Field(description="The terms, phrases and groups that fired.")
    iptc: str = Field("", description="The topic's IPTC Media Topics code, e.g. 'medtop:20000574'.")
    iptc_top: str = Field("", description="The code of its top-level IPTC subject, e.g. 'medtop:11000000'.")
    parent: str | None = Field(None, description="The topic it refines ('politics' for 'elections'); "
                                                 "filtering on a parent includes its children.")


Hit = record_schema(
    SearchHit, "Hit", None,
    rename={"article_id": "id"}, exclude=frozenset({"story_id"}),
    json_types={"topics": list[TopicOut], "entities": list[EntityOut], "story": StorySummary | None},
    descriptions={"highlights": "Fragments of 'title' and 'text' with matches between <mark> and </mark>; the "
                                "rest of each fragment is the article's text as stored, not HTML: escape it "
                                "before display.",
                  "story": "The article's story (id, headline, size), if it has one."},
)


class SearchResponse(BaseModel):
    query: str
    total: int
    total_relation: Literal["eq", "gte"] = Field(
        default="eq", description="eq: total is exact; gte: at least total articles match (counted exactly only "
                                  "up to VIGIE_SEARCH_TOTAL_LIMIT, 10,000 by default).")
    took_ms: int
    limit: int
    offset: int
    hits: list[Hit]


class Bucket(BaseModel):
    key: str
    count: int


class EntityBucket(Bucket):
    id: str | None = Field(default=None, description="The entity's id (Wikidata QID or Vigie id), key then being "
                                                      "its canonical name; absent for articles indexed without ids.")


class FeedBucket(Bucket):
    title: str | None = Field(default=None, description="The feed's name, else its own title (key is its URL).")


class Facets(BaseModel):
    total: int
    stories: int = Field(description="Near-duplicate clusters (approximate).")
    topics: list[Bucket]
    entities: list[EntityBucket]
    people: list[EntityBucket]
    places: list[EntityBucket]
    organizations: list[EntityBucket]
    languages: list[Bucket]
    feeds: list[FeedBucket]
    days: list[Bucket]
    undated: int

    @field_validator("topics", "entities", "people", "places", "organizations", "languages", "feeds", "days",
                     mode="before")
    @classmethod
    def _keys_as_text(cls, buckets: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{**bucket, "key": str(bucket["key"])} for bucket in buckets]


class VolumeBucket(BaseModel):
    key: str = Field(description="Start of the bucket (UTC, ISO 8601).")
    count: int
    expected: float = Field(description="Articles the query's own baseline predicts in this bucket.")
    probability: float = Field(description="Poisson tail: chance of this count or more under that baseline.")
    level: Literal["breaking", "trending"] | None = Field(description="A spike, or null.")


class Volume(BaseModel):
    """Articles matching a query per hour or day, with spikes marked (``GET /api/volume``)."""

    interval: Literal["hour", "day"]
    since: str
    until: str
    total: int
    rule: str = Field(description="How spikes are found, in words.")
    buckets: list[VolumeBucket]


class EntityVariant(BaseModel):
    text: str
    articles: int


class EntityLanguage(BaseModel):
    language: str
    articles: int


class EntityDay(BaseModel):
    day: str
    articles: int


class CoOccurring(BaseModel):
    id: str | None
    name: str
    articles: int


class EntityArticle(BaseModel):
    id: str
    title: str | None
    url: str | None
    language: str | None
    published: str | None


class EntityProfile(BaseModel):
    """An entity's page (``vigie entities show``): by identity, whatever the spelling or the script."""

    id: str = Field(description="Wikidata QID where known (Q7747), else a Vigie id (v:..., gn:...).")
    name: str = Field(description="Canonical display name.")
    label: str
    articles: int
    variants: list[EntityVariant] = Field(description="The forms the articles wrote it in.")
    languages: list[EntityLanguage]
    days: list[EntityDay]
    co_occurring: list[CoOccurring]
    latest: list[EntityArticle]


# -- articles ----------------------------------------------------------------------------------------


class ArticleOut(BaseModel):
    id: str
    title: str
    url: str | None
    feed: str | None
    source_domain: str | None
    language: str
    language_confidence: float | None
    text_source: str | None
    fetch_error: str | None
    published: str | None
    fetched_at: str | None
    indexed_at: str | None
    text: str
    entities: list[EntityOut]
    topics: list[TopicOut]
    cluster_id: str | None
    warnings: list[str]


# -- feeds -------------------------------------------------------------------------------------------


class FeedErrorOut(BaseModel):
    kind: str
    message: str | None


class FeedOut(BaseModel):
    """``Feed.describe()``: the feed, its health and when it is polled next."""

    id: str
    url: str
    name: str | None
    title: str | None = Field(None, description="The feed's own title, from its last successful poll.")
    display_name: str = Field("", description="How the feed is shown: its name, else its own title, else its URL.")
    tags: list[str] = Field(default_factory=list, description="Its folders (OPML folders on import; nested ones "
                                                              "as 'News/World').")
    interval: float = Field(description="Seconds between polls (adaptive unless fixed).")
    adaptive: bool
    last_success: str | None
    last_error: FeedErrorOut | None
    consecutive_failures: int
    next_poll: str | None
    items_seen: int
    status: Literal["new", "ok", "failing", "quiet"]
    articles_deleted: int | None = Field(None, description="Articles deleted with the feed (DELETE with purge).")


class FeedIn(BaseModel):
    """A feed to follow."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048, description="http or https URL of an RSS or Atom feed.",
                     examples=["https://www.example.org/feed.xml"])
    name: str | None = Field(None, min_length=1, max_length=200, description="A name people recognise.")
    interval: float | None = Field(None, ge=1, le=7 * 86400, allow_inf_nan=False,
                                   description="Fixed poll interval in seconds (default: adaptive); "
                                               "kept within VIGIE_POLL_MIN_INTERVAL..VIGIE_POLL_MAX_INTERVAL.")

    @field_validator("url")
    @classmethod
    def _http_only(cls, url: str) -> str:
        return http_url(url)

    @field_validator("name")
    @classmethod
    def _printable(cls, name: str | None) -> str | None:
        if name is None:
            return None
        if any(ord(char) < 0x20 for char in name):
            raise ValueError("the name holds control characters")
        return name.strip() or None


# -- system ------------------------------------------------------------------------------------------


class ComponentHealth(BaseModel):
    ok: bool
    latency_ms: float | None = None
    error: str | None = None


class ElasticsearchHealth(ComponentHealth):
    documents: int | None = Field(None, description="Articles in the index.")


class WorkersHealth(ComponentHealth):
    alive: list[str] = Field(default_factory=list, description="Celery workers that answered a ping.")


class Health(BaseModel):
    status: Literal["ok", "degraded", "down"] = Field(
        description="ok; degraded: no worker answers (articles wait in the queues); down: Redis or "
                    "Elasticsearch unreachable (the answer is then a 503).")
    version: str
    redis: ComponentHealth
    elasticsearch: ElasticsearchHealth
    workers: WorkersHealth
    queues: dict[str, int] = Field(description="Tasks waiting per Celery queue (Redis LLEN).")
    dead_letters: int | None = Field(description="Entries in the dead-letter list.")
    lemmas_loaded: bool = Field(description="Whether the query lemma tables are loaded (searches wait for them).")
    entities_loaded: bool = Field(
        description="Whether the entity knowledge base is loaded (a search naming an entity waits for it).")
