"""Redis clients for the packages above that must not import ``redis`` themselves (the CLI, the API,
the embedded services), and the error they catch when Redis is down."""

from __future__ import annotations

import redis

#: Raised by every Redis call when the server is down or answers an error.
RedisError = redis.RedisError
Redis = redis.Redis


def connect(url: str, *, connect_timeout: float | None = None, timeout: float | None = None,
            health_check_interval: int = 0) -> redis.Redis:
    """A client for ``url`` (a redis:// URL); timeouts in seconds, None waits as long as it takes."""
    return redis.Redis.from_url(url, socket_connect_timeout=connect_timeout, socket_timeout=timeout,
                                health_check_interval=health_check_interval)


def connect_host(host: str, port: int, *, connect_timeout: float, timeout: float) -> redis.Redis:
    """A client for one server by address: the embedded Redis's readiness probe and shutdown."""
    return redis.Redis(host=host, port=port, socket_connect_timeout=connect_timeout, socket_timeout=timeout)
