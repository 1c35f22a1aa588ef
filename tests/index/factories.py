"""Analysed articles built by hand, for index tests that need no spaCy."""

from __future__ import annotations

from datetime import datetime, timezone

from ingest.models import AnalyzedArticle, Analysis, Article, Entity, TopicMatch


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
