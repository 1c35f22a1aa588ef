"""`vigie feeds`: the registry of followed feeds and their health."""

from __future__ import annotations

from pathlib import Path

import click

from conf.logs import configure_logging
from conf.settings import load_settings
from ingest.opml import Subscription, parse_opml, render_opml
from index.client import connect
from index.store import ArticleStore
from state.registry import registry_for
from vigie.cli.output import emit, json_option, progress
from vigie.deletion import remove_feed


def _registry():  # type: ignore[no-untyped-def]
    return registry_for(load_settings())


def _line(feed: dict) -> str:  # type: ignore[type-arg]
    error = feed["last_error"]
    health = f"{feed['status']}"
    if error:
        health += f" ({error['kind']}, {feed['consecutive_failures']} in a row)"
    return (f"{feed['id']}  {health:<10} every {feed['interval']:.0f}s  seen={feed['items_seen']:<5} "
            f"next={feed['next_poll'] or '-'}  {feed['name'] or ''} <{feed['url']}>"
            + (f"\n      last error: {error['message']}" if error else ""))


@click.group()
def feeds() -> None:
    """Follow, list, remove, import and export feeds (stored durably in Redis)."""


@feeds.command("add")
@click.argument("url")
@click.option("--name", help="A name people recognise.")
@click.option("--interval", type=click.FloatRange(1), help="Fixed poll interval in seconds (default: adaptive).")
@json_option
def add(url: str, name: str | None, interval: float | None, as_json: bool) -> None:
    """Follow the feed at URL (http or https); it is polled right away."""
    feed = _registry().add(url, name=name, interval=interval)
    emit(feed.describe(), as_json, lambda data: f"following {data['url']} (id {data['id']})")


@feeds.command("list")
@json_option
def list_(as_json: bool) -> None:
    """Every followed feed with its health: last success, last error, failures, next poll, items seen."""
    described = [feed.describe() for feed in _registry().all()]
    emit(described, as_json, lambda data: "\n".join(_line(feed) for feed in data) or "no feeds followed")


@feeds.command("remove")
@click.argument("url_or_id")
@click.option("--purge", is_flag=True, help="Delete the feed's articles from the index too.")
@json_option
def remove(url_or_id: str, purge: bool, as_json: bool) -> None:
    """Stop following a feed (by URL or id). Its articles stay in the index, unless --purge."""
    settings = load_settings()
    configure_logging(settings.log_level)  # the deletion is logged (stderr), as the services log theirs
    articles = ArticleStore(connect(settings.es_url), settings.index_prefix) if purge else None
    feed, deleted = remove_feed(registry_for(settings), articles, url_or_id)
    described = {**feed.describe(), **({"articles_deleted": deleted} if deleted is not None else {})}
    emit(described, as_json, lambda data: f"removed {data['url']}"
         + (f" and its {deleted} article{'s' if deleted != 1 else ''}" if deleted is not None else ""))


@feeds.command("import")
@click.argument("opml", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
def import_(opml: Path, as_json: bool) -> None:
    """Follow every feed of an OPML file; feeds already followed are left as they are."""
    registry = _registry()
    subscriptions = parse_opml(opml.read_bytes(), str(opml))
    added, skipped, refused = [], [], []
    for number, sub in enumerate(subscriptions, 1):
        progress(f"[{number}/{len(subscriptions)}] {sub.url}")
        try:
            if registry.get_by_url(sub.url) is not None:
                skipped.append(sub.url)
                continue
            added.append(registry.add(sub.url, name=sub.name).url)
        except Exception as error:  # noqa: BLE001 - one bad outline must not stop the import
            refused.append({"url": sub.url, "error": str(error)})
    result = {"added": added, "already_followed": skipped, "refused": refused}
    emit(result, as_json, lambda data: (
        f"added {len(added)}, already followed {len(skipped)}, refused {len(refused)}"
        + "".join(f"\n  refused {item['url']}: {item['error']}" for item in refused)))


@feeds.command("export")
def export() -> None:
    """Print the followed feeds as OPML (for another feed reader, or a backup)."""
    click.echo(render_opml(Subscription(url=feed.url, name=feed.name) for feed in _registry().all()), nl=False)
