"""Option parsing shared by several commands."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import click

_RELATIVE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(value: str, now: datetime | None = None) -> datetime:
    """``7d``, ``12h``, ``30m`` (that long ago) or an ISO date/time (UTC when no zone is given)."""
    now = now or datetime.now(timezone.utc)
    text = value.strip()
    match = _RELATIVE.match(text)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither a duration like 7d/12h/30m nor an ISO date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class When(click.ParamType):
    name = "WHEN"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, datetime):
            return value
        try:
            return parse_when(value)
        except click.BadParameter as error:
            self.fail(error.message, param, ctx)
