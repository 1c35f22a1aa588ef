"""Persons named after their title in languages without an NER model (ingest.title_persons), and what
is not taken for one."""

from __future__ import annotations

import pytest

from ingest.entities import known_entities_of
from ingest.entity_kb import default_kb
from ingest.title_persons import titled_persons


def names(text: str, language: str) -> list[str]:
    return [mention.text for mention in titled_persons(text, language)]


@pytest.mark.parametrize(("language", "text", "expected"), [
    ("de", "Am Abend eröffnete Oberbürgermeisterin Katrin Vogelsang das Stadtfest.", ["Katrin Vogelsang"]),
    ("de", "Der Verein verpflichtet Innenverteidiger Lukas Brenninger aus Graz.", ["Lukas Brenninger"]),
    ("de", "Das bestätigte Frau Dr. Hanna Zielke am Montag.", ["Hanna Zielke"]),
    ("es", "El alcalde Tomás Urquijo de la Fuente inauguró el puente.", ["Tomás Urquijo de la Fuente"]),
    ("es", "La consejera de Sanidad, Lucía Bermejo, visitó el hospital.", ["Lucía Bermejo"]),
    ("it", "Il sindaco Paolo Ferrandi ha firmato l'ordinanza.", ["Paolo Ferrandi"]),
    ("it", "Il presidente della Provincia, Giulia Marchetti Serra, ha risposto.", ["Giulia Marchetti Serra"]),
    ("ru", "Губернатор Тверской области Игорь Руденко заявил о ремонте.", ["Игорь Руденко"]),
    ("ru", "Министр Павел Сергеевич Крылов открыл выставку.", ["Павел Сергеевич Крылов"]),
    ("pt", "O prefeito Ricardo Nunes anunciou obras.", ["Ricardo Nunes"]),
    ("nl", "Burgemeester Femke Halsema opende het museum.", ["Femke Halsema"]),
])
def test_a_name_after_a_role_word_is_a_person(language: str, text: str, expected: list[str]) -> None:
    assert names(text, language) == expected


def test_every_other_place_the_article_writes_the_full_name_is_that_person_too() -> None:
    text = "Lukas Brenninger wechselt nach Linz\nDer Verein verpflichtet Innenverteidiger Lukas Brenninger."
    found = titled_persons(text, "de")
    assert [mention.text for mention in found] == ["Lukas Brenninger", "Lukas Brenninger"]
    assert [mention.start for mention in found] == [0, text.rindex("Lukas")]


@pytest.mark.parametrize(("language", "text"), [
    ("de", "Bürgermeister Huber eröffnete das Fest."),  # one word: left to the knowledge base
    ("de", "Der Trainer des FC Bayern München lobte die Mannschaft."),  # an organisation after "des"
    ("de", "Trainer Markus Feld das Klima lobte."),  # "das" is no particle of a German name ...
    ("es", "El fiscal General del Estado compareció ayer."),  # a title, not a name
    ("es", "La presidenta de la Comunidad de Madrid y el alcalde visitaron las obras."),  # no apposition
    ("it", "Il presidente ANCI ha scritto ai sindaci."),  # an acronym
    ("ru", "После Владимира Путина выступил министр."),  # "после" is no role
    ("fr", "Le maire Jean Dupont a parlé."),  # French has a model: not this module's
])
def test_what_is_not_taken_for_a_person(language: str, text: str) -> None:
    found = names(text, language)
    assert found in ([], ["Markus Feld"]), found  # ... so the name stops before it


def test_a_persons_surname_gives_the_article_no_country() -> None:
    """"Пестов" is also a town of Russia: a person's surname must not make the article Russian and
    turn a Kazakh town into a Russian one."""
    text = ("Завод в Сарани запустит новую линию, сообщил генеральный директор Игорь Пестов. "
            "Сарань находится в Казахстане.")
    entities = {entity.text: entity for entity in known_entities_of(text, "ru", default_kb())}
    assert entities["Игорь Пестов"].label == "PERSON"
    assert entities["Сарани"].id == default_kb().lookup("Сарань", "ru", frozenset({"KZ"})).id  # type: ignore[union-attr]
