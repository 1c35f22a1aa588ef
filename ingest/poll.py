"""One poll of one feed, and one fetch of one article page: the code path `vigie fetch` and the poller share.

Feed problems are results, not exceptions: ``fetch_feed`` returns ``ok=False`` with the error's kind
and message, which the poller records on the feed and `vigie fetch` prints. Only bugs raise.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from ingest.errors import FeedError, FetchError, VigieError
from ingest.feed_decode import decode_feed_bytes
from ingest.feeds import parse_feed
from ingest.fetch import FEED_ACCEPT, Fetcher
from ingest.models import FeedItem

#: Debug-level detail only: the poller logs the one event per poll (feed.polled / feed.failed).
logger = logging.getLogger(__name__)

_HTML_MEDIA_TYPES = {"text/html", "application/xhtml+xml", "application/xml", "text/xml", "text/plain"}
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PollError:
    """Why a poll or a page fetch failed, as a person and a script need it."""

    kind: str  # short kebab-case: "timeout", "http-404", "not-a-feed", ...
    message: str  # a sentence naming the URL
    transient: bool = False  # trying again later may succeed
    feed_link: str | None = None  # not-a-feed: the feed the HTML page links to (autodiscovery)

    @classmethod
    def of(cls, error: VigieError) -> PollError:
        return cls(kind=error.kind, message=str(error), transient=error.transient,
                   feed_link=getattr(error, "feed_link", None))

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


@dataclass(frozen=True, slots=True)
class FeedPoll:
    """The outcome of polling one feed once."""

    feed_url: str
    ok: bool
    status: int | None  # HTTP status of the final answer; None when no answer came
    error: PollError | None
    not_modified: bool  # 304: nothing to parse, nothing new
    items: tuple[FeedItem, ...]  # unique by article_id within this poll; cross-poll dedup is the poller's
    warnings: tuple[str, ...]  # what was repaired (malformed XML, wrong charset, duplicates)
    etag: str | None  # validators to send next time (the previous ones are kept on 304 and on failure)
    last_modified: str | None
    retry_after: float | None  # seconds the server asked us to wait (429, 503)
    elapsed: float  # seconds
    bytes: int  # body bytes after decompression
    final_url: str | None = None  # where the feed was read from, after redirects
    permanent_redirect: str | None = None  # set when the feed has moved for good (301/308 only)
    title: str | None = None  # the feed's own title


@dataclass(frozen=True, slots=True)
class PageFetch:
    """An article page for full-text extraction: its HTML, or why there is none."""

    url: str
    ok: bool
    status: int | None
    html: str | None
    final_url: str | None
    error: PollError | None
    elapsed: float


def fetch_feed(fetcher: Fetcher, url: str, *, etag: str | None = None,
               last_modified: str | None = None) -> FeedPoll:
    """Fetch and parse ``url`` once (conditional GET when validators are given); never raises for the feed."""
    started = time.monotonic()

    def failed(error: VigieError, status: int | None, retry_after: float | None = None,
               size: int = 0) -> FeedPoll:
        poll = FeedPoll(feed_url=url, ok=False, status=status, error=PollError.of(error), not_modified=False,
                        items=(), warnings=(), etag=etag, last_modified=last_modified, retry_after=retry_after,
                        elapsed=time.monotonic() - started, bytes=size)
        logger.debug("feed.failed", extra={"feed": url, "kind": error.kind, "status": status,
                                          "took_ms": round(poll.elapsed * 1000)})
        return poll

    try:
        result = fetcher.fetch(url, etag=etag, last_modified=last_modified, accept=FEED_ACCEPT)
    except FetchError as error:
        return failed(error, error.status, error.retry_after)

    if result.not_modified:
        logger.debug("feed.not_modified", extra={"feed": url, "took_ms": round(result.elapsed * 1000)})
        return FeedPoll(feed_url=url, ok=True, status=result.status, error=None, not_modified=True, items=(),
                        warnings=(), etag=result.etag or etag, last_modified=result.last_modified or last_modified,
                        retry_after=None, elapsed=time.monotonic() - started, bytes=0, final_url=result.url,
                        permanent_redirect=result.permanent_redirect)
    try:
        parsed = parse_feed(result.body, feed_url=url, content_type_encoding=result.encoding, base_url=result.url)
    except FeedError as error:
        return failed(error, result.status, size=len(result.body))

    poll = FeedPoll(feed_url=url, ok=True, status=result.status, error=None, not_modified=False,
                    items=parsed.items, warnings=parsed.warnings, etag=result.etag,
                    last_modified=result.last_modified, retry_after=None, elapsed=time.monotonic() - started,
                    bytes=len(result.body), final_url=result.url, permanent_redirect=result.permanent_redirect,
                    title=parsed.title or None)
    logger.debug("feed.fetched", extra={"feed": url, "status": result.status, "items": len(parsed.items),
                                       "warnings": len(parsed.warnings), "took_ms": round(poll.elapsed * 1000)})
    return poll


def fetch_article_page(fetcher: Fetcher, url: str) -> PageFetch:
    """The HTML of an article page, within the fetcher's limits; an error instead of raising."""
    started = time.monotonic()
    try:
        result = fetcher.fetch_page(url)
    except FetchError as error:
        return PageFetch(url=url, ok=False, status=error.status, html=None, final_url=None,
                         error=PollError.of(error), elapsed=time.monotonic() - started)
    if not result.body.strip():
        error = PollError(kind="empty-page", message=f"{url} returned an empty page.")
        return PageFetch(url=url, ok=False, status=result.status, html=None, final_url=result.url, error=error,
                         elapsed=time.monotonic() - started)
    if result.content_type is not None and result.content_type not in _HTML_MEDIA_TYPES:
        error = PollError(kind="not-html", message=f"{url} is {result.content_type}, not an HTML page.")
        return PageFetch(url=url, ok=False, status=result.status, html=None, final_url=result.url, error=error,
                         elapsed=time.monotonic() - started)
    return PageFetch(url=url, ok=True, status=result.status, html=decode_page(result.body, result.encoding),
                     final_url=result.url, error=None, elapsed=time.monotonic() - started)


def decode_page(body: bytes, header_charset: str | None) -> str:
    """HTML bytes to text: HTTP charset, else ``<meta charset>``, else UTF-8 or a guess (as for feeds)."""
    meta = _META_CHARSET.search(body[:4096])
    declared = header_charset or (meta.group(1).decode("ascii") if meta else None)
    return decode_feed_bytes(body, declared).text


def poll_to_dict(poll: FeedPoll) -> dict[str, Any]:
    """``poll`` as the JSON object of `vigie fetch --json` (see issue 5's contract)."""
    return {
        "feed": poll.feed_url,
        "ok": poll.ok,
        "status": poll.status,
        "error": poll.error.to_dict() if poll.error else None,
        "not_modified": poll.not_modified,
        "warnings": list(poll.warnings),
        "articles": [
            {
                "id": item.article_id,
                "url": item.url,
                "title": item.title,
                "published": item.published.isoformat() if item.published else None,
                "summary": item.summary,
                "content": item.content,
                "guid": item.guid,
                "author": item.author,
                "language": item.language_hint,
            }
            for item in poll.items
        ],
    }
