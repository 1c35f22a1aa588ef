"""The candidate index of stories, kept in Redis: for each name, word and figure a living story is
searched by (its search keys, index.stories.StoryDraft.search_keys), the stories holding it, so that
finding an article's candidate stories is one script in Redis instead of a search of Elasticsearch
(the largest single cost stories added per article, docs/performance.md).

Only the holder of the story lock writes it (worker.story_assignment), right after it wrote the
stories to Elasticsearch; anyone reads it (the indexing task's guess, the consumer). A story written
is a candidate at once, not after the next refresh of the stories index. Keys, under
``vigie:stories:ix:<index prefix>:``:

- ``n:<name>``, ``t:<word>``, ``f:<figure>``: the set of stories holding that search key;
- ``keys``: story -> its search keys as last recorded (JSON), to take it out of those it lost;
- ``first``: story -> first seen; ``last``: sorted set of stories by last seen (epoch seconds): the
  window of each article, and what is swept out;
- ``swept``: the stories last seen before it may have been swept out: an article whose window reaches
  before it is left to Elasticsearch (``candidates`` answers None for it). Each record sweeps the
  stories last seen ``span`` before the latest last seen it holds (or before now, if that is earlier:
  an article dated in the future does not sweep the present), so the index follows the articles' own
  times (a backfill, a replay of last month's stream), not the clock;
- ``upto``: when the last batch recorded was written (epoch seconds). Absent, the index is not ready
  (never built, or Redis lost it): readers search Elasticsearch, and the assigner rebuilds it from
  Elasticsearch (worker.story_search). What is recorded is a superset of the living stories at worst
  (a candidate is read by id and a story merged away is dropped then), never a story the caller
  cannot find there.

Ranking, as the Elasticsearch search ranks (index.stories.StoryStore._candidate_query): each shared name
counts twice its rarity among the stories (BM25's IDF over the stories indexed), each shared figure
once, any shared word 1 (plus a thousandth per word shared, where the search left ties in index order),
ties by the most recently seen, then by id. A word or a figure held by more than ``TERM_CAP`` stories
is not looked at (it tells no story apart; the search gave such a word the same constant score, such a
figure almost none). Of the stories sharing only words, only the best ``limit`` within the window are
read; of those sharing names or figures, only down to the ``limit``-th within the window: an article's
cost is the members of its keys' sets (every script of a batch of 16 together: about 10 ms in Redis
with 250 living stories, 45 to 100 with 10,700; bench/stories.py, docs/performance.md).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import orjson
import redis

log = logging.getLogger("vigie.state")

#: A word or a figure shared with more stories than this is not looked at (see the module's docstring).
TERM_CAP = 500
#: Stories swept out per recorded batch at most (those last seen before the sweep horizon).
SWEEP_MAX = 200
_KINDS = ("n", "t", "f")


@dataclass(frozen=True)
class IndexedStory:
    """What the candidate index holds of one story."""

    story_id: str
    first_seen: float  # epoch seconds
    last_seen: float
    names: Sequence[str]
    terms: Sequence[str]
    numbers: Sequence[str]


@dataclass(frozen=True)
class CandidateQuery:
    """One article's search: its names, words and figures (index.stories.StoryStore.query_keys) and its
    window: stories last seen from ``lowest_last_seen`` and first seen up to ``highest_first_seen``."""

    names: Sequence[str]
    terms: Sequence[str]
    numbers: Sequence[str]
    lowest_last_seen: float
    highest_first_seen: float


class StoryCandidateIndex:
    """The candidate index of one Vigie installation (its index prefix)."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.redis = client
        self.namespace = f"vigie:stories:ix:{prefix}:"
        self._candidates = client.register_script(_CANDIDATES)
        self._record = client.register_script(_RECORD)

    def upto(self) -> float | None:
        """When the last batch recorded was written; None: the index is not ready."""
        value = self.redis.get(self.namespace + "upto")
        return float(value) if value is not None else None

    def swept(self) -> float | None:
        """Stories last seen before this may have been swept out (None: none was)."""
        value = self.redis.get(self.namespace + "swept")
        return float(value) if value is not None else None

    def candidates(self, queries: Sequence[CandidateQuery], limit: int) -> list[list[str] | None] | None:
        """For each query, the ids of the ``limit`` best stories within its window, best first, or None
        for a query whose window reaches before what the index holds (``swept``); None for all when the
        index is not ready. Search Elasticsearch for those."""
        if not queries:
            return []
        request = {"limit": limit, "term_cap": TERM_CAP, "articles": [
            {"n": list(query.names), "t": list(query.terms), "f": list(query.numbers),
             "lo": query.lowest_last_seen, "hi": query.highest_first_seen} for query in queries]}
        answer = self._candidates(args=[self.namespace, orjson.dumps(request)])
        if answer is None:
            return None
        found = orjson.loads(answer)
        if not isinstance(found, list) or len(found) != len(queries):
            raise ValueError(f"the story candidate index answered {len(found)} lists for {len(queries)} articles")
        # Lua writes an empty list as {}, and false for a query the index cannot answer
        return [ids if isinstance(ids, list) else None if ids is False else [] for ids in found]

    def record(self, stories: Sequence[IndexedStory], removed: Sequence[str], *, upto: float | None,
               span: float, now: float) -> int:
        """Record the stories written (their keys replace those recorded before), take out those merged
        away (``removed``) and up to ``SWEEP_MAX`` stories last seen ``span`` seconds before the latest
        last seen recorded (or before ``now`` if earlier), and mark the index written up to ``upto``
        (None: leave the mark as it is). One script, atomic. Returns how many stories were swept out."""
        request = {"stories": [{"id": story.story_id, "first": story.first_seen, "last": story.last_seen,
                                "n": list(story.names), "t": list(story.terms), "f": list(story.numbers)}
                               for story in stories],
                   "removed": list(removed), "span": span, "now": now, "sweep_max": SWEEP_MAX,
                   "upto": repr(upto) if upto is not None else False}
        return int(self._record(args=[self.namespace, orjson.dumps(request)]))

    def story_keys(self, story_id: str) -> Mapping[str, list[str]] | None:
        """The search keys recorded for a story (None: not in the index)."""
        value = self.redis.hget(self.namespace + "keys", story_id)
        if value is None:
            return None
        keys = orjson.loads(value)
        return {kind: list(keys.get(kind) or []) if isinstance(keys.get(kind), list) else [] for kind in _KINDS}

    def size(self) -> int:
        """The stories recorded."""
        return int(self.redis.zcard(self.namespace + "last"))

    def clear(self) -> None:
        """Forget the whole index (it is then rebuilt from Elasticsearch)."""
        batch: list[bytes] = []
        for key in self.redis.scan_iter(match=self.namespace + "*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                self.redis.delete(*batch)
                batch = []
        if batch:
            self.redis.delete(*batch)


#: ARGV: the namespace, the request (JSON: limit, term_cap, articles with n, t, f, lo, hi). Returns the
#: JSON list of each article's story ids, or nil when the index is not ready.
_CANDIDATES = """
local ns = ARGV[1]
if not redis.call('GET', ns .. 'upto') then return nil end
local req = cjson.decode(ARGV[2])
local limit, term_cap = req.limit, req.term_cap
local total = redis.call('ZCARD', ns .. 'last')
local swept = tonumber(redis.call('GET', ns .. 'swept') or '') or -math.huge
local lasts, firsts, sets, sizes = {}, {}, {}, {}
local function last_of(id)
  local v = lasts[id]
  if v == nil then v = tonumber(redis.call('ZSCORE', ns .. 'last', id)) or false; lasts[id] = v end
  return v
end
local function first_of(id)
  local v = firsts[id]
  if v == nil then v = tonumber(redis.call('HGET', ns .. 'first', id)) or 0; firsts[id] = v end
  return v
end
local function members(key)
  local m = sets[key]
  if m == nil then m = redis.call('SMEMBERS', ns .. key); sets[key] = m end
  return m
end
local function size(key)
  local n = sizes[key]
  if n == nil then n = redis.call('SCARD', ns .. key); sizes[key] = n end
  return n
end
local function best_first(x, y)  -- {id, score, last seen}: the best score, then the latest seen, then by id
  if x[2] ~= y[2] then return x[2] > y[2] end
  if x[3] ~= y[3] then return x[3] > y[3] end
  return x[1] < y[1]
end
local out = {}
for a, art in ipairs(req.articles) do
 if art.lo < swept then
  out[a] = false
 else
  local score = {}  -- names and figures
  for _, pair in ipairs({{'n:', art.n, 2, math.huge}, {'f:', art.f, 1, term_cap}}) do
    for _, key in ipairs(pair[2]) do
      local m = size(pair[1] .. key) <= pair[4] and members(pair[1] .. key) or {}
      local n = #m
      if n > 0 then
        local w = pair[3] * math.log(1 + (total - n + 0.5) / (n + 0.5))
        for _, id in ipairs(m) do score[id] = (score[id] or 0) + w end
      end
    end
  end
  local words = {}  -- the words looked at
  for _, key in ipairs(art.t) do
    local n = size('t:' .. key)
    if n > 0 and n <= term_cap then words[#words + 1] = 't:' .. key end
  end
  local most = #words > 0 and 1 + #words / 1000 or 0  -- what sharing words can add at most
  local ranked, top = {}, {}  -- kept within the window; the ``limit`` best scores kept, best first
  local function keep(id, s)
    local last = last_of(id)
    if not (last and last >= art.lo and first_of(id) <= art.hi) then return end
    ranked[#ranked + 1] = {id, s, last}
    local i = math.min(#top + 1, limit)
    if i == limit and top[limit] ~= nil and top[limit] >= s then return end
    top[i] = s
    while i > 1 and top[i - 1] < top[i] do
      top[i - 1], top[i] = top[i], top[i - 1]
      i = i - 1
    end
  end
  -- the stories sharing names or figures within the window, best first (the most recently seen first
  -- among equal scores); the words each shares are counted one by one, and only while its score with
  -- every word could still pass the ``limit``-th best kept
  local named = {}
  for id, s in pairs(score) do
    local last = last_of(id)
    if last and last >= art.lo then named[#named + 1] = {id, s, last} end  -- first seen: read when kept
  end
  table.sort(named, best_first)
  for _, entry in ipairs(named) do
    if #top >= limit and entry[2] + most <= top[limit] then break end
    local count = 0
    for _, key in ipairs(words) do count = count + redis.call('SISMEMBER', ns .. key, entry[1]) end
    keep(entry[1], count > 0 and entry[2] + 1 + count / 1000 or entry[2])
  end
  -- the stories sharing words only (often thousands, each scoring 1 and a thousandth a word), when
  -- they can still reach the ``limit`` best: only the best ``limit`` of them within the window, read
  -- most words first, a whole count at a time (its ties are broken below)
  if #top < limit or top[limit] < most then
    local counted = {}
    for _, key in ipairs(words) do
      for _, id in ipairs(members(key)) do
        if score[id] == nil then counted[id] = (counted[id] or 0) + 1 end
      end
    end
    local buckets, counts = {}, {}
    for id, count in pairs(counted) do
      local bucket = buckets[count]
      if bucket == nil then bucket = {}; buckets[count] = bucket; counts[#counts + 1] = count end
      bucket[#bucket + 1] = id
    end
    table.sort(counts, function(x, y) return x > y end)
    local taken = 0
    for _, count in ipairs(counts) do
      if taken >= limit then break end
      local before = #ranked
      for _, id in ipairs(buckets[count]) do keep(id, 1 + count / 1000) end
      taken = taken + #ranked - before
    end
  end
  table.sort(ranked, best_first)
  local ids = {}
  for i = 1, math.min(limit, #ranked) do ids[i] = ranked[i][1] end
  out[a] = ids
 end
end
return cjson.encode(out)
"""

#: ARGV: the namespace, the request (JSON: stories with id, first, last, n, t, f; removed; sweep_before;
#: span; now; sweep_max; upto, or false). Returns how many stories were swept out.
_RECORD = """
local ns = ARGV[1]
local req = cjson.decode(ARGV[2])
local kinds = {'n', 't', 'f'}
local function recorded(id)
  local old = redis.call('HGET', ns .. 'keys', id)
  local had = {}
  if old then
    local keys = cjson.decode(old)
    for _, kind in ipairs(kinds) do
      if type(keys[kind]) == 'table' then
        for _, key in ipairs(keys[kind]) do had[kind .. ':' .. key] = true end
      end
    end
  end
  return had
end
local function drop(id)
  for key in pairs(recorded(id)) do redis.call('SREM', ns .. key, id) end
  redis.call('HDEL', ns .. 'keys', id)
  redis.call('HDEL', ns .. 'first', id)
  redis.call('ZREM', ns .. 'last', id)
end
for _, story in ipairs(req.stories) do
  local id = story.id
  local had, now = recorded(id), {}
  for _, kind in ipairs(kinds) do
    for _, key in ipairs(story[kind]) do
      local k = kind .. ':' .. key
      now[k] = true
      if not had[k] then redis.call('SADD', ns .. k, id) end
    end
  end
  for k in pairs(had) do
    if not now[k] then redis.call('SREM', ns .. k, id) end
  end
  redis.call('HSET', ns .. 'keys', id, cjson.encode({n = story.n, t = story.t, f = story.f}))
  redis.call('HSET', ns .. 'first', id, string.format('%.6f', story.first))
  redis.call('ZADD', ns .. 'last', string.format('%.6f', story.last), id)
end
for _, id in ipairs(req.removed) do drop(id) end
local latest = redis.call('ZRANGE', ns .. 'last', -1, -1, 'WITHSCORES')
local old = {}
if #latest == 2 then
  local horizon = math.min(tonumber(latest[2]), req.now) - req.span
  local swept = tonumber(redis.call('GET', ns .. 'swept') or '') or -math.huge
  if horizon > swept then
    redis.call('SET', ns .. 'swept', string.format('%.6f', horizon))
    swept = horizon
  end
  old = redis.call('ZRANGEBYSCORE', ns .. 'last', '-inf', '(' .. string.format('%.6f', swept), 'LIMIT', 0, req.sweep_max)
  for _, id in ipairs(old) do drop(id) end
end
if req.upto then redis.call('SET', ns .. 'upto', req.upto) end
return #old
"""
