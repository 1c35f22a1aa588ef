"""The article inside a full web page, with trafilatura (a maintained main-content extractor).

Navigation, comments, related links and footers are left out; paragraphs come back one per line,
which ingest.clean turns into blank-line paragraphs. Feed summaries are fragments, not pages: they go
through ingest.clean.html_to_text instead.
"""

from __future__ import annotations

import trafilatura
from trafilatura.settings import Document

#: Fewer words than this is what a page without an article leaves (a menu, a footer), not a story:
#: trafilatura returns "Monde Sport" for a page that has only navigation.
MIN_ARTICLE_WORDS = 12


def main_text(html: str, url: str | None) -> str | None:
    """The article text of a page, one paragraph per line, or None when the page has no article."""
    text = trafilatura.extract(
        html,
        url=url,
        output_format="txt",
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        # A wrong paragraph (a teaser, a caption) costs more in entities and topics than a missed one.
        favor_precision=True,
    )
    if text is None or len(text.split()) < MIN_ARTICLE_WORDS:
        return None
    return text


def page_title(html: str) -> str | None:
    """The page's headline from its metadata (og:title, <h1>, <title>), if any."""
    metadata: Document | None = trafilatura.extract_metadata(html)
    if metadata is None or not metadata.title:
        return None
    return str(metadata.title)
