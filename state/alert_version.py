"""The version of the alert rules, a counter in Redis.

Every change made through the CLI or the API increments it once Elasticsearch has the new rule;
each worker process reads it before a batch and reloads its rules when it moved
(``worker.alert_rules.AlertRules``).
"""

from __future__ import annotations

import redis

VERSION_KEY = "vigie:alerts:version"


def bump_rules_version(client: redis.Redis) -> None:
    client.incr(VERSION_KEY)


def rules_version(client: redis.Redis) -> bytes | None:
    """The current version (None before the first change): compared, never interpreted."""
    return client.get(VERSION_KEY)
