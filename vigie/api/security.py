"""What guards the API: the write token, a rate limit on writes, and headers for every answer.

- Write endpoints (POST, DELETE; the alerts of phase 2 too) depend on ``write_access``: first a token
  bucket per client address (``VIGIE_API_WRITE_RATE`` per minute, bursts of ``VIGIE_API_WRITE_BURST``;
  429 with Retry-After), counted before the token is checked so guessing tokens is rate-limited as
  well; then ``Authorization: Bearer <token>`` compared in constant time (401 otherwise).
- Reads need no token: the API listens on 127.0.0.1 by default, answers only Host headers naming
  loopback then (no DNS rebinding), and sends no CORS headers, so other sites' pages cannot read it.
- Every answer carries nosniff, no-referrer and frame-deny headers; the pages also a strict
  Content-Security-Policy (routes/pages.py).
"""

from __future__ import annotations

import logging

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conf.logs import log_event
from vigie.api.context import context_of
from vigie.api.errors import ApiProblem, every_route, problem_response
from vigie.api.token import TOKEN_FILE, ApiToken

log = logging.getLogger("vigie.api")

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="VIGIE_API_TOKEN, or the token `vigie api` generated into $VIGIE_HOME/api-token.",
)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def write_access(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    """Dependency of every write endpoint: rate limit, then the bearer token."""
    ctx = context_of(request)
    client = client_address(request)
    wait = ctx.write_limiter.take(client)
    if wait > 0:
        retry_after = max(1, int(wait + 0.999))
        log_event(log, "api.rate_limited", logging.WARNING, client=client, path=request.url.path,
                  retry_after=retry_after)
        raise ApiProblem(429, "rate-limited",
                         f"too many write requests from {client}: at most {ctx.settings.api_write_burst} at once and "
                         f"{ctx.settings.api_write_rate:g} a minute; try again in {retry_after} s",
                         headers={"Retry-After": str(retry_after)}, retry_after=retry_after)
    if credentials is None:
        raise _unauthorized("this endpoint changes data and needs `Authorization: Bearer <token>`", ctx.token)
    if not ctx.token.matches(credentials.credentials):
        log_event(log, "api.bad_token", logging.WARNING, client=client, path=request.url.path)
        raise _unauthorized("the bearer token is wrong", ctx.token)


def authenticated(request: Request) -> bool:
    """Whether a read carries the write token: what lets it see the texts a webhook target answered."""
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(presented) and context_of(request).token.matches(presented.strip())


def _unauthorized(what: str, token: ApiToken) -> ApiProblem:
    # The file's name, not its absolute path: where the installation lives is no business of a stranger.
    where = "VIGIE_API_TOKEN" if token.source == "VIGIE_API_TOKEN" else f"the file {TOKEN_FILE} of VIGIE_HOME (or set VIGIE_API_TOKEN)"
    return ApiProblem(401, "unauthorized", f"{what}; the token is in {where}",
                      headers={"WWW-Authenticate": 'Bearer realm="vigie"'})


def allowed_hosts(listen_host: str, configured: tuple[str, ...]) -> list[str] | None:
    """Host headers to accept, or None for any: loopback names when listening on loopback."""
    if configured:
        return list(configured)
    if listen_host in LOOPBACK_HOSTS or listen_host.startswith("127."):
        return [*LOOPBACK_HOSTS, listen_host]
    return None


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WriteGuard:
    """ASGI middleware in front of every write (any method but GET, HEAD and OPTIONS), before a byte of
    the body is read: the bearer token first (a failure is 401, counted in its own bucket per client:
    429 when it is empty, and the real client's write budget is untouched), then the body size, by
    its Content-Length and again while it is read (413 past ``max_body_bytes``)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READ_METHODS or not _is_endpoint(scope):
            # (a method or path no route serves is a 405 or 404 from the router, which reads no body)
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self._refused_token(request)
        if refusal is not None:
            await _answer(refusal, scope, receive, send)
            return
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await _answer(self._too_large(request), scope, receive, send)
            return
        seen = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    over = True  # what was read is dropped: the route answers, the answer is replaced
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over:
                if not started:
                    started = True
                    await _answer(self._too_large(request), scope, receive, send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, guarded_send)

    def _refused_token(self, request: Request) -> ApiProblem | None:
        ctx = context_of(request)
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and presented.strip() and ctx.token.matches(presented.strip()):
            return None
        client = client_address(request)
        wait = ctx.refused_limiter.take(client)
        if wait > 0:
            retry_after = max(1, int(wait + 0.999))
            log_event(log, "api.rate_limited", logging.WARNING, client=client, path=request.url.path,
                      retry_after=retry_after, authenticated=False)
            return ApiProblem(429, "rate-limited", f"too many refused write requests from {client}; try again "
                                                   f"in {retry_after} s", headers={"Retry-After": str(retry_after)},
                              retry_after=retry_after)
        if not presented.strip():
            return _unauthorized("this endpoint changes data and needs `Authorization: Bearer <token>`", ctx.token)
        log_event(log, "api.bad_token", logging.WARNING, client=client, path=request.url.path)
        return _unauthorized("the bearer token is wrong", ctx.token)

    def _too_large(self, request: Request) -> ApiProblem:
        log_event(log, "api.body_too_large", logging.WARNING, client=client_address(request), path=request.url.path,
                  limit=self.max_body_bytes)
        return ApiProblem(413, "too-large", f"the request body is larger than {self.max_body_bytes} bytes "
                                            "(VIGIE_API_MAX_BODY_BYTES)")


def _is_endpoint(scope: Scope) -> bool:
    return any(route.matches(scope)[0] == Match.FULL for route in every_route(scope["app"].routes))


async def _answer(problem: ApiProblem, scope: Scope, receive: Receive, send: Send) -> None:
    response = problem_response(problem.status, problem.kind, problem.message, problem.headers, **problem.extra)
    await response(scope, receive, send)


class JsonTrustedHost(TrustedHostMiddleware):
    """Starlette's Host check, its refusal a Problem body like every other error."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        super().__init__(app, allowed_hosts=allowed_hosts, www_redirect=False)
        inner = self.app

        async def host_accepted(scope: Scope, receive: Receive, send: Send) -> None:
            scope["vigie.host_accepted"] = True
            await inner(scope, receive, send)

        self.app = host_accepted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        replaced = False

        async def as_json(message: Message) -> None:
            nonlocal replaced
            if scope.get("vigie.host_accepted"):
                await send(message)
                return
            if not replaced:
                replaced = True
                host = Headers(scope=scope).get("host", "")
                log_event(log, "api.host_refused", logging.WARNING, host=host[:100])
                await problem_response(400, "invalid-host", f"this API does not answer the Host {host[:100]!r} "
                                       "(VIGIE_API_ALLOWED_HOSTS)")(scope, receive, send)

        await super().__call__(scope, receive, as_json)


class SecurityHeaders:
    """ASGI middleware adding the headers every answer carries."""

    HEADERS = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    ]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)
