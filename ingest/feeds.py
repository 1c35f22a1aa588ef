"""Feed bytes to ``FeedItem`` records: RSS 0.9x/1.0/2.0 and Atom through feedparser, made safe first.

    bytes ──► charset (ingest.feed_decode) ──► is it a feed? ──► safe, bounded, well-formed XML
          (ingest.feed_xml) ──► feedparser ──► items: absolute links, sanitised summaries
          (ingest.sanitize), ids (ingest.identity), duplicates collapsed

What feedparser gets is always UTF-8 bytes wrapped in a stream: given ``bytes`` it would first try
them as a *file name* (``b"/etc/passwd"`` as a body would be read from disk). Its own sanitiser and
relative-URI rewriting are turned off because nh3 does both, faster and stricter.

Outcomes: a ``ParsedFeed`` (maybe with ``warnings`` when the XML was broken but items could be
recovered), or ``FeedError`` with kind ``not-a-feed`` (HTML page, JSON, binary, empty, another XML
vocabulary) or ``malformed-feed`` (looks like a feed, nothing recoverable).
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from ingest.errors import FeedError
from ingest.feed_decode import decode_feed_bytes
from ingest.feed_xml import UnreadableXml, feed_document, root_element
from ingest.identity import article_id
from ingest.models import FeedItem
from ingest.sanitize import plain_text, sanitize_html

#: Bounds on one item's fields: past them the text is cut before sanitising (a feed is not a book).
MAX_TITLE_CHARS = 1_000
MAX_SUMMARY_CHARS = 100_000
MAX_CONTENT_CHARS = 1_000_000

_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_FEED_ROOTS = {"rss", "feed", "rdf", "channel"}
_FEED_START = re.compile(r"<\?xml\b|<(?:[\w.-]+:)?(?:rss|feed|RDF)\b")
_ALTERNATE_LINK = re.compile(
    r"<link\b(?=[^>]*\brel\s*=\s*[\"']?alternate)(?=[^>]*\btype\s*=\s*[\"']?application/(?:rss|atom)\+xml)"
    r"[^>]*\bhref\s*=\s*[\"']([^\"'>]+)", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_JUNK_WINDOW = 4096


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed: its metadata, its items (unique by ``article_id``) and what had to be repaired."""

    title: str
    link: str | None
    language: str | None
    items: tuple[FeedItem, ...]
    warnings: tuple[str, ...]
    format: str = ""  # feedparser's name for it: "rss20", "atom10", "rss10", "rss091u", ...


def parse_feed(body: bytes, *, feed_url: str, content_type_encoding: str | None = None,
               base_url: str | None = None) -> ParsedFeed:
    """Parse one feed document.

    ``feed_url`` is the feed as registered (it names the feed in items and errors); ``base_url`` is
    where the bytes really came from after redirects, against which relative links are resolved
    (default: ``feed_url``). ``content_type_encoding`` is the HTTP charset, if the server sent one.
    """
    base = base_url or feed_url
    if not body.strip():
        raise FeedError(feed_url, f"{feed_url} returned an empty document, not a feed.", kind="not-a-feed")
    decoded = decode_feed_bytes(body, content_type_encoding)
    warnings = list(decoded.warnings)
    text = decoded.text
    root = root_element(text)
    if root is None or _local(root) not in _FEED_ROOTS | {"html"}:
        text, root = _skip_leading_junk(text, warnings, root)
    if root is None:
        raise FeedError(feed_url, f"{feed_url} is not a feed: {_describe_non_xml(body, text)}.",
                        kind="not-a-feed")
    if _local(root) == "html":
        link = advertised_feed(text, base)
        error = FeedError(feed_url, f"{feed_url} is an HTML page, not a feed"
                                    f"{f' (the page links to a feed at {link})' if link else ''}.", kind="not-a-feed")
        error.feed_link = link  # `feeds add` follows it, `vigie fetch` names it
        raise error
    if _local(root) not in _FEED_ROOTS:
        raise FeedError(feed_url, f"{feed_url} is XML but not a feed: its root element is <{root}>, "
                                  "not <rss>, <feed> or <rdf:RDF>.", kind="not-a-feed")
    try:
        rebuilt = feed_document(text)
    except UnreadableXml as error:
        raise FeedError(feed_url, f"{feed_url} is a broken feed: {error}.", kind="malformed-feed") from None
    del text, decoded  # up to 10 MB each: not needed past this point
    warnings.extend(rebuilt.warnings)

    parsed = _feedparser(rebuilt.data, feed_url, base)
    entries: list[Any] = list(parsed.get("entries") or ())
    if parsed.get("bozo"):  # cannot happen after rebuild (expat accepted it); say so if it does
        warnings.append(f"feedparser found a problem ({_bozo_reason(parsed)})")

    feed = parsed.get("feed") or {}
    language = _clean_language(feed.get("language"))
    items: dict[str, FeedItem] = {}
    duplicates = skipped = 0
    for entry in entries:
        item = _item(entry, feed_url=feed_url, base=base, feed_language=language)
        if item is None:
            skipped += 1
        elif item.article_id in items:
            duplicates += 1
        else:
            items[item.article_id] = item
    if duplicates:
        warnings.append(f"{duplicates} duplicate item(s) collapsed (same GUID or link)")
    if skipped:
        warnings.append(f"{skipped} item(s) without GUID, link, title or text skipped")
    return ParsedFeed(
        title=_title(feed),
        link=_web_link(feed.get("link"), base),
        language=language,
        items=tuple(items.values()),
        warnings=tuple(warnings),
        format=str(parsed.get("version") or ""),
    )


def _feedparser(data: bytes, feed_url: str, base: str) -> Any:
    headers = {"content-type": "application/xml; charset=utf-8", "content-location": base}
    try:
        # A stream, never bytes or str: feedparser would try those as a file name or URL first.
        return feedparser.parse(io.BytesIO(data), response_headers=headers,
                                sanitize_html=False, resolve_relative_uris=False)
    except Exception as error:  # feedparser's lenient parser has crashed on hostile input before
        raise FeedError(feed_url, f"{feed_url} could not be parsed as a feed ({type(error).__name__}: {error}).",
                        kind="malformed-feed") from None


# --- deciding what the document is ------------------------------------------------------------------


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1].lower()


def _skip_leading_junk(text: str, warnings: list[str], root: str | None) -> tuple[str, str | None]:
    """Recover feeds preceded by junk (a PHP warning, stray bytes) by starting at the XML."""
    found = _FEED_START.search(text, 0, _JUNK_WINDOW)
    if not found or found.start() == 0:
        return text, root
    warnings.append(f"{found.start()} character(s) of junk before the feed skipped")
    text = text[found.start():]
    return text, root_element(text)


def _describe_non_xml(body: bytes, text: str) -> str:
    if text.lstrip()[:1] in ("{", "["):
        return "it looks like JSON (JSON Feed is not supported)"
    sample = body[:1000]
    controls = sum(byte < 0x20 and byte not in b"\t\n\r" for byte in sample)
    if controls > 0.05 * len(sample):
        return "the body is binary data"
    return "the body is not XML"


def advertised_feed(text: str, base: str) -> str | None:
    """Autodiscovery: the absolute URL of the feed an HTML page advertises
    (``<link rel="alternate" type="application/rss+xml" href=...>``), or None."""
    advertised = _ALTERNATE_LINK.search(text, 0, 200_000)
    if not advertised:
        return None
    return _web_link(html.unescape(advertised.group(1)), base)


def _bozo_reason(parsed: Any) -> str:
    error = parsed.get("bozo_exception")
    text = str(error) if error is not None else "not well-formed"
    return text.replace("<unknown>:", "line ").strip() or type(error).__name__


# --- one entry --------------------------------------------------------------------------------------


def _item(entry: Any, *, feed_url: str, base: str, feed_language: str | None) -> FeedItem | None:
    entry_base = _detail(entry, "summary_detail").get("base") or _detail(entry, "title_detail").get("base") or base
    link = _web_link(entry.get("link"), entry_base)
    guid = _SPACES.sub(" ", str(entry.get("id") or "")).strip() or None
    title = _title(entry)
    summary_markup = _html_of(entry.get("summary"), _detail(entry, "summary_detail").get("type"))
    content_markup, content_base = _content(entry)
    full = sanitize_html(content_markup[:MAX_CONTENT_CHARS], content_base or entry_base) if content_markup else None
    if summary_markup:
        summary = sanitize_html(summary_markup[:MAX_SUMMARY_CHARS], entry_base)
    else:  # only full content: its beginning stands for the summary
        summary = sanitize_html(content_markup[:MAX_SUMMARY_CHARS], content_base or entry_base)
    if not (guid or link or title or summary):
        return None
    published = _datetime(_own(entry, "published_parsed") or _own(entry, "updated_parsed"))
    identity_title = title or plain_text(summary)[:MAX_TITLE_CHARS]
    language = _clean_language(_detail(entry, "title_detail").get("language")) or feed_language
    author = _SPACES.sub(" ", str(entry.get("author") or "")).strip() or None
    return FeedItem(
        article_id=article_id(guid, link, identity_title, published),
        feed_url=feed_url,
        url=link,
        title=title,
        summary=summary,
        content=full or None,  # set whenever the feed carries full text, so no page fetch is needed
        published=published,
        guid=guid,
        author=author[:MAX_TITLE_CHARS] if author else None,
        language_hint=language,
    )


def _detail(entry: Any, key: str) -> Any:
    return entry.get(key) or {}


def _html_of(value: Any, kind: str | None) -> str:
    """Markup for a text construct: plain text is escaped so "a < b" stays text, not a tag."""
    text = str(value or "")
    if not text:
        return ""
    return text if (kind or "text/html") in _HTML_TYPES else html.escape(text, quote=False)


def _content(entry: Any) -> tuple[str, str | None]:
    """The longest full content the entry carries (content:encoded, atom:content), and its base."""
    best, best_base = "", None
    for part in entry.get("content") or ():
        markup = _html_of(part.get("value"), part.get("type"))
        if len(markup) > len(best):
            best, best_base = markup, part.get("base")
    return best, best_base


def _title(container: Any) -> str:
    """A title is plain text: markup in it, escaped or not, is formatting or an attack, so tags go.

    (RSS does not say whether a title is text or HTML and feeds use both; "a < b" survives since it
    is not a tag.)
    """
    return plain_text(str(container.get("title") or "")[:MAX_TITLE_CHARS * 4])[:MAX_TITLE_CHARS]


def _web_link(value: Any, base: str) -> str | None:
    """An absolute http(s) URL, resolved against ``base``; anything else (javascript:, mailto:) is None."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        absolute = urljoin(base, text)
        parts = urlsplit(absolute)
    except ValueError:
        return None
    return absolute if parts.scheme in ("http", "https") and parts.netloc else None


def _own(entry: Any, key: str) -> Any:
    """The entry's own ``key``, without feedparser's deprecated fallback from ``updated*`` to ``published*``
    (it warns, and its next versions drop it): the caller asks for both in its own order."""
    return dict.get(entry, key) if isinstance(entry, dict) else None


def _datetime(value: Any) -> datetime | None:
    """feedparser's UTC ``struct_time`` as an aware datetime; None if absent or impossible."""
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _clean_language(value: Any) -> str | None:
    text = str(value or "").strip().replace("_", "-")
    return text[:35] or None
