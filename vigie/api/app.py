"""``create_app(settings)``: the FastAPI application `vigie api` serves.

    /api/search, /api/facets            routes/search.py         (index.search, index.stats)
    /api/articles/{id}                  routes/articles.py       (index.store)
    /api/feeds[/{id}]                   routes/feeds.py          (state.registry)
    /api/alerts[/{key}[/...]], /api/topics  routes/alerts.py     (index.alerts, worker.alert_rules)
    /api/notifications[/stream]         routes/notifications.py  (index.notifications, Server-Sent Events)
    /health, /metrics                   routes/system.py
    /, /articles/{id}, /feeds, /alerts  routes/pages.py          (static/ files)
    /openapi.json, /docs                FastAPI
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from conf.settings import Settings
from vigie import __version__
from vigie.api.context import ApiContext
from vigie.api.errors import install_error_handlers
from vigie.api.metrics import ApiMetrics, RequestTimer
from vigie.api.routes import alerts, articles, feeds, notifications, pages, search, stories, system
from vigie.api.routes import entities as entity_routes
from vigie.api.routes.pages import API_DOCS_ASSETS, STATIC
from vigie.api.security import JsonTrustedHost, SecurityHeaders, WriteGuard, allowed_hosts
from vigie.api.token import api_token

ROUTERS = (entity_routes.router,  # before search: its /api/entities/{name} would take "merges"
           search.router, stories.router, articles.router, feeds.router, alerts.router, notifications.router, system.router,
           pages.router)

DESCRIPTION = """\
Search the articles Vigie indexed, read one with its entities and topics, manage the feeds it
follows and the alerts it evaluates on every new article, and follow their notifications live. Reads
need no token; writes (POST, PATCH, DELETE) need `Authorization: Bearer <token>`, the token
being `VIGIE_API_TOKEN` or the one generated into `$VIGIE_HOME/api-token`. Every error is a JSON body
with a stable `kind` and a `message`. The web page is at `/`.
"""


def create_app(settings: Settings) -> FastAPI:
    ctx = ApiContext(settings=settings, token=api_token(settings))
    # Built now, in one thread: the routes share them from the thread pool.
    ctx.es, ctx.health_es, ctx.redis, ctx.registry, ctx.write_limiter  # noqa: B018

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        ctx.start_loading_tables()
        yield
        ctx.es.close()
        ctx.health_es.close()
        ctx.redis.close()

    app = FastAPI(
        title="Vigie",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by routes/pages.py from installed files, under the pages' CSP
        redoc_url=None,
        openapi_tags=[
            {"name": "entities", "description": "Merges of name variants into entities: listed, forced, undone."},
            {"name": "search", "description": "The query language of `vigie search`, filters, facets."},
            {"name": "stories", "description": "Articles of many outlets and languages on one event; what is "
                                               "breaking (`vigie stories`)."},
            {"name": "articles", "description": "One article with its entities and topics."},
            {"name": "feeds", "description": "The followed feeds and their health."},
            {"name": "alerts", "description": "Saved searches notified once per matching article "
                                              "(`vigie alerts`, docs/alerts.md): CRUD, pause, backtest, Atom feed."},
            {"name": "notifications", "description": "What the alerts matched and its delivery; live over "
                                                     "Server-Sent Events."},
            {"name": "system", "description": "Health and Prometheus metrics."},
        ],
    )
    app.state.context = ctx
    app.state.metrics = ApiMetrics(ctx)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/docs-assets", StaticFiles(directory=API_DOCS_ASSETS), name="docs-assets")
    # Outermost last: every answer, the host check's refusals included, gets the headers and is timed.
    app.add_middleware(WriteGuard, max_body_bytes=settings.api_max_body_bytes)
    hosts = allowed_hosts(settings.api_host, settings.api_allowed_hosts)
    if hosts is not None:
        app.add_middleware(JsonTrustedHost, allowed_hosts=hosts)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestTimer, metrics=app.state.metrics)
    return app
