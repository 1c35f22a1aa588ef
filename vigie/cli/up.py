"""`vigie up`: run the whole service in the foreground, or in the background (`--detach`); `vigie down`."""

from __future__ import annotations

import sys

import click

from conf.logs import configure_logging
from conf.settings import load_settings
from vigie.supervisor import Supervisor, start_detached, stop_detached


@click.command()
@click.option("--no-demo", is_flag=True, help="Do not serve and register the local demo feed.")
@click.option("--detach", is_flag=True, help="Run in the background (log: $VIGIE_HOME/vigie.log); return once "
              "ready. `vigie down` stops it.")
def up(no_demo: bool, detach: bool) -> None:
    """Run everything in the foreground: Redis, Elasticsearch, a Celery worker, the poller, the API.

    Starts the embedded services unless they already run, serves a demo feed on 127.0.0.1 carrying a
    sample article, serves the web page and API on http://127.0.0.1:8766/ (VIGIE_API_PORT), and
    stops every child cleanly on Ctrl-C or SIGTERM. Logs go to stderr. With --detach, the same in the
    background: its pid in $VIGIE_HOME/vigie.pid, its log in $VIGIE_HOME/vigie.log.
    """
    settings = load_settings()
    if detach:
        started = start_detached(settings, demo=not no_demo)
        state = "ready" if started.ready else "still starting"
        opened = next((part[len("open="):] for part in (started.ready or "").split() if part.startswith("open=")), None)
        click.echo(f"vigie runs in the background ({state}): pid {started.pid}, log {started.log}"
                   + (f", web page {opened}" if opened else "") + "; `vigie down` stops it")
        return
    configure_logging(settings.log_level)
    sys.exit(Supervisor(settings, demo=not no_demo).run())


@click.command()
def down() -> None:
    """Stop the `vigie up` of this VIGIE_HOME (started with --detach, or in another terminal): its
    worker, poller, API and the services it started, as Ctrl-C does."""
    settings = load_settings()
    pid, clean = stop_detached(settings)
    if pid is None:
        click.echo(f"vigie is not running on {settings.home}")
        return
    if not clean:
        click.echo(f"vigie (pid {pid}) did not stop in time: killed it and its children", err=True)
        sys.exit(1)
    click.echo(f"vigie (pid {pid}) stopped")
