"""`vigie entities show NAME`: an entity's page, by any of its names or its id."""

from __future__ import annotations

from typing import Any

import click

from index.client import connect
from vigie.cli.output import emit, json_option
from conf.settings import load_settings


@click.group("entities")
def entities() -> None:
    """Entities by identity: one row per real-world person, place or organisation."""


@entities.command()
@click.argument("name")
@click.option("--latest", default=10, show_default=True, help="Latest articles listed.")
@json_option
def show(name: str, latest: int, as_json: bool) -> None:
    """What the news says of NAME (any spelling, any script, or an id such as Q7747): variants seen,
    languages, articles per day, co-occurring entities, latest articles."""
    from index.entities import entity_profile

    settings = load_settings()
    profile = entity_profile(connect(settings.es_url), settings.index_prefix, name, latest=latest)
    if profile is None:
        raise click.ClickException(f"no article names {name!r}")
    emit(profile, as_json, _text)


def _text(profile: dict[str, Any]) -> str:
    lines = [f"{profile['name']} ({profile['id']}, {profile['label']}): {profile['articles']} articles",
             "written as: " + ", ".join(f"{v['text']} ({v['articles']})" for v in profile["variants"]),
             "languages: " + ", ".join(f"{l['language']} {l['articles']}" for l in profile["languages"]),
             "per day: " + ", ".join(f"{d['day']} {d['articles']}" for d in profile["days"][:14]),
             "with: " + ", ".join(f"{c['name']} ({c['articles']})" for c in profile["co_occurring"]),
             "latest:"]
    lines += [f"  {a['published'] or '-'}  [{a['language']}] {a['title']}  {a['url'] or a['id']}" for a in profile["latest"]]
    return "\n".join(lines)
