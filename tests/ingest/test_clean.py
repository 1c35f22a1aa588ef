"""Cleaning: what an analyst reads is the article, once, with its paragraphs and plain characters."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.clean import clean_line, clean_text, fold_key, headline_from_text, html_to_text, normalize_characters
from ingest.extract import main_text, page_title
from tests.support.samples import SAMPLE_PATH

SAMPLE = SAMPLE_PATH


def test_characters_are_nfc_with_plain_spaces_and_quotes() -> None:
    decomposed = unicodedata.normalize("NFD", "Élysée")
    text = normalize_characters(f"{decomposed}\u00a0: l\u2019accord\u202f! \u201cYes\u201d\u200b")
    assert text == "Élysée : l'accord ! \"Yes\""
    assert unicodedata.is_normalized("NFC", text)


def test_curly_quote_with_apostrophe_becomes_a_double_quote() -> None:
    assert normalize_characters("Ils disent \u2018'fermez les portes''.") == 'Ils disent "fermez les portes".'


def test_control_characters_go_and_line_breaks_stay() -> None:
    assert normalize_characters("a\x00b\x07c\r\nd\u2028e\x85f") == "abc\nd\ne\nf"


def test_glued_sentence_gets_its_space_back() -> None:
    text = clean_text("Le cessez-le-feu vaut pour la zone d'Idleb.Avec l'appui de l'aviation russe, Damas avance.")
    assert "d'Idleb. Avec l'appui" in text


def test_dots_that_are_not_sentence_ends_are_left_alone() -> None:
    text = clean_text("Voir www.Lemonde.fr/International ou écrire à contact@Agence.Fr; les U.S.A. et le 3.Mars.")
    assert "www.Lemonde.fr/International" in text
    assert "contact@Agence.Fr" in text
    assert "U.S.A." in text and "3.Mars" in text


def test_mistyped_guillemet_after_a_sentence_becomes_an_opening_one() -> None:
    text = clean_text("La coopération est d'une «grande importance».»Nous conservons notre engagement», a-t-il dit.")
    assert "«grande importance». «Nous conservons" in text


def test_blank_lines_separate_paragraphs_and_single_newlines_are_wrapping() -> None:
    text = clean_text("Premier paragraphe\ncoupé en deux lignes.\n\n\n  Second   paragraphe.  \n")
    assert text == "Premier paragraphe coupé en deux lignes.\n\nSecond paragraphe."


def test_without_blank_lines_each_line_is_a_paragraph() -> None:
    assert clean_text("Un.\nDeux.\nTrois.") == "Un.\n\nDeux.\n\nTrois."


def test_boilerplate_paragraphs_are_dropped() -> None:
    text = clean_text(
        "Le séisme a fait des centaines de morts.\n"
        "Lire aussi : Au Maroc, la solidarité s'organise\n"
        "Advertisement\n"
        "Partager Facebook Twitter E-mail\n"
        "Share this article\n"
        "Read more: what we know\n"
        "Les secours fouillent les décombres."
    )
    assert text == "Le séisme a fait des centaines de morts.\n\nLes secours fouillent les décombres."


def test_a_long_paragraph_that_starts_like_boilerplate_is_kept() -> None:
    long_paragraph = "Read more carefully, the report says the ceasefire " + "held across the front line " * 10
    assert clean_text(long_paragraph) == long_paragraph.strip()


def test_a_paragraph_repeated_verbatim_is_kept_once() -> None:
    text = clean_text("Un séisme a frappé le Maroc.\n\nLes secours arrivent.\n\nUn séisme a frappé le Maroc.")
    assert text == "Un séisme a frappé le Maroc.\n\nLes secours arrivent."


def test_a_long_sentence_repeated_verbatim_inside_the_text_is_kept_once() -> None:
    sentence = "Les deux pays avaient renforcé leur coopération sur le dossier syrien ces dernières années."
    text = clean_text(f"{sentence} Puis la crise est arrivée. {sentence} Fin.")
    assert text.count(sentence) == 1
    assert "Puis la crise est arrivée." in text and text.endswith("Fin.")


def test_near_repeats_with_different_facts_are_kept() -> None:
    text = clean_text(SAMPLE.read_text(encoding="utf-8"))
    # The sample restates the offensive twice with different tolls: both facts stay.
    assert "tuant 19 soldats syriens" in text and "tuant 34 soldats syriens" in text
    assert "d'Idleb. Avec l'appui" in text
    assert text.count("Avec l'appui de l'aviation russe") == 2


def test_html_fragment_keeps_paragraphs_and_drops_scripts() -> None:
    html = ("<p>Un&nbsp;séisme a frappé <b>le Maroc</b>.</p><script>alert('x')</script>"
            "<div>Les secours<br>arrivent.<br><br>Bilan provisoire.</div><ul><li>Marrakech</li><li>Al-Haouz</li></ul>")
    assert html_to_text(html) == ("Un séisme a frappé le Maroc.\n\nLes secours arrivent.\n\nBilan provisoire."
                                  "\n\nMarrakech\n\nAl-Haouz")


def test_broken_html_still_gives_its_text() -> None:
    text = html_to_text("<div><p>Premier <i>paragraphe<p>Second</div></span><p>Troisième &amp; dernier")
    assert text == "Premier paragraphe\n\nSecond\n\nTroisième & dernier"


def test_headline_from_text_is_the_first_sentence_shortened_at_a_comma() -> None:
    sample = SAMPLE.read_text(encoding="utf-8")
    assert headline_from_text(sample) == (
        "Le président turc Recep Tayyip Erdogan se rendra jeudi en Russie pour discuter avec Vladimir "
        "Poutine de l'escalade des tensions dans le nord-ouest de la Syrie")
    assert headline_from_text("M. Poutine est arrivé à Ankara. Il repart demain.") == "M. Poutine est arrivé à Ankara."


def test_clean_line_and_fold_key() -> None:
    assert clean_line("  Séisme\n au   Maroc\u00a0 ") == "Séisme au Maroc"
    assert fold_key("Erdoğan Boïko ŁÓDŹ Straße") == "erdogan boiko lodz strasse"


def test_main_text_of_a_page_leaves_the_furniture_out() -> None:
    page = (
        "<html><head><title>Séisme au Maroc | Le Journal</title></head><body>"
        "<nav><a href='/'>Accueil</a> <a href='/monde'>Monde</a></nav>"
        "<article><h1>Séisme au Maroc</h1>"
        "<p>Un puissant séisme a frappé le Maroc dans la nuit de vendredi à samedi, faisant plus de deux mille "
        "morts selon un bilan officiel publié par le ministère de l'Intérieur.</p>"
        "<p>Les secours fouillent les décombres dans la province d'Al-Haouz, au sud de Marrakech, où des "
        "villages entiers ont été détruits par la secousse.</p></article>"
        "<footer>© Le Journal 2024 — Mentions légales</footer></body></html>"
    )
    text = main_text(page, "https://example.org/seisme")
    assert text is not None
    assert "Un puissant séisme a frappé le Maroc" in text and "Les secours fouillent les décombres" in text
    assert "Mentions légales" not in text and "Accueil" not in text
    assert page_title(page) == "Séisme au Maroc"


def test_a_page_without_an_article_has_no_main_text() -> None:
    page = ("<!doctype html><html><head><title>Accueil</title></head><body><nav><a href=/a>Monde</a> "
            "<a href=/b>Sport</a></nav><footer>© 2024</footer></body></html>")
    assert main_text(page, None) is None


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400)


@settings(max_examples=300)
@given(st.lists(_TEXT, max_size=6).map("\n".join))
def test_cleaning_is_idempotent_and_leaves_no_stray_whitespace(raw: str) -> None:
    once = clean_text(raw)
    assert clean_text(once) == once
    assert unicodedata.is_normalized("NFC", once)
    assert "\n\n\n" not in once and "\u00a0" not in once and "\r" not in once
    assert all(paragraph == paragraph.strip() and paragraph for paragraph in once.split("\n\n")) or once == ""


# Tags whole or cut (unclosed, misnested, attributes), entities and text, never a "<" that is text: a
# literal "<" is text, and may meet letters once a tag between them goes ("<<a>p" is the text "<p").
_SOUP = st.lists(st.sampled_from(["<p>", "</p>", "<div>", "</div>", "<br>", "<br/>", "<a href='x'>", "</a>",
                                  "<p class=\"", "<div", "<b>", "</b>", "&amp;", "&", ";", ">", "/", "=", "\"",
                                  "'", " ", "\n", "p", "div", "br", "a", "b", "c"]), max_size=80).map("".join)


@settings(max_examples=200)
@given(_SOUP)
def test_any_markup_soup_becomes_text_without_tags(html: str) -> None:
    text = html_to_text(html)
    assert "<" not in text
    assert clean_text(text) == text


def test_a_literal_angle_bracket_stays_text() -> None:
    assert html_to_text("<p>&lt;p&gt; opens a paragraph</p>") == "<p> opens a paragraph"
    assert html_to_text("<<a>p") == "<p"


# Latin letters with and without accents, combining marks, Cyrillic, spaces, quotes, controls.
_FOLDED_ALPHABET = st.sampled_from(
    [chr(code) for code in [*range(0x00, 0x250), *range(0x300, 0x370), *range(0x400, 0x460),
                            *range(0x1E00, 0x1F10), *range(0x2000, 0x2070), 0x3000, 0xFEFF]])


@settings(max_examples=300, deadline=None)
@given(st.lists(_FOLDED_ALPHABET, max_size=120).map("".join))
def test_translating_runs_gives_what_str_translate_gives(text: str) -> None:
    # The fast translation (runs of the table's characters found by an expression, short texts
    # directly) is only a faster str.translate: any text, long or short, comes out the same.
    from ingest.clean import _CHARACTER_TABLE, _FOLD_TABLE, translator

    for table in (_FOLD_TABLE, _CHARACTER_TABLE):
        translate = translator(table)
        assert translate(text) == text.translate(table)
        assert translate(text * 3) == (text * 3).translate(table)
    assert fold_key(text * 3) == (text * 3).lower().translate(_FOLD_TABLE)


# A few of the table's characters among ASCII: the path that replaces each distinct one in turn.
_FEW_ACCENTS = st.sampled_from([*"abcdefghij ,.'", *"éèàçœßÉ", "\u0301", "\u2019", "\u00a0", "\x07", "й"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_FEW_ACCENTS, min_size=32, max_size=200).map("".join))
def test_replacing_the_few_distinct_characters_gives_what_str_translate_gives(text: str) -> None:
    from ingest.clean import _CHARACTER_TABLE, _FOLD_TABLE, translator

    for table in (_FOLD_TABLE, _CHARACTER_TABLE):
        assert translator(table)(text) == text.translate(table)


def test_a_french_article_folds_as_str_translate_folds_it() -> None:
    from ingest.clean import _FOLD_TABLE
    from ingest.name_keys import search_fold

    text = SAMPLE.read_text(encoding="utf-8")
    assert fold_key(text) == text.lower().translate(_FOLD_TABLE)
    assert "erdogan" in fold_key(text) and "é" not in fold_key(text)
    assert search_fold("d'Ousmane Dembélé l’a dit") == "d ousmane dembele l a dit"
