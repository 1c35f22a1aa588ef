"""`vigie alerts`: saved searches that notify once per matching article (see docs/alerts.md)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import click

from conf.settings import Settings, load_settings
from index.alert_feed import alert_atom, describe
from index.alert_store import AlertStore, backtest
from index.alerts import changed_delivery, new_rule
from index.client import connect
from index.notification_follow import start, window
from index.notifications import NotificationStore
from vigie.cli.options import When
from vigie.cli.output import Progress, emit, json_option, progress

DEFAULT_FEED_BASE = "http://127.0.0.1:8766"
FOLLOW_POLL_SECONDS = 1.0


def _store(settings: Settings, for_changes: bool = False):  # type: ignore[no-untyped-def]
    """Reading needs Elasticsearch only; changes also tell the workers (Redis) and validate topics."""
    if for_changes:
        from vigie.alert_store import alert_store_for  # lemma tables and spaCy: 0.32 s of start-up (measured)

        return alert_store_for(settings)

    return AlertStore(connect(settings.es_url), settings.index_prefix)


def _tagged_feeds(settings: Settings, rule) -> tuple[str, ...] | None:  # type: ignore[no-untyped-def]
    """The feeds carrying the rule's tags, resolved as `vigie search --tag` does (None: it has none)."""
    if not rule.tags:
        return None
    from state.registry import registry_for  # Redis, only for an alert with tags
    from vigie.search_filters import feeds_tagged

    try:
        return feeds_tagged(registry_for(settings), rule.tags)
    except Exception as error:  # noqa: BLE001 - redis errors, without importing redis here
        raise click.ClickException(f"alert {rule.name!r} has tags: its backtest needs the feed registry "
                                   f"(Redis), which cannot be reached ({error})") from error


def _notifications(settings: Settings):  # type: ignore[no-untyped-def]

    return NotificationStore(connect(settings.es_url), settings.index_prefix)


def _rule_text(rule, show_secret: bool = False) -> str:  # type: ignore[no-untyped-def]

    delivery = rule.delivery
    where = (f"{delivery.webhook} ({delivery.mode})" if delivery.webhook
             else f"e-mail to {delivery.email} ({delivery.mode})" if delivery.email else "stored only (no webhook)")
    lines = [f"{rule.name}{'  [paused]' if rule.paused else ''}  id={rule.alert_id}",
             f"  matches: {describe(rule)}", f"  delivery: {where}"]
    if delivery.webhook:
        lines.append(f"  secret: {delivery.secret if show_secret else delivery.to_dict(False)['secret']}")
    return "\n".join(lines)


def _rule_json(rule, show_secret: bool = False) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    data = rule.to_dict(include_secret=show_secret)
    data.pop("name_key", None)
    data.pop("query_lemmas", None)
    return data


@click.group()
def alerts() -> None:
    """Alerts: a saved search evaluated on every new article, notified once per match (webhook,
    digest, Atom feed)."""


@alerts.command("add")
@click.argument("name")
@click.option("--topic", "topics", multiple=True, help="A topic (see `vigie topics list`); repeatable: any of them.")
@click.option("--all-topics", is_flag=True, help="Every --topic, not any of them.")
@click.option("--query", default="", help="Words in `vigie search`'s query language, e.g. 'Turquie OR Turkey'.")
@click.option("--entity", "entities", multiple=True, help="A name the article must mention; repeatable: all of them.")
@click.option("--lang", "languages", multiple=True, help="Only articles in this language; repeatable: any of them.")
@click.option("--feed", "feeds", multiple=True, help="Only articles from this feed URL or domain; repeatable.")
@click.option("--tag", "tags", multiple=True, help="Only articles from the feeds with this tag (an OPML folder, "
              "`vigie feeds tag`; \"News\" takes \"News/World\"), as `vigie search --tag`; repeatable: any of them.")
@click.option("--min-score", type=float, help="The topics count only with at least this score (0-1).")
@click.option("--webhook", help="http(s) URL that receives a signed JSON POST per match.")
@click.option("--secret", help="HMAC-SHA256 key of the signature (generated when not given).")
@click.option("--email", help="An address that gets an e-mail per match (or per digest) instead of a webhook; "
              "needs VIGIE_SMTP_HOST.")
@click.option("--digest", type=click.Choice(["hourly", "daily"]), help="One message per period instead of one per match.")
@click.option("--paused", is_flag=True, help="Create it paused.")
@click.option("--per-story", is_flag=True, help="Notify once per story (its first matching article), not per article.")
@click.option("--story-updates", type=click.IntRange(0), default=0, help="With --per-story: notify again each time "
              "the story has grown by this many articles.")
@click.option("--story-new-language", is_flag=True, help="With --per-story: notify again when the story reaches a "
              "new language.")
@json_option
def add(name, topics, all_topics, query, entities, languages, feeds, tags, min_score, webhook, secret, email, digest,  # type: ignore[no-untyped-def]
        paused, per_story, story_updates, story_new_language, as_json) -> None:
    """Create the alert NAME. Its query must parse, its topics exist and its webhook be http(s); it
    applies to the next article indexed. The secret is printed here, in full, once."""

    rule = new_rule(name, topics=topics, all_topics=all_topics, query=query, entities=entities,
                    languages=languages, feeds=feeds, min_score=min_score, webhook=webhook, secret=secret,
                    mode=digest or "immediate", paused=paused, per_story=per_story, story_updates=story_updates,
                    story_new_language=story_new_language, email=email, tags=tags)
    stored = _store(load_settings(), for_changes=True).add(rule)
    progress(f"alert {stored.name!r} created")
    emit(_rule_json(stored, show_secret=True), as_json, lambda _: _rule_text(stored, show_secret=True))


@alerts.command("edit")
@click.argument("name")
@click.option("--rename", help="A new name (unique, whatever the case).")
@click.option("--topic", "topics", multiple=True, help="Replace the topics with these; repeatable.")
@click.option("--all-topics/--any-topic", default=None, help="Every topic, or any of them.")
@click.option("--query", help="Replace the query ('' removes it).")
@click.option("--entity", "entities", multiple=True, help="Replace the entities with these; repeatable.")
@click.option("--lang", "languages", multiple=True, help="Replace the languages with these; repeatable.")
@click.option("--feed", "feeds", multiple=True, help="Replace the feeds with these; repeatable.")
@click.option("--tag", "tags", multiple=True, help="Replace the feed tags with these (as `vigie search --tag`); "
              "repeatable.")
@click.option("--clear", "cleared", multiple=True,
              type=click.Choice(["topics", "entities", "languages", "feeds", "tags"]),
              help="Remove every topic, entity, language, feed or tag; repeatable.")
@click.option("--min-score", type=float, help="The topics count only with at least this score (0-1).")
@click.option("--no-min-score", is_flag=True, help="Remove the minimum score.")
@click.option("--webhook", help="A new webhook URL (an alert without a secret gets one, printed once).")
@click.option("--no-webhook", is_flag=True, help="No webhook: the matches are only stored.")
@click.option("--secret", help="A new HMAC-SHA256 key for the signature.")
@click.option("--new-secret", is_flag=True, help="Generate a new random secret (printed once).")
@click.option("--email", help="A new address for the alert's e-mails (an alert goes to a webhook or an address).")
@click.option("--no-email", is_flag=True, help="No e-mail any more.")
@click.option("--digest", type=click.Choice(["hourly", "daily", "none"]), help="A digest per period, or none: each match.")
@json_option
def edit(name, rename, topics, all_topics, query, entities, languages, feeds, tags, cleared, min_score,  # type: ignore[no-untyped-def]
         no_min_score, webhook, no_webhook, secret, new_secret, email, no_email, digest, as_json) -> None:
    """Change the alert NAME (its name or id): only the options given change. The rule is checked as
    a whole, as by `add`, and applies to the next article indexed."""

    for first, second, what in ((min_score is not None, no_min_score, "--min-score and --no-min-score"),
                                (webhook is not None, no_webhook, "--webhook and --no-webhook"),
                                (secret is not None, new_secret, "--secret and --new-secret"),
                                (email is not None, no_email, "--email and --no-email")):
        if first and second:
            raise click.UsageError(f"{what} contradict each other")
    for field, values in (("topics", topics), ("entities", entities), ("languages", languages), ("feeds", feeds),
                          ("tags", tags)):
        if field in cleared and values:
            raise click.UsageError(f"--clear {field} and new {field} contradict each other")
    store = _store(load_settings(), for_changes=True)
    current = store.get(name)
    changes: dict[str, Any] = {}
    if rename is not None:
        changes["name"] = rename
    if query is not None:
        changes["query"] = query
    if all_topics is not None:
        changes["all_topics"] = all_topics
    for field, values in (("topics", topics), ("entities", entities), ("languages", languages), ("feeds", feeds),
                          ("tags", tags)):
        if values or field in cleared:
            changes[field] = tuple(values)
    if min_score is not None or no_min_score:
        changes["min_score"] = None if no_min_score else min_score
    delivery_changes: dict[str, Any] = {}
    if webhook is not None or no_webhook:
        delivery_changes["webhook"] = None if no_webhook else webhook
    if secret is not None or new_secret:
        delivery_changes["secret"] = None if new_secret else secret
    if email is not None or no_email:
        delivery_changes["email"] = None if no_email else email
    if digest is not None:
        delivery_changes["mode"] = "immediate" if digest == "none" else digest
    delivery, new = changed_delivery(current.delivery, **delivery_changes)
    if delivery != current.delivery:
        changes["delivery"] = delivery
    if not changes:
        raise click.UsageError("nothing to change: give at least one option (see --help)")
    rule = store.update(current.alert_id, **changes)
    shown = new and bool(rule.delivery.secret)
    progress(f"alert {rule.name!r} changed: {', '.join(sorted(changes))}")
    emit(_rule_json(rule, show_secret=shown), as_json, lambda _: _rule_text(rule, show_secret=shown))


@alerts.command("list")
@json_option
def list_(as_json: bool) -> None:
    """Every alert, with how often it fired (matches, and when the last one was made)."""
    settings = load_settings()
    rules = _store(settings).list()
    made = _notifications(settings).match_counts([rule.alert_id for rule in rules]) if rules else {}

    def fired(rule) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        matches, last = made.get(rule.alert_id, (0, None))
        return {"matches": matches, "last_match": last.isoformat(timespec="seconds") if last else None}

    def text(rule) -> str:  # type: ignore[no-untyped-def]
        count = fired(rule)
        when = f", last {count['last_match']}" if count["last_match"] else ""
        return f"{_rule_text(rule)}\n  fired: {count['matches']} match(es){when}"

    emit([{**_rule_json(rule), "fired": fired(rule)} for rule in rules], as_json,
         lambda _: "\n".join(text(rule) for rule in rules) if rules else "no alerts (see `vigie alerts add --help`)")


@alerts.command("show")
@click.argument("name")
@click.option("--show-secret", is_flag=True, help="Print the webhook secret in full.")
@json_option
def show(name: str, show_secret: bool, as_json: bool) -> None:
    """One alert, by name or id."""
    rule = _store(load_settings()).get(name)
    emit(_rule_json(rule, show_secret), as_json, lambda _: _rule_text(rule, show_secret))


def _change(name: str, action: str, as_json: bool) -> None:
    store = _store(load_settings(), for_changes=True)
    rule = getattr(store, action)(name)
    done = {"remove": "removed", "pause": "paused", "resume": "resumed"}[action]
    progress(f"alert {rule.name!r} {done}")
    emit(_rule_json(rule), as_json, lambda _: _rule_text(rule))


@alerts.command("remove")
@click.argument("name")
@json_option
def remove(name: str, as_json: bool) -> None:
    """Delete an alert (its notifications are kept)."""
    _change(name, "remove", as_json)


@alerts.command("pause")
@click.argument("name")
@json_option
def pause(name: str, as_json: bool) -> None:
    """Stop matching new articles until `vigie alerts resume`."""
    _change(name, "pause", as_json)


@alerts.command("resume")
@click.argument("name")
@json_option
def resume(name: str, as_json: bool) -> None:
    """Match new articles again."""
    _change(name, "resume", as_json)


@alerts.command("test")
@click.argument("name")
@click.option("--since", type=When(), default="7d", show_default=True, help="Articles published since: 7d, 12h, or an ISO date.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@json_option
def test(name: str, since: datetime, limit: int, as_json: bool) -> None:
    """Backtest: what the alert would have matched (its saved search over the index)."""
    from vigie.queries import lemma_variants  # lemma tables and spaCy: 0.34 s of start-up (measured)

    settings = load_settings()
    rule = _store(settings).get(name)
    # One search, but over a long period it takes a while: say so on a terminal (never with --json).
    with Progress(f"backtesting alert {rule.name!r} since {since.isoformat(timespec='minutes')}", None,
                  quiet=as_json) as shown:
        shown.update(0, "searching")
        result = backtest(connect(settings.es_url), settings.index_prefix, rule, since,
                          lemma_variants(settings.query_lemma_languages), limit=limit,
                          tagged_feeds=_tagged_feeds(settings, rule))

    def text(_: object) -> str:
        lines = [f"{result.total} article(s) since {since.isoformat(timespec='minutes')} for alert {rule.name!r}"]
        for hit in result.hits:
            topics = ", ".join(f"{t.name} {t.score:.2f}" for t in hit.topics) or "-"
            lines.append(f"\n{hit.title}\n  id={hit.article_id} lang={hit.language} published={hit.published or '-'}"
                         f"\n  url={hit.url or '-'}\n  topics: {topics}")
        return "\n".join(lines)

    emit({"alert": rule.name, "since": since, **result.to_dict()}, as_json, text)


def _notification_line(item) -> str:  # type: ignore[no-untyped-def]
    why = ", ".join([*(topic.name for topic in item.matched.topics), *item.matched.terms]) or "-"
    return (f"{item.created_at.isoformat(timespec='seconds')}  {item.alert_name}  {item.state}"
            f"{f' ({item.attempts} attempts)' if item.attempts > 1 else ''}  {item.title}\n"
            f"    {item.url or item.article_id}  matched: {why}")


@alerts.command("fired")
@click.option("--alert", "alert_name", help="Only this alert's notifications.")
@click.option("--follow", is_flag=True, help="Keep printing new notifications as they come (Ctrl-C ends).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@json_option
def fired(alert_name: str | None, follow: bool, limit: int, as_json: bool) -> None:
    """The notifications made, newest last; with --follow, then each new one as it comes (one JSON
    object per line with --json)."""
    settings = load_settings()
    alert_id = _store(settings).get(alert_name).alert_id if alert_name else None
    store = _notifications(settings)
    if not follow:
        items = list(reversed(store.recent(alert_id, limit=limit)))
        emit([item.to_dict() for item in items], as_json,
             lambda _: "\n".join(_notification_line(item) for item in items) or "no notifications yet")
        return

    def show(found) -> None:  # type: ignore[no-untyped-def]
        for item in found:
            click.echo(json.dumps(item.to_dict(), ensure_ascii=False) if as_json else _notification_line(item))

    # The same bookkeeping as the live stream of the API: each notification once, late ones too.
    first, unsent = start(store, alert_id, None, backlog=limit)
    show(first)
    try:
        while True:
            time.sleep(FOLLOW_POLL_SECONDS)
            show(item for item, _ in unsent.take(window(store, alert_id, unsent.window_start)))
    except KeyboardInterrupt:
        return


@alerts.command("feed")
@click.argument("name")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--base-url", default=DEFAULT_FEED_BASE, show_default=True,
              help="Base URL of the API that serves the feed (its self link).")
def feed(name: str, limit: int, base_url: str) -> None:
    """The alert's matches as an Atom feed, newest first, on stdout."""

    settings = load_settings()
    rule = _store(settings).get(name)
    items = _notifications(settings).recent(rule.alert_id, limit=limit)
    click.echo(alert_atom(rule, items, api_base(base_url)).decode("utf-8"))


def api_base(base_url: str) -> str:
    """Where the API's routes start under ``base_url``: the feed's self link is the API's path,
    ``<base_url>/api/alerts/<id>/feed``, as the API itself writes it."""
    base = base_url.rstrip("/")
    return base if base.endswith("/api") else base + "/api"
