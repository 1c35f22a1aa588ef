"""The sample wire story shipped in the package (vigie/data/erdogan-poutine-idleb.fr.txt): its path, for
tests that read the file as a user would pass it, and as a feed item, to send through the real pipeline
(``vigie.process_items``): it carries its whole text, so no page is fetched, and is titled with its
first sentence, as feeds without headlines do (the demo feed has a real headline). Nothing outside the
repository is read."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from importlib import resources
from pathlib import Path

from ingest.models import FeedItem
from vigie.demo_feed import SAMPLE, demo_story


def sample_path() -> Path:
    """The sample text file as installed with the package (the checkout's vigie/data/ in an editable install)."""
    path = Path(str(resources.files("vigie").joinpath("data", SAMPLE)))
    assert path.is_file(), f"the sample {SAMPLE} is missing from the vigie package data"
    return path


SAMPLE_PATH = sample_path()


def sample_item(article_id: str = "sample-erdogan", url: str | None = None, published: datetime | None = None) -> FeedItem:
    story = demo_story()
    return FeedItem(article_id=article_id, feed_url="http://127.0.0.1:1/feed.xml",
                    url=url or f"https://wire.example.org/{article_id}", title=story.lead, summary=story.summary,
                    content="".join(f"<p>{escape(paragraph)}</p>" for paragraph in story.paragraphs),
                    published=published or datetime.now(timezone.utc), guid=f"urn:test:{article_id}")
