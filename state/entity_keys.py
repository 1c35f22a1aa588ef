"""The entities already seen, by the deletion forms of their name keys; the version of the merge rules.

For cross-article merges (``ingest.entity_merging``): each entity of a distinctive name
(``mergeable_key``) indexed so far is registered under every deletion form of its key (one Redis set
per form: ``FORM_PREFIX + form`` → ids) with its name, label and key (one hash, ``SEEN_KEY``: id →
JSON). "Which entities are one letter away from this key?" is then one SUNION over the key's
forms and one HMGET. Only multi-word keys of eight characters or more are registered, which keeps
the registry to the names worth merging (persons and organisations mostly), a few hundred bytes each.

``RULES_VERSION_KEY`` counts changes of the merge rules (manual merges and splits, automatic merges
recorded): each worker process reads it before a batch and reloads the rules only when it moved.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import redis

from ingest.entity_merging import SeenEntity, deletion_forms

FORM_PREFIX = "vigie:entities:form:"
SEEN_KEY = "vigie:entities:seen"
RULES_VERSION_KEY = "vigie:entities:merges:version"


class SeenEntities:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def register(self, entities: Iterable[SeenEntity]) -> int:
        """Remember ``entities`` (already-known ids are refreshed). Returns how many were new."""
        entities = list({entity.id: entity for entity in entities}.values())
        if not entities:
            return 0
        with self.redis.pipeline(transaction=False) as pipe:
            for entity in entities:
                pipe.hsetnx(SEEN_KEY, entity.id, _encode(entity))
                for form in deletion_forms(entity.key):
                    pipe.sadd(FORM_PREFIX + form, entity.id)
            results = pipe.execute()
        return sum(_hsetnx_results(results, entities))

    def near(self, key: str) -> list[SeenEntity]:
        """The entities seen whose key shares a deletion form with ``key`` (edit distance ≤ 1 among them)."""
        ids = self.redis.sunion([FORM_PREFIX + form for form in deletion_forms(key)])
        if not ids:
            return []
        ordered = sorted(ids)
        found = []
        for raw in self.redis.hmget(SEEN_KEY, ordered):
            if raw is not None:
                found.append(_decode(raw))
        return found

    def near_many(self, keys: Sequence[str]) -> dict[str, list[SeenEntity]]:
        """``near`` for several keys in two round trips."""
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.sunion([FORM_PREFIX + form for form in deletion_forms(key)])
            found = pipe.execute()
        ids = sorted({entity_id for members in found for entity_id in members})
        if not ids:
            return {key: [] for key in keys}
        seen = {entity_id: _decode(raw) for entity_id, raw in zip(ids, self.redis.hmget(SEEN_KEY, ids))
                if raw is not None}
        return {key: [seen[entity_id] for entity_id in sorted(members) if entity_id in seen]
                for key, members in zip(keys, found)}

    def count(self) -> int:
        return int(self.redis.hlen(SEEN_KEY))


def _hsetnx_results(results: Sequence[object], entities: Sequence[SeenEntity]) -> list[bool]:
    """The HSETNX answers among the pipeline's results (each entity: one HSETNX then its SADDs)."""
    answers, at = [], 0
    for entity in entities:
        answers.append(bool(results[at]))
        at += 1 + len(deletion_forms(entity.key))
    return answers


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
