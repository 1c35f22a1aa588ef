"""Merges confirmed by the same story: the decision alone (no service needed), with its traps."""

from __future__ import annotations

from ingest.entity_linking import unknown_id
from ingest.entity_merging import (EntityMerge, SeenEntity, StoryPeer, manual_merge, manual_split,
                                   same_story_merge, variant_key)
from ingest.models import Entity


def unknown(text: str, label: str = "PERSON") -> Entity:
    return Entity(text=text, label=label, mentions=1, spans=((0, len(text)),), key=text.lower(),
                  id=unknown_id(label, text), name=text, variants=(text,))


def seen(name: str, label: str = "PERSON", entity_id: str | None = None) -> SeenEntity:
    return SeenEntity(entity_id or unknown_id(label, name), name, label, variant_key(name))


LINDQVIST = seen("Torstein Lindqvist")
VARIANT = unknown("Torstein Lindqvista")


def test_a_name_one_letter_from_a_name_of_another_article_of_the_story_takes_its_id_with_its_evidence() -> None:
    merge = same_story_merge(VARIANT, "n2", "s-oslo", [LINDQVIST],
                             {LINDQVIST.id: [StoryPeer("n9", "s-other"), StoryPeer("n1", "s-oslo")]}, {})
    assert merge is not None
    assert (merge.variant, merge.action, merge.source, merge.target_id, merge.target_name, merge.label) == (
        "Torstein Lindqvista", "merge", "auto", LINDQVIST.id, "Torstein Lindqvist", "PERSON")
    evidence = merge.evidence
    assert (evidence.kind, evidence.article_ids, evidence.distance, evidence.story_id) == (
        "same-story", ("n2", "n1"), 1, "s-oslo")
    assert merge.rule_id == "auto:" + variant_key("Torstein Lindqvista")
    # The evidence survives the merge store's round trip, story included.
    assert EntityMerge.from_dict(merge.to_dict()).evidence == evidence


def test_two_persons_one_letter_apart_in_two_different_stories_stay_apart() -> None:
    # Marek Novak (a Slovak footballer's story) and Marek Novaky (a Czech minister's): never one person.
    novak = seen("Marek Novak")
    assert same_story_merge(unknown("Marek Novaky"), "m2", "s-budget", [novak],
                            {novak.id: [StoryPeer("m1", "s-football")]}, {}) is None


def test_names_one_figure_or_numeral_apart_in_one_story_stay_apart() -> None:
    # A story about an air show names both aircraft; a history piece names two kings.
    for first, second, label in (("Airbus A320neo", "Airbus A321neo", "PRODUCT"),
                                 ("Louis XIV de France", "Louis XV de France", "PERSON"),
                                 ("Dépêche numéro 16", "Dépêche numéro 19", "MISC")):
        known = seen(first, label)
        assert same_story_merge(unknown(second, label), "a2", "s-1", [known],
                                {known.id: [StoryPeer("a1", "s-1")]}, {}) is None, (first, second)


def test_the_same_story_does_not_join_names_of_different_labels() -> None:
    company = seen("Lindqvist Shipping", "ORGANIZATION")
    person = unknown("Lindqvista Shipping", "PERSON")
    assert same_story_merge(person, "n2", "s-oslo", [company], {company.id: [StoryPeer("n1", "s-oslo")]}, {}) is None


def test_names_the_knowledge_base_knows_are_never_merged_by_spelling() -> None:
    # Two known people one letter apart ("Jens Stoltenberg", a made-up "Jens Stoltenburg" listed too).
    listed = Entity(text="Jens Stoltenburg", label="PERSON", mentions=1, spans=((0, 16),), key="jens stoltenburg",
                    id="Q99999999", name="Jens Stoltenburg", variants=("Jens Stoltenburg",))
    stoltenberg = seen("Jens Stoltenberg", entity_id="Q57287")
    assert same_story_merge(listed, "a2", "s1", [stoltenberg], {"Q57287": [StoryPeer("a1", "s1")]}, {}) is None
    curated = Entity(text="Jonas Gahr Storr", label="PERSON", mentions=1, spans=((0, 16),), key="jonas gahr storr",
                     id="v:jonas-gahr-store", name="Jonas Gahr Støre", variants=("Jonas Gahr Storr",))
    assert same_story_merge(curated, "a2", "s1", [stoltenberg], {"Q57287": [StoryPeer("a1", "s1")]}, {}) is None


def test_a_variant_with_any_rule_recorded_is_left_to_that_rule() -> None:
    peers = {LINDQVIST.id: [StoryPeer("n1", "s-oslo")]}
    for rule in (manual_split("Torstein Lindqvista"), manual_split("Torstein Lindqvista", LINDQVIST.id),
                 manual_merge("Torstein Lindqvista", "Q1", "Someone Else")):
        assert same_story_merge(VARIANT, "n2", "s-oslo", [LINDQVIST], peers, {rule.variant_key: rule}) is None
    # Without the rule, the same case merges: the rule is what stops it.
    assert same_story_merge(VARIANT, "n2", "s-oslo", [LINDQVIST], peers, {}) is not None


def test_only_distinctive_names_and_only_other_articles_count() -> None:
    short = seen("Ola Berg")  # "Ola Ber" beside it: a key of 7 characters, too common a name
    assert same_story_merge(unknown("Lindqvista"), "n2", "s", [seen("Lindqvist")],
                            {seen("Lindqvist").id: [StoryPeer("n1", "s")]}, {}) is None  # one word
    assert same_story_merge(unknown("Ola Ber"), "n2", "s", [short], {short.id: [StoryPeer("n1", "s")]}, {}) is None
    # The only article carrying the candidate is this one (a redelivery): no confirmation.
    assert same_story_merge(VARIANT, "n2", "s-oslo", [LINDQVIST], {LINDQVIST.id: [StoryPeer("n2", "s-oslo")]},
                            {}) is None
    # Nothing carries the candidate in any story, or the article has no story: no merge.
    assert same_story_merge(VARIANT, "n2", "s-oslo", [LINDQVIST], {}, {}) is None
    assert same_story_merge(VARIANT, "n2", "", [LINDQVIST], {LINDQVIST.id: [StoryPeer("n1", "")]}, {}) is None


def test_two_equally_near_candidates_of_the_story_make_no_merge() -> None:
    lindqvist, lindqvest = seen("Torstein Lindqvist"), seen("Torstein Lindqvest")
    variant = unknown("Torstein Lindqvust")
    peers = {lindqvist.id: [StoryPeer("n1", "s")], lindqvest.id: [StoryPeer("n3", "s")]}
    assert same_story_merge(variant, "n2", "s", [lindqvist, lindqvest], peers, {}) is None
    # Only one of them in the story: that one.
    only = same_story_merge(variant, "n2", "s", [lindqvist, lindqvest], {lindqvist.id: [StoryPeer("n1", "s")]}, {})
    assert only is not None and only.target_id == lindqvist.id
