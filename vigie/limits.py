"""From the settings object to the typed limits the stages take (ingest/ never reads settings)."""

from __future__ import annotations

from ingest.fetch import FetchLimits
from ingest.webhook import WebhookLimits
from vigie.settings import Settings


def fetch_limits(settings: Settings) -> FetchLimits:
    """The fetch bounds of this installation: `vigie fetch`, the poller and the workers use the same."""
    return FetchLimits(
        user_agent=settings.user_agent,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        total_timeout=settings.total_timeout,
        max_body_bytes=settings.max_body_bytes,
        max_redirects=settings.max_redirects,
        per_host_concurrency=settings.per_host_concurrency,
        private_addresses=settings.fetch_private_addresses,
    )


def webhook_limits(settings: Settings) -> WebhookLimits:
    """The bounds of one webhook POST (alerts)."""
    return WebhookLimits(user_agent=settings.user_agent, connect_timeout=settings.connect_timeout,
                         total_timeout=settings.webhook_timeout)
