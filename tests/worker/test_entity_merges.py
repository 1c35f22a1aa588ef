"""Entity merges with the real Redis and Elasticsearch: a variant one letter away joins an entity seen
in an earlier article only when they share co-occurring entities; the merge is recorded with its
evidence and applies to later articles; a manual split or merge wins, reaches the workers through the
rules' version and re-labels the stored articles."""

from __future__ import annotations

import pytest
from dataclasses import replace
from datetime import datetime, timezone

from elasticsearch import Elasticsearch

from index.entity_merges import MergeStore, entity_fields, merges_index
from index.article_document import article_document
from ingest.entity_linking import unknown_id
from ingest.entity_merging import (EntityMerge, MergeEvidence, apply_merges, effective_rules, manual_split,
                                   variant_key)
from ingest.models import AnalyzedArticle, Entity
from state.entity_keys import SeenEntities
from tests.index.factories import analysed
from conf.settings import Settings
from vigie.entity_rules import EntityRules
from worker.entity_merges import resolve_entities
from worker.runtime import Runtime

pytestmark = pytest.mark.integration


OSLO = ("Oslo", "gn:3143244", "LOCATION")
NATO = ("NATO", "Q7184", "ORGANIZATION")
EQUINOR = ("Equinor", "Q1132286", "ORGANIZATION")
PARIS = ("Paris", "Q90", "LOCATION")


def entity(text: str, entity_id: str | None = None, label: str = "PERSON", name: str | None = None) -> Entity:
    return Entity(text=text, label=label, mentions=1, spans=((0, len(text)),), key=text.lower(),
                  id=entity_id or unknown_id(label, text), name=name or text, variants=(text,))


def article(article_id: str, person: str, *company: tuple[str, str, str]) -> AnalyzedArticle:
    entities = (entity(person), *(entity(text, entity_id, label) for text, entity_id, label in company))
    text = f"{person} met officials in " + ", ".join(text for text, _, _ in company) + "."
    return analysed(article_id, title=f"{person} in the news", text=text, language="en", entities=entities,
                    url=f"https://outlet.example/{article_id}")


def process(rt: Runtime, items: list[AnalyzedArticle]) -> list[AnalyzedArticle]:
    """What the worker does with a batch: merges after analysis, then the write."""
    done = resolve_entities(rt, items)
    rt.store.index_batch(done, refresh=True)
    return done


def person_of(item: AnalyzedArticle) -> Entity:
    return next(e for e in item.analysis.entities if e.label == "PERSON")


def stored_person(es: Elasticsearch, settings: Settings, article_id: str) -> dict[str, object]:
    source = es.get(index=f"{settings.index_prefix}-articles", id=article_id)["_source"]
    return next(e for e in source["entity_list"] if e["label"] == "PERSON") | {"entity_ids": source["entity_ids"]}


def test_a_variant_sharing_company_joins_the_entity_seen_before_and_the_merge_is_recorded(
        settings: Settings, es: Elasticsearch) -> None:
    rt = Runtime(settings)
    (first,) = process(rt, [article("a1", "Ingrid Halvorsen", OSLO, NATO, EQUINOR)])
    original = person_of(first).id
    assert SeenEntities(rt.redis).count() >= 1

    (second,) = process(rt, [article("a2", "Ingrid Halvarsen", OSLO, NATO)])
    assert person_of(second).id == original and person_of(second).name == "Ingrid Halvorsen"
    assert person_of(second).text == "Ingrid Halvarsen"
    assert stored_person(es, settings, "a2")["id"] == original

    (recorded,) = MergeStore(rt.es, settings.index_prefix).rules()
    assert (recorded.source, recorded.action, recorded.variant, recorded.target_id) == (
        "auto", "merge", "Ingrid Halvarsen", original)
    assert recorded.evidence.kind == "shared-entities" and recorded.evidence.distance == 1
    assert set(recorded.evidence.shared_ids) == {"gn:3143244", "Q7184"}
    assert recorded.evidence.article_ids[:2] == ("a2", "a1")

    # Recorded, it applies to a later article without asking the context again.
    (third,) = process(rt, [article("a3", "Ingrid Halvarsen", PARIS)])
    assert person_of(third).id == original


def test_a_variant_without_shared_company_keeps_its_own_identity(settings: Settings, es: Elasticsearch) -> None:
    rt = Runtime(settings)
    process(rt, [article("b1", "Ingrid Halvorsen", OSLO, NATO, EQUINOR)])
    (other,) = process(rt, [article("b2", "Ingrid Halvarsen", PARIS, OSLO)])  # one shared entity only
    assert person_of(other).id == unknown_id("PERSON", "Ingrid Halvarsen")
    assert MergeStore(rt.es, settings.index_prefix).rules() == []


def test_a_manual_split_wins_relabels_stored_articles_and_reaches_the_worker(
        settings: Settings, es: Elasticsearch) -> None:
    worker_rt = Runtime(settings)
    process(worker_rt, [article("c1", "Ingrid Halvorsen", OSLO, NATO, EQUINOR)])
    (merged,) = process(worker_rt, [article("c2", "Ingrid Halvarsen", OSLO, NATO)])
    original = person_of(merged).id
    own = unknown_id("PERSON", "Ingrid Halvarsen")
    assert original != own

    rules = EntityRules(settings)
    progress: list[tuple[int, int]] = []
    done = rules.split("Ingrid Halvarsen", original, note="two people", progress=lambda d, t: progress.append((d, t)))
    assert done["articles_relabelled"] == 1 and progress and progress[-1][0] == progress[-1][1]
    assert stored_person(es, settings, "c2")["id"] == own
    assert own in stored_person(es, settings, "c2")["entity_ids"]
    assert stored_person(es, settings, "c1")["id"] == original  # the target's own article is untouched

    # The worker that loaded the rules before the split sees it at its next batch (version moved).
    (later,) = process(worker_rt, [article("c3", "Ingrid Halvarsen", OSLO, NATO, EQUINOR)])
    assert person_of(later).id == own
    listed = rules.rules()
    assert [(r["source"], r["action"], r["in_force"]) for r in listed] == [
        ("manual", "split", True), ("auto", "merge", False)]
    assert listed[0]["evidence"]["note"] == "two people"

    # Forced back: a manual merge replaces the manual split, for stored and new articles.
    again = rules.merge("Ingrid Halvarsen", "Ingrid Halvorsen")
    assert again["target_id"] == original and again["articles_relabelled"] == 2
    assert stored_person(es, settings, "c3")["id"] == original
    (last,) = process(worker_rt, [article("c4", "Ingrid Halvarsen", PARIS)])
    assert person_of(last).id == original


def test_relabelled_entity_fields_are_those_the_article_document_would_hold(settings: Settings) -> None:
    item = article("d1", "Ingrid Halvarsen", OSLO, NATO)
    document = article_document(item).to_dict()
    fields = entity_fields(item.analysis.entities)
    assert {name: document[name] for name in fields} == fields
    changed = replace(item, analysis=replace(item.analysis, entities=(entity("Ingrid Halvarsen", "v:x"),)))
    assert entity_fields(changed.analysis.entities)["entity_ids"] == article_document(changed).to_dict()["entity_ids"]


def test_a_spelling_joined_inside_one_article_is_recorded_with_that_evidence(settings: Settings, es: Elasticsearch) -> None:
    rt = Runtime(settings)
    putin = Entity(text="Vladimir Putin", label="PERSON", mentions=2, spans=((0, 14), (30, 45)), key="vladimir putin",
                   id="Q7747", name="Vladimir Putin", variants=("Vladimir Putin", "Vladimir Pution"))
    item = analysed("e1", title="Vladimir Putin in Moscow", text="Vladimir Putin spoke. Vladimir Pution said.",
                    language="en", entities=(putin,), url="https://outlet.example/e1")
    (done,) = process(rt, [item])
    assert done.analysis.entities == (putin,)  # the identity was already right: only recorded
    (recorded,) = MergeStore(rt.es, settings.index_prefix).rules()
    assert (recorded.variant, recorded.target_id, recorded.evidence.kind, recorded.evidence.article_ids) == (
        "Vladimir Pution", "Q7747", "same-article", ("e1",))
    process(rt, [replace(item, article=replace(item.article, article_id="e2"))])
    assert len(MergeStore(rt.es, settings.index_prefix).rules()) == 1  # recorded once, not per article


def test_rules_recorded_under_an_older_name_key_move_to_their_key_now(settings: Settings, es: Elasticsearch) -> None:
    """Before "Louise" had a key of its own it shared "Louis"'s ("luis michel"): a split recorded then
    for "Louise Michel" would now split "Louis Michel", and a merge of a spelling of "Louise" into
    "Louis" is one the worker would no longer make. Stored as the older code wrote them, they are
    moved to the variant's key now, the unsupported merge is dropped, the others stay as they were."""
    at = datetime(2026, 11, 1, tzinfo=timezone.utc)
    split = replace(manual_split("Louise Michel", note="the anarchist, not the commissioner"),
                    variant_key="luis michel", at=at)
    merge = EntityMerge("Louise Michels", "luis michels", "merge", "auto", "v:louis-michel", "Louis Michel", "PERSON",
                        MergeEvidence("shared-entities", ("a1", "a2"), 1, ("Q239", "Q31")), at=at)
    kept = EntityMerge("Vladimir Pution", variant_key("Vladimir Pution"), "merge", "auto", "Q7747", "Vladimir Putin",
                       "PERSON", MergeEvidence("same-article", ("a3",), 1), at=at)
    store = MergeStore(es, settings.index_prefix)
    store.ensure_ready()
    store.save([split, merge, kept])  # as the code before wrote them

    fresh = MergeStore(es, settings.index_prefix)  # a process of this code: moves them when it opens the index
    assert {(rule.variant, rule.variant_key, rule.source) for rule in fresh.rules()} == {
        ("Louise Michel", variant_key("Louise Michel"), "manual"), ("Vladimir Pution", "vladimir pution", "auto")}
    stored = es.search(index=merges_index(settings.index_prefix), query={"match_all": {}}, size=10)["hits"]["hits"]
    assert sorted(hit["_id"] for hit in stored) == sorted([f"manual:{variant_key('Louise Michel')}", kept.rule_id])
    moved = next(EntityMerge.from_dict(hit["_source"]) for hit in stored if hit["_source"]["source"] == "manual")
    assert moved.evidence.note == "the anarchist, not the commissioner" and moved.at == at
    assert fresh.migrate_keys() == (0, 0)  # nothing left to move

    rules = effective_rules(fresh.rules())
    louis = entity("Louis Michel")
    assert apply_merges((louis,), rules) == (louis,)  # the commissioner keeps his identity
    louise = entity("Louise Michel", "v:someone-else")
    assert apply_merges((louise,), rules)[0].id == unknown_id("PERSON", "Louise Michel")  # the split applies to her


def test_a_split_gives_an_article_stored_under_the_older_shared_key_its_own_identity(
        settings: Settings, es: Elasticsearch) -> None:
    """An article stored when "Jeanne Dupuis" still shared "Jean Dupuis"'s key carries his id; a split
    of her name re-labels it with her own id now, and leaves his article alone."""
    import hashlib

    shared = "v:" + hashlib.sha1("PERSON|iean dupuis".encode()).hexdigest()[:12]  # the id both had then
    assert unknown_id("PERSON", "Jean Dupuis") == shared != unknown_id("PERSON", "Jeanne Dupuis")
    rt = Runtime(settings)
    jeanne = analysed("f1", title="Jeanne Dupuis wins", text="Jeanne Dupuis won the race in Lorient.", language="en",
                      entities=(entity("Jeanne Dupuis", shared, name="Jean Dupuis"),), url="https://outlet.example/f1")
    jean = analysed("f2", title="Jean Dupuis re-elected", text="Jean Dupuis was re-elected in Quimper.", language="en",
                    entities=(entity("Jean Dupuis", shared),), url="https://outlet.example/f2")
    rt.store.index_batch([jeanne, jean], refresh=True)
    done = EntityRules(settings).split("Jeanne Dupuis", note="two people")
    assert done["articles_relabelled"] == 1
    assert stored_person(es, settings, "f1")["id"] == unknown_id("PERSON", "Jeanne Dupuis")
    assert stored_person(es, settings, "f2")["id"] == shared
