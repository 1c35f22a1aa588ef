"""`vigie entities show NAME`: an entity's page, by any of its names or its id; `vigie entities
merge|split|merges`: the merges of name variants, forced, undone and listed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from index.client import connect
from vigie.cli.output import emit, json_option, progress
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


@entities.command()
@click.argument("variant")
@click.argument("target")
@click.option("--note", default="", help="Why (kept with the merge).")
@json_option
def merge(variant: str, target: str, note: str, as_json: bool) -> None:
    """Force VARIANT (a name as written) to be TARGET (an id such as Q7747, or any name of it).

    Every form whose romanised key is VARIANT's takes TARGET's id and name, in new articles and in
    the articles already stored (re-labelled now). Wins over an automatic merge or split of VARIANT."""
    from vigie.entity_rules import EntityRules, UnknownEntity

    try:
        done = EntityRules(load_settings()).merge(variant, target, note=note, progress=_progress(as_json))
    except (UnknownEntity, ValueError) as error:
        raise click.ClickException(str(error)) from error
    emit(done, as_json, lambda d: f"merged {d['variant']!r} into {d['target_name']} ({d['target_id']}); "
                                  f"{d['articles_relabelled']} stored articles re-labelled")


@entities.command()
@click.argument("variant")
@click.option("--from", "from_target", default=None, metavar="TARGET",
              help="Only where VARIANT was given this entity (an id or any name of it).")
@click.option("--note", default="", help="Why (kept with the split).")
@json_option
def split(variant: str, from_target: str | None, note: str, as_json: bool) -> None:
    """Undo a merge: VARIANT (a name as written) gets its own id again, in new articles and in the
    articles already stored (re-labelled now). Wins over an automatic merge of VARIANT."""
    from vigie.entity_rules import EntityRules, UnknownEntity

    try:
        done = EntityRules(load_settings()).split(variant, from_target, note=note, progress=_progress(as_json))
    except (UnknownEntity, ValueError) as error:
        raise click.ClickException(str(error)) from error
    emit(done, as_json, lambda d: f"split {d['variant']!r}" + (f" from {d['target_name']} ({d['target_id']})"
                                                                if d["target_id"] else "")
         + f"; {d['articles_relabelled']} stored articles re-labelled")


@entities.command()
@json_option
def merges(as_json: bool) -> None:
    """The merges recorded: automatic ones with their evidence, and manual merges and splits."""
    from vigie.entity_rules import EntityRules

    rules = EntityRules(load_settings()).rules()
    emit(rules, as_json, _merges_text)


def _progress(as_json: bool) -> Callable[[int, int], None]:
    """Progress on stderr (stdout keeps the JSON clean either way)."""
    def show(done: int, total: int) -> None:
        progress(f"re-labelling stored articles: {done}/{total}")
    return show


def _merges_text(rules: list[dict[str, Any]]) -> str:
    if not rules:
        return "no entity merge recorded"
    lines = []
    for rule in rules:
        evidence = rule["evidence"]
        why = evidence["kind"]
        if evidence["shared_ids"]:
            why += " " + ",".join(evidence["shared_ids"])
        if evidence.get("story_id"):
            why += " " + evidence["story_id"]
        if evidence["article_ids"]:
            why += "; articles " + ",".join(evidence["article_ids"])
        if evidence["distance"]:
            why += f"; distance {evidence['distance']}"
        if evidence["note"]:
            why += f"; {evidence['note']}"
        target = f"{rule['target_name']} ({rule['target_id']})" if rule["target_id"] else "its own id"
        arrow = "->" if rule["action"] == "merge" else "split from"
        force = "" if rule["in_force"] else "  [overridden]"
        lines.append(f"{rule['at'][:19]}  {rule['source']:6}  {rule['variant']!r} {arrow} {target}  ({why}){force}")
    return "\n".join(lines)
