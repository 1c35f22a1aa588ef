"""The rule syntax of issue 17 (weighed exclusions, ``not!`` vetoes, strong terms in context, German
compounds, IPTC codes and parents), ``vigie analyze --explain``, and the two articles it must show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.lemmas import Lemmatizer
from ingest.models import TopicMatch
from ingest.topic_rules import IPTC_TOP_LEVEL, TopicRuleError, load_rules, parse_rules
from ingest.topics import TopicClassifier
from vigie.cli.main import cli

LEMMATIZER = Lemmatizer()

RULES = """
topic conflict
  iptc      medtop:16000000
  iptc_top  medtop:16000000
  languages fr en de
  threshold 4
  term 2: guerre | Krieg | armée
  all war: guerre | Krieg | armée | soldat

topic ceasefire
  iptc      medtop:20000073
  iptc_top  medtop:16000000
  parent    conflict
  languages fr en de
  threshold 4
  term! 3: cessez-le-feu | ceasefire
  term 2: trêve | truce
  all conflict: guerre | the war | armée | Krieg
  not 2 sport: club | coach
  not! housing: trêve hivernale

topic elections
  languages de
  threshold 4
  term 2: Wahl
  all vote: Wahl | Wähler
"""


def words_of(text: str, language: str) -> list[tuple[str, str]]:
    return LEMMATIZER.words([token.text for token in LEMMATIZER.tokenizer(language)(text)], language)


def topics_of(text: str, language: str = "fr", rules: str = RULES) -> dict[str, TopicMatch]:
    classifier = TopicClassifier(parse_rules(rules), LEMMATIZER)
    return {match.name: match for match in classifier.topics(words_of(text, language), 0, language)}


def errors_of(rules: str) -> list[str]:
    with pytest.raises(TopicRuleError) as raised:
        parse_rules(rules, "rules.txt")
    return list(raised.value.errors)


def test_a_strong_term_in_context_reaches_the_threshold_alone() -> None:
    # cessez-le-feu weighs 3 < 4, but "armée" is there: a strong term in context weighs the threshold.
    assert "ceasefire" in topics_of("L'armée poursuit son avance ; les médiateurs demandent un cessez-le-feu.")
    # without a context word other than itself, it stays at 3
    assert "ceasefire" not in topics_of("Les médiateurs demandent un cessez-le-feu.")


def test_not_lines_subtract_their_weight_and_not_bang_vetoes() -> None:
    base = "L'armée recule, un cessez-le-feu et une trêve sont annoncés."  # 4 (strong) + 2 = 6
    assert "ceasefire" in topics_of(base + " Le club de la ville accueille les déplacés.")  # 6 - 2 = 4
    assert "ceasefire" not in topics_of(base + " Le club et le coach du club sont partis.")  # 6 - 6 = 0
    assert "ceasefire" not in topics_of(base + " La trêve hivernale commence.")  # a veto, whatever the sum


def test_german_compounds_match_capitalised_rule_words() -> None:
    text = "Die Landtagswahl in Sachsen: die Wähler haben entschieden. Auch die Bundestagswahl naht."
    assert "elections" in topics_of(text, "de")
    # a lower-case (English) rule word is not looked for inside German words
    assert "ceasefire" not in topics_of("Der Kriegsfilm: ein ceasefire im Filmclub.", "de")
    assert "ceasefire" in topics_of("Der Krieg geht weiter, trotz eines ceasefire.", "de")


def test_matches_carry_their_iptc_codes_and_parent() -> None:
    match = topics_of("L'armée recule ; un cessez-le-feu est signé.")["ceasefire"]
    assert (match.iptc, match.iptc_top, match.parent) == ("medtop:20000073", "medtop:16000000", "conflict")
    assert match.to_dict()["iptc"] == "medtop:20000073"
    assert TopicMatch.from_dict(match.to_dict()) == match


def test_family_of_a_parent_includes_its_children() -> None:
    rules = load_rules()
    assert rules.family("politics") >= {"politics", "elections", "diplomacy"}
    assert rules.family("conflict") >= {"conflict", "ceasefire", "terrorism"}
    assert rules.family("elections") == {"elections"}


def test_the_shipped_rules_cover_the_17_iptc_top_level_subjects() -> None:
    rules = load_rules()
    top = {topic.iptc for topic in rules.topics if topic.parent is None}
    assert top == set(IPTC_TOP_LEVEL)
    for topic in rules.topics:
        assert set(topic.languages) >= {"fr", "en", "de", "es"}, topic.name
        if topic.parent:
            parent = rules.topic(topic.parent)
            assert parent is not None and parent.iptc == topic.iptc_top, topic.name
        else:
            assert topic.iptc == topic.iptc_top, topic.name
    for name in ("migration", "ceasefire", "elections", "epidemic", "terrorism", "natural-disaster", "energy",
                 "diplomacy"):
        child = rules.topic(name)
        assert child is not None and child.parent is not None, name


@pytest.mark.parametrize(("rules", "expected"), [
    ("topic a\n languages fr\n threshold 1\n term 1: x\n not sport: y",
     "rules.txt:5: expected 'not WEIGHT NAME: word | ... (subtracts WEIGHT per occurrence) or not! NAME: word | ... "
     "(a veto)'"),
    ("topic a\n languages fr\n threshold 1\n term 1: x\n not -2 sport: y",
     "rules.txt:5: a not weight is what an occurrence subtracts: it must be positive (got -2)"),
    ("topic a\n languages fr\n threshold 1\n iptc medtop:123\n term 1: x",
     "rules.txt:4: iptc must be an IPTC Media Topics code such as 'medtop:11000000' (got 'medtop:123')"),
    ("topic a\n languages fr\n threshold 1\n iptc medtop:20000574\n iptc_top medtop:18000000\n term 1: x",
     "rules.txt:5: iptc_top must be one of the 17 top-level IPTC Media Topics codes (medtop:01000000 to "
     "medtop:17000000; got 'medtop:18000000')"),
    ("topic a\n languages fr\n threshold 1\n iptc medtop:20000574\n iptc_top medtop:11000000\n term 1: x",
     "rules.txt:1: topic 'a' has no parent, so it is top-level: its iptc_top must be its own code medtop:20000574 "
     "(got medtop:11000000)"),
    ("topic a\n languages fr\n threshold 1\n parent b\n term 1: x",
     "rules.txt:1: topic 'a': parent 'b' is not defined in the file"),
    ("topic a\n languages fr\n threshold 1\n term! 3: x",
     "rules.txt:4: topic 'a': a strong term (term!) reaches the threshold only in context, so the topic needs an "
     "'all' group"),
])
def test_the_new_statements_are_checked_with_their_line(rules: str, expected: str) -> None:
    assert expected in errors_of(rules)


# Must show (issue 17) ------------------------------------------------------------------------------

CEASEFIRE_ONE_MENTION = """Gaza : les bombardements se poursuivent malgré les pourparlers au Caire
L'armée israélienne a mené de nouvelles frappes aériennes sur le sud de la bande de Gaza, tuant au moins
vingt personnes. Au Caire, les médiateurs tentent d'obtenir un cessez-le-feu et la libération des otages.
Les combats ont repris à Khan Younès, où des chars ont été vus près de l'hôpital.
"""

GERMAN_ELECTION = """Landtagswahl in Brandenburg: SPD knapp vor der AfD
Bei der Landtagswahl in Brandenburg ist die SPD von Ministerpräsident Dietmar Woidke knapp stärkste Kraft
geworden. Die Wahlbeteiligung stieg deutlich. Die CDU verlor Stimmen, die Grünen scheiterten an der
Fünf-Prozent-Hürde und sind nicht mehr im Landtag vertreten.
"""


def test_explain_ceasefire_fires_on_an_article_naming_it_once(tmp_path: Path) -> None:
    article = tmp_path / "gaza.txt"
    article.write_text(CEASEFIRE_ONE_MENTION, encoding="utf-8")
    result = CliRunner().invoke(cli, ["analyze", "--explain", "ceasefire", str(article)])
    assert result.exit_code == 0, result.output
    assert "topic ceasefire (medtop:20000073, top medtop:16000000, parent conflict): fired" in result.output
    assert "cessez-le-feu  (weight 3 x 1, strong in context: weighs the threshold" in result.output
    as_json = json.loads(CliRunner().invoke(cli, ["analyze", "--json", "--explain", "ceasefire",
                                                 str(article)]).output)
    assert as_json["fired"] is True and as_json["total"] >= as_json["threshold"]
    assert [term["terms"] for term in as_json["terms"] if term["strong"]] == [["cessez-le-feu"]]
    assert as_json["exclusions"] == []


def test_explain_shows_why_a_topic_did_not_fire(tmp_path: Path) -> None:
    article = tmp_path / "gaza.txt"
    article.write_text(CEASEFIRE_ONE_MENTION, encoding="utf-8")
    result = CliRunner().invoke(cli, ["analyze", "--explain", "elections", str(article)])
    assert result.exit_code == 0, result.output
    assert "topic elections (medtop:20000574, top medtop:11000000, parent politics): did not fire" in result.output
    assert "threshold 4" in result.output
    unknown = CliRunner().invoke(cli, ["analyze", "--explain", "no-such-topic", str(article)])
    assert unknown.exit_code == 1 and "no topic 'no-such-topic'" in unknown.output


def test_a_german_election_article_is_tagged_elections_under_politics(tmp_path: Path) -> None:
    article = tmp_path / "wahl.txt"
    article.write_text(GERMAN_ELECTION, encoding="utf-8")
    result = CliRunner().invoke(cli, ["analyze", "--json", str(article)])
    assert result.exit_code == 0, result.output
    analysis = json.loads(result.output)
    assert analysis["language"] == "de"
    topics = {topic["name"]: topic for topic in analysis["topics"]}
    assert topics["elections"]["iptc"] == "medtop:20000574"
    assert topics["elections"]["iptc_top"] == "medtop:11000000"
    assert topics["elections"]["parent"] == "politics"
    assert any("landtagswahl" in evidence.lower() for evidence in topics["elections"]["evidence"])
