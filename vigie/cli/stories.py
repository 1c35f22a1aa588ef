"""`vigie stories`: the stories of the last hours, what is breaking, one story with its articles."""

from __future__ import annotations

from typing import Any

import click

from index.client import connect
from index.trends import story_detail, story_listing, subject_trends
from ingest.trends import params_from
from vigie.cli.options import When
from vigie.cli.output import emit, fail, json_option
from conf.settings import Settings, load_settings


def trend_params(settings: Settings) -> Any:
    return params_from(settings.trend_window_hours, settings.trend_baseline_hours, settings.trend_min_articles,
                       settings.trend_tail_probability, settings.trend_trending_probability)


def _spark(hours: dict[str, int], width: int = 24) -> str:
    bars = " ▁▂▃▄▅▆▇█"
    values = [count for _, count in sorted(hours.items())][-width:]
    top = max(values, default=0)
    return "".join(bars[min(8, round(8 * value / top))] if top else " " for value in values)


def _mark(row: dict[str, Any]) -> str:
    trend = row.get("trend")
    return f"[{trend['level'].upper()}] " if trend else ""


def _list_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no story"
    lines = []
    for row in rows:
        lines.append(f"{_mark(row)}{row['headline']}")
        lines.append(f"  id={row['id']} articles={row['size']} languages={','.join(row['languages'])} "
                     f"sources={len(row['sources'])} last={row['last_seen']}  {_spark(row['hours'])}")
        if row.get("trend"):
            lines.append(f"  {row['trend']['explanation']}")
    return "\n".join(lines)


def _listing_text(data: dict[str, Any]) -> str:
    text = _list_text(data["stories"])
    subjects = data.get("subjects") or []
    if subjects:
        text += "\n\nentities and topics:\n" + "\n".join(
            f"  [{t['level'].upper()}] {t['kind']} {t['subject']}: {t['explanation']}" for t in subjects)
    return text


def _detail_text(row: dict[str, Any]) -> str:
    lines = [f"{_mark(row)}{row['headline']}", f"  id={row['id']} articles={row['size']} "
             f"first={row['first_seen']} last={row['last_seen']}"]
    if row.get("merged_into"):
        lines.append(f"  merged into {row['merged_into']}")
    for merge in row.get("merges", []):
        lines.append(f"  absorbed {merge['absorbed']} (article {merge['by_article']}, score {merge['score']})")
    if row.get("trend"):
        lines.append(f"  {row['trend']['explanation']}")
    lines.append(f"  entities: {', '.join(row['top_entities']) or '-'}; topics: {', '.join(row['top_topics']) or '-'}")
    by_id = {article["id"]: article for article in row["articles"]}
    for language, sources in sorted(row["by_language"].items()):
        lines.append(f"\n{language}:")
        for source, ids in sorted(sources.items()):
            for article_id in ids:
                lines.append(f"  {source}: {by_id[article_id]['title']}  ({article_id})")
    return "\n".join(lines)


@click.group(invoke_without_command=True)
@click.option("--since", type=When(), help="Active since: 7d, 12h, or an ISO date.")
@click.option("--breaking", is_flag=True, help="Only stories breaking or trending now, with why.")
@click.option("--topic", help="Only stories about this topic.")
@click.option("--entity", help="Only stories naming this entity (its key or id).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@json_option
@click.pass_context
def stories(ctx: click.Context, since, breaking, topic, entity, limit, as_json) -> None:  # type: ignore[no-untyped-def]
    """Stories: articles of many outlets and languages on one event, most recently active first."""
    if ctx.invoked_subcommand is not None:
        return
    settings = load_settings()
    es = connect(settings.es_url)
    rows = story_listing(es, settings.index_prefix, trend_params(settings), since=since,
                         breaking=breaking, topic=topic, entity=entity, limit=limit)
    data: dict[str, Any] = {"stories": rows}
    if breaking:
        data["subjects"] = subject_trends(es, settings.index_prefix, trend_params(settings))
    emit(data, as_json, _listing_text)


@stories.command("show")
@click.argument("story_id")
@json_option
def show(story_id: str, as_json: bool) -> None:
    """One story: its record, trend, merges, and its articles by language and source."""
    settings = load_settings()
    row = story_detail(connect(settings.es_url), settings.index_prefix, story_id, trend_params(settings))
    if row is None:
        fail(f"vigie: no story has the id {story_id!r}")
        return
    emit(row, as_json, _detail_text)
