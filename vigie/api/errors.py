"""Vigie's errors as HTTP answers: every error is a ``Problem`` JSON body with a fitting status.

    QuerySyntaxError          400  kind=query-syntax, with position and reason
    missing or wrong token    401  (security.py)
    unknown article or feed   404  kind=not-found / feed-not-found
    unknown alert             404  kind=alert-not-found
    feed already followed     409  kind=feed-exists
    alert name in use         409  kind=alert-exists
    invalid parameter or body 422  kind=invalid-request, with one entry per field
    alert rule that cannot work 422 kind=alert-invalid, its message listing every problem
    too many writes           429  kind=rate-limited, Retry-After (security.py)
    Elasticsearch refused     502  kind=index-rejected (a bug: the API sends only what index/ builds)
    Elasticsearch or Redis down 503 kind=index-unavailable / redis-unavailable, Retry-After
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from conf.logs import log_event
from index.alerts import AlertExists, AlertInvalid, AlertNotFound
from index.errors import IndexRejected, IndexUnavailable, QuerySyntaxError
from ingest.errors import FetchError, VigieError
from state.client import RedisError
from state.registry import FeedExists, FeedNotFound
from vigie.api.schemas import Problem

log = logging.getLogger("vigie.api")

#: Seconds a client is asked to wait when a service behind the API is down.
UNAVAILABLE_RETRY_AFTER = 5

_DESCRIPTIONS = {
    400: "The query does not parse (see docs/query-language.md): `position` says where.",
    401: "Missing or wrong bearer token (write endpoints need `Authorization: Bearer $VIGIE_API_TOKEN`).",
    404: "No such resource.",
    409: "The resource already exists.",
    422: "A parameter or the body is invalid: `errors` names each field (kind `alert-invalid`: the message "
         "lists every problem of the alert rule).",
    429: "Too many write requests: wait `Retry-After` seconds.",
    503: "Elasticsearch or Redis is unavailable: try again after `Retry-After` seconds.",
}
_KINDS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
          406: "not-acceptable", 409: "conflict", 413: "too-large", 415: "unsupported-media-type",
          422: "invalid-request", 429: "rate-limited", 500: "internal-error", 502: "bad-gateway", 503: "unavailable"}


#: What FastAPI says when it cannot decode a request body at all.
_UNREADABLE_BODY = "There was an error parsing the body"


def _methods_of(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in every_route(request.app.routes):
        if isinstance(route, APIRoute) and route.path_regex.match(request.url.path):
            methods |= route.methods
    return sorted(methods)


def every_route(routes: list[Any]) -> list[Any]:
    """Every route, those of included routers too (FastAPI lists an included router as one entry
    whose ``original_router`` holds its routes, their paths already prefixed)."""
    found: list[Any] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        found.extend(every_route(included.routes) if included is not None else [route])
    return found


class ApiProblem(Exception):
    """Raise to answer with a Problem body."""

    def __init__(self, status: int, kind: str, message: str, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.headers = headers or {}
        self.extra = extra


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route, for its OpenAPI description (FastAPI then adds no 422 of its own)."""
    return {status: {"model": Problem, "description": _DESCRIPTIONS.get(status, "Error.")} for status in statuses}


def problem_response(status: int, kind: str, message: str, headers: dict[str, str] | None = None,
                     **extra: Any) -> JSONResponse:
    body = {"kind": kind, "message": message, **{key: value for key, value in extra.items() if value is not None}}
    return JSONResponse(body, status_code=status, headers=headers)


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "request"


def _validation_message(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return f"the body is not valid JSON ({error.get('ctx', {}).get('error', 'parse error')})"
    if error.get("type") == "missing" and tuple(error.get("loc", ())) == ("body",):
        return "a JSON body is required"
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


@dataclass(frozen=True, slots=True)
class Answer:
    """How the API answers one type of error: its status; its kind (None: the error's own ``kind``);
    a message prefix; Retry-After when a service is down; the log event and level, if logged."""

    status: int
    kind: str | None = None
    prefix: str = ""
    retry_after: bool = False
    event: str | None = None
    level: int = logging.WARNING

    async def handler(self, _: Request, error: Exception) -> JSONResponse:
        kind = self.kind or getattr(error, "kind", "error")
        if self.event is not None:
            log_event(log, self.event, self.level, kind=kind, error=str(error))
        if self.retry_after:
            return problem_response(self.status, kind, f"{self.prefix}{error}",
                                    {"Retry-After": str(UNAVAILABLE_RETRY_AFTER)}, retry_after=UNAVAILABLE_RETRY_AFTER)
        return problem_response(self.status, kind, f"{self.prefix}{error}")


#: Exception -> HTTP answer. Starlette picks the entry of the most specific class of an error, so a
#: ``FeedNotFound`` is a 404 while any other ``VigieError`` is a 500.
STATUS_OF: dict[type[Exception], Answer] = {
    FeedNotFound: Answer(404),
    AlertNotFound: Answer(404),
    FeedExists: Answer(409),
    AlertExists: Answer(409),
    # A well-formed body whose rule cannot work (unknown topic, digest without webhook...): the message
    # lists every problem at once, as `vigie alerts add` prints it.
    AlertInvalid: Answer(422),
    IndexRejected: Answer(502, event="api.index_rejected", level=logging.ERROR),
    IndexUnavailable: Answer(503, retry_after=True, event="api.index_unavailable"),
    RedisError: Answer(503, kind="redis-unavailable", prefix="Redis is unavailable: ", retry_after=True,
                       event="api.redis_unavailable"),
    VigieError: Answer(500, event="api.error", level=logging.ERROR),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def _problem(_: Request, error: ApiProblem) -> JSONResponse:
        return problem_response(error.status, error.kind, error.message, error.headers, **error.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        fields = [{"location": _location(tuple(item.get("loc", ()))), "message": _validation_message(item)}
                  for item in error.errors()]
        summary = "; ".join(f"{item['location']}: {item['message']}" for item in fields[:5])
        return problem_response(422, "invalid-request", f"invalid request: {summary}", errors=fields)

    @app.exception_handler(QuerySyntaxError)
    async def _syntax(_: Request, error: QuerySyntaxError) -> JSONResponse:
        return problem_response(400, "query-syntax",
                                f"cannot parse the query at character {error.position + 1}: {error.reason}",
                                position=error.position, reason=error.reason)

    for error_type, answer in STATUS_OF.items():
        app.add_exception_handler(error_type, answer.handler)

    @app.exception_handler(FetchError)
    async def _bad_url(_: Request, error: FetchError) -> JSONResponse:
        # validate_feed_url: the only fetch-layer check a request reaches (nothing is fetched here).
        return problem_response(422, "invalid-request", f"invalid request: body.url: {error}",
                                errors=[{"location": "body.url", "message": str(error)}])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        status = error.status_code
        message = error.detail if isinstance(error.detail, str) else _KINDS.get(status, "error")
        headers = dict(error.headers or {})
        if status == 400 and message == _UNREADABLE_BODY:
            # FastAPI's answer to a body that is not even text: an invalid body, like malformed JSON.
            return problem_response(422, "invalid-request", "invalid request: body: the body is not valid JSON",
                                    errors=[{"location": "body", "message": "the body is not valid JSON"}])
        if status == 405:
            # Starlette names the methods of the one route it matched; a path served by several routes
            # (GET and POST /api/feeds) allows all of theirs.
            headers["Allow"] = ", ".join(_methods_of(request))
        return problem_response(status, _KINDS.get(status, "error"), message, headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        log.exception("api.unexpected_error")
        return problem_response(500, "internal-error", f"unexpected error: {type(error).__name__}")
