"""The Python copy of Elasticsearch's standard analyzer (index.tokens) cuts text as the real one does."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch

from index.tokens import standard_spans, standard_tokens
from tests.ingest.quality_corpus import CORPUS_DIR, load_corpus

#: What Elasticsearch 8.19's `_analyze` with the standard analyzer answered for each text.
KNOWN = {
    "l'armée d’Erdogan": ["l'armée", "d’erdogan"],
    "10:30 a:b U.S.A. 3.14 1,000,000 foo_bar _x_ ___ 'quoted'":
        ["10", "30", "a:b", "u.s.a", "3.14", "1,000,000", "foo_bar", "_x_", "quoted"],
    "cessez-le-feu": ["cessez", "le", "feu"],
    "e-mail x.y.z@ex.com http://t.co/ab?c=1": ["e", "mail", "x.y.z", "ex.com", "http", "t.co", "ab", "c", "1"],
    "naïve café Ğüşçö İstanbul ΑΒΓ ΟΔΟΣ Москва العربية":
        ["naïve", "café", "ğüşçö", "istanbul", "αβγ", "οδοσ", "москва", "العربية"],
    "emoji 🙂 👍🏽 ❤️ ©": ["emoji", "🙂", "👍🏽", "❤️", "©"],
    "ABC123def 12ab 1.2.3 a.1 1.a": ["abc123def", "12ab", "1.2.3", "a", "1", "1", "a"],
    "rock'n'roll o'clock don't 'tis ‘l’œuvre’": ["rock'n'roll", "o'clock", "don't", "tis", "l’œuvre"],
    "x—y a/b a|b Wi‑Fi 24/7 #hashtag @user": ["x", "y", "a", "b", "a", "b", "wi", "fi", "24", "7", "hashtag", "user"],
    "日本語テキスト ひらがな 한국어": ["日", "本", "語", "テキスト", "ひ", "ら", "が", "な", "한국어"],
    "42% $5 €3,50 3½ ², ⁵": ["42", "5", "3,50", "3"],
    "a.b. .a a. l' 'l": ["a.b", "a", "a", "l", "l"],
}


@pytest.mark.parametrize("text", list(KNOWN))
def test_tokens_are_those_elasticsearch_gave(text: str) -> None:
    assert standard_tokens(text) == KNOWN[text]
    assert [token for token, _, _ in standard_spans(text)] == KNOWN[text]


def test_long_words_are_cut_at_255_characters_and_offsets_point_into_the_text() -> None:
    text = "Le " + "a" * 300 + " fin"
    assert [len(token) for token in standard_tokens(text)] == [2, 255, 45, 3]
    for token, start, end in standard_spans("La Turquie, l'armée."):
        assert "La Turquie, l'armée."[start:end].lower() == token


@pytest.mark.integration
def test_the_evaluation_corpus_is_cut_exactly_as_elasticsearch_cuts_it(es: Elasticsearch) -> None:
    texts = [text for article in load_corpus() for text in (article.title, article.text)]
    texts += [article.text for article in load_corpus(CORPUS_DIR.parent / "corpus-heldout")]
    texts += list(KNOWN)
    for text in texts:
        expected = [token["token"] for token in es.indices.analyze(analyzer="standard", text=text)["tokens"]]
        assert standard_tokens(text) == expected, text[:80]
