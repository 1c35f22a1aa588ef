"""The dead-letter list: what finally failed, kept in Redis until a person replays or drops it.

Nothing is dropped silently: a payload that exhausted its retries, or that Elasticsearch refused for
good, is stored here whole, with the error and the article ids, and `vigie dlq retry` sends it back.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

import redis

from state.counters import count_stage

DLQ_KEY = "vigie:dlq"


@dataclass(frozen=True)
class DeadLetter:
    entry_id: str
    task: str  # the task name that would process the payload again
    payload: list[dict[str, Any]]  # the task's argument: feed items or analysed articles
    article_ids: list[str]
    error_kind: str
    error: str
    failed_at: str
    attempts: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class DeadLetters:
    def __init__(self, client: redis.Redis, key: str = DLQ_KEY) -> None:
        self.redis = client
        self.key = key

    def add(self, *, task: str, payload: list[dict[str, Any]], article_ids: list[str],
            error_kind: str, error: str, attempts: int) -> DeadLetter:
        entry = DeadLetter(
            entry_id=uuid.uuid4().hex,
            task=task,
            payload=payload,
            article_ids=article_ids,
            error_kind=error_kind,
            error=error,
            failed_at=datetime.now(timezone.utc).isoformat(),
            attempts=attempts,
        )
        self.redis.hset(self.key, entry.entry_id, json.dumps(entry.to_dict()))
        count_stage(self.redis, "dead_lettered", len(article_ids))
        return entry

    def entries(self) -> list[DeadLetter]:
        raw = self.redis.hgetall(self.key)
        entries = [DeadLetter(**json.loads(value)) for value in raw.values()]
        return sorted(entries, key=lambda entry: entry.failed_at)

    def take(self, entry_id: str) -> DeadLetter | None:
        """Remove and return one entry (the caller re-queues it)."""
        with self.redis.pipeline() as pipe:
            pipe.hget(self.key, entry_id)
            pipe.hdel(self.key, entry_id)
            value, _ = pipe.execute()
        return DeadLetter(**json.loads(value)) if value else None

    def drop_older_than(self, cutoff: datetime) -> list[DeadLetter]:
        """Remove the entries that failed before ``cutoff``; the entries removed."""
        old = [entry for entry in self.entries() if datetime.fromisoformat(entry.failed_at) < cutoff]
        if old:
            self.redis.hdel(self.key, *(entry.entry_id for entry in old))
        return old

    def article_count(self) -> int:
        return sum(len(entry.article_ids) for entry in self.entries())
