"""Analysed articles and notifications built by hand, for tests that need no spaCy and no worker."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ingest.models import AnalyzedArticle, Analysis, Article, Entity, TopicMatch
from ingest.notification_records import Matched, Notification, notification_id


def analysed(
    article_id: str,
    *,
    title: str = "Un titre",
    text: str = "Un texte.",
    lemmas: str = "",
    language: str = "fr",
    entities: tuple[Entity, ...] = (),
    topics: tuple[TopicMatch, ...] = (),
    url: str | None = None,
    feed: str = "http://127.0.0.1/feed.xml",
    published: datetime | None = None,
    signature: str = "",
) -> AnalyzedArticle:
    article = Article(
        article_id=article_id, title=title, body=text, is_html=False, text_source="content",
        feed_url=feed, url=url or f"https://news.example.org/{article_id}",
        published=published or datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc),
        fetched_at=datetime.now(timezone.utc),
    )
    analysis = Analysis(
        language=language, language_confidence=0.99, title=title, text=text,
        entities=entities, topics=topics, lemmas=lemmas or text.lower(),
    )
    return AnalyzedArticle(article, analysis, signature=signature)


def person(name: str, key: str | None = None) -> Entity:
    return Entity(text=name, label="PERSON", mentions=1, spans=((0, len(name)),), key=key or name.lower())


def place(name: str) -> Entity:
    return Entity(text=name, label="LOCATION", mentions=1, spans=((0, len(name)),), key=name.lower())


def topic(name: str, score: float = 0.9) -> TopicMatch:
    return TopicMatch(name=name, score=score, evidence=(name,))


_UNSET: Any = object()


def make_notification(alert: str | dict[str, Any], article: str, *, alert_name: str | None = None,
                      title: str | None = None, created_at: datetime | None = None, due_at: datetime | None = _UNSET,
                      matched: Matched | None = None, **fields: Any) -> Notification:
    """A notification of ``alert`` (its id, or the alert as `vigie alerts add --json` prints it) for
    ``article``: pending, immediate, made now and due at once unless told otherwise; any other field of
    Notification (state, mode, url, feed, language, published, attempts...) by keyword."""
    alert_id = alert if isinstance(alert, str) else str(alert["alert_id"])
    name = alert_name or (f"alert {alert_id}" if isinstance(alert, str) else str(alert["name"]))
    made = created_at or datetime.now(timezone.utc)
    values: dict[str, Any] = {"url": None, "feed": None, "language": "fr", "published": None, "mode": "immediate",
                              "state": "pending"}
    values.update(fields)
    return Notification(notification_id=notification_id(alert_id, article), alert_id=alert_id, alert_name=name,
                        article_id=article, title=title or f"Article {article}", matched=matched or Matched(),
                        created_at=made, due_at=made if due_at is _UNSET else due_at, **values)
