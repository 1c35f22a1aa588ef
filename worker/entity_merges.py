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
4. After the write, once the story consumer has put articles into their stories (``merge_in_stories``,
   called by ``worker.story_tasks``): a name the knowledge base lacks, one letter from an entity of
   the same label that another article of the same story carries, joins that entity (evidence
   ``same-story``, naming the story and that article). The merge is recorded first, then the
   article's stored entities are updated in place (``ArticleStore.update_entities``), so a retried
   batch finds the rule and applies it: one record, one document.

Nothing here may stop an article: with Elasticsearch or Redis unavailable, articles go on with the
rules already loaded (or none) and the failure is logged with the article ids.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace

import redis

from conf.logs import log_event
from index.entity_merges import MergeStore
from index.errors import IndexRejected, IndexUnavailable
from ingest.entity_kb import default_kb
from ingest.entity_merging import (EntityMerge, SeenEntity, StoryPeer, apply_merges, apply_rule, article_merges,
                                   close_entities, cross_article_merge, effective_rules, is_unknown, mergeable_key,
                                   rule_for, same_story_merge, variant_key)
from ingest.models import AnalyzedArticle, Entity
from ingest.stories import Assignment
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


# -- after the write: merges confirmed by the same story (the story consumer) -----------------------


def merge_in_stories(rt: Runtime, assignments: Sequence[Assignment],
                     entities: Mapping[str, Sequence[Entity]] | None = None) -> list[EntityMerge]:
    """Merges confirmed by the same story, for articles just put into their stories. Records each
    merge, then updates the stored entities of the articles that changed (the merge rules recorded
    since their analysis apply too). ``entities``: the entities each article was written with, as the
    story message carries them; those of the other articles are read by id. Never raises: the stories
    are written; a merge missed is logged with the article ids. Returns the merges made. The consumer
    loads no knowledge base: a name without identity is one whose id is the Vigie id of its own label
    and text (``is_unknown``), which no knowledge-base id is."""
    placed = {assignment.article_id: assignment.story_id for assignment in assignments if assignment.story_id}
    if not placed:
        return []
    # An article that founded its story, alone in it in this batch, has no other article to confirm a merge.
    per_story = Counter(placed.values())
    joined = {assignment.article_id for assignment in assignments
              if assignment.story_id and (not assignment.created or per_story[assignment.story_id] > 1)}
    try:
        return _merge_in_stories(rt, placed, joined, entities or {})
    except (IndexUnavailable, IndexRejected, redis.RedisError) as error:
        log_event(log, "entities.same_story_merge_skipped", logging.WARNING, error=str(error),
                  articles=",".join(placed))
    except Exception as error:  # noqa: BLE001 - the stories are written; a merge must not undo them
        log.exception("entities.same_story_merge_failed", extra={"articles": ",".join(placed), "error_": str(error)})
    return []


def _merge_in_stories(rt: Runtime, placed: Mapping[str, str], joined: Collection[str],
                      written: Mapping[str, Sequence[Entity]]) -> list[EntityMerge]:
    holder = merge_rules(rt)
    rules = holder.current()
    store = holder.store
    # The entities each article was written with: carried by the story message, else read by id.
    missing = [article_id for article_id in placed if article_id not in written]
    read = store.article_entities(missing) if missing else {}
    stored = {article_id: tuple(written[article_id]) if article_id in written else read[article_id]
              for article_id in placed if article_id in written or article_id in read}
    wanted = [(article_id, entity) for article_id, entities in stored.items() if article_id in joined
              for entity in entities if is_unknown(entity, ()) and mergeable_key(variant_key(entity.text))
              and variant_key(entity.text) not in rules]
    near = SeenEntities(rt.redis).near_many([variant_key(entity.text) for _, entity in wanted])
    close = {(article_id, entity.text): [candidate for candidate, _ in close_entities(
        variant_key(entity.text), entity.label, entity.id, near.get(variant_key(entity.text), ()))]
        for article_id, entity in wanted}
    candidate_ids = sorted({candidate.id for found in close.values() for candidate in found})
    # Which candidates the stories carry: the stored articles (one search), and this batch's (read by id).
    carried = store.story_carriers(sorted({placed[article_id] for article_id, _ in wanted}), candidate_ids) \
        if candidate_ids else {}
    for other, entities in stored.items():
        for entity in entities:
            carried.setdefault((placed[other], entity.id), []).insert(0, other)
    made: list[EntityMerge] = []
    for article_id, entity in wanted:
        key, story = variant_key(entity.text), placed[article_id]
        if key in rules or not close[(article_id, entity.text)]:
            continue  # (a key in rules: merged a moment ago, from another article of this batch)
        seen = close[(article_id, entity.text)]
        peers = {candidate.id: [StoryPeer(other, story) for other in carried.get((story, candidate.id), ())]
                 for candidate in seen}
        merge = same_story_merge(entity, article_id, story, seen, peers, rules)
        if merge is None:
            continue
        rules[merge.variant_key] = merge
        made.append(merge)
        log_event(log, "entity.merged", article=article_id, variant=entity.text, target=merge.target_id,
                  target_name=merge.target_name, distance=merge.evidence.distance, evidence="same-story",
                  story=story, other_article=merge.evidence.article_ids[-1])
    if made:
        store.save(made)  # first: a batch retried after this finds the rules and applies them below
        bump_rules_version(rt.redis)
    changes = {article_id: apply_merges(entities, rules) for article_id, entities in stored.items()
               if _ruled(entities, rules)}
    if changes:
        updated = rt.store.update_entities(changes)
        log_event(log, "entities.articles_updated", articles=",".join(updated), count=len(updated))
    return made


def _ruled(entities: Sequence[Entity], rules: Mapping[str, EntityMerge]) -> bool:
    """Whether a rule changes one of ``entities`` (an article stored before the rule, or this batch's merge)."""
    return any((rule := rule_for(entity, rules)) is not None and apply_rule(entity, rule) != entity
               for entity in entities)
