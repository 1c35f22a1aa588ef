"""The entities already seen, by the deletion forms of their name keys; the version of the merge rules.

For cross-article merges (``ingest.entity_merging``): each entity of a distinctive name
(``mergeable_key``) indexed so far is registered under every deletion form of its key (form → the
ids holding it, space-separated, in one of ``FORM_BUCKETS`` small hashes, which Redis keeps in its
compact encoding; a short Lua script appends an id atomically) with its name, label and key (one
hash, ``SEEN_KEY``: id → JSON). "Which entities are one letter away from this key?" is then one
script reading every form (an HGET each, inside Redis) and one HMGET. Only multi-word keys of eight characters or more are
registered: the names worth merging (persons and organisations mostly). docs/performance.md gives
the memory a name takes.

``RULES_VERSION_KEY`` counts changes of the merge rules (manual merges and splits, automatic merges
recorded): each worker process reads it before a batch and reloads the rules only when it moved.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence

import redis

from ingest.entity_merging import SeenEntity, deletion_forms

FORM_PREFIX = "vigie:entities:forms:"
FORM_BUCKETS = 65_536
SEEN_KEY = "vigie:entities:seen"
RULES_VERSION_KEY = "vigie:entities:merges:version"
#: Ids kept per deletion form: a form shared by more names than this says nothing about any of them.
MAX_IDS_PER_FORM = 32

# One call per entity: add its id to each of its forms' lists (KEYS: each form's bucket; ARGV: the
# id, then the forms), skipping an id already listed and a list already full.
_REGISTER = """
local added = 0
for i = 1, #KEYS do
  local form = ARGV[i + 1]
  local current = redis.call('HGET', KEYS[i], form)
  if not current then
    redis.call('HSET', KEYS[i], form, ARGV[1])
    added = added + 1
  else
    local count, present = 0, false
    for id in string.gmatch(current, '%S+') do
      count = count + 1
      if id == ARGV[1] then present = true end
    end
    if not present and count < tonumber(ARGV[#ARGV]) then
      redis.call('HSET', KEYS[i], form, current .. ' ' .. ARGV[1])
      added = added + 1
    end
  end
end
return added
"""


# The ids listed under each form (KEYS: each form's bucket; ARGV[1]: the forms, a JSON array), as a
# JSON array in the same order (false where a form lists none).
_FORMS = """
local forms = cjson.decode(ARGV[1])
local found = {}
for i = 1, #KEYS do
  found[i] = redis.call('HGET', KEYS[i], forms[i])
end
return cjson.encode(found)
"""


def _bucket(form: str) -> str:
    """The small hash holding a form: many small hashes stay in Redis's compact encoding."""
    return FORM_PREFIX + str(zlib.crc32(form.encode()) % FORM_BUCKETS)


class SeenEntities:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._register = client.register_script(_REGISTER)
        self._forms = client.register_script(_FORMS)

    def register(self, entities: Iterable[SeenEntity]) -> int:
        """Remember ``entities`` (ids already known keep their first record). Returns how many were new."""
        entities = list({entity.id: entity for entity in entities}.values())
        if not entities:
            return 0
        with self.redis.pipeline(transaction=False) as pipe:
            for entity in entities:
                pipe.hsetnx(SEEN_KEY, entity.id, _encode(entity))
            new = [entity for entity, added in zip(entities, pipe.execute()) if added]
        if new:  # names already seen (most, in the news) cost one HSETNX
            with self.redis.pipeline(transaction=False) as pipe:
                for entity in new:
                    forms = sorted(deletion_forms(entity.key))
                    self._register(keys=[_bucket(form) for form in forms],
                                   args=[entity.id, *forms, MAX_IDS_PER_FORM], client=pipe)
                pipe.execute()
        return len(new)

    def near(self, key: str) -> list[SeenEntity]:
        """The entities seen whose key shares a deletion form with ``key`` (edit distance <= 1 among them)."""
        return self.near_many([key]).get(key, [])

    def near_many(self, keys: Sequence[str]) -> dict[str, list[SeenEntity]]:
        """``near`` for several keys in two round trips: one script reading every deletion form
        (a form's bucket a key of the script, the forms one JSON argument, the answers one JSON
        reply: a pipelined HGET per form cost the caller more CPU than the rest of the lookup), then
        one HMGET of the entities found."""
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        asked = [(key, form) for key in keys for form in sorted(deletion_forms(key))]
        answers = json.loads(self._forms(keys=[_bucket(form) for _, form in asked],
                                         args=[json.dumps([form for _, form in asked], ensure_ascii=False)]))
        members: dict[str, set[str]] = {key: set() for key in keys}
        for (key, _), answer in zip(asked, answers):
            if answer:
                members[key].update(answer.split())
        ids = sorted({entity_id for found in members.values() for entity_id in found})
        if not ids:
            return {key: [] for key in keys}
        seen = {entity_id: _decode(raw) for entity_id, raw in zip(ids, self.redis.hmget(SEEN_KEY, ids))
                if raw is not None}
        return {key: [seen[entity_id] for entity_id in sorted(found) if entity_id in seen]
                for key, found in members.items()}

    def count(self) -> int:
        return int(self.redis.hlen(SEEN_KEY))


def _encode(entity: SeenEntity) -> str:
    return json.dumps({"id": entity.id, "name": entity.name, "label": entity.label, "key": entity.key},
                      ensure_ascii=False)


def _decode(raw: bytes) -> SeenEntity:
    data = json.loads(raw)
    return SeenEntity(data["id"], data.get("name") or "", data.get("label") or "", data.get("key") or "")


def bump_rules_version(client: redis.Redis) -> None:
    client.incr(RULES_VERSION_KEY)


def rules_version(client: redis.Redis) -> bytes | None:
    """The current version of the merge rules (None before the first change): compared, never read."""
    return client.get(RULES_VERSION_KEY)
