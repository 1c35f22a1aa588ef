"""`/api/notifications`: the matches alerts made (`vigie alerts fired`), listed or as a live stream of
Server-Sent Events (`vigie alerts fired --follow`; the alerts page listens to it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from starlette.responses import StreamingResponse

from index.notification_follow import POSITION_PATTERN, Position
from vigie.api.alert_schemas import NotificationOut, NotificationState
from vigie.api.context import ApiContext, context
from vigie.api.errors import problems
from vigie.api.notification_stream import notification_events, shown_as_is, withheld_error
from vigie.api.routes.alerts import find_rule
from vigie.api.routes.search import parse_moment
from vigie.api.schemas import checked_json
from vigie.api.security import authenticated
from vigie.api.sse import event_stream

router = APIRouter(prefix="/api", tags=["notifications"])

AlertFilter = Annotated[str | None, Query(max_length=200, description="Only this alert's (its id or name).")]

STREAM_DESCRIPTION = """\
`text/event-stream`. Events:
- `notification` (with an `id`): a new notification, as in the list, oldest first;
- `notification-update`: a notification sent on this stream changed delivery state or attempts;
- `status`: `{"elasticsearch": "unavailable", ...}` while notifications cannot be read, then `{"elasticsearch": "ok"}`.

A comment line every 15 s keeps the connection open. Reconnecting with the header `Last-Event-ID`
(browsers do it by themselves) goes on after that event: nothing is sent twice.
"""


def alert_id_of(ctx: ApiContext, alert: str | None) -> str | None:
    return find_rule(ctx, alert).alert_id if alert is not None and alert.strip() else None


@router.get("/notifications", response_model=list[NotificationOut], responses=problems(404, 422, 503),
            summary="Notifications, newest first")
def list_notifications(
    request: Request,
    alert: AlertFilter = None,
    since: Annotated[str | None, Query(max_length=64, description="Made since: 7d, 12h, 30m or an ISO date.")] = None,
    state: Annotated[NotificationState | None, Query(description="Only those in this delivery state.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    ctx: ApiContext = Depends(context),
) -> Response:
    """`vigie alerts fired --json`: each match of an alert with why it matched and its delivery."""
    alert_id = alert_id_of(ctx, alert)
    start: datetime | None = parse_moment("since", since)
    items = ctx.notifications.recent(alert_id, limit=limit, since=start, state=state)
    shown = [item.to_dict() for item in items]
    if not authenticated(request):
        shown = [withheld_error(item) for item in shown]
    return checked_json(list[NotificationOut], shown)



@router.get("/notifications/stream", response_class=StreamingResponse, summary="New notifications, live",
            description=STREAM_DESCRIPTION,
            responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                             "description": "Server-Sent Events, until the client leaves."},
                       **problems(404, 422, 503)})
def stream_notifications(
    request: Request,
    alert: AlertFilter = None,
    backlog: Annotated[int, Query(ge=0, le=100, description="Send the newest N notifications first (ignored "
                                                            "when resuming with Last-Event-ID).")] = 0,
    last_event_id: Annotated[str | None, Header(pattern=POSITION_PATTERN, max_length=100,
                                                description="The id of the last event received.")] = None,
    ctx: ApiContext = Depends(context),
) -> StreamingResponse:
    alert_id = alert_id_of(ctx, alert)  # an unknown alert is a 404 now, not an empty stream
    after = Position.parse(last_event_id) if last_event_id else None
    shown = shown_as_is if authenticated(request) else withheld_error
    return event_stream(request, lambda: notification_events(ctx.notifications, alert_id=alert_id, after=after,
                                                             backlog=backlog, shown=shown))
