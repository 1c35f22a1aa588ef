"""The topic model, a learned second opinion on the top-level subject (ingest.topic_model): how it is
combined with the rules (it only adds a top-level subject, only when the rules give no topic, only from
its threshold), that it is deterministic, and that the shipped file is what bench/topic_model.py builds
from the dev corpus. Its quality, dev cross-validated and held-out, is in docs/quality.md."""

from __future__ import annotations

import math

import pytest

from bench.topic_model import build, dev_examples
from ingest.lemmas import Lemmatizer
from ingest.models import TopicMatch
from ingest.topic_model import (
    BY_MODEL, MODEL_FILE, Opinion, TopicModel, default_model, features, given_by_model, model_score, train,
    with_model_opinion,
)
from ingest.topic_rules import load_rules
from ingest.topics import TopicClassifier

RULES = load_rules()
LEMMATIZER = Lemmatizer()  # its tables load once
ELECTIONS = TopicMatch("elections", 0.8, ("Landtagswahl",), "medtop:20000574", "medtop:11000000", "politics")
SPORT = Opinion("sport", 0.9999, ("match", "club"))

# A quiet article none of the rules fires on (checked below), and a toy model that knows its words.
QUIET = "Le potager partagé\n\nLes voisins arrosent ensemble les tomates et les courgettes du potager partagé."
TOY_EXAMPLES = [
    (frozenset({"potager", "tomate", "courgette"}), frozenset({"lifestyle"})),
    (frozenset({"potager", "arroser"}), frozenset({"lifestyle"})),
    (frozenset({"match", "club"}), frozenset({"sport"})),
]


def toy_model(threshold: float) -> TopicModel:
    return train(TOY_EXAMPLES, ("lifestyle", "sport"), alpha=0.5, min_documents=1, threshold=threshold, trained_on="toy")


def quiet_words() -> tuple[list[tuple[str, str]], int]:
    title, body = QUIET.split("\n\n")
    title_words = LEMMATIZER.words_of_text(title, "fr")
    return title_words + LEMMATIZER.words_of_text(body, "fr"), len(title_words)


def test_the_model_adds_its_subject_only_when_the_rules_gave_no_topic() -> None:
    added = with_model_opinion([], SPORT, 0.999, RULES)
    assert [topic.name for topic in added] == ["sport"]
    sport = RULES.topic("sport")
    assert sport is not None
    assert added[0].iptc == added[0].iptc_top == sport.iptc and added[0].parent is None
    # scored like a rule: 0.5 at the threshold, higher with more confidence (log-odds), never 1
    assert 0.5 < added[0].score < 1.0 and added[0].evidence == (f"{BY_MODEL} (probability 0.999900)", "match", "club")
    assert model_score(0.999, 0.999) == 0.5 and model_score(0.999999, 0.999) == pytest.approx(0.75, abs=0.01)
    assert model_score(1.0, 0.999) < 1.0
    assert given_by_model(added[0]) and not given_by_model(ELECTIONS)
    # never removes or replaces a rule's topic, however sure it is
    assert with_model_opinion([ELECTIONS], Opinion("sport", 1.0, ()), 0.5, RULES) == [ELECTIONS]


def test_the_model_needs_its_threshold_and_never_adds_a_child_or_an_unknown_subject() -> None:
    assert with_model_opinion([], SPORT, 0.99999, RULES) == []
    assert with_model_opinion([], None, 0.5, RULES) == []
    assert with_model_opinion([], Opinion("migration", 1.0, ()), 0.5, RULES) == []  # a child topic
    assert with_model_opinion([], Opinion("astrology", 1.0, ()), 0.5, RULES) == []  # not in the rules


def test_the_classifier_asks_the_model_only_for_an_article_without_topic() -> None:
    words, title_words = quiet_words()
    rules_alone = TopicClassifier(RULES, LEMMATIZER)
    assert rules_alone.topics(words, title_words, "fr") == []
    with_model = TopicClassifier(RULES, LEMMATIZER, toy_model(threshold=0.6))
    topics = with_model.topics(words, title_words, "fr")
    assert [(topic.name, given_by_model(topic)) for topic in topics] == [("lifestyle", True)]
    assert "potager" in topics[0].evidence
    # the same model with a threshold it does not reach adds nothing
    assert TopicClassifier(RULES, LEMMATIZER, toy_model(threshold=0.999999)).topics(words, title_words, "fr") == []
    # an article the rules give a topic: the model's subject is not added beside it
    election = LEMMATIZER.words_of_text("Landtagswahl in Bayern: die CSU gewinnt die Wahl, der Potager verliert", "de")
    names = {topic.name for topic in with_model.topics(election, 0, "de")}
    assert "elections" in names and "lifestyle" not in names


def test_explain_says_the_model_gave_the_subject() -> None:
    words, title_words = quiet_words()
    classifier = TopicClassifier(RULES, LEMMATIZER, toy_model(threshold=0.6))
    explanation = classifier.explain(words, title_words, "fr", "lifestyle")
    assert explanation.fired and explanation.by == "model"
    assert explanation.to_dict()["by"] == "model" and 0.5 <= explanation.score < 1.0
    with pytest.raises(ValueError):
        toy_model(threshold=0.5)
    assert "topic model" in explanation.reason and "potager" in explanation.reason
    rules_alone = TopicClassifier(RULES, LEMMATIZER).explain(words, title_words, "fr", "lifestyle")
    assert not rules_alone.fired and rules_alone.by == "rules"


def test_the_model_is_deterministic_and_reads_back_what_it_writes() -> None:
    first, second = toy_model(0.6), toy_model(0.6)
    assert first.to_json() == second.to_json()
    again = TopicModel.from_json(first.to_json())
    assert again == first and again.to_json() == first.to_json()
    found = features([("Tomates", "tomate"), ("du", "de"), ("potager", "potager"), ("2024", "2024")])
    assert found == {"tomate", "potager"}
    opinion = first.opinion(found)
    assert opinion is not None and opinion.subject == "lifestyle" and opinion == again.opinion(found)
    # the probability is the naive Bayes posterior: recomputed by hand from the counts
    priors = [math.log(2 / 3), math.log(1 / 3)]
    vocabulary, totals = 6, [5, 2]  # words: potager tomate courgette arroser match club
    counts = {"potager": (2, 0), "tomate": (1, 0)}
    scores = [priors[at] + sum(math.log(counts[word][at] + 0.5) - math.log(totals[at] + 0.5 * vocabulary)
                               for word in counts) for at in range(2)]
    assert opinion.probability == pytest.approx(math.exp(scores[0]) / sum(math.exp(score) for score in scores))
    assert first.opinion({"unknown"}) is None


def test_every_subject_s_probability_agrees_with_the_opinion() -> None:
    model = toy_model(0.6)
    sporty = model.probabilities({"match", "club", "potager"})
    assert set(sporty) == {"lifestyle", "sport"} and sum(sporty.values()) == pytest.approx(1.0)
    opinion = model.opinion({"match", "club", "potager"})
    assert opinion is not None and opinion.subject == "sport"
    assert sporty["sport"] == pytest.approx(opinion.probability) and sporty["lifestyle"] < sporty["sport"]
    assert model.probabilities({"potager"})["lifestyle"] > 0.5
    assert model.probabilities({"unknown"}) == {}


def test_the_shipped_model_is_what_the_training_script_builds_from_dev() -> None:
    built = build(dev_examples()).model
    shipped = default_model()
    assert built.to_json() == MODEL_FILE.read_text(encoding="utf-8"), (
        "ingest/data/topic-model.json is not what bench/topic_model.py builds: run it (rules or dev corpus changed?)")
    assert len(shipped.subjects) == 17 and set(shipped.subjects) == {
        topic.name for topic in RULES.topics if topic.parent is None}
    assert 0.5 < shipped.threshold < 1.0
