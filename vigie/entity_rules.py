"""Manual entity merges and splits, as `vigie entities merge|split` and the API make them.

A manual rule is recorded (``index.entity_merges``), the workers are told (the rules' version in
Redis, ``state.entity_keys``), and the articles already stored that name the variant are re-labelled
(in Python, page by page: the embedded Elasticsearch has no painless for an update-by-query).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conf.settings import Settings
from index.client import Elasticsearch, connect
from index.entities import resolve_entity_id
from index.entity_merges import MergeStore
from ingest.entity_kb import default_kb
from ingest.entity_merging import EntityMerge, effective_rules, manual_merge, manual_split
from state.client import Redis
from state.client import connect as connect_redis
from state.entity_keys import bump_rules_version

Progress = Callable[[int, int], None]


class UnknownEntity(LookupError):
    """The target named is no entity Vigie knows (not in the knowledge base, in no article)."""


class EntityRules:
    def __init__(self, settings: Settings, *, es: Elasticsearch | None = None, client: Redis | None = None) -> None:
        self.settings = settings
        self.es = es or connect(settings.es_url)
        self.redis = client or connect_redis(settings.redis_url)
        self.store = MergeStore(self.es, settings.index_prefix)

    def target(self, name: str) -> tuple[str, str]:
        """The id and canonical name of the entity ``name`` designates (an id, or any of its names)."""
        entity_id = resolve_entity_id(self.es, self.settings.index_prefix, name)
        if entity_id is None:
            raise UnknownEntity(f"no entity is named {name!r} (not in the knowledge base, in no article)")
        known = default_kb().by_id.get(entity_id)
        if known is not None:
            return entity_id, known.name
        stored = self.store.entity_name(entity_id)
        if stored is None:
            raise UnknownEntity(f"no article names entity {entity_id!r} ({name!r})")
        return entity_id, stored[0]

    def merge(self, variant: str, target: str, *, note: str = "", progress: Progress | None = None) -> dict[str, Any]:
        target_id, target_name = self.target(target)
        return self._apply(manual_merge(variant, target_id, target_name, note=note), progress)

    def split(self, variant: str, from_target: str | None = None, *, note: str = "",
              progress: Progress | None = None) -> dict[str, Any]:
        from_id, from_name = self.target(from_target) if from_target else ("", "")
        return self._apply(manual_split(variant, from_id, from_name, note=note), progress)

    def rules(self) -> list[dict[str, Any]]:
        """Every rule recorded, newest first, each saying whether it is the one in force."""
        recorded = self.store.rules()
        effective = effective_rules(recorded)
        return [{**rule.to_dict(), "in_force": effective.get(rule.variant_key) is rule} for rule in recorded]

    def _apply(self, rule: EntityMerge, progress: Progress | None) -> dict[str, Any]:
        if not rule.variant_key:
            raise ValueError("the variant has no letters")
        self.store.save([rule])
        bump_rules_version(self.redis)
        effective = effective_rules(self.store.rules())
        relabelled = self.store.relabel_articles(rule, {rule.variant_key: effective.get(rule.variant_key, rule)},
                                                 progress)
        return {**rule.to_dict(), "in_force": True, "articles_relabelled": relabelled}
