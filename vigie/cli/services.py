"""`vigie setup` and `vigie services start|stop|status`."""

from __future__ import annotations

import time

import click

from conf.settings import load_settings
from vigie.cli.output import emit, json_option, progress
from vigie.provision import ensure_browser, provision
from vigie.services import ServiceError, embedded_services


@click.command()
@click.option("--browser", is_flag=True, help="Also Debian's chromium and chromium-driver, for the browser tests.")
@json_option
def setup(browser: bool, as_json: bool) -> None:
    """Install what the services need (redis-server, Java, the Elasticsearch distribution). Idempotent."""
    settings = load_settings()
    started = time.monotonic()
    steps: list[str] = []

    def report(step: str) -> None:  # every install, download or unpacking is reported here
        steps.append(step)
        progress(step)

    found = provision(settings, report)
    if browser:
        found["browser"] = ensure_browser(report)
    found["installed"] = "; ".join(steps) or "nothing"
    found["seconds"] = f"{time.monotonic() - started:.1f}"
    emit(found, as_json, lambda data: "setup: ready; " + "; ".join(f"{k}: {v}" for k, v in data.items()))


@click.group()
def services() -> None:
    """Start, stop and inspect the embedded Redis and Elasticsearch (data under VIGIE_HOME)."""


def _status_text(statuses: list[dict[str, object]]) -> str:
    lines = []
    for status in statuses:
        state = "running" if status["running"] else "stopped"
        version = status.get("version") or "-"
        lines.append(
            f"{status['service']:<14} {state:<8} health={status['health']:<7} version={version:<10} "
            f"port={status['port']} pid={status['pid'] or '-'} data={status['data']}"
        )
        for node in status.get("nodes") or ():  # a local cluster: one line per node
            lines.append(f"  {node['name']:<12} {'running' if node['running'] else 'stopped':<8} "
                         f"health={node['health']:<7} {node['url']} transport={node['transport_port']} "
                         f"pid={node['pid'] or '-'}" + ("  (master)" if node["name"] == status.get("master") else ""))
    return "\n".join(lines)


@services.command()
@click.option("--es-nodes", type=click.IntRange(1, 9), default=None,
              help="Elasticsearch nodes on loopback (VIGIE_ES_NODES): 3 makes a local cluster.")
@json_option
def start(es_nodes: int | None, as_json: bool) -> None:
    """Start Redis then Elasticsearch on loopback and wait until each is ready."""
    settings = load_settings(**({"es_nodes": es_nodes} if es_nodes else {}))
    statuses = []
    for service in embedded_services(settings):
        progress(f"starting {service.NAME} on {service.host}:{service.port}")  # no status call: on a busy port it waits
        began = time.monotonic()
        status = service.start()
        status["ready_seconds"] = round(time.monotonic() - began, 1)
        statuses.append(status)
    emit(statuses, as_json, _status_text)


@services.command()
@click.option("--es-nodes", type=click.IntRange(1, 9), default=None, help="As given to `start`.")
@json_option
def stop(es_nodes: int | None, as_json: bool) -> None:
    """Stop Elasticsearch then Redis. Their data stays under VIGIE_HOME."""
    settings = load_settings(**({"es_nodes": es_nodes} if es_nodes else {}))
    statuses = []
    errors: list[ServiceError] = []
    for service in reversed(embedded_services(settings)):
        try:
            statuses.append(service.stop())
        except ServiceError as error:
            errors.append(error)
    if errors:
        raise errors[0]
    emit(list(reversed(statuses)), as_json, _status_text)


@services.command()
@click.option("--es-nodes", type=click.IntRange(1, 9), default=None, help="As given to `start`.")
@json_option
def status(es_nodes: int | None, as_json: bool) -> None:
    """Show whether each service runs, its version, port and health. Exit code 1 if one is down."""
    settings = load_settings(**({"es_nodes": es_nodes} if es_nodes else {}))
    statuses = [service.status() for service in embedded_services(settings)]
    emit(statuses, as_json, _status_text)
    if not all(s["health"] in ("ok", "green", "yellow") for s in statuses):
        raise SystemExit(1)
