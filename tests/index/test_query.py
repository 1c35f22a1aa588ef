"""The query language: what people type becomes the tree they meant, or a clear error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.errors import QuerySyntaxError
from index.query import And, MatchAll, Not, Or, Term, parse_query, terms_of
from index.search import compile_query


def test_words_are_anded_by_default() -> None:
    assert parse_query("turquie syrie") == And((Term("turquie"), Term("syrie")))
    assert parse_query("turquie AND syrie") == parse_query("turquie syrie")


def test_or_binds_looser_than_and() -> None:
    assert parse_query("a b OR c") == Or((And((Term("a"), Term("b"))), Term("c")))


def test_not_and_minus() -> None:
    assert parse_query("idleb NOT football") == And((Term("idleb"), Not(Term("football"))))
    assert parse_query("idleb -football") == parse_query("idleb NOT football")


def test_lower_case_operators_are_words() -> None:
    assert parse_query("rock and roll") == And((Term("rock"), Term("and"), Term("roll")))


def test_hyphenated_word_is_a_phrase_and_quotes_make_phrases() -> None:
    assert parse_query("cessez-le-feu") == Term("cessez-le-feu", phrase=True)
    assert parse_query('"accord de Sotchi"') == Term("accord de Sotchi", phrase=True)


def test_prefix_and_fields() -> None:
    assert parse_query("migra*") == Term("migra", prefix=True)
    assert parse_query('person:"Recep Tayyip Erdogan"') == Term("Recep Tayyip Erdogan", field="person", phrase=True)
    assert parse_query("org:OTAN lang:fr") == And((Term("OTAN", field="organization"), Term("fr", field="language")))
    assert parse_query("10:30") == Term("10:30", phrase=True)  # not a field: an ordinary token


def test_grouping() -> None:
    tree = parse_query("(turquie OR turkey) (migrants OR réfugiés)")
    assert tree == And((Or((Term("turquie"), Term("turkey"))), Or((Term("migrants"), Term("réfugiés")))))
    assert [t.text for t in terms_of(tree)] == ["turquie", "turkey", "migrants", "réfugiés"]


def test_empty_query_matches_everything() -> None:
    assert parse_query("   ") == MatchAll()
    assert compile_query(MatchAll()) == {"match_all": {}}


@pytest.mark.parametrize(
    ("query", "position", "reason"),
    [
        ("(idleb OR alep", 0, "never closed"),
        ('"cessez le feu', 0, "never closed"),
        ("idleb OR", 8, "ends where a term"),
        ("idleb )", 6, "unexpected ')'"),
        ("person:", 7, "needs a value"),
        ("mi*gra", 2, "only allowed at the end"),
    ],
)
def test_errors_say_where(query: str, position: int, reason: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert caught.value.position == position
    assert reason in str(caught.value)


def test_words_match_their_lemmas_too() -> None:
    compiled = compile_query(parse_query("réfugiés"), lambda text: ["réfugié"])
    should = compiled["bool"]["should"]
    assert {"match_phrase": {"lemmas": {"query": "réfugié", "boost": 0.8}}} in should
    assert any("title" in clause["match_phrase"] for clause in should)


def test_negation_only_query_keeps_everything_else() -> None:
    compiled = compile_query(parse_query("NOT football"))
    assert compiled["bool"]["must"] == [{"match_all": {}}]
    assert compiled["bool"]["must_not"]


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(list('ab c()"-*:ORANDNOT person title é')), max_size=40))
def test_any_input_parses_or_fails_with_a_query_error(query: str) -> None:
    try:
        tree = parse_query(query)
    except QuerySyntaxError as error:
        assert 0 <= error.position <= len(query)
        return
    compile_query(tree, lambda text: [text.lower()])
