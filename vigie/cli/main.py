"""Entry point of the `vigie` command: the group and the errors every command may end with."""

from __future__ import annotations

import sys

import click

from ingest.errors import VigieError
from vigie import __version__
from vigie.cli.alerts import alerts
from vigie.cli.analyze import analyze, topics
from vigie.cli.api import api
from vigie.cli.articles import articles
from vigie.cli.dlq import dlq
from vigie.cli.entities import entities
from vigie.cli.feeds import feeds
from vigie.cli.fetch import fetch
from vigie.cli.index import index_group, stats
from vigie.cli.run import scheduler, worker
from vigie.cli.search import search
from vigie.cli.services import services, setup
from vigie.cli.stories import stories
from vigie.cli.up import up
from vigie.services.errors import ServiceError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="vigie")
def cli() -> None:
    """Vigie: follow news feeds, find entities and topics, search them, get alerted.

    Configuration comes from VIGIE_* environment variables (see README.md); every command has --help.
    """
    _use_index_layout()


def _use_index_layout() -> None:
    """Shards and replicas of the indices this command may create (VIGIE_ES_SHARDS, VIGIE_ES_REPLICAS)."""
    from conf.settings import load_settings
    from index.mappings import IndexLayout, use_layout

    settings = load_settings()
    use_layout(IndexLayout(shards=settings.es_shards, replicas=settings.es_replicas))


for command in (setup, services, up, search, stats, index_group, dlq, worker, scheduler, feeds, fetch, analyze, topics, api, alerts,
                entities, stories, articles):
    cli.add_command(command)

from vigie.cli.up import down  # noqa: E402 - `vigie down`, beside `vigie up`

cli.add_command(down)


def main() -> None:
    """Run the CLI; known failures end with their paragraph and exit code 1, never a traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except ServiceError as error:
        click.echo(error.paragraph(), err=True)
        sys.exit(1)
    except VigieError as error:
        click.echo(f"vigie: {error}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
