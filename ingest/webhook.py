"""Webhook delivery in one place: the JSON body, its signature, and the HTTP POST, bounded in time and size.

Body: ``match_payload`` (one match, as POSTed for an immediate alert), ``digest_payload`` (a digest
alert's matches of a period) and ``payload_bytes`` (canonical JSON): the same bytes for every attempt,
so the signature and the ``Idempotency-Key`` of a retried POST are the same.

Pure sending, like ``ingest.fetch`` for GET (whose total-deadline network backend it shares): no
Celery, no Elasticsearch, no retry policy. The worker decides what to do with the outcome
(``worker.alert_tasks.deliver_notification``): a ``WebhookError`` says whether trying again may help.

Headers: ``X-Vigie-Signature: sha256=<hex HMAC-SHA256 of the exact body with the alert's secret>``,
``Idempotency-Key`` (the notification or digest id: the same on every attempt, so a receiver can
recognise the rare second POST of a message it already acknowledged), ``X-Vigie-Alert`` (the alert id)
and ``User-Agent``.

Outcomes: 2xx acknowledges. 5xx, 408, 425, 429, a timeout, a refused or broken connection are
transient. Any other answer (3xx: redirects are not followed, so a signed body never goes where the
rule did not say; 4xx) is permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpcore
import httpx

from conf.limits import WebhookLimits
from ingest.errors import VigieError
from ingest.models import iso_time
from ingest.notification_records import Notification
from ingest.transport import (
    AddressPolicy,
    Deadline,
    DeadlineBackend,
    checked_target,
    connect_failure,
    parse_retry_after,
    reason,
    webhook_policy,
)

SIGNATURE_HEADER = "X-Vigie-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
ALERT_HEADER = "X-Vigie-Alert"
_TRANSIENT_STATUSES = {408, 425, 429}
_EXCERPT_BYTES = 512


def validate_webhook_url(url: str, policy: AddressPolicy | None = None) -> str:
    """``url`` normalised if Vigie can POST to it (http or https, with a host, and with a ``policy``
    an address it allows); ``FetchError`` if not."""
    return str(checked_target(url.strip(), policy, context=" (a webhook)"))


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """A 2xx answer."""

    status: int
    elapsed: float


class WebhookError(VigieError):
    """A webhook POST that was not acknowledged; the message names the URL. ``kind``: ``timeout``,
    ``connection-refused``, ``connection-failed``, ``dns``, ``tls-error``, ``protocol-error``,
    ``server-error`` (5xx), ``rate-limited`` (429), ``http-<status>``."""

    def __init__(self, url: str, message: str, *, kind: str, transient: bool, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, kind=kind, transient=transient)
        self.url = url
        self.status = status
        self.retry_after = retry_after


# -- the body: what the receiver gets ----------------------------------------------------------------------------


def match_payload(notification: Notification) -> dict[str, Any]:
    """The JSON of one match, as POSTed for an immediate alert and listed in a digest."""
    matched = notification.matched
    return {
        "notification_id": notification.notification_id,
        "alert": {"id": notification.alert_id, "name": notification.alert_name},
        "article_id": notification.article_id,
        "title": notification.title,
        "url": notification.url,
        "language": notification.language,
        "feed": notification.feed,
        "published": notification.published,
        "matched_topics": [topic.to_dict() for topic in matched.topics],
        "matched_terms": list(matched.terms),
        "matched_entities": list(matched.entities),
        "highlights": matched.highlights,
        "matched_at": iso_time(notification.created_at),
        "story": notification.story,
    }


def digest_payload(alert_id: str, alert_name: str, digest: str, period_end: datetime,
                   notifications: Sequence[Notification]) -> dict[str, Any]:
    """One message listing a digest alert's matches of a period, oldest first."""
    ordered = sorted(notifications, key=lambda item: (item.created_at, item.notification_id))
    return {
        "type": "digest",
        "digest_id": digest,
        "alert": {"id": alert_id, "name": alert_name},
        "period_end": iso_time(period_end),
        "count": len(ordered),
        "matches": [match_payload(item) for item in ordered],
        "stories": _by_story(ordered),
    }


def _by_story(notifications: Sequence[Notification]) -> list[dict[str, Any]]:
    """The digest's matches grouped by story (an article without one is a story of its own)."""
    groups: dict[str, dict[str, Any]] = {}
    for item in notifications:
        story = item.story or {}
        key = story.get("id") or f"article:{item.article_id}"
        group = groups.setdefault(key, {"id": story.get("id"), "headline": story.get("headline") or item.title,
                                        "notifications": []})
        group["notifications"].append(item.notification_id)
        if story.get("size"):
            group["size"] = story["size"]
    return list(groups.values())


def payload_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes POSTed and signed: canonical JSON, the same for every attempt."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


# -- signing and sending ----------------------------------------------------------------------------


def signature(secret: str, body: bytes) -> str:
    """The ``X-Vigie-Signature`` value of ``body``: ``sha256=`` and the hex HMAC-SHA256 with ``secret``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver checks: the header is the signature of the exact body (constant-time compare)."""
    return header is not None and hmac.compare_digest(signature(secret, body), header)


def webhook_headers(body: bytes, *, secret: str, idempotency_key: str, alert: str, user_agent: str) -> list[tuple[str, str]]:
    return [
        ("Content-Type", "application/json; charset=utf-8"),
        ("User-Agent", user_agent),
        (SIGNATURE_HEADER, signature(secret, body)),
        (IDEMPOTENCY_HEADER, idempotency_key),
        (ALERT_HEADER, alert),  # the alert id (ASCII; its name, in any script, is in the body)
    ]


class WebhookSender:
    """POSTs within ``WebhookLimits``; thread-safe, one per process, keeps connections alive."""

    def __init__(self, limits: WebhookLimits) -> None:
        self.limits = limits
        self._deadline = Deadline()
        self._pool = httpcore.ConnectionPool(max_connections=None, keepalive_expiry=15.0,
                                             network_backend=DeadlineBackend(self._deadline, webhook_policy(limits)))

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def post(self, url: str, body: bytes, *, secret: str, idempotency_key: str, alert: str) -> WebhookResult:
        """POST ``body`` to ``url``; a WebhookResult for 2xx, WebhookError otherwise."""
        limits = self.limits
        started = time.monotonic()
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError) as error:
            raise WebhookError(url, f"{url!r} is not a valid webhook URL: {error}.", kind="invalid-url",
                               transient=False) from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise WebhookError(url, f"{url} is not an http or https URL.", kind="unsupported-scheme", transient=False)
        target = httpcore.URL(scheme=parsed.raw_scheme, host=parsed.raw_host, port=parsed.port, target=parsed.raw_path)
        headers = webhook_headers(body, secret=secret, idempotency_key=idempotency_key, alert=alert,
                                  user_agent=limits.user_agent)
        timeouts = {"connect": limits.connect_timeout, "read": limits.total_timeout,
                    "write": limits.total_timeout, "pool": limits.total_timeout}
        try:
            with self._deadline.running(limits.total_timeout):
                with self._pool.stream("POST", target, headers=headers, content=body,
                                       extensions={"timeout": timeouts}) as response:
                    status = response.status
                    excerpt = self._excerpt(response)
                    retry_after = parse_retry_after(_header(response, b"retry-after"))
        except httpcore.TimeoutException:
            raise WebhookError(url, f"{url} did not answer the webhook within {limits.total_timeout:g} s.",
                               kind="timeout", transient=True) from None
        except httpcore.ConnectError as error:
            raise _connect_error(url, parsed, error) from None
        except (httpcore.ReadError, httpcore.WriteError, httpcore.RemoteProtocolError) as error:
            raise WebhookError(url, f"The connection to {parsed.host} broke during the webhook POST to {url} "
                                    f"({reason(error)}).", kind="connection-lost", transient=True) from None
        except httpcore.ProtocolError as error:
            raise WebhookError(url, f"{parsed.host} did not answer {url} with valid HTTP ({reason(error)}).",
                               kind="protocol-error", transient=True) from None
        if 200 <= status < 300:
            return WebhookResult(status=status, elapsed=time.monotonic() - started)
        said = f": {excerpt}" if excerpt else ""
        if status >= 500:
            raise WebhookError(url, f"{url} answered HTTP {status}{said}", kind="server-error", transient=True,
                               status=status, retry_after=retry_after)
        if status == 429:
            raise WebhookError(url, f"{url} answered HTTP 429 Too Many Requests{said}", kind="rate-limited",
                               transient=True, status=status, retry_after=retry_after)
        if 300 <= status < 400:
            raise WebhookError(url, f"{url} answered HTTP {status}, a redirect; webhooks do not follow redirects "
                                    "(give the final URL in the alert).", kind=f"http-{status}", transient=False,
                               status=status)
        raise WebhookError(url, f"{url} answered HTTP {status}{said}", kind=f"http-{status}",
                           transient=status in _TRANSIENT_STATUSES, status=status, retry_after=retry_after)

    def _excerpt(self, response: httpcore.Response) -> str:
        """The first bytes of the answer, for the error message; the rest is read up to the limit so
        the connection can be reused, and past it the connection is dropped."""
        seen, first = 0, b""
        for chunk in response.iter_stream():
            if len(first) < _EXCERPT_BYTES:
                first += chunk[: _EXCERPT_BYTES - len(first)]
            seen += len(chunk)
            if seen > self.limits.max_response_bytes:
                break
        return " ".join(first.decode("utf-8", "replace").split())[:200]


def _header(response: httpcore.Response, name: bytes) -> str | None:
    for key, value in response.headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _connect_error(url: str, parsed: httpx.URL, error: httpcore.ConnectError) -> WebhookError:
    message, kind, transient = connect_failure(error, parsed, f"the webhook {url}")
    return WebhookError(url, message, kind=kind, transient=transient)
