"""Structured logs: one line per thing that happened to a feed or an article, with its id.

    2026-11-25T12:00:00Z INFO worker article.indexed article=3f2a… feed=http://… took_ms=41

Call ``log_event(logger, "feed.polled", feed=url, new=3)``; values are quoted when they hold spaces.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()) | {"message", "asctime"}


#: Query parameters whose values are credentials (``?token=``, ``api_key=``, ``X-Amz-Signature=``...).
_SECRET_PARAMETER = re.compile(r"token|secret|passw|pwd|key|auth|sig|session|credential|cookie", re.IGNORECASE)
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s<>\"']+")
HIDDEN = "***"


def redacted_url(url: str) -> str:
    """``url`` as it may be shown, logged or used as a metrics label: the password and user of its
    userinfo and the values of query parameters named like secrets replaced by ``***``. The stored URL
    is unchanged: this is only what people see."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{HIDDEN}@{netloc.rpartition('@')[2]}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(_SECRET_PARAMETER.search(name) for name, _ in pairs):
                query = urlencode([(name, HIDDEN if _SECRET_PARAMETER.search(name) else value) for name, value in pairs],
                                  safe="*/:")
        if netloc == parts.netloc and query == parts.query:
            return url
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return _URL_IN_TEXT.sub(HIDDEN, url) if "@" in url or "=" in url else url


def redacted_text(text: str) -> str:
    """``text`` with every URL in it redacted (``redacted_url``): for error messages naming a URL."""
    return _URL_IN_TEXT.sub(lambda match: redacted_url(match.group(0)), text) if "://" in text else text


def _format_value(value: Any) -> str:
    text = redacted_text(str(value))
    if not text or any(ch.isspace() for ch in text) or '"' in text or "=" in text:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class KeyValueFormatter(logging.Formatter):
    converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        stamp = self.formatTime(record, "%Y-%m-%dT%H:%M:%SZ")
        fields = " ".join(
            f"{key}={_format_value(value)}"
            for key, value in record.__dict__.items()
            # Celery attaches whole task payloads as "data"; the message already names the task.
            if key not in _RESERVED and not (key == "data" and record.name.startswith("celery"))
        )
        line = f"{stamp} {record.levelname} {record.name} {record.getMessage()}"
        if fields:
            line += " " + fields
        if record.exc_info and record.levelno >= logging.ERROR:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("elastic_transport", "urllib3", "httpx", "httpcore", "trafilatura", "htmldate"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``event`` with its fields as key=value pairs."""
    safe = {key if key not in _RESERVED else f"{key}_": value for key, value in fields.items()}
    logger.log(level, event, extra=safe)
