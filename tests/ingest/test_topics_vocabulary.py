"""The vocabulary layer of the topics (docs/topics.md, "The vocabulary layer"): a rule file names a
vocabulary file, one weighted block per top-level subject, which gives the leading subject when the rules
give none, and settles which subject is primary when the rules missed it. Its syntax and errors, its
behaviour on small rule sets, and its precision on the dev corpus when it is used alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.lemmas import Lemmatizer
from ingest.models import TopicMatch
from ingest.topic_rules import TopicRuleError, TopicRules, load_rules, parse_rules
from ingest.topics import BY_VOCABULARY, TopicClassifier
from tests.ingest.quality_corpus import CORPUS_DIR, TOPIC_LANGUAGES, TOPICS_DEV_DIR, load_corpus

LEMMATIZER = Lemmatizer()

RULES = """
vocabulary: subjects.rules

topic sport
  languages fr en
  threshold 4
  term 3: football | rugby
  all game: match | football | rugby

topic crime
  languages fr en
  threshold 4
  cap 6
  term 2: police | enquête | investigation
  all justice: police

topic disaster
  languages fr en
  threshold 4
  term 3: séisme | earthquake
  all harm: victimes | victims
"""

VOCABULARY = """
lead 1.5
primary 2
keep 0.6
keep_rules 2

topic sport
  languages fr en
  threshold 4
  cap 6
  term 2: striker | attaquant | cross | centre | header | but | goal | supporters | fans
  not 2 politics: gouvernement | government

topic crime
  languages fr en
  threshold 4
  term 2: police | enquête | investigation | garde à vue | custody

topic disaster
  languages fr en
  threshold 4
  cap 6
  term 2: collision | accident | blessés | injured | pompiers | firefighters | hélicoptère | helicopter
  term 1: route | road
"""


def rules_in(folder: Path, rules: str = RULES, vocabulary: str = VOCABULARY) -> TopicRules:
    (folder / "subjects.rules").write_text(vocabulary, encoding="utf-8")
    (folder / "topics.rules").write_text(rules, encoding="utf-8")
    return load_rules(folder / "topics.rules")


def words_of(text: str, title: str, language: str) -> tuple[list[tuple[str, str]], int]:
    tokenizer = LEMMATIZER.tokenizer(language)
    title_words = LEMMATIZER.words([token.text for token in tokenizer(title)], language) if title else []
    return title_words + LEMMATIZER.words([token.text for token in tokenizer(text)], language), len(title_words)


def topics_of(rules: TopicRules, text: str, title: str = "", language: str = "en") -> dict[str, TopicMatch]:
    words, title_words = words_of(text, title, language)
    return {match.name: match for match in TopicClassifier(rules, LEMMATIZER).topics(words, title_words, language)}


def errors_of(tmp_path: Path, vocabulary: str, rules: str = RULES) -> list[str]:
    with pytest.raises(TopicRuleError) as raised:
        rules_in(tmp_path, rules, vocabulary)
    return list(raised.value.errors)


# The files -----------------------------------------------------------------------------------------


def test_the_shipped_rules_name_a_vocabulary_block_for_each_top_level_subject() -> None:
    rules = load_rules()
    assert rules.vocabulary is not None
    top_level = {topic.name for topic in rules.topics if topic.parent is None}
    assert {block.name for block in rules.vocabulary.topics} == top_level and len(top_level) == 17
    for block in rules.vocabulary.topics:
        assert set(block.languages) == set(TOPIC_LANGUAGES), block.name
        # one line per weight, each word once: a word listed in two languages' lines counts once
        weights = [term.weight for term in block.terms]
        assert weights == sorted(set(weights), reverse=True), block.name
    assert rules.vocabulary.lead > 1 and rules.vocabulary.primary >= 1


def test_a_vocabulary_block_must_name_a_top_level_topic_of_the_rules(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, VOCABULARY + "\ntopic weather\n  languages en\n  threshold 4\n  term 2: rain\n")
    assert any("subjects.rules:" in error and "'weather' is not a top-level topic" in error for error in errors), errors


def test_a_vocabulary_has_no_strong_terms_codes_or_settings_after_its_first_block(tmp_path: Path) -> None:
    bad = VOCABULARY.replace("  term 2: police |", "  term! 2: police |") + "\nlead 2\n"
    errors = errors_of(tmp_path, bad)
    assert any("no strong terms" in error for error in errors), errors
    assert any("'lead' sets the whole vocabulary" in error for error in errors), errors
    coded = VOCABULARY.replace("topic crime\n", "topic crime\n  iptc medtop:02000000\n  iptc_top medtop:02000000\n")
    assert any("no iptc, iptc_top or parent lines" in error for error in errors_of(tmp_path, coded))


def test_a_vocabulary_names_a_words_list_once_and_uses_it_in_a_term_and_a_required_group(tmp_path: Path) -> None:
    listed = VOCABULARY.replace("lead 1.5\n", "lead 1.5\nwords play: striker | attaquant | header\n").replace(
        "  term 2: striker | attaquant | cross | centre | header |",
        "  all play: @play\n  term 2: @play | cross | centre |")
    rules = rules_in(tmp_path, vocabulary=listed)
    assert rules.vocabulary is not None
    sport = next(block for block in rules.vocabulary.topics if block.name == "sport")
    assert {"striker", "attaquant", "header", "cross"} <= {word.text for term in sport.terms for word in term.alternatives}
    assert list(topics_of(rules, "The striker met the cross with a header; the fans sang as the goal went in.",
                          "Late header wins it")) == ["sport"]
    # the cross, the goal and the fans without a word of the list: the required group is missing
    assert topics_of(rules, "The cross, the goal, the fans: the fans sang, the goal stood.", "Goal and cross") == {}
    errors = errors_of(tmp_path, listed.replace("words play:", "words game:"))
    assert any("'@play' names no words list" in error for error in errors), errors


def test_the_vocabulary_file_is_a_plain_name_beside_the_rules(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, VOCABULARY, RULES.replace("vocabulary: subjects.rules", "vocabulary: ../x.rules"))
    assert any("without a folder" in error for error in errors), errors
    errors = errors_of(tmp_path, VOCABULARY, RULES.replace("vocabulary: subjects.rules", "vocabulary: none.rules"))
    assert any("cannot read the vocabulary file none.rules" in error for error in errors), errors
    with pytest.raises(TopicRuleError, match="needs the rules to be read from a file"):
        parse_rules(RULES)


def test_rules_without_a_vocabulary_work_as_before(tmp_path: Path) -> None:
    rules = parse_rules(RULES.replace("vocabulary: subjects.rules", ""))
    assert rules.vocabulary is None
    assert topics_of(rules, "The striker's header from a cross won it for the fans.") == {}


# What it does --------------------------------------------------------------------------------------


def test_the_leading_subject_is_given_when_no_rule_fires(tmp_path: Path) -> None:
    rules = rules_in(tmp_path)
    found = topics_of(rules, "The striker met the cross with a header; the fans sang as the goal went in.",
                      "Late header wins it")
    assert list(found) == ["sport"]
    assert found["sport"].evidence[0].startswith("vocabulary: ") and "header" in found["sport"].evidence[0]
    assert 0.5 <= found["sport"].score < 1


def test_no_subject_without_a_clear_lead_or_enough_evidence(tmp_path: Path) -> None:
    rules = rules_in(tmp_path)
    # sport and disaster words in equal measure: neither leads by half again
    assert topics_of(rules, "The striker and the fans were injured in a collision.") == {}
    # one trade word is not enough
    assert topics_of(rules, "A header.") == {}


def test_an_exclusion_of_the_vocabulary_weighs_against_its_subject(tmp_path: Path) -> None:
    rules = rules_in(tmp_path)
    text = "The government's goal: the fans of reform back the government's goal."
    assert "sport" not in topics_of(rules, text)
    assert "sport" in topics_of(rules, "The fans cheered the goal.", "Goal for the fans")


def test_a_primary_subject_the_rules_missed_takes_the_place_of_a_weak_one(tmp_path: Path) -> None:
    rules = rules_in(tmp_path)
    text = ("Un accident entre un car et un camion a fait huit blessés. Les pompiers et un hélicoptère sont "
            "intervenus sur la route. La police a ouvert une enquête.")
    found = topics_of(rules, text, "Collision : huit blessés dans un accident", language="fr")
    assert list(found) == ["disaster"], found
    # Without the vocabulary, the rules see only the police enquiry.
    plain = parse_rules(RULES.replace("vocabulary: subjects.rules", ""))
    assert list(topics_of(plain, text, "Collision : huit blessés dans un accident", language="fr")) == ["crime"]
    # A subject the rules give with strong evidence of their own (twice their threshold) stays beside
    # the primary one.
    many = text + " La police a placé le chauffeur en garde à vue ; l'enquête de police continue, la police"
    assert set(topics_of(rules, many, "Collision : huit blessés dans un accident", language="fr")) == {
        "disaster", "crime"}


def test_explain_says_when_the_vocabulary_gave_or_took_a_topic(tmp_path: Path) -> None:
    rules = rules_in(tmp_path)
    classifier = TopicClassifier(rules, LEMMATIZER)
    words, title_words = words_of("The striker met the cross with a header; the fans sang.", "Late header", "en")
    given = classifier.explain(words, title_words, "en", "sport")
    assert given.fired and given.reason == BY_VOCABULARY
    assert "header" in given.terms[0].texts[0]
    text = ("Un accident entre un car et un camion a fait huit blessés. Les pompiers et un hélicoptère sont "
            "intervenus sur la route. La police a ouvert une enquête.")
    words, title_words = words_of(text, "Collision : huit blessés dans un accident", "fr")
    taken = classifier.explain(words, title_words, "fr", "crime")
    assert not taken.fired and "'disaster' as the primary subject" in taken.reason


# How well it does, alone, on the dev corpus -----------------------------------------------------------


def test_the_vocabulary_alone_is_precise_on_the_dev_articles() -> None:
    """The layer measured on its own (whatever the rules say): the subject it gives is one of the
    article's on at least 95% of the dev articles where it gives one, and it gives one on most."""
    rules = load_rules()
    classifier = TopicClassifier(rules, LEMMATIZER)
    dev = [item for folder in (CORPUS_DIR, TOPICS_DEV_DIR) for item in load_corpus(folder)
           if item.language in TOPIC_LANGUAGES]
    given = right = 0
    wrong = []
    for item in dev:
        words, title_words = words_of(item.text, item.title, item.language)
        subject = classifier.vocabulary_subject(words, title_words, item.language)
        if subject is not None:
            given += 1
            right += subject in item.iptc
            if subject not in item.iptc:
                wrong.append(f"{item.name}: {subject}, expected one of {sorted(item.iptc)}")
    assert given >= 0.75 * len(dev), (given, len(dev))
    assert right / given >= 0.95, (right, given, wrong)
