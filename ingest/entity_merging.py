"""Merges of name variants into known entities, with their evidence; manual merges and splits.

Linking (``ingest.entity_linking``) joins a variant to a known person inside one article (the article
names the person in a known spelling); ``article_merges`` finds those joins again in the analysis, so
they are recorded too, with the evidence ``same-article``. Across
articles, a name the knowledge base lacks ("Wladimir Poutin") whose romanised key is one letter
away from an entity already seen is the same entity only when the context confirms it: the two
share co-occurring entities (``MIN_SHARED`` ids or more). Each such merge is an ``EntityMerge``
holding its evidence (kind, articles, edit distance, shared ids); the worker records it
(``index.entity_merges``) and applies it to every later article. The same story confirms it too
(``same_story_merge``, evidence ``same-story``): the story consumer (``worker.story_tasks``) knows
which articles are one event, and merges a name of a new member into the entity, one letter away and
of the same label, that another member of the story carries.

A person can force or undo one (``vigie entities merge|split``): a manual rule wins over an
automatic one for the same variant key. ``apply_merges`` is what every new article goes through:
an entity any of whose forms has a rule's variant key takes the rule's identity, and entities of
one article that end with the same id become one.

Finding "one letter away" cheaply: two keys within edit distance 1 share at least one of their
deletion forms (the key, and the key with one character removed), so a registry of the deletion
forms of the keys seen answers with one set lookup per form (``deletion_forms``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Literal

from ingest.entity_kb import KnowledgeBase
from ingest.entity_linking import unknown_id
from ingest.models import Entity
from ingest.name_keys import has_distinct_given_name, name_key, spelling_distance

Action = Literal["merge", "split"]
Source = Literal["auto", "manual"]
#: Shared co-occurring entity ids that confirm a cross-article merge.
MIN_SHARED = 2
#: A key shorter than this, or of one word, is too common a name for a merge by spelling alone.
MIN_KEY = 8
_MAX_ID_KEY_BYTES = 400
EVIDENCE_KINDS = ("same-article", "shared-entities", "same-story", "manual")


@dataclass(frozen=True, slots=True)
class MergeEvidence:
    """Why a variant was merged: how (``EVIDENCE_KINDS``), the articles that show it, the edit
    distance between the keys, the co-occurring entity ids the two share."""

    kind: str
    article_ids: tuple[str, ...] = ()
    distance: int = 0
    shared_ids: tuple[str, ...] = ()
    note: str = ""
    story_id: str = ""  # kind "same-story": the story both articles are in

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "article_ids": list(self.article_ids), "distance": self.distance,
                "shared_ids": list(self.shared_ids), "note": self.note, "story_id": self.story_id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MergeEvidence:
        return cls(kind=str(data.get("kind") or "manual"), article_ids=tuple(data.get("article_ids") or ()),
                   distance=int(data.get("distance") or 0), shared_ids=tuple(data.get("shared_ids") or ()),
                   note=str(data.get("note") or ""), story_id=str(data.get("story_id") or ""))


@dataclass(frozen=True, slots=True)
class EntityMerge:
    """One rule about a variant: ``merge`` (its mentions take ``target_id``) or ``split`` (they get
    their own id again; ``target_id``, when set, is the entity it leaves, and only that one)."""

    variant: str  # as written ("Wladimir Poutin")
    variant_key: str  # ingest.name_keys.name_key of it: what the rule matches
    action: Action
    source: Source
    target_id: str = ""
    target_name: str = ""
    label: str = ""
    evidence: MergeEvidence = field(default_factory=lambda: MergeEvidence("manual"))
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def rule_id(self) -> str:
        """One automatic and one manual rule per variant key at most: a new one replaces the old.
        (A very long key is hashed: a document id holds at most 512 bytes.)"""
        if len(self.variant_key.encode()) <= _MAX_ID_KEY_BYTES:
            return f"{self.source}:{self.variant_key}"
        return f"{self.source}:sha1:{hashlib.sha1(self.variant_key.encode()).hexdigest()}"

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "variant": self.variant, "variant_key": self.variant_key,
                "action": self.action, "source": self.source, "target_id": self.target_id,
                "target_name": self.target_name, "label": self.label, "evidence": self.evidence.to_dict(),
                "at": self.at.isoformat()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EntityMerge:
        at = data.get("at")
        return cls(variant=str(data["variant"]), variant_key=str(data["variant_key"]),
                   action="split" if data.get("action") == "split" else "merge",
                   source="manual" if data.get("source") == "manual" else "auto",
                   target_id=str(data.get("target_id") or ""), target_name=str(data.get("target_name") or ""),
                   label=str(data.get("label") or ""), evidence=MergeEvidence.from_dict(data.get("evidence") or {}),
                   at=datetime.fromisoformat(at) if isinstance(at, str) else datetime.now(timezone.utc))


def variant_key(text: str) -> str:
    """The key a rule about ``text`` matches (its romanised, spelling-folded form)."""
    return name_key(text)


def current_rule(rule: EntityMerge) -> EntityMerge | None:
    """``rule`` under the name keys of this code. A rule recorded under an older key of its variant
    (before "Jeanne" stopped sharing "Jean"'s key, ``ingest.name_keys.DISTINCT_GIVEN_NAMES``) takes
    its variant's key now, so that it matches the name it was about and not the other one; an
    automatic merge that concerns such a name and whose variant is no longer within one edit of its
    target's name is one the worker would not make now: None (dropped)."""
    key = variant_key(rule.variant)
    concerned = key != rule.variant_key or has_distinct_given_name(rule.target_name)
    if not concerned:
        return rule
    if rule.source == "auto" and rule.action == "merge" and rule.target_name and \
            spelling_distance(key, name_key(rule.target_name), 1) > 1:
        return None
    return rule if key == rule.variant_key else replace(rule, variant_key=key)


def manual_merge(variant: str, target_id: str, target_name: str, *, note: str = "") -> EntityMerge:
    return EntityMerge(variant, variant_key(variant), "merge", "manual", target_id, target_name,
                       evidence=MergeEvidence("manual", note=note))


def manual_split(variant: str, from_id: str = "", from_name: str = "", *, note: str = "") -> EntityMerge:
    return EntityMerge(variant, variant_key(variant), "split", "manual", from_id, from_name,
                       evidence=MergeEvidence("manual", note=note))


def effective_rules(rules: Iterable[EntityMerge]) -> dict[str, EntityMerge]:
    """The rule that applies to each variant key: the manual one if any, else the automatic one."""
    chosen: dict[str, EntityMerge] = {}
    for rule in rules:
        current = chosen.get(rule.variant_key)
        if current is None or (rule.source == "manual" and current.source != "manual") or (
                rule.source == current.source and rule.at > current.at):
            chosen[rule.variant_key] = rule
    return chosen


def entity_keys(entity: Entity) -> set[str]:
    """The variant keys of an entity's forms: what a rule about any of them matches."""
    return {variant_key(form) for form in (entity.text, *entity.variants) if form}


def rule_for(entity: Entity, rules: Mapping[str, EntityMerge]) -> EntityMerge | None:
    if not rules:
        return None
    # The entity's own text first: "Poutine" inside "Vladimir Poutine"'s variants is a weaker cue.
    for key in sorted(entity_keys(entity), key=lambda key: key != variant_key(entity.text)):
        rule = rules.get(key)
        if rule is not None:
            return rule
    return None


def apply_rule(entity: Entity, rule: EntityMerge) -> Entity:
    """``entity`` under ``rule`` (unchanged when the rule does not concern its current identity)."""
    if rule.action == "merge":
        if entity.id == rule.target_id:
            return entity
        return replace(entity, id=rule.target_id, name=rule.target_name or entity.name)
    if rule.target_id and entity.id != rule.target_id:
        return entity  # split from another entity than this one's
    own = unknown_id(entity.label, rule.variant)
    return entity if entity.id == own else replace(entity, id=own, name=rule.variant)


def apply_merges(entities: Sequence[Entity], rules: Mapping[str, EntityMerge]) -> tuple[Entity, ...]:
    """The article's entities with the rules applied (by variant key, see ``effective_rules``);
    entities that end with one id are joined."""
    if not rules:
        return tuple(entities)
    changed = []
    for entity in entities:
        rule = rule_for(entity, rules)
        changed.append(apply_rule(entity, rule) if rule is not None else entity)
    return join_same_ids(changed)


def join_same_ids(entities: Sequence[Entity]) -> tuple[Entity, ...]:
    """One entity per id (first position kept): mentions added, spans and variants together."""
    by_id: dict[str, list[Entity]] = {}
    order: list[Entity | str] = []
    for entity in entities:
        if not entity.id:
            order.append(entity)
            continue
        if entity.id not in by_id:
            order.append(entity.id)
        by_id.setdefault(entity.id, []).append(entity)
    joined: list[Entity] = []
    for item in order:
        if isinstance(item, Entity):
            joined.append(item)
            continue
        group = by_id[item]
        if len(group) == 1:
            joined.append(group[0])
            continue
        main = max(group, key=lambda entity: (entity.mentions, len(entity.text)))
        variants = tuple(dict.fromkeys(form for entity in group for form in (entity.variants or (entity.text,))))
        joined.append(replace(main, mentions=sum(entity.mentions for entity in group),
                              spans=tuple(sorted(span for entity in group for span in entity.spans)),
                              variants=variants))
    return tuple(joined)


# -- cross-article merges ------------------------------------------------------------------------


def deletion_forms(key: str) -> set[str]:
    """The key and every form of it with one character removed: two keys within edit distance 1
    share at least one."""
    return {key, *(key[:at] + key[at + 1:] for at in range(len(key)))}


def mergeable_key(key: str) -> bool:
    """Whether a key is distinctive enough to be merged by spelling plus context."""
    return " " in key and len(key) >= MIN_KEY


@dataclass(frozen=True, slots=True)
class SeenEntity:
    """An entity already seen in an earlier article (``state.entity_keys``)."""

    id: str
    name: str
    label: str
    key: str


def close_entities(key: str, label: str, own_id: str, seen: Iterable[SeenEntity]) -> list[tuple[SeenEntity, int]]:
    """The entities seen whose key is within edit distance 1 of ``key``, of the same label, other
    than the variant itself; nearest first."""
    found = []
    for other in seen:
        if other.id == own_id or other.label != label:
            continue
        distance = spelling_distance(key, other.key, 1)
        if distance <= 1:
            found.append((other, distance))
    return sorted(found, key=lambda pair: (pair[1], pair[0].id))


def is_unknown(entity: Entity, known_ids: Collection[str]) -> bool:
    """A name neither the knowledge base nor an earlier merge gave an identity."""
    return bool(entity.id) and entity.id.startswith("v:") and entity.id not in known_ids \
        and entity.id == unknown_id(entity.label, entity.text)


def cross_article_merge(entity: Entity, article_id: str, candidate: SeenEntity, distance: int,
                        shared: Sequence[str], article_ids: Sequence[str]) -> EntityMerge | None:
    """The automatic merge of ``entity`` into ``candidate`` when they share enough co-occurring
    entities (``MIN_SHARED``), with its evidence; None otherwise."""
    if len(shared) < MIN_SHARED:
        return None
    evidence = MergeEvidence("shared-entities", tuple(dict.fromkeys((article_id, *article_ids))), distance,
                             tuple(sorted(shared)))
    return EntityMerge(entity.text, variant_key(entity.text), "merge", "auto", candidate.id, candidate.name,
                       entity.label, evidence)


def article_merges(entity: Entity, article_id: str, kb: KnowledgeBase) -> list[EntityMerge]:
    """The spellings the linker joined to a known entity of ``entity``'s article on the article's
    word: forms of two words or more that the knowledge base does not list for it, one letter from
    its name ("Wladimir Poutin" beside "Vladimir Putin"), as merges with the evidence ``same-article``."""
    known = kb.by_id.get(entity.id)
    if known is None:
        return []
    target = name_key(known.name)
    found = []
    for form in dict.fromkeys((entity.text, *entity.variants)):
        key = variant_key(form)
        if " " not in key or key == target:
            continue
        if any(candidate.entity.id == entity.id for candidate in kb.by_name_key(key)):
            continue  # a spelling the knowledge base lists: no merge
        listed = kb.lookup(form)
        if listed is not None and listed.id == entity.id:
            continue
        distance = spelling_distance(key, target, 1)
        if distance <= 1:
            found.append(EntityMerge(form, key, "merge", "auto", entity.id, known.name, entity.label,
                                     MergeEvidence("same-article", (article_id,), distance)))
    return found


# -- merges confirmed by the same story -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoryPeer:
    """An article carrying a candidate entity, and the story it is in (story merges followed)."""

    article_id: str
    story_id: str


def same_story_merge(entity: Entity, article_id: str, story_id: str, seen: Iterable[SeenEntity],
                     peers: Mapping[str, Sequence[StoryPeer]], rules: Mapping[str, EntityMerge]) -> EntityMerge | None:
    """The automatic merge of ``entity`` (of article ``article_id``, in story ``story_id``) into an
    entity another article of the same story carries, with the evidence ``same-story``; None when
    the context does not confirm one.

    ``seen``: entities seen before whose keys may be one letter from ``entity``'s (``SeenEntities.near``);
    ``peers``: for each of their ids, articles carrying it and their stories. Precision first, so no
    merge when: ``entity`` has an identity (the knowledge base's, or a rule's); its key is not
    distinctive (``mergeable_key``); any rule, manual or automatic, merge or split, is recorded for its
    key (a reviewer's split stays a split); no candidate of the same label within one edit is carried
    by another article of this story; or two such candidates of different ids are equally near."""
    key = variant_key(entity.text)
    if not story_id or not is_unknown(entity, ()) or not mergeable_key(key) or key in rules:
        return None
    confirmed: list[tuple[SeenEntity, int, StoryPeer]] = []
    for candidate, distance in close_entities(key, entity.label, entity.id, seen):
        peer = next((peer for peer in peers.get(candidate.id, ())
                     if peer.story_id == story_id and peer.article_id != article_id), None)
        if peer is not None:
            confirmed.append((candidate, distance, peer))
    if not confirmed:
        return None
    nearest = confirmed[0][1]
    if len({candidate.id for candidate, distance, _ in confirmed if distance == nearest}) > 1:
        return None  # which one? a reviewer can say (`vigie entities merge`)
    candidate, distance, peer = confirmed[0]
    evidence = MergeEvidence("same-story", (article_id, peer.article_id), distance, story_id=story_id)
    return EntityMerge(entity.text, key, "merge", "auto", candidate.id, candidate.name, entity.label, evidence)
