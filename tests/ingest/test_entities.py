"""Entities: one per real-world name, labelled alike whatever the model, without junk."""

from __future__ import annotations

import pytest
import spacy

from ingest.entities import LABELS, entities_of, is_junk, merge_mentions, split_compounds
from ingest.mentions import Mention, entity_key
from ingest.models import Entity


def by_text(entities: tuple[Entity, ...]) -> dict[str, Entity]:
    return {entity.text: entity for entity in entities}


def test_model_labels_map_to_four_labels_in_one_table() -> None:
    assert {LABELS[label] for label in ("PER", "PERSON")} == {"PERSON"}
    assert {LABELS[label] for label in ("LOC", "GPE", "FAC")} == {"LOCATION"}
    assert LABELS["ORG"] == "ORGANIZATION"
    assert {LABELS[label] for label in ("MISC", "NORP", "EVENT", "LAW")} == {"MISC"}
    assert all(LABELS[label] is None for label in ("DATE", "CARDINAL", "MONEY", "PERCENT"))


def test_entity_key_folds_case_accents_and_a_leading_determiner() -> None:
    assert entity_key("Recep Tayyip Erdoğan") == "recep tayyip erdogan"
    assert entity_key("The United Nations") == entity_key("United Nations") == "united nations"
    assert entity_key("l'Europe") == "europe"
    assert entity_key("Le Caire") == "caire"


@pytest.mark.parametrize("text", [
    "A", "2011", "%", "12 000", "Samedi", "Etat turc", "Premier ministre bulgare", "Ce sera sans aucun doute",
    "préfecture de la", "Cinq migrants", "ministre. Il a dit", "Un séisme de magnitude",
])
def test_junk_is_recognised(text: str) -> None:
    assert is_junk(text, spacy.blank("fr").Defaults.stop_words)


@pytest.mark.parametrize("text", [
    "G7", "Idleb", "accords de Sotchi", "Médecins sans frontières", "Émirats arabes unis", "M. Poutine",
    "Agence internationale de l'énergie atomique", "St. Louis", "Robert F. Kennedy Jr.",
])
def test_names_are_not_junk(text: str) -> None:
    assert not is_junk(text, spacy.blank("fr").Defaults.stop_words)


def test_shorter_forms_of_a_person_join_the_longest_form() -> None:
    mentions = [
        Mention("Recep Tayyip Erdogan", "PERSON", 0, 20),
        Mention("Erdogan", "PERSON", 50, 57),
        Mention("Erdogan", "LOCATION", 90, 97),  # a mislabelled mention is outvoted
        Mention("Erdogan", "PERSON", 120, 127),
    ]
    entity = by_text(merge_mentions(mentions))["Recep Tayyip Erdogan"]
    assert (entity.label, entity.mentions, entity.key) == ("PERSON", 4, "recep tayyip erdogan")
    assert entity.spans == ((0, 20), (50, 57), (90, 97), (120, 127))


def test_an_ambiguous_surname_joins_no_one() -> None:
    mentions = [Mention("George Bush", "PERSON", 0, 11), Mention("Laura Bush", "PERSON", 20, 30),
                Mention("Bush", "PERSON", 40, 44)]
    assert set(by_text(merge_mentions(mentions))) == {"George Bush", "Laura Bush", "Bush"}


def test_places_are_not_merged_into_longer_names() -> None:
    mentions = [Mention("Paris", "LOCATION", 0, 5), Mention("Paris Saint-Germain", "ORGANIZATION", 10, 29)]
    assert set(by_text(merge_mentions(mentions))) == {"Paris", "Paris Saint-Germain"}


def test_title_mentions_count_but_spans_index_the_text() -> None:
    # Title "Macron à Pékin" then a blank line: the text starts at 16.
    mentions = [Mention("Macron", "PERSON", 0, 6), Mention("Emmanuel Macron", "PERSON", 16, 31)]
    entity = merge_mentions(mentions, text_start=16)[0]
    assert (entity.text, entity.mentions, entity.spans) == ("Emmanuel Macron", 2, ((0, 15),))


def test_compound_mentions_are_split_or_joined_using_the_other_mentions() -> None:
    text = "Recep Tayyip Erdogan. Vladimir Poutine. Le Kremlin. Erdogan-Poutine. Kremlin Dmitri Peskov. Bassirou Diomaye Faye."
    mentions = [
        Mention("Recep Tayyip Erdogan", "PERSON", 0, 20),
        Mention("Vladimir Poutine", "PERSON", 22, 38),
        Mention("Kremlin", "LOCATION", 43, 50),
        Mention("Erdogan-Poutine", "PERSON", 52, 67),
        Mention("Kremlin Dmitri Peskov", "PERSON", 69, 90),
        Mention("Bassirou", "LOCATION", 92, 100),
        Mention("Diomaye Faye", "PERSON", 101, 113),
    ]
    repaired = [(mention.text, mention.label) for mention in split_compounds(mentions, text)]
    assert repaired == [
        ("Recep Tayyip Erdogan", "PERSON"), ("Vladimir Poutine", "PERSON"), ("Kremlin", "LOCATION"),
        ("Erdogan", "PERSON"), ("Poutine", "PERSON"), ("Kremlin", "LOCATION"), ("Dmitri Peskov", "PERSON"),
        ("Bassirou Diomaye Faye", "PERSON"),
    ]
    assert all(text[mention.start:mention.end] == mention.text for mention in split_compounds(mentions, text))


def test_entities_of_a_parsed_text_are_tidied_and_merged() -> None:
    title = "Erdogan à Moscou"
    body = "Samedi, le président Erdogan a rencontré Vladimir Poutine. Recep Tayyip Erdogan repart le 2 mars."
    doc = spacy.blank("fr")(f"{title}\n\n{body}")

    def span(text: str, label: str) -> spacy.tokens.Span:
        start = doc.text.index(text)
        return doc.char_span(start, start + len(text), label=label)

    # What a model might return, junk and mislabels included.
    doc.ents = [span("Erdogan", "PER"), span("Moscou", "LOC"), span("Samedi", "PER"), span("président Erdogan", "PER"),
                span("Vladimir Poutine", "PER"), span("Recep Tayyip Erdogan", "PER"), span("2 mars", "DATE")]
    entities = by_text(entities_of(doc, text_start=len(title) + 2))
    assert set(entities) == {"Recep Tayyip Erdogan", "Moscou", "Vladimir Poutine"}  # no "Samedi", no date
    erdogan = entities["Recep Tayyip Erdogan"]
    assert erdogan.mentions == 3  # the title's, "président Erdogan" without its title, the full name
    assert [body[start:end] for start, end in erdogan.spans] == ["Erdogan", "Recep Tayyip Erdogan"]
    assert entities["Moscou"].spans == ()  # only in the title


def test_a_preposition_the_model_took_into_a_place_is_cut_but_not_from_a_person() -> None:
    text = "La braderie de Lille a attiré Charles de Gaulle et les élus du Doubs."
    doc = spacy.blank("fr")(text)

    def span(part: str, label: str) -> spacy.tokens.Span:
        start = text.index(part)
        return doc.char_span(start, start + len(part), label=label)

    # "de Lille" and "du Doubs" as a model reads them; a person's "de" stays his name.
    doc.ents = [span("de Lille", "LOC"), span("Charles de Gaulle", "PER"), span("du Doubs", "LOC")]
    assert set(by_text(entities_of(doc))) == {"Lille", "Charles de Gaulle", "Doubs"}
