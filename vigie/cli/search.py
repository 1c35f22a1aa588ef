"""`vigie search`: the query language of index.query over the articles index."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from vigie.cli.options import When
from vigie.cli.output import emit, json_option


#: Packages the Elasticsearch client imports when they are installed but a `vigie search` never uses:
#: ``requests`` (a second HTTP backend; Vigie's client uses urllib3) and ``opentelemetry`` (tracing,
#: which Vigie does not configure). They are here for other libraries (spaCy, the tests).
UNUSED_BY_THE_CLIENT = ("requests", "opentelemetry")


@contextmanager
def packages_absent(names: tuple[str, ...]) -> Iterator[None]:
    """Import with ``names`` looking not installed (the libraries importing them optionally skip them),
    then make them importable again. Already imported packages are left alone."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def total_text(result: Any) -> str:
    """The total as it may be said: exact, or past VIGIE_SEARCH_TOTAL_LIMIT "10,000+" (at least that many)."""
    if getattr(result, "total_relation", "eq") == "gte":
        return f"{result.total:,}+"
    return str(result.total)


def headline_count(result: Any, collapsed: bool, offset: int = 0) -> str:
    """The count line: collapsed, the articles shown (Elasticsearch's total counts them before collapsing);
    with a page, which hits it shows."""
    shown = len(result.hits)
    if collapsed:
        return (f"{shown} article(s) ({total_text(result)} before collapsing) for {result.query!r} "
                f"({result.took_ms} ms)")
    span = f", {offset + 1}-{offset + shown} shown" if shown and (offset or result.total > shown) else ""
    return f"{total_text(result)} article(s) for {result.query!r}{span} ({result.took_ms} ms)"


def _text(result: Any, offset: int, limit: int, collapsed: bool = False) -> str:
    lines = [headline_count(result, collapsed, offset)]
    shown = len(result.hits)
    for hit in result.hits:
        topics = ", ".join(f"{t.name} {t.score:.2f}" for t in hit.topics) or "-"
        lines.append(f"\n{hit.title}\n  id={hit.article_id} lang={hit.language} published={hit.published or '-'}")
        lines.append(f"  source: {hit.feed_title or hit.feed or '-'}")
        lines.append(f"  url={hit.url or '-'}\n  topics: {topics}")
        if hit.story:
            lines.append(f"  story: {hit.story['headline']} ({hit.story['size']} articles, id={hit.story['id']})")
        for fragment in hit.highlights.get("text", [])[:2]:
            lines.append("  … " + fragment.replace("<mark>", "[").replace("</mark>", "]") + " …")
    if offset + shown < result.total and shown:
        lines.append(f"\nmore: --offset {offset + shown} (or --page {(offset + shown) // limit + 1})")
    return "\n".join(lines)


def checked_topics(topics: tuple[str, ...], settings: Any) -> tuple[str, ...]:
    """The --topic values lower-cased, or a usage error (exit 2) listing the known topics."""
    if not topics:
        return ()
    from ingest.topic_rules import load_rules  # the rule file: only when --topic is given
    from vigie.search_filters import UnknownTopic, known_topic_names

    try:
        return known_topic_names(topics, load_rules(settings.topics_file))
    except UnknownTopic as error:
        raise click.BadParameter(str(error), param_hint="'--topic'") from None


def _terms(node: Any) -> list[Any]:
    from index.query import Term

    if isinstance(node, Term):
        return [node]
    children = getattr(node, "items", None) or ([node.item] if getattr(node, "item", None) is not None else [])
    return [term for child in children for term in _terms(child)]


def query_lemma_variants(query: str, languages: tuple[str, ...], settings: Any,  # type: ignore[no-untyped-def]
                         entities: tuple[str, ...] = ()):
    """What the query's words need, loaded only if they need it: the entity index on disk (which
    entity a word names; ingest.entity_query_index) and the lemma variants, with the tables of the
    languages searched only (all the configured ones without --lang). None when no word is lemmatised."""
    from index.query import parse_query

    terms = _terms(parse_query(query))
    if entities or any(term.field in (None, "entity") and not term.prefix for term in terms):
        from ingest.entity_query_index import install  # 1.5-7 s of knowledge base avoided (measured)

        install(settings.cache_dir)
    if not any(term.field is None and not term.prefix for term in terms):
        return None
    configured = tuple(settings.query_lemma_languages)
    asked = {code.strip().lower() for code in languages}
    wanted = tuple(code for code in configured if code in asked) if asked else configured
    if not wanted:
        return None
    # the lemma files on disk, not the tables: 1-6 s of spaCy import and table loading avoided (measured)
    from ingest.query_lemma_index import DiskQueryLemmatizer

    lemmatizer = DiskQueryLemmatizer(wanted, settings.cache_dir)

    def variants(text: str) -> list[str]:  # as vigie.queries.lemma_variants: one phrase per distinct reading
        return sorted({" ".join(lemmas) for lemmas in lemmatizer.variants(text).values() if lemmas})

    return variants


@click.command()
@click.argument("query", required=False, default="")
@click.option("--lang", "languages", multiple=True,
              help="Only articles in this language (ISO 639-1, any case: fr, FR); repeatable.")
@click.option("--topic", "topics", multiple=True,
              help="Only articles about this topic (see `vigie topics list`; an unknown one is an error); repeatable.")
@click.option("--entity", "entities", multiple=True, help="Only articles naming this entity; repeatable.")
@click.option("--feed", "feeds", multiple=True, help="Only articles from this feed URL or domain; repeatable.")
@click.option("--tag", "tags", multiple=True, help="Only articles from the feeds with this tag (an OPML folder); "
                                                   "repeatable: any of them.")
@click.option("--since", type=When(), help="Published since: 7d, 12h, or an ISO date.")
@click.option("--until", type=When(), help="Published until: 7d, 12h, or an ISO date.")
@click.option("--sort", type=click.Choice(["auto", "relevance", "date"]), default="auto", show_default=True,
              help="auto: by relevance when the query has words, newest first when it is empty or only filters "
                   "(topic:, lang:, feed:, domain: and the options); the web page uses the same rule.")
@click.option("--collapse", is_flag=True, help="One hit per story (per near-duplicate cluster without one).")
@click.option("--collapse-copies", is_flag=True, help="One hit per near-duplicate cluster (syndicated copies).")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="Hits per page.")
@click.option("--offset", type=click.IntRange(0, 9999), default=0, show_default=True, help="Hits to skip.")
@click.option("--page", type=click.IntRange(1), help="Page number (of --limit hits); sets --offset.")
@json_option
def search(query: str, languages, topics, entities, feeds, tags, since, until, sort, collapse, collapse_copies,  # type: ignore[no-untyped-def]
           limit, offset, page, as_json) -> None:
    """Search indexed articles.

    QUERY uses Vigie's query language: words, "phrases", AND/OR/NOT (upper case), -word, (groups),
    prefixes like migra*, and fields title: text: person: location: org: entity: topic: lang: feed:
    domain:. Words also match their lemmas, so réfugiés finds réfugié. See docs/query-language.md.
    """
    from conf.settings import load_settings

    with packages_absent(UNUSED_BY_THE_CLIENT):  # 0.02 s of CPU of every search (measured)
        from index.client import connect
    from index.search import SearchFilters, SearchRequest, search as run_search

    settings = load_settings()
    if page is not None:
        offset = (page - 1) * limit
    if offset + limit > 10_000:
        raise click.BadParameter("offset + limit must be at most 10000 (Elasticsearch's result window)",
                                 param_hint="'--offset'")
    topic_names = checked_topics(topics, settings)
    titles: dict[str, str] = {}
    feed_urls = None
    registry = None
    try:
        from state.registry import registry_for  # Redis: the feeds' titles and tags

        registry = registry_for(settings)
    except Exception:  # noqa: BLE001 - hits keep their feed URL when the registry cannot be reached
        registry = None
    if tags:
        from vigie.search_filters import feeds_tagged

        if registry is None:
            raise click.UsageError("--tag needs the feed registry (Redis), which cannot be reached")
        feed_urls = feeds_tagged(registry, tags)
    if registry is not None:
        from vigie.search_filters import feed_titles

        titles = feed_titles(registry)
    request = SearchRequest(
        query=query,
        filters=SearchFilters(
            languages=tuple(languages), topics=topic_names, entities=tuple(entities), feeds=tuple(feeds),
            since=since, until=until, feed_urls=feed_urls,
        ),
        sort=sort, collapse=collapse, collapse_copies=collapse_copies, limit=limit, offset=offset,
        total_limit=settings.search_total_limit,
    )
    result = run_search(connect(settings.es_url), settings.index_prefix, request,
                        query_lemma_variants(query, tuple(languages), settings, tuple(entities)),
                        feed_titles=titles)
    emit({**result.to_dict(), "limit": limit, "offset": offset}, as_json,
         lambda _: _text(result, offset, limit, collapse or collapse_copies))
