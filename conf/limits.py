"""The typed limits the stages take, and how they are built from the settings object (ingest/ never
reads settings: it receives these)."""

from __future__ import annotations

from dataclasses import dataclass

from conf.settings import Settings


@dataclass(frozen=True, slots=True)
class ServiceEndpoint:
    """One of Vigie's own services (Elasticsearch, Redis, the API): never a feed or webhook target."""

    name: str
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Every bound of a fetch, passed in explicitly (built from the settings by ``fetch_limits``)."""

    user_agent: str
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    max_body_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    per_host_concurrency: int = 2
    #: Loopback and private networks (127/8, 10/8, 172.16/12, 192.168/16, fc00::/7...): allowed for
    #: feeds on this machine or an intranet; False for a service that follows feeds it does not trust,
    #: whose article links could otherwise point at internal services.
    private_addresses: bool = True
    #: Vigie's own services, whose ports are refused whatever ``private_addresses`` says.
    protected: tuple[ServiceEndpoint, ...] = ()

    def __post_init__(self) -> None:
        if not self.user_agent.strip():
            raise ValueError("user_agent must name the client")
        for name in ("connect_timeout", "read_timeout", "total_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.max_body_bytes <= 0 or self.per_host_concurrency <= 0 or self.max_redirects < 0:
            raise ValueError("max_body_bytes and per_host_concurrency must be positive, max_redirects >= 0")


@dataclass(frozen=True, slots=True)
class WebhookLimits:
    user_agent: str
    connect_timeout: float = 5.0
    total_timeout: float = 10.0  # the whole POST: connecting, sending, the answer's headers and body
    max_response_bytes: int = 64 * 1024  # read at most this much of the answer, then hang up
    private_addresses: bool = True  # as FetchLimits.private_addresses (VIGIE_WEBHOOK_PRIVATE_ADDRESSES)
    protected: tuple[ServiceEndpoint, ...] = ()

    def __post_init__(self) -> None:
        if not self.user_agent.strip():
            raise ValueError("user_agent must name the client")
        if self.connect_timeout <= 0 or self.total_timeout <= 0 or self.max_response_bytes <= 0:
            raise ValueError("timeouts and max_response_bytes must be positive")




@dataclass(frozen=True, slots=True)
class AlertLimits:
    """Bounds on alert rules, checked when one is added or changed: what one article costs to match
    against every rule stays bounded."""

    max_query_chars: int = 1000
    max_query_terms: int = 32  # words and phrases of the query, negated ones included
    max_alerts: int = 1000


def alert_limits(settings: Settings) -> AlertLimits:
    return AlertLimits(settings.alert_max_query_chars, settings.alert_max_query_terms, settings.max_alerts)


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
        protected=own_services(settings),
    )


def own_services(settings: Settings) -> tuple[ServiceEndpoint, ...]:
    """Elasticsearch, Redis and the API of this installation, as configured."""
    return (ServiceEndpoint("Elasticsearch", settings.es_host, settings.es_port),
            ServiceEndpoint("Redis", settings.redis_host, settings.redis_port),
            ServiceEndpoint("API", settings.api_host, settings.api_port))


def webhook_limits(settings: Settings) -> WebhookLimits:
    """The bounds of one webhook POST (alerts)."""
    return WebhookLimits(user_agent=settings.user_agent, connect_timeout=settings.connect_timeout,
                         total_timeout=settings.webhook_timeout,
                         private_addresses=settings.webhook_private_addresses_allowed,
                         protected=own_services(settings))
