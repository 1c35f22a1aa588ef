"""Lemmas: the same words and lemmas at index time (Analysis.lemmas) and query time (QueryLemmatizer)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.lemmas import LemmaTable, Lemmatizer, QueryLemmatizer, load_lemma_table, token_ids, word_lemmas
from ingest.models import Article
from tests.ingest.analyzers import shipped_analyzer

QUERY = QueryLemmatizer(["fr", "en", "de", "it", "uk"])


def test_inflected_forms_share_a_lemma() -> None:
    assert QUERY.lemmas("réfugiés", "fr") == QUERY.lemmas("réfugié", "fr") == QUERY.lemmas("Réfugiées", "fr")
    assert QUERY.lemmas("refugees", "en") == ["refugee"]
    assert QUERY.lemmas("Flüchtlinge", "de") == ["flüchtling"]


def test_query_text_is_split_like_indexed_text() -> None:
    assert QUERY.lemmas("L\u2019escalade du cessez-le-feu", "fr") == ["le", "escalade", "du", "cesser", "le", "feu"]
    assert QUERY.lemmas("Erdogan's troops, 2024!", "en") == QUERY.lemmas("erdogan 's troop 2024", "en")


def test_a_language_without_a_table_gets_lower_cased_words() -> None:
    assert QUERY.lemmas("Біженці прибули до Києва", "uk") == ["біженці", "прибули", "до", "києва"]
    assert QUERY.lemmas("Migranti sbarcati", "xx") == ["migranti", "sbarcati"]


def test_variants_cover_each_language_that_has_a_table() -> None:
    variants = QUERY.variants("migrants")
    assert set(variants) == {"fr", "en", "de", "it"}  # Ukrainian has no lookup table
    assert variants["fr"] == variants["en"] == ["migrant"]


def test_query_lemmas_are_found_in_the_indexed_lemmas() -> None:
    analysis = shipped_analyzer().analyze(Article(
        article_id="lemmas", title="Les réfugiés arrivent", is_html=False, text_source="content",
        body="Des milliers de réfugiées syriennes ont été accueillies dans les camps proches de la frontière turque."))
    indexed = set(analysis.lemmas.split())
    for query in ("réfugié", "Réfugiés", "accueillir", "camp", "frontières", "syrien"):
        assert set(QUERY.lemmas(query, "fr")) <= indexed, query


def test_words_of_token_ids_are_the_words_of_their_texts() -> None:
    """The analysis reads a parsed article's words from its tokens' ids (``words_of_ids``), cached by id:
    the same words as from the tokens' texts, in every language, twice over (the second time from the cache)."""
    texts = {"fr": "L’escalade du cessez-le-feu : les réfugiés d'Idleb fuient vers la Turquie.",
             "en": "Erdogan's troops can't stop the cease-fire's collapse; refugees flee Idlib.",
             "de": "Die Landtagswahl in Sachsen: Flüchtlinge und Wahlkampf-Themen.",
             "es": "El alto el fuego en Idlib: los refugiados huyen hacia Turquía."}
    lemmatizer, by_texts = Lemmatizer(), Lemmatizer()
    for language, text in texts.items():
        doc = lemmatizer.tokenizer(language)(text)
        expected = by_texts.words([token.text for token in doc], language)
        assert len(expected) >= 8 and any(surface != lemma for surface, lemma in expected), language
        for _ in range(2):
            assert lemmatizer.words_of_ids(token_ids(doc), doc.vocab.strings, language) == expected, language
        split = 4  # a title's tokens, then the rest: the same words end to end
        ids = token_ids(doc)
        assert (lemmatizer.words_of_ids(ids[:split], doc.vocab.strings, language)
                + lemmatizer.words_of_ids(ids[split:], doc.vocab.strings, language)) == expected


def test_lemma_table_keeps_the_lower_case_entry_of_a_form() -> None:
    table = LemmaTable.from_lookups([{"Est": "Est", "est": "être", "Avions": "avion", "avions": ["avoir", "avion"]}])
    assert table.get("est") == "être"
    assert table.get("avions") == "avoir"
    assert table.get("inconnu") is None
    assert len(table) == 2  # forms that are their own lemma need no entry


def test_polish_tables_split_by_part_of_speech_are_merged() -> None:
    table = load_lemma_table("pl")
    assert table is not None and table.get("uchodźców") == "uchodźca"
    assert load_lemma_table("uk") is None


def test_word_lemmas_split_hyphens_and_drop_punctuation() -> None:
    assert word_lemmas("Saint-Denis", None) == [("saint", "saint"), ("denis", "denis")]
    assert word_lemmas("«", None) == []
    assert word_lemmas("'s", None) == [("s", "s")]


@settings(max_examples=200)
@given(st.lists(st.text(min_size=1, max_size=12), max_size=20))
def test_words_are_lower_cased_and_never_empty(tokens: list[str]) -> None:
    for surface, lemma in Lemmatizer().words(tokens, "en"):
        assert surface and lemma
        assert surface == surface.lower() and lemma == lemma.lower()


def test_query_tokens_agree_with_spacy_on_every_corpus_sentence() -> None:
    """Queries are cut by light rules (building spaCy's French tokenizer costs 2 s per process);
    after Elasticsearch's analysis (a trailing '.' or '+' is dropped there) they give the same
    lemmas as the indexing side on every sentence of the evaluation corpus."""
    import re

    from ingest.clean import normalize_characters
    from ingest.lemmas import Lemmatizer, QueryLemmatizer
    from tests.ingest.quality_corpus import load_corpus

    indexing, query = Lemmatizer(), QueryLemmatizer(["fr", "en"])
    sentences = 0
    for article in load_corpus():
        if article.language not in ("fr", "en"):
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", article.title + " " + article.text):
            sentences += 1
            indexed = [lemma.rstrip(".+") for _, lemma in
                       indexing.words_of_text(normalize_characters(sentence), article.language)]
            assert query.lemmas(sentence, article.language) == indexed, sentence
    assert sentences > 200
