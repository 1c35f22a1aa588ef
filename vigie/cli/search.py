"""`vigie search`: the query language of index.query over the articles index."""

from __future__ import annotations

import click

from conf.settings import load_settings
from index.client import connect
from index.search import SearchFilters, SearchRequest, SearchResult, search as run_search
from vigie.cli.options import When
from vigie.cli.output import emit, json_option


def headline_count(result: SearchResult, collapsed: bool) -> str:
    """The count line: collapsed, the articles shown (Elasticsearch's total counts them before collapsing)."""
    if collapsed:
        return (f"{len(result.hits)} article(s) ({result.total} before collapsing) for {result.query!r} "
                f"({result.took_ms} ms)")
    return f"{result.total} article(s) for {result.query!r} ({result.took_ms} ms)"


def _text(result: SearchResult, collapsed: bool = False) -> str:
    lines = [headline_count(result, collapsed)]
    for hit in result.hits:
        topics = ", ".join(f"{t.name} {t.score:.2f}" for t in hit.topics) or "-"
        lines.append(f"\n{hit.title}\n  id={hit.article_id} lang={hit.language} published={hit.published or '-'}")
        lines.append(f"  url={hit.url or '-'}\n  topics: {topics}")
        if hit.story:
            lines.append(f"  story: {hit.story['headline']} ({hit.story['size']} articles, id={hit.story['id']})")
        for fragment in hit.highlights.get("text", [])[:2]:
            lines.append("  … " + fragment.replace("<mark>", "[").replace("</mark>", "]") + " …")
    return "\n".join(lines)


@click.command()
@click.argument("query", required=False, default="")
@click.option("--lang", "languages", multiple=True, help="Only articles in this language (ISO 639-1); repeatable.")
@click.option("--topic", "topics", multiple=True, help="Only articles about this topic; repeatable.")
@click.option("--entity", "entities", multiple=True, help="Only articles naming this entity; repeatable.")
@click.option("--feed", "feeds", multiple=True, help="Only articles from this feed URL or domain; repeatable.")
@click.option("--since", type=When(), help="Published since: 7d, 12h, or an ISO date.")
@click.option("--until", type=When(), help="Published until: 7d, 12h, or an ISO date.")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--collapse", is_flag=True, help="One hit per story (per near-duplicate cluster without one).")
@click.option("--collapse-copies", is_flag=True, help="One hit per near-duplicate cluster (syndicated copies).")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@json_option
def search(query: str, languages, topics, entities, feeds, since, until, sort, collapse, collapse_copies, limit, as_json) -> None:  # type: ignore[no-untyped-def]
    """Search indexed articles.

    QUERY uses Vigie's query language: words, "phrases", AND/OR/NOT (upper case), -word, (groups),
    prefixes like migra*, and fields title: text: person: location: org: entity: topic: lang: feed:
    domain:. Words also match their lemmas, so réfugiés finds réfugié. See docs/query-language.md.
    """
    from vigie.queries import lemma_variants  # lemma tables and spaCy: 0.34 s of start-up (measured)

    settings = load_settings()
    request = SearchRequest(
        query=query,
        filters=SearchFilters(
            languages=tuple(languages), topics=tuple(topics), entities=tuple(entities), feeds=tuple(feeds),
            since=since, until=until,
        ),
        sort=sort, collapse=collapse, collapse_copies=collapse_copies, limit=limit,
    )
    result = run_search(connect(settings.es_url), settings.index_prefix, request, lemma_variants(settings.query_lemma_languages))
    emit(result.to_dict(), as_json, lambda _: _text(result, collapse or collapse_copies))
