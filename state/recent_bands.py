"""Recent near-duplicate signatures by MinHash band key, so that the write path's near-duplicate lookup
(index.dedup) asks Elasticsearch only about the bands Redis cannot answer for.

A copy's original is almost always recent. A band key is answered from here during the hours after it
was first written (``ttl_seconds``, VIGIE_DUPLICATE_RECENT_HOURS), and only if everything Elasticsearch
holds with that band went through here. Keys, under ``vigie:dup:<index prefix>:``:

- ``born:<band>``: "0" from the lookup of the batch that first meets the band (it reserves it), "1"
  once that batch, Elasticsearch having confirmed it held no document with the band, has written its
  articles; expires ``ttl_seconds`` after the reservation and is never extended;
- ``band:<band>``: sorted set of the band's oldest articles (score: indexed_at in epoch ms; equal
  scores sort by article id, as index.dedup sorts Elasticsearch's hits), at most RECENT_BAND_MEMBERS,
  every writer adding its articles while ``born`` exists; expires with ``born``;
- ``pending:<band>``: the tokens of batches that looked the band up and have not recorded their
  write yet. A band is answered from here only when no batch is in flight on it: a worker that died
  between its bulk write and its record leaves its token, and the band goes back to Elasticsearch
  until it expires (Redis is never trusted for a write it did not see);
- ``doc:<article id>``: "<cluster id> <signature>", outliving every band that lists the article.

A batch costs two scripts (lookup and record), each one round trip. A band key of an article
changed or re-delivered in a band that may have dropped members is forgotten (Elasticsearch answers).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import redis

from conf.settings import Settings

from conf.logs import log_event
from ingest.fingerprint import RECENT_BAND_MEMBERS, RecentBandLookup, RecentBandRecord, bands

log = logging.getLogger("vigie.state")

#: Seconds a document record outlives the bands that list it (they expire at most ttl after it).
DOC_MARGIN = 120

_LOOKUP = """
local ns, token, cap = ARGV[1], ARGV[2], tonumber(ARGV[3])
local ttl_ms = tonumber(ARGV[4])
local nbands = tonumber(ARGV[5])
local states, members, wanted, seen = {}, {}, {}, {}
for i = 1, nbands do
  local b = ARGV[5 + i]
  local born, pending = ns .. 'born:' .. b, ns .. 'pending:' .. b
  local state = redis.call('GET', born)
  if not state then
    redis.call('SET', born, '0', 'PX', ttl_ms)
    states[i] = 'reserved'
    members[i] = {}
  elseif state == '1' and redis.call('SCARD', pending) == 0 then
    states[i] = 'known'
    members[i] = redis.call('ZRANGE', ns .. 'band:' .. b, 0, cap - 1, 'WITHSCORES')
    for j = 1, #members[i], 2 do
      local id = members[i][j]
      if not seen[id] then seen[id] = true; wanted[#wanted + 1] = id end
    end
  else
    states[i] = 'busy'
    members[i] = {}
  end
  redis.call('SADD', pending, token)
  redis.call('PEXPIRE', pending, math.max(redis.call('PTTL', born), 1))
end
for i = 6 + nbands, #ARGV do
  local id = ARGV[i]
  if not seen[id] then seen[id] = true; wanted[#wanted + 1] = id end
end
local docs = {}
for j, id in ipairs(wanted) do
  docs[j] = redis.call('GET', ns .. 'doc:' .. id) or ''
end
return {states, members, wanted, docs}
"""

_RECORD = """
local ns, token, cap = ARGV[1], ARGV[2], tonumber(ARGV[3])
local doc_ttl = tonumber(ARGV[4])
local at = 5
local function forget(b)
  redis.call('DEL', ns .. 'born:' .. b, ns .. 'band:' .. b, ns .. 'pending:' .. b)
end
local n = tonumber(ARGV[at]); at = at + 1
for i = 1, n do
  local born = ns .. 'born:' .. ARGV[at]
  if redis.call('GET', born) == '0' then redis.call('SET', born, '1', 'KEEPTTL') end
  at = at + 1
end
n = tonumber(ARGV[at]); at = at + 1
for i = 1, n do forget(ARGV[at]); at = at + 1 end
n = tonumber(ARGV[at]); at = at + 1
for i = 1, n do
  local id, score, value = ARGV[at], tonumber(ARGV[at + 1]), ARGV[at + 2]
  local nb, nd = tonumber(ARGV[at + 3]), tonumber(ARGV[at + 4])
  at = at + 5
  for k = 1, nb do
    local b = ARGV[at]; at = at + 1
    local key = ns .. 'band:' .. b
    local ttl = redis.call('PTTL', ns .. 'born:' .. b)
    if ttl > 0 then
      local previous = redis.call('ZSCORE', key, id)
      if previous and tonumber(previous) ~= score and redis.call('ZCARD', key) >= cap then
        forget(b)  -- moving a member of a full set could bring back one it dropped
      else
        redis.call('ZADD', key, score, id)
        if redis.call('ZCARD', key) > cap then redis.call('ZREMRANGEBYRANK', key, cap, -1) end
        redis.call('PEXPIRE', key, ttl)
      end
    end
  end
  for k = 1, nd do
    local b = ARGV[at]; at = at + 1
    local key = ns .. 'band:' .. b
    if redis.call('ZSCORE', key, id) then
      if redis.call('ZCARD', key) >= cap then forget(b) else redis.call('ZREM', key, id) end
    end
  end
  redis.call('SET', ns .. 'doc:' .. id, value, 'EX', doc_ttl)
end
n = tonumber(ARGV[at]); at = at + 1
for i = 1, n do redis.call('SREM', ns .. 'pending:' .. ARGV[at], token); at = at + 1 end
return 1
"""


_FORGET = """
local ns, cap = ARGV[1], tonumber(ARGV[2])
local at = 3
while at <= #ARGV do
  local id, nb = ARGV[at], tonumber(ARGV[at + 1])
  at = at + 2
  for k = 1, nb do
    local b = ARGV[at]; at = at + 1
    local key = ns .. 'band:' .. b
    if redis.call('ZSCORE', key, id) then
      if redis.call('ZCARD', key) >= cap then
        redis.call('DEL', ns .. 'born:' .. b, key, ns .. 'pending:' .. b)
      else
        redis.call('ZREM', key, id)
      end
    end
  end
  redis.call('DEL', ns .. 'doc:' .. id)
end
return 1
"""


class RecentBandsInRedis:
    """The recent band keys of one Vigie installation (its index prefix), kept ``ttl_seconds``."""

    def __init__(self, client: redis.Redis, prefix: str, ttl_seconds: float) -> None:
        self.redis = client
        self.namespace = f"vigie:dup:{prefix}:"
        self.ttl_ms = max(1000, int(ttl_seconds * 1000))
        self._lookup = client.register_script(_LOOKUP)
        self._record = client.register_script(_RECORD)
        self._forget = client.register_script(_FORGET)

    def lookup(self, token: str, band_keys: Sequence[str], article_ids: Sequence[str]) -> RecentBandLookup:
        """What Redis knows of ``band_keys`` (and of the batch's ``article_ids``), marking the batch
        ``token`` in flight on each band. Raises redis.RedisError when Redis cannot be reached: the
        batch must not be written unmarked (a band Redis answers for would miss it), so the task is
        delivered again, as for its other uses of Redis."""
        states, members, wanted, docs = self._lookup(args=[
            self.namespace, token, RECENT_BAND_MEMBERS, self.ttl_ms, len(band_keys), *band_keys, *article_ids])
        documents: dict[str, tuple[str, str]] = {}
        for article_id, value in zip(wanted, docs):
            if value:
                cluster, _, signature = value.decode().partition(" ")
                documents[article_id.decode()] = (signature, cluster)
        known: dict[str, tuple[tuple[str, int], ...]] = {}
        reserved: set[str] = set()
        for band, state, listed in zip(band_keys, states, members):
            if state == b"known":
                pairs = tuple((listed[j].decode(), int(float(listed[j + 1]))) for j in range(0, len(listed), 2))
                if all(article_id in documents for article_id, _ in pairs):
                    known[band] = pairs
            elif state == b"reserved":
                reserved.add(band)
        return RecentBandLookup(known=known, reserved=frozenset(reserved), documents=documents)

    def record(self, record: RecentBandRecord) -> None:
        """Add the written articles to their bands, confirm or give up the reserved bands, and clear
        the batch's in-flight mark. When Redis cannot be reached the mark stays: the bands go back to
        Elasticsearch until they expire."""
        args: list[object] = [self.namespace, record.token, RECENT_BAND_MEMBERS, self.ttl_ms // 1000 + DOC_MARGIN]
        for keys in (record.confirmed, record.refused):
            args += [len(keys), *sorted(keys)]
        args.append(len(record.written))
        for copy in record.written:
            args += [copy.article_id, copy.indexed_ms, f"{copy.cluster_id} {copy.signature}",
                     len(copy.bands), len(copy.dropped_bands), *copy.bands, *copy.dropped_bands]
        args += [len(record.released), *sorted(record.released)]
        try:
            self._record(args=args)
        except redis.RedisError as error:
            log_event(log, "duplicates.recent_not_recorded", level=logging.WARNING, token=record.token,
                      error=str(error), first_article=record.written[0].article_id if record.written else "-")

    def forget(self, article_ids: Sequence[str]) -> None:
        """Deleted articles leave their bands (a full band is given up to Elasticsearch instead)."""
        if not article_ids:
            return
        records = self.redis.mget([self.namespace + "doc:" + article_id for article_id in article_ids])
        args: list[object] = [self.namespace, RECENT_BAND_MEMBERS]
        for article_id, value in zip(article_ids, records):
            keys = bands(value.decode().partition(" ")[2]) if value else []
            args += [article_id, len(keys), *keys]
        self._forget(args=args)


def recent_bands_for(settings: Settings, client: redis.Redis) -> RecentBandsInRedis | None:
    """The recent band keys of these settings (None when VIGIE_DUPLICATE_RECENT_HOURS is 0): what the
    worker's write path reads, and what a deletion from the CLI or the API must clear."""
    if settings.duplicate_recent_hours <= 0:
        return None
    return RecentBandsInRedis(client, settings.index_prefix, settings.duplicate_recent_hours * 3600)

