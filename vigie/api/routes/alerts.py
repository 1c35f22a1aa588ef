"""`/api/alerts`: `vigie alerts add|list|show|pause|resume|remove|test|feed` over HTTP, and `/api/topics`.

Every change goes through the store `vigie alerts` uses (``ApiContext.alerts``, from
``vigie.alert_store.alert_store_for``): the rule is validated as a whole (its query parses, its
topics exist, its webhook is http(s)...), written, and the workers are told, so it applies to the
next article indexed. An alert is reached by its id or its name (any case). Its webhook secret is
answered in full once, by the request that made it; every other answer shows its last characters.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from conf.logs import log_event
from index.alert_feed import alert_atom
from index.alert_store import backtest
from index.alerts import MAX_NAME_CHARS, AlertNotFound, AlertRule, Delivery, changed_delivery, new_rule
from index.query import parse_query
from vigie.api.alert_schemas import AlertChanges, AlertIn, AlertOut, BacktestOut, TopicSummary
from vigie.api.context import ApiContext, context
from vigie.api.errors import problems
from vigie.api.routes.search import parse_moment
from vigie.api.schemas import checked_json
from vigie.api.security import write_access
from vigie.search_filters import feeds_tagged

log = logging.getLogger("vigie.api")

router = APIRouter(prefix="/api", tags=["alerts"])

ATOM = "application/atom+xml"

AlertKey = Annotated[str, Path(min_length=1, max_length=MAX_NAME_CHARS,
                               description="The alert's id (`alert_id`) or its name, whatever the case.")]
Limit = Annotated[int, Query(ge=1, le=1000)]


def alert_json(rule: AlertRule, show_secret: bool = False) -> dict[str, Any]:
    """The alert as `vigie alerts show --json` prints it (the secret masked unless asked)."""
    data = rule.to_dict(include_secret=show_secret)
    data.pop("name_key", None)
    data.pop("query_lemmas", None)
    return data


def alert_key(key: str) -> str:
    """``key`` as the store looks it up (a blank one names no alert)."""
    if not key.strip():
        raise AlertNotFound(f"there is no alert named {key!r}")
    return key


def find_rule(ctx: ApiContext, key: str) -> AlertRule:
    return ctx.alerts.get(alert_key(key))


def _answer(rule: AlertRule, show_secret: bool = False, status_code: int = 200) -> Response:
    return checked_json(AlertOut, alert_json(rule, show_secret), status_code)


@router.get("/topics", response_model=list[TopicSummary], summary="Topics an alert (or `topic:`) can name")
def list_topics(ctx: ApiContext = Depends(context)) -> Response:
    """The topics of the rule file in use, as `vigie topics list` shows them."""
    return checked_json(list[TopicSummary], [topic.summary() for topic in ctx.topic_rules.topics])


@router.get("/alerts", response_model=list[AlertOut], responses=problems(503), summary="Every alert")
def list_alerts(counts: Annotated[bool, Query(description="Add how often each alert fired: `fired`, "
                                                           "{matches, last_match}.")] = False,
                ctx: ApiContext = Depends(context)) -> Response:
    """Every alert by name, its secret masked: `vigie alerts list --json` (which always has ``fired``)."""
    rules = ctx.alerts.list()
    if not counts:
        return checked_json(list[AlertOut], [alert_json(rule) for rule in rules])
    made = ctx.notifications.match_counts([rule.alert_id for rule in rules])
    return checked_json(list[AlertOut], [{**alert_json(rule), "fired": fired_json(made.get(rule.alert_id))}
                                         for rule in rules])


def fired_json(count: tuple[int, datetime | None] | None) -> dict[str, Any]:
    """``matches`` and ``last_match`` of an alert from ``NotificationStore.match_counts``."""
    matches, last = count or (0, None)
    return {"matches": matches, "last_match": last.isoformat() if last else None}


@router.post("/alerts", status_code=201, response_model=AlertOut, dependencies=[Depends(write_access)],
             responses=problems(400, 401, 409, 422, 429, 503), summary="Create an alert")
def add_alert(body: AlertIn, ctx: ApiContext = Depends(context)) -> Response:
    """`vigie alerts add`: the rule applies to the next article indexed. A query that does not parse
    is a 400 saying where; a rule that cannot work (unknown topic, digest without webhook...) a 422
    listing every problem. The answer holds the webhook secret in full: the one time it is shown."""
    if body.query.strip():
        parse_query(body.query)
    rule = ctx.alerts.add(new_rule(
        body.name, topics=body.topics, all_topics=body.all_topics, query=body.query, entities=body.entities,
        languages=body.languages, feeds=body.feeds, min_score=body.min_score, webhook=body.webhook,
        secret=body.secret, mode=body.digest or "immediate", paused=body.paused, per_story=body.per_story,
        story_updates=body.story_updates, story_new_language=body.story_new_language, email=body.email,
        tags=body.tags))
    log_event(log, "api.alert_added", alert=rule.alert_id, name=rule.name)
    response = _answer(rule, show_secret=True, status_code=201)
    response.headers["Location"] = f"/api/alerts/{rule.alert_id}"
    return response


@router.get("/alerts/{key}", response_model=AlertOut, responses=problems(404, 422, 503), summary="One alert")
def get_alert(key: AlertKey, ctx: ApiContext = Depends(context)) -> Response:
    return _answer(find_rule(ctx, key))


@router.patch("/alerts/{key}", response_model=AlertOut, dependencies=[Depends(write_access)],
              responses=problems(400, 401, 404, 409, 422, 429, 503), summary="Change an alert")
def change_alert(key: AlertKey, body: AlertChanges, ctx: ApiContext = Depends(context)) -> Response:
    """Change the fields given; the rule is validated as a whole and applies to the next article. A
    webhook given to an alert that had none gets a random secret, as does ``"secret": null``: the
    answer then holds it in full, once."""
    current = find_rule(ctx, key)
    given = body.model_fields_set
    if not given:
        return _answer(current)
    if "query" in given and body.query.strip():
        parse_query(body.query)
    changes: dict[str, Any] = {name: getattr(body, name) for name in given
                               if name in ("name", "all_topics", "query", "min_score", "paused")}
    for name in ("topics", "entities", "languages", "feeds", "tags"):
        if name in given:
            changes[name] = tuple(getattr(body, name))
    delivery, new_secret = _delivery(current.delivery, body, given)
    if delivery != current.delivery:
        changes["delivery"] = delivery
    rule = ctx.alerts.update(current.alert_id, **changes)
    log_event(log, "api.alert_changed", alert=rule.alert_id, fields=",".join(sorted(given)))
    return _answer(rule, show_secret=new_secret and bool(rule.delivery.secret))


def _delivery(current: Delivery, body: AlertChanges, given: set[str]) -> tuple[Delivery, bool]:
    """The delivery after the changes, and whether its secret is a new one the caller has not seen."""
    changes: dict[str, Any] = {}
    if "webhook" in given:
        changes["webhook"] = body.webhook
    if "digest" in given:
        changes["mode"] = body.digest or "immediate"
    if "secret" in given:
        changes["secret"] = body.secret
    if "email" in given:
        changes["email"] = body.email
    return changed_delivery(current, **changes)


@router.delete("/alerts/{key}", response_model=AlertOut, dependencies=[Depends(write_access)],
               responses=problems(401, 404, 422, 429, 503), summary="Remove an alert")
def remove_alert(key: AlertKey, ctx: ApiContext = Depends(context)) -> Response:
    """Delete the alert; answers what it was. Its notifications are kept."""
    rule = ctx.alerts.remove(alert_key(key))
    log_event(log, "api.alert_removed", alert=rule.alert_id, name=rule.name)
    return _answer(rule)


@router.post("/alerts/{key}/pause", response_model=AlertOut, dependencies=[Depends(write_access)],
             responses=problems(401, 404, 422, 429, 503), summary="Pause an alert")
def pause_alert(key: AlertKey, ctx: ApiContext = Depends(context)) -> Response:
    """Stop matching new articles (notifications already made are still delivered). Idempotent."""
    rule = ctx.alerts.pause(alert_key(key))
    log_event(log, "api.alert_paused", alert=rule.alert_id)
    return _answer(rule)


@router.post("/alerts/{key}/resume", response_model=AlertOut, dependencies=[Depends(write_access)],
             responses=problems(401, 404, 422, 429, 503), summary="Resume a paused alert")
def resume_alert(key: AlertKey, ctx: ApiContext = Depends(context)) -> Response:
    """Match new articles again, from the next one indexed. Idempotent."""
    rule = ctx.alerts.resume(alert_key(key))
    log_event(log, "api.alert_resumed", alert=rule.alert_id)
    return _answer(rule)


@router.get("/alerts/{key}/test", response_model=BacktestOut, responses=problems(404, 422, 503),
            summary="Backtest: what the alert would have matched")
def backtest_alert(
    key: AlertKey,
    since: Annotated[str, Query(max_length=64, description="Published since: 7d, 12h, 30m or an ISO date; "
                                                           "empty: any date.")] = "7d",
    limit: Limit = 50,
    ctx: ApiContext = Depends(context),
) -> Response:
    """`vigie alerts test NAME --since 7d --json`: the alert's saved search over the index, newest
    first, with the lemma variants the rule was stored with."""
    rule = find_rule(ctx, key)
    start = parse_moment("since", since)
    result = backtest(ctx.es, ctx.prefix, rule, start, ctx.lemma_variants() if rule.query else None, limit=limit,
                      tagged_feeds=feeds_tagged(ctx.registry, rule.tags) if rule.tags else None)
    return checked_json(BacktestOut, {"alert": rule.name, "since": start.isoformat() if start else None,
                                      **result.to_dict()})


@router.get("/alerts/{key}/feed", response_class=Response, summary="The alert's matches as an Atom feed",
            responses={200: {"content": {ATOM: {"schema": {"type": "string"}}},
                             "description": "Atom (RFC 4287), newest match first."},
                       **problems(404, 422, 503)})
def alert_feed(key: AlertKey, request: Request, limit: Limit = 50, ctx: ApiContext = Depends(context)) -> Response:
    """`vigie alerts feed NAME`: one entry per match, for a feed reader. Its self link is this
    endpoint's URL under the alert's id."""
    rule = find_rule(ctx, key)
    items = ctx.notifications.recent(rule.alert_id, limit=limit)
    base = str(request.base_url).rstrip("/") + router.prefix  # alert_atom adds /alerts/<id>/feed
    return Response(alert_atom(rule, items, base), media_type=ATOM)
