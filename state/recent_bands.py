"""Recent near-duplicate signatures by MinHash band key, so that the write path's near-duplicate lookup
(index.dedup) asks Elasticsearch only about the bands Redis cannot answer for.

A copy's original is almost always recent. A band key is answered from here during the hours after it
was first written (``ttl_seconds``, VIGIE_DUPLICATE_RECENT_HOURS), and only if everything Elasticsearch
holds with that band went through here. Keys, under ``vigie:dup:<index prefix>:``:

- ``born:<band>``: "0" from the lookup of the batch that first meets the band (it reserves it: the
  "0" is that batch's in-flight mark), "1" once that batch, Elasticsearch having confirmed it held no
  document with the band, has written its articles; expires ``ttl_seconds`` after the reservation and
  is never extended;
- ``band:<band>``: sorted set of the band's oldest articles (score: indexed_at in epoch ms; equal
  scores sort by article id, as index.dedup sorts Elasticsearch's hits), at most RECENT_BAND_MEMBERS,
  every writer adding its articles while ``born`` exists; expires with ``born``;
- ``pending:<band>``: the tokens of the other batches that looked the band up and have not recorded
  their write yet. A band is answered from here only when no batch is in flight on it: a worker that died
  between its bulk write and its record leaves its token, and the band goes back to Elasticsearch
  until it expires (Redis is never trusted for a write it did not see);
- ``doc:<article id>``: "<cluster id> <signature>", outliving every band that lists the article.

A batch costs two scripts (lookup and record), each one round trip. The lookup script chooses each
article's original among the members of its known bands itself (the oldest candidates, their
signatures compared as index.dedup compares them) and returns only the chosen cluster ids, not the
candidates' signatures (hundreds per batch on a stream of wire copies). A band key of an article
changed or re-delivered in a band that may have dropped members is forgotten (Elasticsearch answers).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import redis

from conf.settings import Settings

from conf.logs import log_event
from ingest.fingerprint import RECENT_BAND_MEMBERS, RecentBandRecord, bands

log = logging.getLogger("vigie.state")

#: Seconds a document record outlives the bands that list it (they expire at most ttl after it).
DOC_MARGIN = 120

#: (score, id) before (score, id): the order of a band's sorted set (equal scores by id, byte by byte, as
#: Redis and Python compare them; Lua's < on strings follows the server's locale). Both scripts start with it.
_ORDER = """
local function before(s, x, t, y)
  if s ~= t then return s < t end
  for k = 1, math.min(#x, #y) do
    local p, q = string.byte(x, k), string.byte(y, k)
    if p ~= q then return p < q end
  end
  return #x < #y
end
"""

_LOOKUP = _ORDER + """
local ns, token, cap = ARGV[1], ARGV[2], tonumber(ARGV[3])
local ttl_ms, wanted, threshold = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local band_keys = {}  -- one argument, space-separated: thousands of arguments cost more to send and read
for b in string.gmatch(ARGV[7], '%S+') do band_keys[#band_keys + 1] = b end
local nbands = #band_keys
local states, members, docs = {}, {}, {}
local function doc(id)  -- {cluster, signature}, false when the record has expired
  local found = docs[id]
  if found == nil then
    local value = redis.call('GET', ns .. 'doc:' .. id)
    if value then
      local space = string.find(value, ' ', 1, true)
      if space then found = {string.sub(value, 1, space - 1), string.sub(value, space + 1)}
      else found = {value, ''} end
    else
      found = false
    end
    docs[id] = found
  end
  return found
end
for i = 1, nbands do
  local b = band_keys[i]
  local born, pending = ns .. 'born:' .. b, ns .. 'pending:' .. b
  local state = redis.call('GET', born)
  if not state then
    -- reserved: its "0" keeps the band busy for every other batch until this one records its write
    -- (or the key expires), so this batch needs no token in its pending set
    redis.call('SET', born, '0', 'PX', ttl_ms)
    states[i] = 'r'
  else
    if state == '1' and redis.call('SCARD', pending) == 0 then
      states[i] = 'k'  -- known
      local listed = redis.call('ZRANGE', ns .. 'band:' .. b, 0, cap - 1, 'WITHSCORES')
      local band = {}
      for j = 1, #listed, 2 do
        if not doc(listed[j]) then states[i] = 'b'; break end  -- a member's record expired: ask Elasticsearch
        band[#band + 1] = {listed[j], tonumber(listed[j + 1])}
      end
      members[i] = band
    else
      states[i] = 'b'  -- busy
    end
    redis.call('SADD', pending, token)
    redis.call('PEXPIRE', pending, math.max(redis.call('PTTL', born), 1))
  end
end
local function earlier(a, b)  -- members {id, score}, for table.sort
  return before(a[2], a[1], b[2], b[1])
end
local chunks = {}  -- signature -> its values (8 hex digits each), cut once per script
local function values(signature)
  local found = chunks[signature]
  if not found then
    found = {}
    for k = 1, #signature, 8 do found[#found + 1] = string.sub(signature, k, k + 7) end
    chunks[signature] = found
  end
  return found
end
-- ingest.fingerprint.similarity on the hex signatures, or -1 as soon as it cannot reach ``floor``:
-- the most it can still be is the share of values not yet found to differ, computed as the score is
-- (a candidate that can only tie the floor is compared to the end: a tie may still be chosen)
local function similarity(a, b, floor)
  if #a == 0 or #b == 0 or #a ~= #b then return 0 end
  local x, y, same = values(a), values(b), 0
  local n = #x
  for k = 1, n do
    if x[k] == y[k] then
      same = same + 1
    elseif (n - (k - same)) / n < floor then
      return -1
    end
  end
  return same / n
end
-- every member of the known bands ranked once, oldest first: an article's candidates then sort as
-- plain numbers (sorting each article's hundreds of candidates with ``earlier`` cost most of the script
-- on a stream of wire copies, whose bands share their members)
local score_of, everyone = {}, {}
for i = 1, nbands do
  if states[i] == 'k' then
    for _, member in ipairs(members[i]) do
      if score_of[member[1]] == nil then everyone[#everyone + 1] = member[1] end
      score_of[member[1]] = member[2]
    end
  end
end
local ranked = {}
for _, other in ipairs(everyone) do ranked[#ranked + 1] = {other, score_of[other]} end
table.sort(ranked, earlier)
local rank = {}
for r, member in ipairs(ranked) do rank[member[1]] = r end
-- each known band's members as their ranks, once: an article's candidates are then gathered as numbers
local band_ranks = {}
for i = 1, nbands do
  if states[i] == 'k' then
    local list = {}
    for j, member in ipairs(members[i]) do list[j] = rank[member[1]] end
    band_ranks[i] = list
  end
end
local mark = {}  -- mark[r] == a: the member of rank r is already a candidate of article a
local best, previous = {}, {}
local at = 8
local narticles = tonumber(ARGV[at]); at = at + 1
for a = 1, narticles do
  local id, signature, positions = ARGV[at], ARGV[at + 1], ARGV[at + 2]
  at = at + 3
  local own, ranks, n = rank[id], {}, 0  -- own: the article's rank when it is itself a member (never its own candidate)
  for position in string.gmatch(positions, '%d+') do
    local list = band_ranks[tonumber(position)]
    if list then
      for j = 1, #list do
        local r = list[j]
        if mark[r] ~= a and r ~= own then
          mark[r] = a
          n = n + 1
          ranks[n] = r
        end
      end
    end
  end
  table.sort(ranks)
  local best_score, best_cluster = threshold, false
  for c = 1, math.min(wanted, #ranks) do
    local found = doc(ranked[ranks[c]][1])
    local score = similarity(signature, found[2], best_score)
    if score >= best_score and (not best_cluster or score > best_score) then
      best_score, best_cluster = score, found[1]
    end
  end
  best[a] = best_cluster or ''
  local own = doc(id)
  previous[a] = own and own[2] or ''
end
-- one letter a band (k known, r reserved, b busy): one string to parse, not one reply a band
return {table.concat(states), best, previous}
"""

_RECORD = _ORDER + """
local ns, token, cap = ARGV[1], ARGV[2], tonumber(ARGV[3])
local doc_ttl = tonumber(ARGV[4])
-- what the script knows of a band it writes to (its born key's time to live, its members and their
-- scores, its latest member), read once per script: a write adds many articles to the same bands
local seen = {}
local function forget(b)
  redis.call('DEL', ns .. 'born:' .. b, ns .. 'band:' .. b, ns .. 'pending:' .. b)
  seen[b] = nil
end
local function band(b)
  local known = seen[b]
  if known == nil then
    known = {ttl = redis.call('PTTL', ns .. 'born:' .. b), score = {}, size = 0}
    if known.ttl > 0 then
      local listed = redis.call('ZRANGE', ns .. 'band:' .. b, 0, -1, 'WITHSCORES')
      for j = 1, #listed, 2 do known.score[listed[j]] = tonumber(listed[j + 1]) end
      known.size = #listed / 2
      if known.size > 0 then known.last, known.last_score = listed[#listed - 1], tonumber(listed[#listed]) end
    end
    seen[b] = known
  end
  return known
end
-- confirmed: "1" only where the key still exists (never re-created once expired)
for b in string.gmatch(ARGV[5], '%S+') do redis.call('SET', ns .. 'born:' .. b, '1', 'XX', 'KEEPTTL') end
for b in string.gmatch(ARGV[6], '%S+') do forget(b) end
local n = tonumber(ARGV[7])
local at = 8
for i = 1, n do
  local id, score, value = ARGV[at], tonumber(ARGV[at + 1]), ARGV[at + 2]
  local written, dropped = ARGV[at + 3], ARGV[at + 4]
  at = at + 5
  for b in string.gmatch(written, '%S+') do
    local key = ns .. 'band:' .. b
    local known = band(b)
    if known.ttl > 0 then
      local was = known.score[id]
      if was == nil then
        -- a full set keeps its oldest members: an article later than its latest would be dropped at once
        if known.size < cap or not before(known.last_score, known.last, score, id) then
          redis.call('ZADD', key, 'NX', score, id)
          if known.size == 0 then
            redis.call('PEXPIRE', key, known.ttl)  -- just created: it expires with born (never extended)
          end
          if known.size >= cap then
            redis.call('ZREMRANGEBYRANK', key, cap, -1)
            seen[b] = nil  -- read again when next needed
          else
            known.score[id], known.size = score, known.size + 1
            if known.size == 1 or before(known.last_score, known.last, score, id) then
              known.last, known.last_score = id, score
            end
          end
        end
      elseif was ~= score then
        if known.size >= cap then
          forget(b)  -- moving a member of a full set could bring back one it dropped
        else
          redis.call('ZADD', key, score, id)
          seen[b] = nil
        end
      end
    end
  end
  for b in string.gmatch(dropped, '%S+') do
    local key = ns .. 'band:' .. b
    if redis.call('ZSCORE', key, id) then
      if redis.call('ZCARD', key) >= cap then forget(b) else redis.call('ZREM', key, id); seen[b] = nil end
    end
  end
  redis.call('SET', ns .. 'doc:' .. id, value, 'EX', doc_ttl)
end
for b in string.gmatch(ARGV[at], '%S+') do redis.call('SREM', ns .. 'pending:' .. b, token) end
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


@dataclass(frozen=True)
class RecentBandAnswer:
    """What Redis answers for a batch (index.dedup.RecentAnswer).

    ``known``: the bands it answers for (every article indexed with them went through it);
    ``reserved``: bands never seen before this batch (it is their first writer); any other band is
    left to Elasticsearch. ``best``: article id -> the cluster of its most similar candidate among its
    known bands, when one is similar enough. ``previous``: article id -> its signature as last recorded.
    """

    known: frozenset[str]
    reserved: frozenset[str]
    best: Mapping[str, str]
    previous: Mapping[str, str]


class RecentBandsInRedis:
    """The recent band keys of one Vigie installation (its index prefix), kept ``ttl_seconds``."""

    def __init__(self, client: redis.Redis, prefix: str, ttl_seconds: float) -> None:
        self.redis = client
        self.namespace = f"vigie:dup:{prefix}:"
        self.ttl_ms = max(1000, int(ttl_seconds * 1000))
        self._lookup = client.register_script(_LOOKUP)
        self._record = client.register_script(_RECORD)
        self._forget = client.register_script(_FORGET)

    def lookup(self, token: str, band_keys: Sequence[str], articles: Sequence[tuple[str, str]], *,
               candidates: int, threshold: float) -> RecentBandAnswer:
        """What Redis knows of ``band_keys``, and for each of ``articles`` (article id, signature) the
        cluster of its most similar candidate among the bands it knows (the oldest ``candidates``
        members of its known bands but itself, confirmed from ``threshold``, as index.dedup chooses
        among Elasticsearch's hits), marking the batch ``token`` in flight on each band. The choice
        is made in the script: only the answer crosses the network, not every candidate's signature.

        Raises redis.RedisError when Redis cannot be reached: the batch must not be written unmarked
        (a band Redis answers for would miss it), so the task is delivered again, as for its other
        uses of Redis."""
        position = {band: number for number, band in enumerate(band_keys, start=1)}
        args: list[object] = [self.namespace, token, RECENT_BAND_MEMBERS, self.ttl_ms, candidates, repr(threshold),
                              " ".join(band_keys), len(articles)]
        for article_id, signature in articles:
            # its bands' positions in ``band_keys``, in one argument (fewer to encode and parse)
            args += [article_id, signature, " ".join(str(position[key]) for key in bands(signature) if key in position)]
        states, best, previous = self._lookup(args=args)
        letters = states.decode()
        known = frozenset(band for band, state in zip(band_keys, letters) if state == "k")
        reserved = frozenset(band for band, state in zip(band_keys, letters) if state == "r")
        return RecentBandAnswer(
            known=known, reserved=reserved,
            best={article_id: cluster.decode() for (article_id, _), cluster in zip(articles, best) if cluster},
            previous={article_id: signature.decode() for (article_id, _), signature in zip(articles, previous)
                      if signature})

    def band_members(self, band: str) -> tuple[tuple[str, int], ...]:
        """The members Redis keeps of ``band`` (article id, indexed_at in epoch ms), oldest first."""
        listed = self.redis.zrange(self.namespace + "band:" + band, 0, -1, withscores=True)
        return tuple((article_id.decode(), int(score)) for article_id, score in listed)

    def record(self, record: RecentBandRecord) -> None:
        """Add the written articles to their bands, confirm or give up the reserved bands, and clear
        the batch's in-flight mark. When Redis cannot be reached the mark stays: the bands go back to
        Elasticsearch until they expire."""
        # a band this batch reserved holds no token of it (its "0" was the mark): only the others are released
        released = record.released - record.confirmed - record.refused
        args: list[object] = [self.namespace, record.token, RECENT_BAND_MEMBERS, self.ttl_ms // 1000 + DOC_MARGIN,
                              " ".join(sorted(record.confirmed)), " ".join(sorted(record.refused)), len(record.written)]
        for copy in record.written:
            args += [copy.article_id, copy.indexed_ms, f"{copy.cluster_id} {copy.signature}",
                     " ".join(copy.bands), " ".join(copy.dropped_bands)]
        args.append(" ".join(sorted(released)))
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

