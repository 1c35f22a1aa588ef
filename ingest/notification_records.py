"""Notifications as records: what an alert match makes, stored by ``index.notifications`` and sent by
``ingest.webhook``; typed records between stages, so they sit at the bottom with the other records.

A notification is one (alert, article) pair; its id derives from the pair (``notification_id``), so
whatever the retries an article matches an alert once. States: ``pending`` (to be sent: immediately,
or in the next digest), ``delivered`` (a receiver answered 2xx), ``failed`` (attempts spent:
dead-lettered), ``stored`` (the alert has no webhook: the notification is for `vigie alerts fired`
and the Atom feed only).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ingest.models import TopicMatch, iso_time, parse_time

PENDING, DELIVERED, FAILED, STORED = "pending", "delivered", "failed", "stored"
DIGEST_MODES = ("hourly", "daily")


def notification_id(alert_id: str, article_id: str) -> str:
    """The one id of the notification of ``article_id`` for ``alert_id``."""
    return hashlib.sha256(f"{alert_id}\x00{article_id}".encode()).hexdigest()[:32]


def digest_id(alert_id: str, period_end: datetime) -> str:
    """The id (and Idempotency-Key) of the digest of ``alert_id`` for the period ending at ``period_end``."""
    return hashlib.sha256(f"{alert_id}\x00digest\x00{period_end.isoformat()}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Matched:
    """Why an article matched: the alert's topics it has, the query terms and the entities found,
    and passages with the matched words in ``<mark>``."""

    topics: tuple[TopicMatch, ...] = ()
    terms: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    highlights: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"topics": [topic.to_dict() for topic in self.topics], "terms": list(self.terms),
                "entities": list(self.entities), "highlights": self.highlights}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Matched:
        return cls(topics=tuple(TopicMatch.from_dict(topic) for topic in data.get("topics", ())),
                   terms=tuple(data.get("terms", ())), entities=tuple(data.get("entities", ())),
                   highlights={key: list(value) for key, value in (data.get("highlights") or {}).items()})


@dataclass(frozen=True)
class Notification:
    notification_id: str
    alert_id: str
    alert_name: str
    article_id: str
    title: str
    url: str | None
    feed: str | None
    language: str
    published: str | None
    matched: Matched
    mode: str  # immediate, hourly, daily, or none (no webhook)
    state: str
    created_at: datetime
    attempts: int = 0
    last_error: str | None = None
    due_at: datetime | None = None  # when the next attempt may be made
    delivered_at: datetime | None = None
    digest_id: str | None = None
    story: dict[str, Any] | None = None  # per-story alerts: {id, headline, size, languages, reason}

    def to_dict(self) -> dict[str, Any]:
        return {
            "notification_id": self.notification_id, "alert_id": self.alert_id, "alert_name": self.alert_name,
            "article_id": self.article_id, "title": self.title, "url": self.url, "feed": self.feed,
            "language": self.language, "published": self.published, "matched": self.matched.to_dict(),
            "mode": self.mode, "state": self.state, "attempts": self.attempts, "last_error": self.last_error,
            "created_at": iso_time(self.created_at), "due_at": iso_time(self.due_at),
            "delivered_at": iso_time(self.delivered_at), "digest_id": self.digest_id,
            "story_id": self.story["id"] if self.story else None, "story": self.story,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notification:
        return cls(
            notification_id=data["notification_id"], alert_id=data["alert_id"], alert_name=data["alert_name"],
            article_id=data["article_id"], title=data.get("title") or "", url=data.get("url"),
            feed=data.get("feed"), language=data.get("language") or "und", published=data.get("published"),
            matched=Matched.from_dict(data.get("matched") or {}), mode=data.get("mode") or "immediate",
            state=data["state"], created_at=parse_time(data["created_at"]), attempts=int(data.get("attempts") or 0),
            last_error=data.get("last_error"), due_at=parse_time(data.get("due_at")),
            delivered_at=parse_time(data.get("delivered_at")), digest_id=data.get("digest_id"),
            story=data.get("story"),
        )
