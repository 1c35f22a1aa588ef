"""The article inside a full web page, with trafilatura (a maintained main-content extractor).

Navigation, comments, related links and footers are left out; paragraphs come back one per line,
which ingest.clean turns into blank-line paragraphs. Feed summaries are fragments, not pages: they go
through ingest.clean.html_to_text instead.
"""

from __future__ import annotations

import re

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


_WORD = re.compile(r"\w+")
#: What separates a headline from the site's name in a page title ("Headline - Site", "Site | Headline").
_TITLE_SEPARATORS = re.compile(r"\s+[-|–—:]\s+")
#: A headline shorter than this may well open the text by chance ("Paris", "Breaking news"): only a
#: whole first line equal to it is taken for the headline.
MIN_RUN_IN_HEADLINE_WORDS = 4


def without_headline(text: str, *headlines: str | None) -> str:
    """``text`` without the headline it opens with: pages repeat their <h1> above the article, so the
    extracted text starts with the title the article already has. The first line goes when its words
    are a headline's words (case and punctuation aside); a first line that starts with a headline of
    at least ``MIN_RUN_IN_HEADLINE_WORDS`` words and goes on loses that start. A headline may also be
    one side of a page title such as "Headline - Site". The text is kept whole when nothing would be left."""
    lines = text.split("\n")
    first = next((index for index, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return text
    line = lines[first]
    line_words = [match.group().casefold() for match in _WORD.finditer(line)]
    for words in _headline_word_lists(headlines):
        if line_words == words:
            rest = "\n".join(lines[first + 1:]).strip()
            return rest or text
        if len(words) >= MIN_RUN_IN_HEADLINE_WORDS and line_words[:len(words)] == words and len(line_words) > len(words):
            end = list(_WORD.finditer(line))[len(words) - 1].end()
            remainder = line[end:].lstrip(" \t.:;,!?-–—|»\"'")
            return "\n".join([*lines[:first], remainder, *lines[first + 1:]]).strip()
    return text


def _headline_word_lists(headlines: tuple[str | None, ...]) -> list[list[str]]:
    found: list[list[str]] = []
    for headline in headlines:
        if not headline:
            continue
        for part in (headline, *_TITLE_SEPARATORS.split(headline)):
            words = [match.group().casefold() for match in _WORD.finditer(part)]
            if len(words) >= 2 and words not in found:
                found.append(words)
    return sorted(found, key=len, reverse=True)  # the whole headline before one side of it


def page_title(html: str) -> str | None:
    """The page's headline from its metadata (og:title, <h1>, <title>), if any."""
    metadata: Document | None = trafilatura.extract_metadata(html)
    if metadata is None or not metadata.title:
        return None
    return str(metadata.title)
