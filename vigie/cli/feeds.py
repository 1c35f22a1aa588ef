"""`vigie feeds`: the registry of followed feeds and their health.

A feed is named by its id, its URL, the name given to it or its own title (the title of the feed
document), wherever a command takes a feed. `add` and `import` read each feed once before following
it (see ingest.feed_check): dead addresses and pages that are not feeds are reported by name and not
followed (unless --keep-dead, for a feed that is down for now); a page that links to a feed is
replaced by that feed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from conf.settings import load_settings
from vigie.cli.output import Progress, emit, fail, json_option, table

#: feeds checked at once by `feeds import` (each check is one HTTP fetch, bounded by the fetch limits)
DEFAULT_CHECK_CONCURRENCY = 8


def _registry():  # type: ignore[no-untyped-def]
    from state.registry import registry_for  # Redis and the fetch stack: only for commands that use them

    return registry_for(load_settings())


def _fetcher():  # type: ignore[no-untyped-def]
    from conf.limits import fetch_limits
    from ingest.fetch import Fetcher

    return Fetcher(fetch_limits(load_settings()))


def _when(stamp: str | None) -> str:
    """An ISO time as people read it: UTC, to the second."""
    if not stamp:
        return "-"
    return datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M:%S")


def _list_text(described: list[dict[str, Any]]) -> str:
    if not described:
        return "no feeds followed"
    rows = [(feed["display_name"], feed["status"], f"{feed['interval']:.0f}s", feed["items_seen"],
             _when(feed["last_success"]), _when(feed["next_poll"]), ", ".join(feed["tags"]) or "-", feed["id"],
             feed["url"]) for feed in described]
    lines = [table(("NAME", "STATUS", "EVERY", "SEEN", "LAST SUCCESS (UTC)", "NEXT POLL (UTC)", "TAGS", "ID", "URL"),
                   rows)]
    failing = [feed for feed in described if feed["last_error"]]
    if failing:
        lines.append("\nlast errors:")
        lines += [f"  {feed['display_name']}: {feed['last_error']['kind']}, {feed['consecutive_failures']} in a row: "
                  f"{feed['last_error']['message']}" for feed in failing]
    return "\n".join(lines)


def _show_text(feed: dict[str, Any]) -> str:
    error = feed["last_error"]
    rows = [
        ("name", feed["display_name"]), ("id", feed["id"]), ("url", feed["url"]),
        ("own title", feed["title"] or "-"), ("tags", ", ".join(feed["tags"]) or "-"),
        ("status", feed["status"]),
        ("interval", f"{feed['interval']:.0f}s ({'adaptive' if feed['adaptive'] else 'fixed'})"),
        ("items seen", feed["items_seen"]), ("last success", _when(feed["last_success"]) + " UTC"),
        ("next poll", _when(feed["next_poll"]) + " UTC"),
        ("last error", f"{error['kind']} ({feed['consecutive_failures']} in a row): {error['message']}" if error else "-"),
    ]
    width = max(len(key) for key, _ in rows)
    return "\n".join(f"{key.ljust(width)}  {value}" for key, value in rows)


@click.group()
def feeds() -> None:
    """Follow, list, show, rename, poll, remove, import and export feeds (stored durably in Redis).

    FEED, wherever a command takes one, is the feed's id, URL, name or own title.
    """


@feeds.command("add")
@click.argument("url")
@click.option("--name", help="A name people recognise (default: the feed's own title).")
@click.option("--interval", type=click.FloatRange(1), help="Fixed poll interval in seconds (default: adaptive).")
@click.option("--tag", "tags", multiple=True, help="A tag (folder) for the feed; repeatable.")
@click.option("--keep-dead", is_flag=True,
              help="Follow the feed even if it does not answer now (default: refuse a dead feed).")
@json_option
def add(url: str, name: str | None, interval: float | None, tags: tuple[str, ...], keep_dead: bool,
        as_json: bool) -> None:
    """Follow the feed at URL (http or https); it is polled right away.

    The feed is read once first: a page that links to a feed (<link rel="alternate">) follows that
    feed; a page that is not a feed is refused; an address that does not answer (connection refused,
    HTTP 404, timeout...) is refused unless --keep-dead. Exit code 1 when refused.
    """
    from ingest.feed_check import check_feed
    from ingest.fetch import validate_feed_url
    from state.registry import FeedExists

    registry = _registry()
    validate_feed_url(url, registry.policy)
    if (existing := registry.get_by_url(url)) is not None:
        raise FeedExists(f"the feed {url} is already followed (id {existing.feed_id}).")
    with _fetcher() as fetcher:
        check = check_feed(fetcher, url)
    if check.verdict == "not-a-feed" or (check.verdict == "dead" and not keep_dead):
        hint = " (--keep-dead follows it anyway)" if check.verdict == "dead" else ""
        if as_json:
            emit({"added": False, "check": check.to_dict()}, True)
        fail(f"vigie: not following {url}: {check.error} [{check.error_kind}]{hint}")
    target = check.feed_url if check.verdict == "ok" else url
    if check.followed_link and (existing := registry.get_by_url(target)) is not None:
        raise FeedExists(f"{url} links to the feed {target}, which is already followed (id {existing.feed_id}).")
    feed = registry.add(target, name=name, interval=interval, title=check.title, tags=tags)
    data = {**feed.describe(), "check": check.to_dict()}

    def text(d: dict[str, Any]) -> str:
        line = f"following {d['display_name']} <{d['url']}> (id {d['id']})"
        if check.followed_link:
            line += f"\n  {url} is a page; following the feed it links to"
        if check.verdict == "dead":
            line += f"\n  warning: the feed does not answer now: {check.error} [{check.error_kind}]"
        return line

    emit(data, as_json, text)


@feeds.command("list")
@click.option("--tag", "tags", multiple=True, help="Only the feeds with this tag; repeatable: any of them.")
@json_option
def list_(tags: tuple[str, ...], as_json: bool) -> None:
    """Every followed feed with its health: status, interval, items seen, last success, next poll, tags
    (an aligned table; times in UTC to the second), then the last error of the failing ones."""
    from vigie.search_filters import feeds_tagged

    registry = _registry()
    listed = registry.all()
    wanted = feeds_tagged(registry, tags)
    described = [feed.describe() for feed in listed if wanted is None or feed.url in wanted]
    emit(described, as_json, _list_text)


@feeds.command("show")
@click.argument("feed")
@json_option
def show(feed: str, as_json: bool) -> None:
    """One feed (by id, URL, name or own title): its names, tags, health and schedule."""
    emit(_registry().find(feed).describe(), as_json, _show_text)


@feeds.command("rename")
@click.argument("feed")
@click.argument("new_name")
@json_option
def rename(feed: str, new_name: str, as_json: bool) -> None:
    """Give FEED (id, URL, name or own title) the name NEW_NAME, shown wherever the feed is shown."""
    renamed = _registry().rename(feed, new_name)
    emit(renamed.describe(), as_json, lambda d: f"renamed {d['url']} to {d['display_name']!r}")


@feeds.command("tag")
@click.argument("feed")
@click.argument("tags", nargs=-1)
@click.option("--remove", is_flag=True, help="Remove these tags instead of adding them.")
@json_option
def tag(feed: str, tags: tuple[str, ...], remove: bool, as_json: bool) -> None:
    """Add TAGS to FEED (or remove them with --remove); tags are folders in `feeds export`."""
    registry = _registry()
    current = registry.find(feed)
    wanted = {name.strip().casefold() for name in tags}
    updated = (tuple(name for name in current.tags if name.casefold() not in wanted) if remove
               else current.tags + tuple(tags))
    changed = registry.set_tags(current.feed_id, updated)
    emit(changed.describe(), as_json,
         lambda d: f"{d['display_name']}: tags {', '.join(d['tags']) or '(none)'}")


@feeds.command("poll")
@click.argument("feed")
@json_option
def poll(feed: str, as_json: bool) -> None:
    """Poll FEED (id, URL, name or own title) now: the running scheduler reads it on its next tick."""
    due = _registry().poll_now(feed)
    emit(due.describe(), as_json, lambda d: f"{d['display_name']} is due now; the scheduler polls it next")


@feeds.command("remove")
@click.argument("feed")
@click.option("--purge", is_flag=True, help="Delete the feed's articles from the index too.")
@json_option
def remove(feed: str, purge: bool, as_json: bool) -> None:
    """Stop following FEED (id, URL, name or own title). Its articles stay in the index, unless --purge."""
    from conf.logs import configure_logging
    from index.client import connect
    from index.store import ArticleStore
    from state.client import connect as connect_redis
    from state.recent_bands import recent_bands_for
    from state.registry import registry_for
    from vigie.deletion import remove_feed

    settings = load_settings()
    configure_logging(settings.log_level)  # the deletion is logged (stderr), as the services log theirs
    articles = (ArticleStore(connect(settings.es_url), settings.index_prefix,
                             recent=recent_bands_for(settings, connect_redis(settings.redis_url)))
                if purge else None)
    removed, deleted = remove_feed(registry_for(settings), articles, feed)
    described = {**removed.describe(), **({"articles_deleted": deleted} if deleted is not None else {})}
    emit(described, as_json, lambda data: f"removed {data['url']}"
         + (f" and its {deleted} article{'s' if deleted != 1 else ''}" if deleted is not None else ""))


def _named(url: str, name: str | None) -> str:
    return f"{name} <{url}>" if name else url


@feeds.command("import")
@click.argument("opml", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--keep-dead", is_flag=True,
              help="Also follow the feeds that do not answer now (default: report them, follow none).")
@click.option("--concurrency", type=click.IntRange(1, 32), default=DEFAULT_CHECK_CONCURRENCY, show_default=True,
              help="Feeds checked at once.")
@json_option
def import_(opml: Path, keep_dead: bool, concurrency: int, as_json: bool) -> None:
    """Follow every feed of an OPML file; its folders become the feeds' tags.

    Each feed is read once first (progress on a terminal): dead ones (connection refused, HTTP 404,
    timeout...) are reported and not followed unless --keep-dead; pages that are not feeds are
    reported, pages linking to a feed follow that feed; a URL listed twice and feeds already followed
    are reported (the latter get the file's folders as tags too).
    """
    from ingest.feed_check import check_feeds
    from ingest.fetch import validate_feed_url
    from ingest.opml import read_opml
    from state.registry import FeedExists

    registry = _registry()
    document = read_opml(opml.read_bytes(), str(opml))
    added: list[str] = []
    already: list[str] = []
    refused: list[dict[str, Any]] = []
    candidates = []
    for sub in document.subscriptions:
        try:
            validate_feed_url(sub.url, registry.policy)
        except Exception as error:  # noqa: BLE001 - one bad outline must not stop the import
            refused.append({"url": sub.url, "name": sub.name, "error": str(error)})
            continue
        if (existing := registry.get_by_url(sub.url)) is not None:
            already.append(sub.url)
            if sub.tags:
                registry.set_tags(existing.feed_id, existing.tags + sub.tags)
            continue
        candidates.append(sub)
    with Progress("checking feeds", len(candidates), quiet=as_json) as shown, _fetcher() as fetcher:
        checks = check_feeds(fetcher, [sub.url for sub in candidates], workers=concurrency,
                             done=lambda check: shown.step(check.url))
    duplicates = [{"url": sub.url, "name": sub.name, "reason": "listed twice in the file"}
                  for sub in document.duplicates]
    dead: list[dict[str, Any]] = []
    not_a_feed: list[dict[str, Any]] = []
    followed_links: list[dict[str, str]] = []
    for sub, check in zip(candidates, checks):
        entry = {"url": sub.url, "name": sub.name, "kind": check.error_kind, "message": check.error}
        if check.verdict == "not-a-feed":
            not_a_feed.append(entry)
            continue
        if check.verdict == "dead":
            dead.append({**entry, "kept": keep_dead})
            if not keep_dead:
                continue
        target = check.feed_url if check.verdict == "ok" else sub.url
        if check.followed_link and (existing := registry.get_by_url(target)) is not None:
            already.append(sub.url)  # a page whose feed is followed (by this import or before)
            if sub.tags:
                registry.set_tags(existing.feed_id, existing.tags + sub.tags)
            continue
        try:
            registry.add(target, name=sub.name, title=check.title, tags=sub.tags)
        except FeedExists:
            duplicates.append({"url": sub.url, "name": sub.name, "reason": f"the same feed as {target}"})
            continue
        except Exception as error:  # noqa: BLE001 - one bad outline must not stop the import
            refused.append({"url": sub.url, "name": sub.name, "error": str(error)})
            continue
        added.append(target)
        if check.followed_link:
            followed_links.append({"page": sub.url, "feed": target})
    result = {"added": added, "already_followed": already, "duplicates": duplicates, "dead": dead,
              "not_a_feed": not_a_feed, "followed_links": followed_links, "refused": refused}

    def text(_: Any) -> str:
        lines = [f"added {len(added)}, already followed {len(already)}, duplicates {len(duplicates)}, "
                 f"dead {len(dead)}{' (followed anyway)' if keep_dead and dead else ''}, "
                 f"not a feed {len(not_a_feed)}, refused {len(refused)}"]
        lines += [f"  dead {_named(item['url'], item['name'])}: {item['message']}" for item in dead]
        lines += [f"  not a feed {_named(item['url'], item['name'])}: {item['message']}" for item in not_a_feed]
        lines += [f"  duplicate {_named(item['url'], item['name'])}: {item['reason']}" for item in duplicates]
        lines += [f"  refused {_named(item['url'], item['name'])}: {item['error']}" for item in refused]
        lines += [f"  followed {item['feed']} (linked from the page {item['page']})" for item in followed_links]
        if dead and not keep_dead:
            lines.append("dead feeds were not followed; --keep-dead follows them anyway")
        return "\n".join(lines)

    emit(result, as_json, text)


@feeds.command("export")
def export() -> None:
    """Print the followed feeds as OPML, tags as folders (for another feed reader, or a backup)."""
    from ingest.opml import Subscription, render_opml

    click.echo(render_opml(Subscription(url=feed.url, name=feed.name or feed.title, tags=feed.tags)
                           for feed in _registry().all()), nl=False)
