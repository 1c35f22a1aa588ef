"""Row 8 of the hardening issue: alerts are bounded (query size, words and phrases, how many), and the
cost of matching one against a hostile article follows its rarest part, not the article's length."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch

from conf.limits import AlertLimits, alert_limits
from conf.settings import Settings
from index.alert_compile import _Field
from index.alert_store import AlertStore
from index.alerts import AlertInvalid, new_rule, validate_rule

HOSTILE_QUERY = " OR ".join(['"a b"'] * 64)  # the alert: 572 characters, 64 phrases


class CountingTokens(list):  # type: ignore[type-arg]
    """The tokens of a field, counting the slices the matcher compares (the work of a phrase look-up)."""

    slices = 0

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        if isinstance(index, slice):
            CountingTokens.slices += 1
        return super().__getitem__(index)


def counted_field(text: str) -> _Field:
    plain = _Field.of(text)
    return _Field(CountingTokens(plain.tokens), plain.positions)


def test_queries_too_long_or_with_too_many_phrases_are_refused() -> None:
    assert len(HOSTILE_QUERY) == 572
    with pytest.raises(AlertInvalid, match="VIGIE_ALERT_MAX_QUERY_TERMS"):
        validate_rule(new_rule("hostile", query=HOSTILE_QUERY), None)
    with pytest.raises(AlertInvalid, match="VIGIE_ALERT_MAX_QUERY_CHARS"):
        validate_rule(new_rule("long", query="turquie " * 200), None)
    assert validate_rule(new_rule("fine", query=" OR ".join(['"a b"'] * 32)), None).query
    limits = alert_limits(Settings(alert_max_query_terms=4, alert_max_query_chars=30))
    assert limits == AlertLimits(max_query_chars=30, max_query_terms=4, max_alerts=1000)
    with pytest.raises(AlertInvalid, match="5 words and phrases; at most 4"):
        validate_rule(new_rule("five", query="a b c d e"), None, limits=limits)


@pytest.mark.parametrize("text, phrases", [
    ("a " * 100_000, [("a", "b"), ("b", "a"), ("a", "a", "b")]),  # the common word, then one never seen
    ("a b " * 50_000, [("a", "a"), ("b", "b", "a"), ("a", "b", "b"), ("a", "b", "a", "a")]),  # pairs never seen
    ("a b " * 50_000 + "a a b b", [("b", "a", "a", "b", "a"), ("a", "b", "b", "a")]),  # rare pair, no match
])
def test_matching_a_hostile_article_costs_what_its_rarest_part_costs(text: str, phrases: list[tuple[str, ...]]) -> None:
    field = counted_field(text)
    CountingTokens.slices = 0
    for _ in range(64):  # the same phrases again and again, as 64 rules of one word pair would
        for phrase in phrases:
            assert not field.has_phrase(phrase)
            assert not field.has_phrase(phrase[:-1] + (phrase[-1][:1] + "x",), prefix=True)
    assert CountingTokens.slices <= 10 * len(phrases), CountingTokens.slices
    assert field.has_phrase(("a",)) and field.has_phrase(("a", "b" if "b" in text else "a"))


def test_the_number_of_alerts_is_bounded(settings: Settings, es: Elasticsearch) -> None:
    store = AlertStore(es, settings.index_prefix, limits=AlertLimits(max_alerts=2))
    store.add(new_rule("one", query="turquie"))
    store.add(new_rule("two", query="syrie"))
    with pytest.raises(AlertInvalid, match="VIGIE_MAX_ALERTS=2"):
        store.add(new_rule("three", query="liban"))
    assert [rule.name for rule in store.list()] == ["one", "two"]
