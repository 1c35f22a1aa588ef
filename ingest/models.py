"""Typed records passed between the stages of the pipeline.

feed bytes ──► FeedItem ──► Article ──► Analysis ──► AnalyzedArticle ──► index/

Each stage takes one of these and returns the next; nothing of unknown shape crosses a module
boundary. ``to_dict``/``from_dict`` exist because Celery messages are JSON: the worker converts at
its edge, the records stay typed everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

#: Normalised entity labels, whatever the spaCy model says.
EntityLabel = Literal["PERSON", "LOCATION", "ORGANIZATION", "MISC"]
#: Where an article's text came from.
TextSource = Literal["content", "page", "summary", "file"]

UNDETERMINED = "und"


def iso_time(value: datetime | None) -> str | None:
    """A moment as every record writes it (ISO 8601); None stays None."""
    return value.isoformat() if value is not None else None


def parse_time(value: Any) -> datetime | None:
    """A moment as every record reads it back: ISO 8601 text, a datetime, or None."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed, as published, with its identity computed once (ingest.identity)."""

    article_id: str
    feed_url: str
    url: str | None
    title: str
    summary: str  # sanitised HTML (ingest.sanitize), never raw markup from the feed
    content: str | None = None  # sanitised full content when the feed carries it (content:encoded)
    published: datetime | None = None
    guid: str | None = None
    author: str | None = None
    language_hint: str | None = None  # the feed's or entry's declared language, if any

    def to_dict(self) -> dict[str, Any]:
        return {"article_id": self.article_id, "feed_url": self.feed_url, "url": self.url, "title": self.title,
                "summary": self.summary, "content": self.content, "published": iso_time(self.published),
                "guid": self.guid, "author": self.author, "language_hint": self.language_hint}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeedItem:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["published"] = parse_time(values.get("published"))
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Article:
    """An article ready for analysis: raw body (HTML or text) plus where it came from."""

    article_id: str
    title: str
    body: str  # HTML or plain text; ``is_html`` says which
    is_html: bool
    text_source: TextSource
    feed_url: str | None = None
    url: str | None = None
    published: datetime | None = None
    fetched_at: datetime | None = None
    fetch_error: str | None = None  # why the full page could not be used, when text_source == "summary"
    language_hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # field by field: dataclasses.asdict deep-copies every value (0.15 ms an article on the write path)
        return {"article_id": self.article_id, "title": self.title, "body": self.body, "is_html": self.is_html,
                "text_source": self.text_source, "feed_url": self.feed_url, "url": self.url,
                "published": iso_time(self.published), "fetched_at": iso_time(self.fetched_at),
                "fetch_error": self.fetch_error, "language_hint": self.language_hint}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["published"] = parse_time(values.get("published"))
        values["fetched_at"] = parse_time(values.get("fetched_at"))
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Entity:
    """One real-world name in an article, all its mentions merged."""

    text: str  # the longest form seen ("Recep Tayyip Erdogan")
    label: EntityLabel
    mentions: int
    spans: tuple[tuple[int, int], ...]  # character offsets into Analysis.text
    key: str = ""  # normalised form used to match and aggregate ("recep tayyip erdogan")
    #: Identity: the Wikidata QID where the knowledge base knows the entity ("Q7747"), else a stable
    #: Vigie id ("v:dmitry-peskov" for a curated row, "gn:169389" for a GeoNames city, "v:" + a hash
    #: of the label and romanised key for an unknown name). Same entity, same id, in every article.
    id: str = ""
    name: str = ""  # canonical display name with its accents ("Vladimir Putin"); ``text`` as written
    variants: tuple[str, ...] = ()  # the forms this article writes it in ("Vladimir Poutine", "Poutine")

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "label": self.label,
            "mentions": self.mentions,
            "spans": [list(span) for span in self.spans],
            "key": self.key,
            "id": self.id,
            "name": self.name,
            "variants": list(self.variants),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entity:
        return cls(
            text=data["text"],
            label=data["label"],
            mentions=int(data["mentions"]),
            spans=tuple(tuple(span) for span in data.get("spans", ())),  # type: ignore[misc]
            key=data.get("key", ""),
            id=data.get("id", ""),
            name=data.get("name", ""),
            variants=tuple(data.get("variants", ())),
        )


@dataclass(frozen=True, slots=True)
class TopicMatch:
    """A topic the article is about, with the evidence a reader can check."""

    name: str
    score: float  # in [0, 1]
    evidence: tuple[str, ...]  # the terms, phrases and groups that fired
    iptc: str = ""  # its IPTC Media Topics code ("medtop:20000574"); "" for a rule without one
    iptc_top: str = ""  # the code of its top-level IPTC subject ("medtop:11000000")
    parent: str | None = None  # the topic it refines ("politics" for "elections")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "score": self.score, "evidence": list(self.evidence),
                "iptc": self.iptc, "iptc_top": self.iptc_top, "parent": self.parent}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TopicMatch:
        return cls(name=data["name"], score=float(data["score"]), evidence=tuple(data["evidence"]),
                   iptc=data.get("iptc") or "", iptc_top=data.get("iptc_top") or "", parent=data.get("parent"))


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the analysis finds in one article."""

    language: str  # ISO 639-1, or "und"
    language_confidence: float
    title: str
    text: str  # clean text, paragraphs separated by a blank line
    entities: tuple[Entity, ...]
    topics: tuple[TopicMatch, ...]
    lemmas: str = ""  # lower-cased lemmas of title and text, space-separated (searchable field)
    warnings: tuple[str, ...] = ()  # why something is empty or partial (e.g. "no model for 'pt'")

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "language_confidence": self.language_confidence,
            "title": self.title,
            "text": self.text,
            "entities": [entity.to_dict() for entity in self.entities],
            "topics": [topic.to_dict() for topic in self.topics],
            "lemmas": self.lemmas,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Analysis:
        return cls(
            language=data["language"],
            language_confidence=float(data["language_confidence"]),
            title=data["title"],
            text=data["text"],
            entities=tuple(Entity.from_dict(item) for item in data["entities"]),
            topics=tuple(TopicMatch.from_dict(item) for item in data["topics"]),
            lemmas=data.get("lemmas", ""),
            warnings=tuple(data.get("warnings", ())),
        )


@dataclass(frozen=True, slots=True)
class AnalyzedArticle:
    """An article and its analysis: what index/ stores."""

    article: Article
    analysis: Analysis
    signature: str = ""  # near-duplicate signature of the text (index.dedup), hex

    def to_dict(self) -> dict[str, Any]:
        return {"article": self.article.to_dict(), "analysis": self.analysis.to_dict(), "signature": self.signature}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalyzedArticle:
        return cls(
            article=Article.from_dict(data["article"]),
            analysis=Analysis.from_dict(data["analysis"]),
            signature=data.get("signature", ""),
        )
