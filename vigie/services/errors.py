"""Errors of the embedded services: one paragraph a person can act on, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

_STACK_FRAME = re.compile(r"^\s+(at |\.\.\. \d+ more|Suppressed:)")


def log_tail(path: Path | None, lines: int = 12) -> list[str]:
    """The last lines of a service log, or nothing when there is no log yet."""
    if path is None or not path.is_file():
        return []
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 64 * 1024))
        data = handle.read().decode("utf-8", "replace")
    # Java stack frames bury the message that says what happened; keep the lines a person reads.
    kept = [
        line.rstrip()
        for line in data.splitlines()
        if line.strip() and not _STACK_FRAME.match(line)
    ]
    return kept[-lines:]


class ServiceError(Exception):
    """A service could not be set up, started, stopped or reached.

    ``cause`` says what went wrong and names the port or path concerned; ``remedy`` says what to do;
    ``log`` is the service's log file whose last lines are shown.
    """

    def __init__(self, service: str, cause: str, remedy: str, log: Path | None = None) -> None:
        self.service = service
        self.cause = cause
        self.remedy = remedy
        self.log = log
        self.tail = log_tail(log)
        super().__init__(self.paragraph())

    def paragraph(self) -> str:
        text = f"{self.service}: {self.cause} {self.remedy}"
        if self.log is not None:
            if self.tail:
                text += f"\nLast lines of {self.log}:\n" + "\n".join(f"    {line}" for line in self.tail)
            else:
                text += f" (The log {self.log} is empty.)"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "service": self.service,
            "cause": self.cause,
            "remedy": self.remedy,
            "log": str(self.log) if self.log else None,
            "log_tail": self.tail,
        }
