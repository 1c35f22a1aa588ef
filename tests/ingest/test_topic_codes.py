"""The IPTC codes a rule file may use (ingest/data/iptc-mediatopics.tsv, checked by `vigie topics check`)
and the German compound rules: the longest rule word ends a compound, and the file's not-compound words
stop false splits ("Mitglieder" is no compound of "Lied")."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.lemmas import Lemmatizer
from ingest.topic_rules import (
    IPTC_TOP_LEVEL, TopicRuleError, check_iptc_codes, load_known_codes, load_rules, parse_rules,
)
from ingest.topics import TopicClassifier
from vigie.cli.main import cli

LEMMATIZER = Lemmatizer()


def test_the_shipped_list_holds_the_17_subjects_and_every_code_the_shipped_rules_use() -> None:
    known = load_known_codes()
    assert set(IPTC_TOP_LEVEL) <= set(known)
    assert all(known[code].top == code for code in IPTC_TOP_LEVEL)
    rules = load_rules()
    assert check_iptc_codes(rules, known) == []
    children = {topic.iptc for topic in rules.topics if topic.parent}
    assert len(children) == 8 and children <= set(known)
    assert all(known[code].checked for code in known)


def test_an_unknown_code_or_a_code_under_another_subject_is_an_error_with_its_line() -> None:
    rules = parse_rules("""
topic politics
  iptc      medtop:11000000
  iptc_top  medtop:11000000
  languages en
  threshold 4
  term 2: parliament

topic votes
  iptc      medtop:20009999
  iptc_top  medtop:11000000
  parent    politics
  languages en
  threshold 4
  term 2: ballot

topic terror
  iptc      medtop:20000053
  iptc_top  medtop:11000000
  parent    politics
  languages en
  threshold 4
  term 2: bomb
""", "my.rules")
    errors = check_iptc_codes(rules, load_known_codes())
    assert len(errors) == 2
    assert errors[0].startswith("my.rules:9: topic 'votes': iptc medtop:20009999 is not a known")
    assert errors[1].startswith("my.rules:17: topic 'terror': iptc medtop:20000053 (act of terror) is under "
                                "medtop:16000000")


def test_vigie_topics_check_rejects_an_unknown_code(tmp_path: Path) -> None:
    rules = tmp_path / "codes.rules"
    rules.write_text("topic sport\n  iptc medtop:15000000\n  iptc_top medtop:15000000\n  languages en\n"
                     "  threshold 2\n  term 2: match\n\ntopic chess\n  iptc medtop:20000000\n"
                     "  iptc_top medtop:15000000\n  parent sport\n  languages en\n  threshold 2\n"
                     "  term 2: chess\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["topics", "check", str(rules)])
    assert result.exit_code == 1
    assert "codes.rules:8: topic 'chess': iptc medtop:20000000 is not a known IPTC Media Topics code" in result.output
    good = CliRunner().invoke(cli, ["topics", "check", str(Path(__file__).parents[2] / "ingest" / "data" / "topics.rules")])
    assert good.exit_code == 0, good.output


COMPOUND_RULES = """
not-compound: Glied | Kreis
  | Wahlkampf

topic arts
  languages de
  threshold 2
  term 2: Lied | Reise

topic economy
  languages de
  threshold 2
  term 2: Preise

topic elections
  languages de
  threshold 2
  term 2: Wahl | Wahlkampf
"""


def topics_of(text: str, rules: str = COMPOUND_RULES) -> set[str]:
    words = LEMMATIZER.words([token.text for token in LEMMATIZER.tokenizer("de")(text)], "de")
    return {match.name for match in TopicClassifier(parse_rules(rules), LEMMATIZER).topics(words, 0, "de")}


@pytest.mark.parametrize(("text", "expected"), [
    ("Die Mitglieder stimmten zu.", set()),  # "Mit|glieder": no "Lied"
    ("Ein Kinderlied im Radio.", {"arts"}),  # a real compound of "Lied"
    ("Die Strompreise steigen.", {"economy"}),  # "Strom|preise", not "Stromp|reise"
    ("Im Landkreise Harz.", set()),  # "Land|kreise", not "Landk|reise"
    ("Die Urlaubsreise war teuer.", {"arts"}),  # "Urlaubs|reise"
    ("Die Landtagswahl in Sachsen.", {"elections"}),
    ("Der Bundestagswahlkampf beginnt.", {"elections"}),  # a listed word that is a rule word still ends compounds
])
def test_german_compounds_end_with_their_longest_rule_word_and_not_compound_words_stop_false_splits(
        text: str, expected: set[str]) -> None:
    assert topics_of(text) == expected


def test_without_the_not_compound_list_the_false_split_fires() -> None:
    # the list is what keeps "Mitglieder" out of the arts (the test above is not vacuous)
    assert topics_of("Die Mitglieder stimmten zu.", COMPOUND_RULES.replace("Glied | Kreis", "Kreis")) == {"arts"}


@pytest.mark.parametrize(("rules", "expected"), [
    ("topic a\n  languages de\n  threshold 1\n  term 1: Wahl\nnot-compound: Glied\n",
     "rules.txt:5: 'not-compound:' lists words for the whole file: write it before the first topic"),
    ("not-compound: Mit*\ntopic a\n  languages de\n  threshold 1\n  term 1: Wahl\n",
     "rules.txt:1: not-compound takes single words, without '*' or spaces (got 'Mit*')"),
])
def test_not_compound_is_checked_with_its_line(rules: str, expected: str) -> None:
    with pytest.raises(TopicRuleError) as raised:
        parse_rules(rules, "rules.txt")
    assert expected in raised.value.errors
