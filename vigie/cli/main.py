"""Entry point of the `vigie` command: the group and the errors every command may end with.

Commands are imported when they run, not when `vigie` starts: `vigie --help` reads the table below
and imports none of them (Elasticsearch, Celery, spaCy, FastAPI stay unloaded; 0.45 s saved, measured
with ``python -X importtime -m vigie --help``). A command's summary here must be its docstring's first
sentence; tests/vigie/test_cli_startup.py checks that they agree.
"""

from __future__ import annotations

import importlib
import sys

import click

from vigie import __version__

# httpx imports its own command line (click, rich, pygments) whenever they are installed, and the
# Elasticsearch client imports httpx: marking that module absent makes httpx skip it, as it does
# when they are not installed. Vigie never runs httpx's command line. 0.04 s of CPU of every `vigie search`
# (measured, docs/performance.md "CLI start-up").
sys.modules.setdefault("httpx._main", None)  # type: ignore[assignment]

#: name -> (module, attribute, one-line summary shown by `vigie --help`). New commands go here.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "setup": ("vigie.cli.services", "setup",
              "Install what the services need (redis-server, Java, the Elasticsearch distribution)."),
    "services": ("vigie.cli.services", "services",
                 "Start, stop and inspect the embedded Redis and Elasticsearch (data under VIGIE_HOME)."),
    "up": ("vigie.cli.up", "up",
           "Run everything in the foreground: Redis, Elasticsearch, a Celery worker, the poller, the API."),
    "down": ("vigie.cli.up", "down",
             "Stop the `vigie up` of this VIGIE_HOME (started with --detach, or in another terminal): its "
             "worker, poller, API and the services it started, as Ctrl-C does."),
    "search": ("vigie.cli.search", "search", "Search indexed articles."),
    "stats": ("vigie.cli.index", "stats", "Counts of articles per topic, entity, language, feed and day."),
    "index": ("vigie.cli.index", "index_group", "The articles index: its mapping version, migrations, rollover and backing indices."),
    "dlq": ("vigie.cli.dlq", "dlq",
            "The dead-letter list: payloads whose retries are spent, kept whole until replayed."),
    "worker": ("vigie.cli.run", "worker",
               "Run a Celery worker that analyses and indexes articles (scale by running several, on one machine or "
               "many, all on the same VIGIE_REDIS_URL: see docs/scaling.md), and its story consumer (one process "
               "assigning stories, started once the worker is ready)."),
    "scheduler": ("vigie.cli.run", "scheduler",
                  "Run the poller: fetch each feed when due and queue its new articles."),
    "feeds": ("vigie.cli.feeds", "feeds",
              "Follow, list, show, rename, poll, remove, import and export feeds (stored durably in Redis)."),
    "fetch": ("vigie.cli.fetch", "fetch", "Fetch and parse one feed once; queue nothing, need no other service."),
    "analyze": ("vigie.cli.analyze", "analyze", "Analyse one article: clean text, language, entities and topics."),
    "topics": ("vigie.cli.analyze", "topics", "The topic rules: check a rule file, list the topics in use."),
    "api": ("vigie.cli.api", "api", "Serve the HTTP API and the web page (search, articles, feeds)."),
    "alerts": ("vigie.cli.alerts", "alerts",
               "Alerts: a saved search evaluated on every new article, notified once per match (webhook, "
               "digest, Atom feed)."),
    "entities": ("vigie.cli.entities", "entities",
                 "Entities by identity: one row per real-world person, place or organisation."),
    "stories": ("vigie.cli.stories", "stories",
                "Stories: articles of many outlets and languages on one event, most recently active first."),
    "articles": ("vigie.cli.articles", "articles", "Indexed articles."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (see the module docstring)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(module), attribute)
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.commands:
                rows.append((name, self.commands[name].get_short_help_str(limit)))
            else:
                rows.append((name, click.utils.make_default_short_help(COMMANDS[name][2], limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:
        # imported here: only a failing command pays for them
        from ingest.errors import VigieError
        from vigie.services.errors import ServiceError

        if isinstance(error, ServiceError):
            click.echo(error.paragraph(), err=True)
            sys.exit(1)
        if isinstance(error, VigieError):
            click.echo(f"vigie: {error}", err=True)
            sys.exit(1)
        raise
