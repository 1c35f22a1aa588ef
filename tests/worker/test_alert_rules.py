"""Workers see an added, edited or paused alert on their next batch, without a restart."""

from __future__ import annotations

from dataclasses import replace

import pytest

from index.alerts import new_rule
from index.errors import IndexUnavailable
from worker.alert_rules import AlertRules


class FakeStore:
    def __init__(self) -> None:
        self.rules = [new_rule("a", query="Turquie")]
        self.loads = 0
        self.down = False

    def active(self):  # type: ignore[no-untyped-def]
        self.loads += 1
        if self.down:
            raise IndexUnavailable("Elasticsearch is down")
        return [rule for rule in self.rules if not rule.paused]


def test_rules_reload_when_the_version_moves_and_only_then() -> None:
    store, version = FakeStore(), [0]
    rules = AlertRules(store, lambda: version[0])  # type: ignore[arg-type]
    first = rules.matcher()
    assert len(first) == 1 and rules.matcher() is first and store.loads == 1  # one GET of the version per batch
    store.rules.append(new_rule("b", topics=["migration"]))
    version[0] += 1  # what AlertStore's on_change does after the write
    assert len(rules.matcher()) == 2
    store.rules[0] = replace(store.rules[0], paused=True)
    version[0] += 1
    assert [compiled.rule.name for compiled in rules.matcher().rules] == ["b"]


def test_a_failed_periodic_reload_keeps_the_rules_it_had() -> None:
    store = FakeStore()
    rules = AlertRules(store, lambda: 0, max_age=0.0)  # type: ignore[arg-type]
    first = rules.matcher()
    assert len(first) == 1 and store.loads == 1
    store.down = True
    kept = rules.matcher()
    assert store.loads == 2  # the periodic reload was tried (max_age 0: every batch), and failed
    assert kept is first and len(kept) == 1  # unchanged version: the rules in hand are still right
    # Back up: the next periodic reload, with the version unchanged, picks up what the store holds now.
    store.down = False
    store.rules.append(new_rule("b", topics=["migration"]))
    reloaded = rules.matcher()
    assert store.loads == 3 and sorted(compiled.rule.name for compiled in reloaded.rules) == ["a", "b"]


def test_a_failed_reload_after_a_change_raises() -> None:
    store, version = FakeStore(), [0]
    rules = AlertRules(store, lambda: version[0])  # type: ignore[arg-type]
    assert len(rules.matcher()) == 1
    store.down = True
    version[0] += 1  # the rules changed: the ones in hand may be wrong, so no stale answer
    with pytest.raises(IndexUnavailable):
        rules.matcher()
    assert store.loads == 2
