"""Entity merges, right after analysis and before storing: the rules, then cross-article merges.

1. The merge rules (``index.entity_merges``: automatic merges recorded, manual merges and splits)
   apply to every new article (``ingest.entity_merging.apply_merges``). Each worker process keeps
   them and reloads them only when their version in Redis moved (``state.entity_keys``), so a
   `vigie entities merge` reaches the next batch of every worker.
2. The spellings the linker joined to a known person because the same article names that person
   (``article_merges``) are recorded, with the evidence ``same-article``.
   A name the knowledge base lacks, whose key is one letter away from an entity seen in an earlier
   article (``state.entity_keys.SeenEntities``), joins that entity when the two share co-occurring
   entities (``MIN_SHARED`` ids, read from the articles index). The merge is recorded with its
   evidence and applies from then on; a manual rule on the same variant key wins.
3. The batch's distinctive names are registered as seen, for the next articles.

Nothing here may stop an article: with Elasticsearch or Redis unavailable, articles go on with the
rules already loaded (or none) and the failure is logged with the article ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

import redis

from conf.logs import log_event
from index.entity_merges import MergeStore
from index.errors import IndexRejected, IndexUnavailable
from ingest.entity_kb import default_kb
from ingest.entity_merging import (EntityMerge, SeenEntity, apply_merges, article_merges, close_entities,
                                   cross_article_merge, effective_rules, is_unknown, mergeable_key, variant_key)
from ingest.models import AnalyzedArticle, Entity
from state.entity_keys import SeenEntities, bump_rules_version, rules_version
from worker.runtime import Runtime

log = logging.getLogger("vigie.worker")


class MergeRules:
    """The effective merge rules, reloaded when their version in Redis moves."""

    def __init__(self, store: MergeStore, version: Callable[[], bytes | None]) -> None:
        self.store = store
        self.version = version
        self._loaded: tuple[bytes | None, dict[str, EntityMerge]] | None = None

    def current(self) -> dict[str, EntityMerge]:
        version = self.version()
        if self._loaded is None or self._loaded[0] != version:
            self._loaded = (version, effective_rules(self.store.rules()))
        return dict(self._loaded[1])


def merge_rules(rt: Runtime) -> MergeRules:
    rules = rt.__dict__.get("_merge_rules")
    if rules is None:
        rules = MergeRules(MergeStore(rt.es, rt.settings.index_prefix), lambda: rules_version(rt.redis))
        rt.__dict__["_merge_rules"] = rules
    return rules


def resolve_entities(rt: Runtime, analysed: Sequence[AnalyzedArticle]) -> list[AnalyzedArticle]:
    """``analysed`` with the merge rules applied and new cross-article merges made (and recorded)."""
    if not analysed:
        return []
    holder = merge_rules(rt)
    try:
        rules = holder.current()
    except (IndexUnavailable, IndexRejected, redis.RedisError) as error:
        rules = dict(holder._loaded[1]) if holder._loaded is not None else {}
        log_event(log, "entities.merge_rules_unavailable", logging.WARNING, error=str(error),
                  first_article=analysed[0].article.article_id, articles=len(analysed))
        return [_with_entities(item, apply_merges(item.analysis.entities, rules)) for item in analysed]
    applied = [_with_entities(item, apply_merges(item.analysis.entities, rules)) for item in analysed]
    try:
        return _merge_across_articles(rt, holder.store, applied, rules)
    except (IndexUnavailable, IndexRejected, redis.RedisError) as error:
        log_event(log, "entities.cross_article_merge_skipped", logging.WARNING, error=str(error),
                  articles=",".join(item.article.article_id for item in analysed))
        return applied


def _merge_across_articles(rt: Runtime, store: MergeStore, analysed: list[AnalyzedArticle],
                           rules: dict[str, EntityMerge]) -> list[AnalyzedArticle]:
    seen = SeenEntities(rt.redis)
    kb = default_kb()
    known_ids = kb.by_id
    wanted = [variant_key(entity.text) for item in analysed for entity in item.analysis.entities
              if is_unknown(entity, known_ids) and mergeable_key(variant_key(entity.text))
              and variant_key(entity.text) not in rules]
    near = seen.near_many(wanted)
    new_rules: list[EntityMerge] = []
    result = []
    for item in analysed:
        entities = item.analysis.entities
        made: dict[str, EntityMerge] = {}
        for entity in entities:
            key = variant_key(entity.text)
            if key not in near or key in rules or key in made:
                continue
            others = [other.id for other in entities if other.id and other.id != entity.id]
            for candidate, distance in close_entities(key, entity.label, entity.id, near[key]):
                shared, articles = store.shared_entities(candidate.id, others)
                merge = cross_article_merge(entity, item.article.article_id, candidate, distance, shared, articles)
                if merge is not None:
                    made[key] = merge
                    log_event(log, "entity.merged", article=item.article.article_id, feed=item.article.feed_url,
                              variant=entity.text, target=candidate.id, target_name=candidate.name,
                              distance=distance, shared=",".join(shared))
                    break
        for entity in entities:
            if entity.label == "PERSON" and entity.id in known_ids:
                for merge in article_merges(entity, item.article.article_id, kb):
                    if merge.variant_key not in rules and merge.variant_key not in made:
                        made[merge.variant_key] = merge  # recorded; the entity already has its identity
                        log_event(log, "entity.merged", article=item.article.article_id, feed=item.article.feed_url,
                                  variant=merge.variant, target=merge.target_id, target_name=merge.target_name,
                                  distance=merge.evidence.distance, evidence="same-article")
        if made:
            rules.update(made)
            new_rules.extend(made.values())
            item = _with_entities(item, apply_merges(entities, made))
        result.append(item)
    if new_rules:
        store.save(new_rules)
        bump_rules_version(rt.redis)
    seen.register(_distinctive(result))
    return result


def _distinctive(analysed: Sequence[AnalyzedArticle]) -> list[SeenEntity]:
    found = []
    for item in analysed:
        for entity in item.analysis.entities:
            key = variant_key(entity.name or entity.text)
            if entity.id and mergeable_key(key):
                found.append(SeenEntity(entity.id, entity.name or entity.text, entity.label, key))
    return found


def _with_entities(item: AnalyzedArticle, entities: tuple[Entity, ...]) -> AnalyzedArticle:
    if entities == item.analysis.entities:
        return item
    return replace(item, analysis=replace(item.analysis, entities=entities))
