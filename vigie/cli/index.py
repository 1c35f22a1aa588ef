"""`vigie index` (mapping versions) and `vigie stats` (aggregations)."""

from __future__ import annotations

import click

from conf.settings import load_settings
from index.client import connect
from index.mappings import ARTICLES_VERSION
from index.migrate import current_index
from index.migrate import migrate as run_migration
from index.search import SearchFilters
from index.stats import article_stats
from index.store import ArticleStore
from vigie.cli.options import When
from vigie.cli.output import emit, json_option, progress


@click.group("index")
def index_group() -> None:
    """The articles index: its mapping version and migrations."""


@index_group.command()
@json_option
def status(as_json: bool) -> None:
    """Which index the alias points at, its mapping version and document count."""
    settings = load_settings()
    es = connect(settings.es_url)
    store = ArticleStore(es, settings.index_prefix)
    current = current_index(es, settings.index_prefix)
    data = {"alias": store.alias, "index": current, "code_version": ARTICLES_VERSION,
            "documents": store.count(), "up_to_date": current.endswith(f"-v{ARTICLES_VERSION}")}
    emit(data, as_json, lambda d: f"{d['alias']} → {d['index']} ({d['documents']} documents); "
                                  f"code mapping v{d['code_version']}" + ("" if d["up_to_date"] else ": run `vigie index migrate`"))


@index_group.command()
@json_option
def migrate(as_json: bool) -> None:
    """Move the articles to the mapping version of this code without downtime (scroll and bulk)."""
    settings = load_settings()

    def show(phase: str, done: int, total: int) -> None:
        progress(f"{phase}: {done}/{total} documents")

    report = run_migration(connect(settings.es_url), settings.index_prefix, progress=show)
    if report is None:
        emit({"migrated": False, "version": ARTICLES_VERSION}, as_json,
             lambda _: f"already on mapping version {ARTICLES_VERSION}; nothing to do")
        return
    emit({"migrated": True, **report.to_dict()}, as_json,
         lambda d: f"moved {d['copied']} documents from {d['source']} to {d['target']} "
                   f"(+{d['caught_up']} written during the copy); {d['documents']} documents now")


@click.command()
@click.option("--query", default="", help="Restrict to articles matching this query.")
@click.option("--lang", "languages", multiple=True)
@click.option("--topic", "topics", multiple=True)
@click.option("--feed", "feeds", multiple=True)
@click.option("--since", type=When())
@click.option("--until", type=When())
@click.option("--top", type=click.IntRange(1, 100), default=10, show_default=True)
@json_option
def stats(query, languages, topics, feeds, since, until, top, as_json) -> None:  # type: ignore[no-untyped-def]
    """Counts of articles per topic, entity, language, feed and day."""
    from vigie.queries import lemma_variants  # lemma tables and spaCy: 0.34 s of start-up (measured)

    settings = load_settings()
    filters = SearchFilters(languages=tuple(languages), topics=tuple(topics), feeds=tuple(feeds),
                            since=since, until=until)
    data = article_stats(connect(settings.es_url), settings.index_prefix, filters, query, top,
                         lemma_variants(settings.query_lemma_languages) if query else None)

    def text(d: dict) -> str:  # type: ignore[type-arg]
        lines = [f"{d['total']} articles, {d['stories']} stories (near-duplicates grouped), {d['undated']} undated"]
        for name in ("topics", "people", "places", "organizations", "languages", "feeds", "days"):
            if d[name]:
                lines.append(f"{name}: " + ", ".join(f"{b['key']} {b['count']}" for b in d[name]))
        return "\n".join(lines)

    emit(data, as_json, text)
