"""Printing results: text for people, one JSON document for scripts (``--json``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=_default)


def emit(data: Any, as_json: bool, text: Callable[[Any], str] | None = None) -> None:
    """Print ``data`` as JSON, or through ``text`` for people."""
    if as_json:
        click.echo(to_json(data))
    elif text is not None:
        click.echo(text(data))
    else:
        click.echo(to_json(data))


def progress(message: str) -> None:
    """A progress line on stderr, so stdout stays clean for --json."""
    click.echo(f"vigie: {message}", err=True)


def fail(message: str, code: int = 1) -> None:
    click.echo(message, err=True)
    sys.exit(code)
