"""`vigie up`: run the whole service in the foreground."""

from __future__ import annotations

import sys

import click

from conf.logs import configure_logging
from conf.settings import load_settings
from vigie.supervisor import Supervisor


@click.command()
@click.option("--no-demo", is_flag=True, help="Do not serve and register the local demo feed.")
def up(no_demo: bool) -> None:
    """Run everything in the foreground: Redis, Elasticsearch, a Celery worker, the poller, the API.

    Starts the embedded services unless they already run, serves a demo feed on 127.0.0.1 carrying a
    sample article, serves the web page and API on http://127.0.0.1:8766/ (VIGIE_API_PORT), and
    stops every child cleanly on Ctrl-C or SIGTERM. Logs go to stderr.
    """
    settings = load_settings()
    configure_logging(settings.log_level)
    sys.exit(Supervisor(settings, demo=not no_demo).run())
