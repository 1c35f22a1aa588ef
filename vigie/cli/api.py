"""`vigie api`: the HTTP API and the web page (what `vigie up` runs as its third child)."""

from __future__ import annotations

import logging

import click

from conf.logs import configure_logging, log_event
from conf.settings import load_settings


@click.command()
@click.option("--host", help="Address to listen on (default VIGIE_API_HOST, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on (default VIGIE_API_PORT, 8766).")
def api(host: str | None, port: int | None) -> None:
    """Serve the HTTP API and the web page (search, articles, feeds).

    Reads need no token; writes need `Authorization: Bearer <token>`: VIGIE_API_TOKEN, or the token
    generated into $VIGIE_HOME/api-token on first start. OpenAPI at /openapi.json, docs at /docs.
    """
    # The web stack (FastAPI, uvicorn): 0.49 s of every command's start-up (measured), for this one only.
    import uvicorn

    from vigie.api.app import create_app

    overrides: dict[str, object] = {}
    if host:
        overrides["api_host"] = host
    if port:
        overrides["api_port"] = port
    settings = load_settings(**overrides)
    configure_logging(settings.log_level)
    logging.getLogger("uvicorn.error").addFilter(_without_colours)
    app = create_app(settings)
    token = app.state.context.token
    log_event(logging.getLogger("vigie.api"), "api.starting",
              url=f"http://{_netloc(settings.api_host, settings.api_port)}/", token=token.source, docs="/docs")
    # Request lines up to 1 MiB reach the application, which answers an over-long parameter with a
    # JSON 422 (h11's own limit, 16 KiB, would answer a bare "Invalid HTTP request").
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_config=None, access_log=False,
                server_header=False, proxy_headers=False, timeout_graceful_shutdown=5,
                h11_max_incomplete_event_size=2**20)


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _without_colours(record: object) -> bool:
    """uvicorn attaches a coloured copy of each message; the key=value log lines need only one."""
    vars(record).pop("color_message", None)
    return True
