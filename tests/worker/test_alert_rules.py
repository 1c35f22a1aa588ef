"""Workers see an added, edited or paused alert on their next batch, without a restart."""

from __future__ import annotations

from dataclasses import replace

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
    assert len(rules.matcher()) == 1
    store.down = True
    assert len(rules.matcher()) == 1  # unchanged version: the rules in hand are still right
