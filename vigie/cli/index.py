"""`vigie index` (mapping versions) and `vigie stats` (aggregations)."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from conf.settings import Settings, load_settings
from index.client import connect
from index.mappings import ARTICLES_VERSION
from index.migrate import current_index
from index.rollover import RolloverPolicy, backing_indices, delete_expired
from index.rollover import rollover as run_rollover
from index.migrate import migrate as run_migration
from index.search import SearchFilters
from index.store import ArticleStore
from vigie.cli.options import When
from vigie.cli.output import Progress, emit, json_option


@click.group("index")
def index_group() -> None:
    """The articles index: its mapping version, migrations, rollover and backing indices."""


@index_group.command()
@json_option
def status(as_json: bool) -> None:
    """Which index the alias writes to, its mapping version, document count and backing indices."""
    settings = load_settings()
    es = connect(settings.es_url)
    store = ArticleStore(es, settings.index_prefix)
    current = current_index(es, settings.index_prefix)
    now = datetime.now(timezone.utc)
    backing = backing_indices(es, settings.index_prefix)
    data = {"alias": store.alias, "index": current, "code_version": ARTICLES_VERSION,
            "documents": store.count(), "up_to_date": _on_version(current, ARTICLES_VERSION),
            "backing": [index.to_dict(now) for index in backing],
            "rollover": rollover_policy(settings).conditions(), "retention_days": settings.retention_days}
    emit(data, as_json, _status_text)


def _on_version(index: str, version: int) -> bool:
    return index.endswith(f"-v{version}") or f"-v{version}-" in index


def _status_text(d: dict) -> str:  # type: ignore[type-arg]
    lines = [f"{d['alias']} → {d['index']} ({d['documents']} documents); code mapping v{d['code_version']}"
             + ("" if d["up_to_date"] else ": run `vigie index migrate`")]
    for index in d["backing"]:
        lines.append(f"  {index['index']:<40} {index['documents']:>9} docs {index['size_bytes'] / 1e6:>9.1f} MB "
                     f"{index['age_days']:>8.2f} days" + ("  (write index)" if index["write_index"] else ""))
    rules = ", ".join(f"{key}={value}" for key, value in d["rollover"].items()) or "none (only `vigie index rollover --force`)"
    retention = f"{d['retention_days']:g} days after rollover" if d["retention_days"] else "keep everything"
    lines.append(f"rollover: {rules}; retention: {retention}")
    return "\n".join(lines)


def rollover_policy(settings: Settings) -> RolloverPolicy:
    return RolloverPolicy(max_docs=settings.rollover_max_docs, max_age=settings.rollover_max_age,
                          max_size=settings.rollover_max_size)


@index_group.command()
@click.option("--force", is_flag=True, help="Roll over now, whatever the conditions.")
@json_option
def rollover(force: bool, as_json: bool) -> None:
    """Roll the articles write index over when VIGIE_ROLLOVER_MAX_DOCS, _MAX_AGE or _MAX_SIZE is
    reached (or now, with --force), then delete backing indices past VIGIE_RETENTION_DAYS."""
    settings = load_settings()
    es = connect(settings.es_url)
    with Progress("rollover", 3 if settings.retention_days else 2, quiet=as_json) as shown:
        shown.step("checking the articles indices")
        ArticleStore(es, settings.index_prefix).ensure_ready()
        shown.step("rolling over" if force else "checking the rollover conditions")
        result = run_rollover(es, settings.index_prefix, rollover_policy(settings), force=force)
        if settings.retention_days:
            shown.step(f"deleting backing indices older than {settings.retention_days:g} days")
        deleted = (delete_expired(es, settings.index_prefix, settings.retention_days, datetime.now(timezone.utc))
                   if settings.retention_days else [])
    data = {**(result.to_dict() if result else {"rolled_over": False, "old_index": current_index(
        es, settings.index_prefix), "new_index": None, "conditions": {}}), "deleted": deleted}

    def text(d: dict) -> str:  # type: ignore[type-arg]
        if d["rolled_over"]:
            line = f"rolled over: {d['old_index']} → {d['new_index']} (new articles go there)"
        elif d["conditions"]:
            line = f"not rolled over: no condition met on {d['old_index']} ({', '.join(d['conditions'])})"
        else:
            line = f"not rolled over: no rollover condition is set (VIGIE_ROLLOVER_MAX_*); --force rolls {d['old_index']} now"
        return line + ("; deleted " + ", ".join(d["deleted"]) if d["deleted"] else "")

    emit(data, as_json, text)


@index_group.command()
@json_option
def migrate(as_json: bool) -> None:
    """Move the articles to the mapping version of this code without downtime (scroll and bulk)."""
    settings = load_settings()
    with Progress("migrating", None, quiet=as_json) as shown:

        def show(phase: str, done: int, total: int) -> None:
            shown.what = f"{phase}:"
            shown.update(done, "documents", total=total)

        report = run_migration(connect(settings.es_url), settings.index_prefix, progress=show)
    if report is None:
        emit({"migrated": False, "version": ARTICLES_VERSION}, as_json,
             lambda _: f"already on mapping version {ARTICLES_VERSION}; nothing to do")
        return
    emit({"migrated": True, **report.to_dict()}, as_json,
         lambda d: f"moved {d['copied']} documents from {d['source']} to {d['target']} "
                   f"(+{d['caught_up']} written during the copy); {d['documents']} documents now")


@click.command()
@click.option("--query", default="", help="Restrict to articles matching this query (`vigie search`'s language).")
@click.option("--lang", "languages", multiple=True,
              help="Only articles in this language (ISO 639-1, any case); repeatable.")
@click.option("--topic", "topics", multiple=True,
              help="Only articles about this topic (an unknown one is an error listing the topics); repeatable.")
@click.option("--entity", "entities", multiple=True, help="Only articles naming this entity; repeatable: all of them.")
@click.option("--feed", "feeds", multiple=True, help="Only articles from this feed URL or domain; repeatable.")
@click.option("--tag", "tags", multiple=True, help="Only articles from the feeds with this tag; repeatable.")
@click.option("--since", type=When(), help="Published since: 7d, 12h, or an ISO date.")
@click.option("--until", type=When(), help="Published until: 7d, 12h, or an ISO date.")
@click.option("--top", type=click.IntRange(1, 100), default=10, show_default=True, help="Rows per facet.")
@json_option
def stats(query, languages, topics, entities, feeds, tags, since, until, top, as_json) -> None:  # type: ignore[no-untyped-def]
    """Counts of articles per topic, entity, language, feed and day."""
    from index.stats import article_stats
    from vigie.cli.search import checked_topics, query_lemma_variants

    settings = load_settings()
    feed_urls = None
    if tags:
        from state.registry import registry_for
        from vigie.search_filters import feeds_tagged

        feed_urls = feeds_tagged(registry_for(settings), tags)
    filters = SearchFilters(languages=tuple(languages), topics=checked_topics(topics, settings),
                            entities=tuple(entities), feeds=tuple(feeds), since=since, until=until,
                            feed_urls=feed_urls)
    data = article_stats(connect(settings.es_url), settings.index_prefix, filters, query, top,
                         query_lemma_variants(query, tuple(languages), settings, tuple(entities)))

    def text(d: dict) -> str:  # type: ignore[type-arg]
        from state.registry import registry_for
        from vigie.search_filters import feed_titles

        titles = feed_titles(registry_for(settings)) if d["feeds"] else {}  # a feed shown by its name or title
        lines = [f"{d['total']} articles, {d['stories']} stories (near-duplicates grouped), {d['undated']} undated"]
        for name in ("topics", "people", "places", "organizations", "languages", "feeds", "days"):
            if d[name]:
                lines.append(f"{name}: " + ", ".join(f"{titles.get(str(b['key']), b['key'])} {b['count']}"
                                                     for b in d[name]))
        return "\n".join(lines)

    emit(data, as_json, text)
