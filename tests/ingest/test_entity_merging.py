"""Merge rules on an article's entities, and the cheap "one letter away" test (no service needed)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from ingest.entity_linking import unknown_id
from ingest.entity_merging import (EntityMerge, MergeEvidence, SeenEntity, apply_merges, close_entities,
                                   cross_article_merge, deletion_forms, effective_rules, is_unknown, manual_merge,
                                   manual_split, mergeable_key, variant_key)
from ingest.models import Entity
from ingest.name_keys import key_distance


def unknown(text: str, label: str = "PERSON", start: int = 0, mentions: int = 1) -> Entity:
    return Entity(text=text, label=label, mentions=mentions, spans=((start, start + len(text)),), key=text.lower(),
                  id=unknown_id(label, text), name=text, variants=(text,))


def known(text: str, entity_id: str, name: str, label: str = "PERSON", start: int = 0) -> Entity:
    return Entity(text=text, label=label, mentions=1, spans=((start, start + len(text)),), key=text.lower(),
                  id=entity_id, name=name, variants=(text,))


def test_a_manual_merge_gives_the_variant_the_target_identity_in_any_spelling_of_its_key() -> None:
    rule = manual_merge("Ingrid Halvarsen", "v:ingrid", "Ingrid Halvorsen")
    # "Ingrid Halwarsen" romanises to the same key (German w -> v): the rule is about the key.
    entities = (unknown("Ingrid Halwarsen"), known("Oslo", "gn:3143244", "Oslo", "LOCATION", 40))
    merged = apply_merges(entities, {rule.variant_key: rule})
    assert [(e.id, e.name) for e in merged] == [("v:ingrid", "Ingrid Halvorsen"), ("gn:3143244", "Oslo")]
    assert merged[0].text == "Ingrid Halwarsen"  # the surface stays as written


def test_entities_that_end_with_one_id_become_one_with_their_mentions_spans_and_variants() -> None:
    rule = manual_merge("Ingrid Halvarsen", "v:ingrid", "Ingrid Halvorsen")
    entities = (known("Ingrid Halvorsen", "v:ingrid", "Ingrid Halvorsen", start=0), unknown("Ingrid Halvarsen", start=50))
    (joined,) = apply_merges(entities, {rule.variant_key: rule})
    assert joined.id == "v:ingrid" and joined.mentions == 2
    assert joined.spans == ((0, 16), (50, 66))
    assert set(joined.variants) == {"Ingrid Halvorsen", "Ingrid Halvarsen"}


def test_a_split_gives_the_variant_its_own_id_and_only_from_the_entity_named() -> None:
    merged = known("Ingrid Halvarsen", "v:ingrid", "Ingrid Halvorsen")
    split = manual_split("Ingrid Halvarsen", "v:ingrid", "Ingrid Halvorsen")
    (alone,) = apply_merges((merged,), {split.variant_key: split})
    assert alone.id == unknown_id("PERSON", "Ingrid Halvarsen") and alone.name == "Ingrid Halvarsen"
    elsewhere = known("Ingrid Halvarsen", "Q1", "Someone Else")
    assert apply_merges((elsewhere,), {split.variant_key: split}) == (elsewhere,)
    anywhere = manual_split("Ingrid Halvarsen")
    assert apply_merges((elsewhere,), {anywhere.variant_key: anywhere})[0].id == alone.id


def test_a_manual_rule_wins_over_the_automatic_one_of_the_same_variant_whatever_their_order() -> None:
    t0 = datetime(2026, 11, 30, tzinfo=timezone.utc)
    auto = EntityMerge("Ingrid Halvarsen", variant_key("Ingrid Halvarsen"), "merge", "auto", "v:ingrid",
                       "Ingrid Halvorsen", "PERSON", MergeEvidence("shared-entities", ("a1", "a2"), 1, ("Q1", "Q2")),
                       at=t0 + timedelta(hours=1))
    manual = EntityMerge("Ingrid Halvarsen", auto.variant_key, "split", "manual", at=t0)
    for order in ([auto, manual], [manual, auto]):
        assert effective_rules(order)[auto.variant_key] is manual
    newer = EntityMerge("Ingrid Halvarsen", auto.variant_key, "merge", "manual", "Q9", "Other", at=t0 + timedelta(hours=2))
    assert effective_rules([manual, newer, auto])[auto.variant_key] is newer


def test_a_rule_round_trips_through_its_stored_form() -> None:
    rule = EntityMerge("Ingrid Halvarsen", "ingrid halvarsen", "merge", "auto", "v:ingrid", "Ingrid Halvorsen",
                       "PERSON", MergeEvidence("shared-entities", ("a1", "a2"), 1, ("Q1", "Q2")))
    assert EntityMerge.from_dict(rule.to_dict()) == rule
    assert rule.rule_id == "auto:ingrid halvarsen"


def test_a_cross_article_merge_needs_two_shared_co_occurring_entities_and_keeps_its_evidence() -> None:
    variant = unknown("Ingrid Halvarsen")
    seen = SeenEntity("v:ingrid", "Ingrid Halvorsen", "PERSON", "ingrid halvorsen")
    assert cross_article_merge(variant, "a2", seen, 1, ["gn:3143244"], ["a1"]) is None
    merge = cross_article_merge(variant, "a2", seen, 1, ["gn:3143244", "Q7184"], ["a1"])
    assert merge is not None and merge.source == "auto" and merge.target_id == "v:ingrid"
    assert merge.evidence == MergeEvidence("shared-entities", ("a2", "a1"), 1, ("Q7184", "gn:3143244"))


def test_close_entities_keeps_the_same_label_within_one_letter_and_never_the_variant_itself() -> None:
    key = "ingrid halvarsen"
    seen = [SeenEntity("v:a", "Ingrid Halvorsen", "PERSON", "ingrid halvorsen"),
            SeenEntity("v:b", "Ingrid Halvorsen AS", "ORGANIZATION", "ingrid halvorsen"),
            SeenEntity("v:c", "Ingrid Hallvorsson", "PERSON", "ingrid hallvorsson"),
            SeenEntity(unknown_id("PERSON", "Ingrid Halvarsen"), "Ingrid Halvarsen", "PERSON", key)]
    assert [(e.id, d) for e, d in close_entities(key, "PERSON", unknown_id("PERSON", "Ingrid Halvarsen"), seen)] == [
        ("v:a", 1)]


def test_a_feminine_given_name_is_never_one_letter_from_the_masculine_one() -> None:
    louis = SeenEntity("v:louis-michel", "Louis Michel", "PERSON", variant_key("Louis Michel"))
    assert close_entities(variant_key("Louise Michel"), "PERSON", unknown_id("PERSON", "Louise Michel"), [louis]) == []
    assert close_entities(variant_key("Louis Mishel"), "PERSON", unknown_id("PERSON", "Louis Mishel"), [louis]) == [
        (louis, 1)]


def test_only_names_without_identity_and_of_distinctive_keys_are_merged_across_articles() -> None:
    assert is_unknown(unknown("Ingrid Halvarsen"), frozenset())
    assert not is_unknown(known("Vladimir Putin", "Q7747", "Vladimir Putin"), frozenset())
    assert not is_unknown(known("Dmitry Peskov", "v:dmitry-peskov", "Dmitry Peskov"), {"v:dmitry-peskov"})
    assert mergeable_key("ingrid halvarsen") and not mergeable_key("halvarsen") and not mergeable_key("li wei")


keys = st.text(alphabet="abcdeiklmnorsuv ", min_size=1, max_size=14)


@given(keys, keys)
def test_keys_within_one_edit_share_a_deletion_form(first: str, second: str) -> None:
    if key_distance(first, second, 1) <= 1:
        assert deletion_forms(first) & deletion_forms(second)


@given(keys, st.integers(0, 13), st.sampled_from("abkz"))
def test_one_substitution_insertion_or_deletion_is_found(key: str, at: int, letter: str) -> None:
    at = at % len(key)
    for changed in (key[:at] + letter + key[at + 1:], key[:at] + letter + key[at:], key[:at] + key[at + 1:]):
        if changed:
            assert deletion_forms(key) & deletion_forms(changed)


def test_a_spelling_the_linker_joined_on_the_article_word_is_a_same_article_merge() -> None:
    from ingest.entity_kb import default_kb
    from ingest.entity_merging import article_merges

    kb = default_kb()
    joined = Entity("Vladimir Putin", "PERSON", 2, ((0, 14), (40, 55)), "vladimir putin", "Q7747", "Vladimir Putin",
                    ("Vladimir Putin", "Vladimir Pution", "Wladimir Putin", "Poutine"))
    (merge,) = article_merges(joined, "a1", kb)
    assert (merge.variant, merge.target_id, merge.source) == ("Vladimir Pution", "Q7747", "auto")
    assert merge.evidence == MergeEvidence("same-article", ("a1",), 1)
    # Spellings the knowledge base lists, one word alone, or an entity it does not know: nothing to record.
    assert article_merges(replace_variants(joined, ("Vladimir Poutine", "Putin")), "a1", kb) == []
    assert article_merges(unknown("Ingrid Halvarsen"), "a1", kb) == []


def replace_variants(entity: Entity, variants: tuple[str, ...]) -> Entity:
    from dataclasses import replace

    return replace(entity, variants=variants)


def test_a_very_long_variant_still_has_a_short_rule_id() -> None:
    rule = manual_merge("習近平" * 200, "Q15031", "Xi Jinping")
    assert len(rule.rule_id.encode()) < 100 and rule.rule_id.startswith("manual:sha1:")
    assert manual_merge("習近平" * 200, "Q1", "X").rule_id == rule.rule_id
