"""The record of entity merges (``<prefix>-entity-merges``), and what they change in stored articles.

One document per rule (``ingest.entity_merging.EntityMerge``), by rule id: ``auto:<variant key>``
for a merge the worker decided, with its evidence, ``manual:<variant key>`` for a merge or split a
person forced (`vigie entities merge|split`, the API). A manual rule wins over the automatic one of
the same variant key (``effective_rules``); both stay recorded.

Rules apply to every article analysed after them (the worker reloads them when their version in
Redis moves). Articles stored before a manual rule are re-labelled here, in Python: the engine's
update-by-query would need a painless script, which the embedded Elasticsearch lacks, so each
article naming the variant is read, its entities re-identified by the same function the worker
uses (``apply_merges``) and its entity fields written back with a partial update (no script).

For cross-article merges, ``shared_entities`` asks the articles index which of an article's other
entities also appear beside a candidate entity, and in which articles. For merges confirmed by the
same story, ``story_carriers`` finds which candidate entities the articles of given stories carry; the
story message carries each article's entities as written, and ``article_entities`` reads them by id
(real time: an article just written is found) only for a message queued without them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from elasticsearch import Elasticsearch

from conf.logs import log_event
from index.article_document import ENTITY_KINDS, entity_ref
from index.client import call, create_index
from index.mappings import articles_alias, small_index
from index.rollover import alias_members
from ingest.entity_merging import EntityMerge, apply_merges, current_rule
from ingest.models import Entity
from ingest.name_keys import search_fold

MERGES_VERSION = 1
MERGE_PROPERTIES: dict[str, Any] = {
    "rule_id": {"type": "keyword"},
    "variant": {"type": "keyword", "ignore_above": 512},
    "variant_key": {"type": "keyword", "ignore_above": 512},
    "action": {"type": "keyword"},  # merge, split
    "source": {"type": "keyword"},  # auto, manual
    "target_id": {"type": "keyword"},
    "target_name": {"type": "keyword", "ignore_above": 512},
    "label": {"type": "keyword"},
    # kind (same-article, shared-entities, same-story, manual), article_ids, distance, shared_ids, note
    "evidence": {"type": "object", "enabled": False},
    "at": {"type": "date"},
}
_KIND_OF_LABEL = dict(zip(("PERSON", "LOCATION", "ORGANIZATION", "MISC"), ENTITY_KINDS))
_PAGE = 200
_MAX_RULES = 10_000

log = logging.getLogger("vigie.index")


def merges_index(prefix: str) -> str:
    return f"{prefix}-entity-merges"


class MergeStore:
    def __init__(self, es: Elasticsearch, prefix: str) -> None:
        self.es = es
        self.prefix = prefix
        self.index = merges_index(prefix)
        self._ready = False

    def ensure_ready(self) -> None:
        if self._ready:
            return
        # The layout's shards and replicas, as every Vigie index: on a cluster, a node lost loses no rule.
        body = small_index(MERGE_PROPERTIES, "Vigie entity merges", MERGES_VERSION)
        create_index(self.es, self.index, settings=body["settings"], mappings=body["mappings"])
        self.migrate_keys()
        self._ready = True

    def migrate_keys(self) -> tuple[int, int]:
        """Rewrite the rules recorded under an older name key of their variant (``current_rule``):
        each under its key now (its id changes with it), the automatic merges the keys no longer
        support removed. Idempotent (a second run finds nothing); several processes may run it at
        once. Returns (rules re-keyed, rules removed)."""
        response = call(self.es, "reading the entity merges", lambda: self.es.search(
            index=self.index, query={"match_all": {}}, size=_MAX_RULES, sort=[{"at": {"order": "asc"}}]))
        stored = {hit["_id"]: EntityMerge.from_dict(hit["_source"]) for hit in response["hits"]["hits"]}
        rewritten: dict[str, EntityMerge] = {}
        stale: list[str] = []
        removed = 0
        for doc_id, rule in stored.items():
            now = current_rule(rule)
            if now is not None and now.rule_id == doc_id:
                continue
            stale.append(doc_id)
            if now is None:
                removed += 1
                continue
            held = stored.get(now.rule_id) or rewritten.get(now.rule_id)
            if held is None or held.at <= now.at:  # oldest first: the newest rule of a key wins
                rewritten[now.rule_id] = now
        if not stale:
            return 0, 0
        # The rules under their keys now first (refused: raised, nothing deleted), then the stale ones.
        self._write(list(rewritten.values()))
        deletes = [{"delete": {"_index": self.index, "_id": doc_id}} for doc_id in stale if doc_id not in rewritten]
        call(self.es, f"removing {len(stale)} entity merges recorded under older keys",
             lambda: self.es.bulk(operations=deletes, refresh="wait_for"))
        log_event(log, "entity_merges.rekeyed", rekeyed=len(rewritten), removed=removed)
        return len(rewritten), removed

    def save(self, rules: Sequence[EntityMerge], *, refresh: bool = True) -> None:
        """Record ``rules`` (a rule replaces the earlier one of its id)."""
        if not rules:
            return
        self.ensure_ready()
        self._write(rules, refresh)

    def _write(self, rules: Sequence[EntityMerge], refresh: bool = True) -> None:
        if not rules:
            return
        operations: list[dict[str, Any]] = []
        for rule in rules:
            operations += [{"index": {"_index": self.index, "_id": rule.rule_id}}, rule.to_dict()]
        response = call(self.es, f"recording {len(rules)} entity merges (first: {rules[0].variant!r})",
                        lambda: self.es.bulk(operations=operations, refresh="wait_for" if refresh else False))
        if response.get("errors"):
            failed = [item["index"] for item in response["items"] if item["index"].get("error")]
            from index.errors import IndexRejected

            raise IndexRejected(f"Elasticsearch refused entity merge {failed[0].get('_id')}: {failed[0]['error']}")

    def rules(self, source: str | None = None) -> list[EntityMerge]:
        """Every rule recorded (or those of one source), newest first."""
        self.ensure_ready()
        query: dict[str, Any] = {"term": {"source": source}} if source else {"match_all": {}}
        response = call(self.es, "reading the entity merges", lambda: self.es.search(
            index=self.index, query=query, size=_MAX_RULES, sort=[{"at": {"order": "desc"}}]))
        # Under the keys of this code, even before a writer moved them (``migrate_keys``).
        rules = (current_rule(EntityMerge.from_dict(hit["_source"])) for hit in response["hits"]["hits"])
        return [rule for rule in rules if rule is not None]

    def recorded_rules(self) -> list[EntityMerge]:
        """``rules()`` for a reader that must not create the index (`vigie analyze`): none when it is missing."""
        exists = call(self.es, f"looking up {self.index}", lambda: self.es.indices.exists(index=self.index))
        return self.rules() if exists else []

    def remove(self, rule_id: str) -> bool:
        self.ensure_ready()
        response = call(self.es, f"removing entity merge {rule_id}", lambda: self.es.options(ignore_status=404).delete(
            index=self.index, id=rule_id, refresh="wait_for"))
        return response.get("result") == "deleted"

    # -- what the articles index says ------------------------------------------------------------

    def shared_entities(self, entity_id: str, others: Sequence[str], *, articles: int = 5) -> tuple[list[str], list[str]]:
        """Which of ``others`` (entity ids) appear in articles beside ``entity_id``, and a few of
        those articles (the evidence)."""
        others = [other for other in dict.fromkeys(others) if other and other != entity_id]
        if not others:
            return [], []
        response = call(self.es, f"reading the company of entity {entity_id}", lambda: self.es.search(
            index=articles_alias(self.prefix), size=articles, track_total_hits=False, source=False,
            stored_fields="_none_", docvalue_fields=["article_id"],  # ids from doc values: no text decompressed
            query={"bool": {"filter": [{"term": {"entity_ids": entity_id}}, {"terms": {"entity_ids": others}}]}},
            sort=[{"fetched_at": {"order": "desc"}}],
            aggs={"shared": {"terms": {"field": "entity_ids", "include": others, "size": len(others)}}}))
        shared = sorted(bucket["key"] for bucket in response["aggregations"]["shared"]["buckets"])
        return shared, [hit["fields"]["article_id"][0] for hit in response["hits"]["hits"]]

    def article_entities(self, article_ids: Sequence[str]) -> dict[str, tuple[Entity, ...]]:
        """The stored entities of each of ``article_ids`` found (a real-time read by id, in whichever
        backing index holds it)."""
        ids = list(dict.fromkeys(article_ids))
        members, _ = alias_members(self.es, self.prefix)
        if not ids or not members:
            return {}
        docs = [{"_index": index, "_id": article_id} for article_id in ids for index in members]
        response = call(self.es, f"reading the entities of {len(ids)} articles (first: {ids[0]})",
                        lambda: self.es.mget(docs=docs, source=["entity_list"]))
        return {doc["_id"]: tuple(Entity.from_dict(entity) for entity in doc["_source"].get("entity_list") or ())
                for doc in response["docs"] if doc.get("found")}

    def story_carriers(self, story_ids: Sequence[str], entity_ids: Sequence[str], *,
                       per_pair: int = 3) -> dict[tuple[str, str], list[str]]:
        """For each (story, entity) of ``story_ids`` x ``entity_ids`` that some stored article of the
        story carries, a few such articles (earliest first): one search, whatever the numbers. (An
        article's story mark is searchable after the next refresh, a second at most.)"""
        stories, entities = sorted(set(story_ids)), sorted(set(entity_ids))
        if not stories or not entities:
            return {}
        response = call(self.es, f"reading which of {len(entities)} entities {len(stories)} stories carry "
                                 f"(first story: {stories[0]})", lambda: self.es.search(
            index=articles_alias(self.prefix), size=0, track_total_hits=False,
            query={"bool": {"filter": [{"terms": {"story_id": stories}}, {"terms": {"entity_ids": entities}}]}},
            aggs={"stories": {"terms": {"field": "story_id", "size": len(stories)}, "aggs": {
                "entities": {"terms": {"field": "entity_ids", "include": entities, "size": len(entities)}, "aggs": {
                    # ids from doc values: reading "_source" decompressed each hit's whole article
                    "articles": {"top_hits": {"size": per_pair, "_source": False, "stored_fields": "_none_",
                                              "docvalue_fields": ["article_id"],
                                              "sort": [{"fetched_at": {"order": "asc"}}]}}}}}}}))
        found: dict[tuple[str, str], list[str]] = {}
        for story in response["aggregations"]["stories"]["buckets"]:
            for entity in story["entities"]["buckets"]:
                found[(story["key"], entity["key"])] = [hit["fields"]["article_id"][0]
                                                        for hit in entity["articles"]["hits"]["hits"]]
        return found

    def entity_name(self, entity_id: str) -> tuple[str, str] | None:
        """The canonical name and label of an entity as stored articles hold it."""
        response = call(self.es, f"looking up entity {entity_id}", lambda: self.es.search(
            index=articles_alias(self.prefix), size=1, track_total_hits=False, _source=["entity_list"],
            query={"term": {"entity_ids": entity_id}}))
        for hit in response["hits"]["hits"]:
            for entity in hit["_source"].get("entity_list") or []:
                if entity.get("id") == entity_id:
                    return entity.get("name") or entity.get("text") or entity_id, entity.get("label") or ""
        return None

    def relabel_articles(self, rule: EntityMerge, rules: Mapping[str, EntityMerge],
                         progress: Callable[[int, int], None] | None = None) -> int:
        """Apply ``rules`` (the effective ones, ``rule`` among them) to the stored articles that name
        ``rule``'s variant. Returns how many articles changed; ``progress(done, total)`` after each page."""
        alias = articles_alias(self.prefix)
        query = {"match_phrase": {"entity_names": search_fold(rule.variant)}}
        changed = done = 0
        after: list[Any] | None = None
        while True:
            page = call(self.es, f"reading the articles naming {rule.variant!r}", lambda: self.es.search(
                index=alias, size=_PAGE, query=query, sort=[{"article_id": "asc"}], search_after=after,
                track_total_hits=True, _source=["article_id", "entity_list"]))
            hits = page["hits"]["hits"]
            total = int(page["hits"]["total"]["value"])
            operations: list[dict[str, Any]] = []
            for hit in hits:
                before = tuple(Entity.from_dict(entity) for entity in hit["_source"].get("entity_list") or ())
                after_rules = apply_merges(before, rules)
                if after_rules != before:
                    operations += [{"update": {"_index": hit["_index"], "_id": hit["_id"]}},
                                   {"doc": entity_fields(after_rules)}]
            if operations:
                response = call(self.es, f"re-labelling {len(operations) // 2} articles naming {rule.variant!r}",
                                lambda: self.es.bulk(operations=operations, refresh="wait_for"))
                changed += sum(1 for item in response["items"] if not item["update"].get("error"))
            done += len(hits)
            if progress is not None and hits:
                progress(done, total)
            if len(hits) < _PAGE:
                return changed
            after = hits[-1]["sort"]


def entity_fields(entities: Iterable[Entity]) -> dict[str, Any]:
    """The entity fields of an article document for ``entities`` (as ``index.article_document``
    shapes them; tests/index/test_entity_merges.py holds the two together)."""
    entities = tuple(entities)
    by_kind: dict[str, list[dict[str, Any]]] = {kind: [] for kind in ENTITY_KINDS}
    for entity in entities:
        by_kind[_KIND_OF_LABEL[entity.label]].append(
            {"text": entity.text, "key": entity.key, "ref": entity_ref(entity), "mentions": entity.mentions})
    return {
        "entity_list": [entity.to_dict() for entity in entities],
        "entities": by_kind,
        "entity_keys": sorted({entity.key for entity in entities if entity.key}),
        "entity_ids": sorted({entity.id for entity in entities if entity.id}),
        "entity_refs": sorted({entity_ref(entity) for entity in entities if entity_ref(entity)}),
        "entity_names": [search_fold(" | ".join(dict.fromkeys((entity.name or entity.text, *entity.variants))))
                         for entity in entities],
    }
