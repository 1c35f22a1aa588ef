"""The whole analysis, as the worker and `vigie analyze` run it, including bad input."""

from __future__ import annotations

import codecs

import pytest

from ingest.analyze import Analyzer, article_from_file
from ingest.errors import ExtractionError
from ingest.lemmas import QueryLemmatizer
from ingest.models import UNDETERMINED, Analysis, Article
from tests.ingest.analyzers import shipped_analyzer
from tests.support.samples import SAMPLE_PATH

SAMPLE = SAMPLE_PATH


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return shipped_analyzer()


@pytest.fixture(scope="module")
def sample(analyzer: Analyzer) -> Analysis:
    return analyzer.analyze(article_from_file(SAMPLE.read_bytes(), SAMPLE.name))


def text_article(body: str, title: str = "", **fields: object) -> Article:
    return Article(article_id="test", title=title, body=body, is_html=False, text_source="content", **fields)  # type: ignore[arg-type]


def names(analysis: Analysis, label: str) -> set[str]:
    return {entity.text for entity in analysis.entities if entity.label == label}


def test_the_sample_is_french_with_its_people_places_and_topics(sample: Analysis) -> None:
    assert sample.language == "fr" and sample.language_confidence >= 0.9
    persons = " | ".join(names(sample, "PERSON"))
    for person in ("Erdogan", "Poutine", "Peskov", "Merkel", "Borissov"):
        assert person in persons
    assert {"Russie", "Syrie", "Idleb", "Ankara", "Moscou", "Damas", "Turquie"} <= names(sample, "LOCATION")
    assert {"migration", "ceasefire"} <= {topic.name for topic in sample.topics}
    assert all(0.0 <= topic.score <= 1.0 and topic.evidence for topic in sample.topics)
    assert sample.warnings == ()


def test_mentions_of_one_person_are_one_entity_under_the_longest_form(sample: Analysis) -> None:
    erdogans = [entity for entity in sample.entities if "Erdogan" in entity.text]
    assert [entity.text for entity in erdogans] == ["Recep Tayyip Erdogan"]
    assert erdogans[0].mentions >= 4 and erdogans[0].key == "recep tayyip erdogan"


def test_spans_index_the_clean_text(sample: Analysis) -> None:
    for entity in sample.entities:
        assert len(entity.spans) <= entity.mentions
        for start, end in entity.spans:
            assert sample.text[start:end] in entity.text or entity.text.endswith(sample.text[start:end])


def test_the_sample_is_cleaned_and_titled(sample: Analysis) -> None:
    assert sample.title.startswith("Le président turc Recep Tayyip Erdogan se rendra jeudi en Russie")
    assert "d'Idleb. Avec" in sample.text and '"fermez les portes"' in sample.text
    assert {"réfugier", "migrant", "cesser", "feu"} <= set(sample.lemmas.split())


def test_a_batch_gives_the_same_results_in_the_same_order(analyzer: Analyzer) -> None:
    articles = [
        article_from_file(SAMPLE.read_bytes(), SAMPLE.name),
        text_article("The ceasefire between Israel and Hezbollah held on Wednesday as troops withdrew.", "Truce holds"),
        text_article("Die Bundesregierung will Asylbewerber schneller abschieben, Flüchtlinge protestieren.", "Asyl"),
        text_article("", "Vide"),
        text_article("Un séisme de magnitude 6,8 a frappé le Maroc, les secouristes fouillent les décombres.", "Séisme"),
    ]
    assert analyzer.analyze_many(articles) == [analyzer.analyze(article) for article in articles]


def test_a_language_without_a_model_is_tagged_indexed_and_given_its_topics(analyzer: Analyzer) -> None:
    analysis = analyzer.analyze(text_article(
        "Die Bundesregierung will abgelehnte Asylbewerber schneller abschieben. Flüchtlinge und Migranten "
        "protestieren in Berlin gegen die neue Asylpolitik.", "Asylbewerber sollen schneller gehen"))
    # No German model: the knowledge base still finds the places and known names (issue 13).
    assert analysis.language == "de"
    assert [(entity.id, entity.name, entity.label) for entity in analysis.entities] == [("Q64", "Berlin", "LOCATION")]
    assert any("no entity model for 'de'" in warning for warning in analysis.warnings)
    assert [topic.name for topic in analysis.topics] == ["migration"]
    assert "flüchtling" in analysis.lemmas.split()


def test_a_language_without_a_lexicon_gets_no_topics_and_says_why(analyzer: Analyzer) -> None:
    analysis = analyzer.analyze(text_article(
        "Più di mille migranti sono sbarcati a Lampedusa nella notte, a bordo di piccole imbarcazioni partite "
        "dalla Tunisia. Il sindaco chiede aiuto al governo.", "Lampedusa, sbarchi record"))
    assert (analysis.language, analysis.topics) == ("it", ())
    assert [(entity.id, entity.label) for entity in analysis.entities] == [("Q948", "LOCATION")]  # Tunisia, known
    assert any("no topic lexicon for 'it'" in warning for warning in analysis.warnings)
    # Indexed with the Italian lookup table's lemmas, so a search for "migrante" finds it.
    assert set(QueryLemmatizer(["it"]).lemmas("migrante sindaco", "it")) <= set(analysis.lemmas.split())


def test_an_unknown_script_is_undetermined_but_still_cleaned(analyzer: Analyzer) -> None:
    analysis = analyzer.analyze(text_article("สวัสดีครับ วันนี้อากาศดีมาก ประชาชนจำนวนมากออกมาเดินเล่น", "ข่าววันนี้"))
    assert (analysis.language, analysis.language_confidence) == (UNDETERMINED, 0.0)
    assert analysis.text and analysis.entities == () and analysis.topics == ()
    assert any("language undetermined" in warning for warning in analysis.warnings)


def test_an_empty_article_comes_back_empty_with_a_reason(analyzer: Analyzer) -> None:
    analysis = analyzer.analyze(text_article("  \n\n Advertisement \n", "Titre"))
    assert (analysis.text, analysis.entities, analysis.topics, analysis.language) == ("", (), (), UNDETERMINED)
    assert analysis.warnings == ("no text left after cleaning",)


def test_a_title_without_text_still_gets_its_entities_lemmas_and_topics(analyzer: Analyzer) -> None:
    analysis = analyzer.analyze(text_article("", "Séisme meurtrier au Maroc : des milliers de morts et de blessés"))
    assert (analysis.language, analysis.text) == ("fr", "")
    assert analysis.warnings == ("no text left after cleaning",)
    maroc = next(entity for entity in analysis.entities if entity.text == "Maroc")
    assert (maroc.mentions, maroc.spans) == (1, ())  # a title mention has no span in the (empty) text
    assert [topic.name for topic in analysis.topics] == ["natural-disaster"]
    assert analysis.lemmas.startswith("séisme meurtrier au maroc")


def test_a_long_text_is_truncated_and_says_so() -> None:
    analyzer = Analyzer({}, ["fr", "en"], max_text_chars=2_000)
    body = " ".join(f"Phrase numéro {number} sur les réfugiés à la frontière." for number in range(2_000))
    analysis = analyzer.analyze(text_article(body, "Très long"))
    assert len(analysis.text) <= 2_000 and analysis.text.startswith("Phrase numéro 0 ")
    assert analysis.warnings[0] == f"text truncated to its first 2000 characters (the text had {len(body)})"


def test_a_page_without_an_article_comes_back_empty_with_a_reason(analyzer: Analyzer) -> None:
    page = ("<!doctype html><html><head><title>Accueil</title></head><body><nav><a href=/a>Monde</a> "
            "<a href=/b>Sport</a></nav><footer>© 2024</footer></body></html>")
    analysis = analyzer.analyze(article_from_file(page.encode(), "accueil.html"))
    assert (analysis.title, analysis.text, analysis.entities) == ("Accueil", "", ())
    assert analysis.warnings == ("no article found in the HTML page",)


def test_a_feed_summary_is_html_turned_into_paragraphs(analyzer: Analyzer) -> None:
    analysis = analyzer.analyze(Article(
        article_id="summary", title="Séisme au Maroc", is_html=True, text_source="summary",
        body="<p>Un séisme a frappé le <b>Maroc</b> vendredi.</p><p>Lire aussi : notre direct</p>"
             "<p>Les secours fouillent les décombres à Marrakech.</p>"))
    assert analysis.text == "Un séisme a frappé le Maroc vendredi.\n\nLes secours fouillent les décombres à Marrakech."
    assert analysis.language == "fr"
    assert {"Maroc", "Marrakech"} <= names(analysis, "LOCATION")


def test_a_title_repeated_at_the_start_of_the_text_is_read_once(analyzer: Analyzer) -> None:
    analysis = analyzer.analyze(text_article("Séisme au Maroc. Les secours fouillent les décombres à Marrakech.",
                                             "Séisme au Maroc"))
    maroc = next(entity for entity in analysis.entities if entity.text == "Maroc")
    assert maroc.mentions == 1 and len(maroc.spans) == 1
    assert analysis.lemmas.startswith("séisme au maroc")


# Files ---------------------------------------------------------------------------------------------


def test_a_text_file_has_its_title_on_the_first_line() -> None:
    article = article_from_file("Séisme au Maroc\n\nUn séisme a frappé.\nLes secours arrivent.".encode(), "a.txt")
    assert (article.title, article.body, article.is_html, article.text_source) == (
        "Séisme au Maroc", "\nUn séisme a frappé.\nLes secours arrivent.", False, "file")
    assert len(article.article_id) == 32


def test_a_single_line_file_is_the_article_and_gets_a_title_from_its_first_sentence() -> None:
    article = article_from_file(SAMPLE.read_bytes(), SAMPLE.name)
    assert article.body == SAMPLE.read_text(encoding="utf-8").strip()
    assert article.title.startswith("Le président turc") and len(article.title) <= 200


def test_the_id_is_a_hash_of_the_content() -> None:
    assert article_from_file(b"Titre\nTexte", "a").article_id == article_from_file(b"Titre\nTexte", "b").article_id
    assert article_from_file(b"Titre\nTexte", "a").article_id != article_from_file(b"Titre\nAutre", "a").article_id


def test_html_files_are_recognised_and_titled() -> None:
    article = article_from_file(b"<html><head><title>Le titre</title></head><body><p>Texte</p></body></html>", "p.html")
    assert article.is_html and article.title == "Le titre"


@pytest.mark.parametrize(("raw", "encoding"), [
    ("Réfugiés à la frontière\nTexte".encode("cp1252"), "cp1252"),
    (codecs.BOM_UTF8 + "Réfugiés à la frontière\nTexte".encode(), "utf-8 with BOM"),
    ("Réfugiés à la frontière\nTexte".encode("utf-16"), "utf-16 with BOM"),
])
def test_common_encodings_are_read(raw: bytes, encoding: str) -> None:
    assert article_from_file(raw, encoding).title == "Réfugiés à la frontière"


@pytest.mark.parametrize(("raw", "message"), [
    (b"", "empty.txt: empty input"),
    (b"  \n\t\n ", "empty.txt: empty input"),
    (bytes(range(256)) * 10, "empty.txt: binary data"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "empty.txt: binary data"),
])
def test_empty_and_binary_files_are_refused_with_the_file_name(raw: bytes, message: str) -> None:
    with pytest.raises(ExtractionError, match=message):
        article_from_file(raw, "empty.txt")
