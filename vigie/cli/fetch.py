"""`vigie fetch URL [--json]`: fetch and parse one feed once, through the poller's own code path.

Exit codes: 0 the feed was read (or had not changed), 1 it failed with a clear error (the JSON is
still printed with --json), 2 usage error (no URL, not a URL). Never a traceback.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

import click
from pydantic import ValidationError

from conf.limits import fetch_limits
from conf.settings import load_settings
from ingest.fetch import Fetcher
from ingest.poll import FeedPoll, PollError, fetch_feed, poll_to_dict
from vigie.cli.output import emit, json_option


def _feed_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Reject what is not a URL at all (exit 2); a URL with a refused scheme is the fetcher's to report."""
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError as error:
        raise click.BadParameter(f"{value!r} is not a URL ({error}).") from None
    if not parts.scheme or (not parts.netloc and parts.scheme in ("http", "https")):
        hint = f" Did you mean https://{text}?" if not parts.scheme and "." in text.split("/")[0] else ""
        raise click.BadParameter(f"{value!r} is not an absolute URL like https://example.org/feed.xml.{hint}")
    return text


def _text(poll: FeedPoll) -> str:
    if poll.not_modified:
        return f"{poll.feed_url}: not modified since the given validators (HTTP {poll.status})."
    lines = [f"{poll.title or poll.feed_url}: {len(poll.items)} article(s), HTTP {poll.status}, "
             f"{poll.bytes:,} bytes in {poll.elapsed:.2f} s"]
    if poll.final_url and poll.final_url != poll.feed_url:
        lines.append(f"  read from {poll.final_url}")
    for item in poll.items:
        when = item.published.strftime("%Y-%m-%d %H:%M") if item.published else "(no date)       "
        lines.append(f"{when}  {item.title or '(untitled)'}")
        if item.url:
            lines.append(f"{'':16}  {item.url}")
    lines.extend(f"warning: {warning}" for warning in poll.warnings)
    return "\n".join(lines)


@click.command()
@click.argument("url", callback=_feed_url)
@click.option("--etag", help="Send If-None-Match with this ETag (a 304 prints no article).")
@click.option("--last-modified", help="Send If-Modified-Since with this date.")
@json_option
def fetch(url: str, etag: str | None, last_modified: str | None, as_json: bool) -> None:
    """Fetch and parse one feed once; queue nothing, need no other service.

    Prints the articles the poller would see (ids, links, dates, sanitised summaries), or why the feed
    could not be read. Exit code 1 when it could not.
    """
    try:
        settings = load_settings()
    except ValidationError as error:
        raise click.UsageError(f"invalid VIGIE_* setting: {error}") from None
    try:
        with Fetcher(fetch_limits(settings)) as fetcher:
            poll = fetch_feed(fetcher, url, etag=etag, last_modified=last_modified)
    except Exception as error:  # a bug in Vigie: still one clear line, never a traceback  # noqa: BLE001
        poll = _internal_error(url, error)
    if as_json:
        emit(poll_to_dict(poll), True)
    elif poll.ok:
        emit(poll, False, _text)
    else:
        assert poll.error is not None
        click.echo(f"vigie fetch: {poll.error.message} [{poll.error.kind}]", err=True)
    if not poll.ok:
        sys.exit(1)


def _internal_error(url: str, error: Exception) -> FeedPoll:
    message = f"Vigie failed on {url} because of an internal error ({type(error).__name__}: {error}); please report it."
    return FeedPoll(feed_url=url, ok=False, status=None, error=PollError(kind="internal-error", message=message),
                    not_modified=False, items=(), warnings=(), etag=None, last_modified=None, retry_after=None,
                    elapsed=0.0, bytes=0)
