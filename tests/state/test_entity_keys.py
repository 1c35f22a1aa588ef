"""The registry of names seen and the merge rules' version, on the real Redis."""

from __future__ import annotations

import pytest
import redis

from ingest.entity_merging import SeenEntity, close_entities
from state.entity_keys import MAX_IDS_PER_FORM, SeenEntities, bump_rules_version, rules_version


pytestmark = pytest.mark.integration


def seen(entity_id: str, key: str, label: str = "PERSON") -> SeenEntity:
    return SeenEntity(entity_id, key.title(), label, key)


def test_names_one_letter_away_are_found_and_others_are_not(redis_client: redis.Redis) -> None:
    registry = SeenEntities(redis_client)
    assert registry.register([seen("v:1", "ingrid halvorsen"), seen("v:2", "torstein lindkvist"),
                              seen("v:3", "ingrid halvorsen", "ORGANIZATION")]) == 3
    assert registry.register([seen("v:1", "ingrid halvorsen")]) == 0  # already known
    assert registry.count() == 3
    near = registry.near_many(["ingrid halvarsen", "ingrid halvorsenn", "torstein lindkvista", "nobody at all"])
    assert {e.id for e in near["ingrid halvarsen"]} == {"v:1", "v:3"}
    assert {e.id for e in near["ingrid halvorsenn"]} == {"v:1", "v:3"}
    assert [e.id for e in near["torstein lindkvista"]] == ["v:2"]
    assert near["nobody at all"] == []
    # Two letters away: may share no form; if a form is shared, the distance check drops it.
    far = registry.near("ingrid halvursan")
    assert close_entities("ingrid halvursan", "PERSON", "v:x", far) == []
    assert registry.near("ingrid halvorsen")[0] == seen("v:1", "ingrid halvorsen")


def test_a_form_keeps_a_bounded_list_of_ids(redis_client: redis.Redis) -> None:
    registry = SeenEntities(redis_client)
    registry.register([seen(f"v:{n}", "maria garcia lopez") for n in range(MAX_IDS_PER_FORM + 5)])
    assert len(registry.near("maria garcia lopez")) == MAX_IDS_PER_FORM


def test_the_rules_version_moves_with_each_change(redis_client: redis.Redis) -> None:
    assert rules_version(redis_client) is None
    bump_rules_version(redis_client)
    first = rules_version(redis_client)
    bump_rules_version(redis_client)
    assert first is not None and rules_version(redis_client) != first


def test_the_lookup_answers_every_key_in_order_whatever_its_script(redis_client: redis.Redis) -> None:
    # Non-ASCII keys and a hundred keys at once: each key's answer is its own (the forms travel as
    # JSON to a script and come back in order), the same as reading the forms one by one.
    registry = SeenEntities(redis_client)
    names = [f"владимир путин {n}" for n in range(50)] + [f"josé maría álvarez {n}" for n in range(50)]
    registry.register([seen(f"v:{n}", name) for n, name in enumerate(names)])
    asked = [name + "x" for name in names] + ["nobody at all"]
    near = registry.near_many(asked)
    assert [[entity.id for entity in near[key]] for key in asked] == \
        [[entity.id for entity in registry.near_many([key])[key]] for key in asked]
    assert "v:7" in {entity.id for entity in near["владимир путин 7x"]}
    assert "v:62" in {entity.id for entity in near["josé maría álvarez 12x"]}
    assert near["nobody at all"] == []
