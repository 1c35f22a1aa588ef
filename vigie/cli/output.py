"""Printing results: text for people, one JSON document for scripts (``--json``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
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


class Progress:
    """Progress of long work on stderr, only when stderr is a terminal and the output is not --json:
    one line rewritten in place, cleared when the work is done."""

    def __init__(self, what: str, total: int | None, *, quiet: bool = False) -> None:
        self.what = what
        self.total = total
        self.done = 0
        self.shown = not quiet and sys.stderr.isatty()
        self._width = 0

    def step(self, detail: str = "", amount: int = 1) -> None:
        self.done += amount
        self.update(self.done, detail)

    def update(self, done: int, detail: str = "", total: int | None = None) -> None:
        self.done = done
        self.total = total if total is not None else self.total
        if not self.shown:
            return
        count = f" {done}/{self.total}" if self.total else (f" {done}" if done else "")
        line = f"vigie: {self.what}{count}" + (f"  {detail}" if detail else "")
        line = line[:119]
        sys.stderr.write("\r" + line.ljust(self._width))
        sys.stderr.flush()
        self._width = len(line)

    def close(self) -> None:
        if self.shown and self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()
            self._width = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Rows as aligned columns under a header (plain text: stable when piped, no terminal width guessed)."""
    cells = [[str(header) for header in headers]] + [["-" if value is None else str(value) for value in row]
                                                      for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def fail(message: str, code: int = 1) -> None:
    click.echo(message, err=True)
    sys.exit(code)
