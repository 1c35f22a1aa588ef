"""Analysed articles waiting to be written, so that one write takes what several analysis tasks made.

A write of 16 articles (one analysis task's batch) pays its near-duplicate lookup and its bulk request
for 16; joined, the same round trips serve up to VIGIE_WRITE_BATCH_MAX articles. Each analysis task
puts its articles here (``put``) and then writes what waits, if no other writer is at it
(worker.staged_writes); one writer at a time, under a renewed lease.

Keys, under ``vigie:staged``:

- ``vigie:staged``: list of analysed articles (JSON, ``AnalyzedArticle.to_dict``), oldest first;
- ``vigie:staged:writing:<token>``: what the writer ``token`` took and has not finished writing;
- ``vigie:staged:writers``: set of those tokens.

``take`` moves articles from the list to the writer's own list in one script; ``finish`` drops that
list once they are written (or handed on: deferred, dead-lettered). A writer that dies in between
leaves its list: the next writer, which holds the lease the dead one lost, puts it back at the head
of the waiting list first (``reclaim``). Writing an article twice gives one document (by article id).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import redis

STAGED_KEY = "vigie:staged"
WRITING_PREFIX = "vigie:staged:writing:"
WRITERS_KEY = "vigie:staged:writers"
#: The lease only one writer holds at a time (worker.staged_writes).
WRITER_LEASE_KEY = "vigie:staged:lease"
#: The "task" that carries a staged article, for state.pending: the sweep never finds it lost (the
#: writers' lease and ``reclaim`` are what bring a dead writer's articles back).
STAGED_TASK = "vigie:staged"

_TAKE = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
if #items == 0 then return items end
redis.call('LTRIM', KEYS[1], #items, -1)
redis.call('RPUSH', KEYS[2], unpack(items))
redis.call('SADD', KEYS[3], ARGV[1])
return items
"""

_RECLAIM = """
local moved = 0
for _, token in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if token ~= ARGV[1] then
    local key = ARGV[2] .. token
    local items = redis.call('LRANGE', key, 0, -1)
    for i = #items, 1, -1 do redis.call('LPUSH', KEYS[1], items[i]) end
    moved = moved + #items
    redis.call('DEL', key)
    redis.call('SREM', KEYS[2], token)
  end
end
return moved
"""

_WAITING = """
local count = redis.call('LLEN', KEYS[1])
for _, token in ipairs(redis.call('SMEMBERS', KEYS[2])) do count = count + redis.call('LLEN', ARGV[1] .. token) end
return count
"""


class StagedArticles:
    """The waiting list and the writers' lists, in Redis."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._take = client.register_script(_TAKE)
        self._reclaim = client.register_script(_RECLAIM)
        self._waiting = client.register_script(_WAITING)

    def put(self, payloads: Sequence[bytes], also: Callable[[redis.client.Pipeline], None] | None = None) -> None:
        """Analysed articles (JSON) join the end of the waiting list, in one transaction with what
        ``also`` writes (their pending records moved to STAGED_TASK: a writer taking them at once must
        find them moved already, or it could end their wait before they are marked staged)."""
        if not payloads:
            return
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(STAGED_KEY, *payloads)
            if also is not None:
                also(pipe)
            pipe.execute()

    def take(self, token: str, most: int) -> list[bytes]:
        """Up to ``most`` of the oldest waiting articles, moved to the writer ``token``'s list."""
        return list(self._take(keys=[STAGED_KEY, WRITING_PREFIX + token, WRITERS_KEY], args=[token, most]))

    def finish(self, token: str) -> None:
        """What ``token`` took is written or handed on."""
        with self.redis.pipeline() as pipe:
            pipe.delete(WRITING_PREFIX + token)
            pipe.srem(WRITERS_KEY, token)
            pipe.execute()

    def reclaim(self, token: str) -> int:
        """Other writers' lists back to the head of the waiting list (call it holding the lease: their
        writers lost it); returns how many articles came back."""
        return int(self._reclaim(keys=[STAGED_KEY, WRITERS_KEY], args=[token, WRITING_PREFIX]))

    def waiting(self) -> int:
        """Articles waiting, and taken by writers and not finished (one round trip: every write asks)."""
        return int(self._waiting(keys=[STAGED_KEY, WRITERS_KEY], args=[WRITING_PREFIX]))
