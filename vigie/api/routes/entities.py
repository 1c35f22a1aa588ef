"""`vigie entities merges|merge|split` over HTTP: `GET /api/entities/merges` lists the rules,
`POST /api/entities/merges` forces a merge, `POST /api/entities/merges/split` undoes one. The two writes
are guarded like every write endpoint (bearer token, rate limit).

Registered before the search routes, whose `/api/entities/{name}` would otherwise take "merges"; the
writes live on paths that entity pages cannot hold, so each path answers exactly the methods it lists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from conf.logs import log_event
from vigie.api.context import ApiContext, context
from vigie.api.errors import ApiProblem, problems
from vigie.api.schemas import checked_json
from vigie.api.security import write_access
from vigie.entity_rules import EntityRules, UnknownEntity

router = APIRouter(prefix="/api", tags=["entities"])
log = logging.getLogger("vigie.api")

_NAME = {"min_length": 1, "max_length": 256}


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variant: str = Field(**_NAME, examples=["Wladimir Poutin"], description="The name as written.")
    target: str = Field(**_NAME, examples=["Q7747"], description="The entity: an id, or any of its names.")
    note: str = Field("", max_length=500, description="Why (kept with the merge).")


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variant: str = Field(**_NAME, examples=["Dmitri Peskov"], description="The name as written.")
    from_target: str | None = Field(None, alias="from", max_length=256,
                                    description="Only where the variant was given this entity (an id or a name).")
    note: str = Field("", max_length=500, description="Why (kept with the split).")


class MergeEvidenceOut(BaseModel):
    kind: str = Field(description="same-article, shared-entities, same-story or manual.")
    article_ids: list[str]
    distance: int = Field(description="Edit distance between the variant's key and the target's.")
    shared_ids: list[str] = Field(description="Co-occurring entity ids the variant and the target share.")
    note: str
    story_id: str | None = Field(None, description="same-story: the story both articles are in (absent otherwise).")

    @field_validator("story_id", mode="before")
    @classmethod
    def _absent_when_empty(cls, value: object) -> object:
        return value or None  # stored as "" for the other kinds: no story to link to


class MergeOut(BaseModel):
    rule_id: str
    variant: str
    variant_key: str
    action: str = Field(description="merge or split.")
    source: str = Field(description="auto (decided by a worker) or manual.")
    target_id: str
    target_name: str
    label: str
    evidence: MergeEvidenceOut
    at: str
    in_force: bool = Field(description="False when a manual rule on the same variant key overrides it.")
    articles_relabelled: int | None = Field(None, description="Stored articles re-labelled (writes only).")


def _rules(ctx: ApiContext) -> EntityRules:
    return EntityRules(ctx.settings, es=ctx.es, client=ctx.redis)


@router.get("/entities/merges", response_model=list[MergeOut], responses=problems(503),
            summary="The entity merges recorded: automatic ones with their evidence, manual merges and splits")
def list_merges(ctx: ApiContext = Depends(context)) -> Response:
    """`vigie entities merges --json`."""
    return checked_json(list[MergeOut], _rules(ctx).rules(), exclude_none=True)


def _ruled(variant: str, change: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Apply a merge or split; an unknown entity is a 404, a refused variant a 422 naming it."""
    try:
        return change()
    except UnknownEntity as error:
        raise ApiProblem(404, "not-found", str(error)) from error
    except ValueError as error:
        raise ApiProblem(422, "invalid", f"variant {variant!r}: {error}") from error


@router.post("/entities/merges", response_model=MergeOut, dependencies=[Depends(write_access)],
             responses=problems(401, 404, 422, 429, 503), summary="Force a variant to be an entity")
def merge(body: MergeIn, ctx: ApiContext = Depends(context)) -> Response:
    """`vigie entities merge VARIANT TARGET`: new articles and stored ones give the variant the target's id."""
    done = _ruled(body.variant, lambda: _rules(ctx).merge(body.variant, body.target, note=body.note))
    log_event(log, "api.entity_merged", variant=body.variant, target=done["target_id"])
    return checked_json(MergeOut, done)


@router.post("/entities/merges/split", response_model=MergeOut, dependencies=[Depends(write_access)],
             responses=problems(401, 404, 422, 429, 503), summary="Undo a merge: the variant gets its own id")
def split(body: SplitIn, ctx: ApiContext = Depends(context)) -> Response:
    """`vigie entities split VARIANT [--from TARGET]`."""
    done = _ruled(body.variant, lambda: _rules(ctx).split(body.variant, body.from_target, note=body.note))
    log_event(log, "api.entity_split", variant=body.variant, target=done["target_id"] or "-")
    return checked_json(MergeOut, done)
