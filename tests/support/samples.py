"""The sample wire story (vigie/data/erdogan-poutine-idleb.fr.txt) as a feed item, to send through the
real pipeline (``vigie.process_items``): it carries its whole text, so no page is fetched."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape

from ingest.models import FeedItem
from vigie.demo_feed import demo_story


def sample_item(article_id: str = "sample-erdogan", url: str | None = None, published: datetime | None = None) -> FeedItem:
    story = demo_story()
    return FeedItem(article_id=article_id, feed_url="http://127.0.0.1:1/feed.xml",
                    url=url or f"https://wire.example.org/{article_id}", title=story.title, summary=story.summary,
                    content="".join(f"<p>{escape(paragraph)}</p>" for paragraph in story.paragraphs),
                    published=published or datetime.now(timezone.utc), guid=f"urn:test:{article_id}")
