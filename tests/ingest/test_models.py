"""The records between stages (ingest.models) as the queues and the staged writes carry them: every
field written, and read back to an equal record."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime, timezone

from ingest.models import Article, FeedItem, iso_time

MOMENT = datetime(2026, 3, 5, 14, 30, 12, 250000, tzinfo=timezone.utc)


def test_a_feed_item_writes_every_field_and_reads_back_equal() -> None:
    item = FeedItem(article_id="a1", feed_url="http://127.0.0.1/f.xml", url="https://x.example/1", title="Idleb",
                    summary="<p>Cessez-le-feu</p>", content="<p>Texte</p>", published=MOMENT, guid="g1",
                    author="AFP", language_hint="fr")
    data = item.to_dict()
    assert set(data) == {field.name for field in fields(FeedItem)}
    assert data == {**asdict(item), "published": iso_time(MOMENT)}
    assert FeedItem.from_dict(data) == item


def test_an_article_writes_every_field_and_reads_back_equal() -> None:
    for published, fetched in ((MOMENT, MOMENT), (None, None)):
        article = Article(article_id="a2", title="Erdogan et Poutine", body="<p>Texte</p>", is_html=True,
                          text_source="page", feed_url="http://127.0.0.1/f.xml", url="https://x.example/2",
                          published=published, fetched_at=fetched, fetch_error=None, language_hint="fr")
        data = article.to_dict()
        assert set(data) == {field.name for field in fields(Article)}
        assert data == {**asdict(article), "published": iso_time(published), "fetched_at": iso_time(fetched)}
        assert Article.from_dict(data) == article
