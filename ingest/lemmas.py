"""Lemmas from spaCy's lookup tables (spacy-lookups-data): the searchable form of words.

Elasticsearch here has no language analyzers, so Vigie indexes lemmas itself (``Analysis.lemmas``,
a ``standard``-analyzed field) and lemmatises queries the same way: ``réfugiés`` and ``réfugié`` both
become ``réfugier`` (the French table maps both to the verb) and match. One function,
``word_lemmas``, turns a token into its words for both sides, so an indexed lemma and a query lemma
cannot drift apart.

A word is a token split on hyphens (Elasticsearch's tokenizer splits there too), lower-cased, without
punctuation; its lemma is the table's entry for the lower-cased word (followed one step further when
that entry has one, see ``LemmaTable.lemma``), else the word itself.

The tables are big (French: 217,000 forms; Turkish: 1.3 million). Held as Python dicts they take
60 MB to 250 MB per language; ``LemmaTable`` keeps only a sorted array of 64-bit hashes and lemma
numbers, about 12 bytes a form, and is loaded on first use of a language.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from ingest.clean import normalize_characters

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.strings import StringStore
    from spacy.tokenizer import Tokenizer
    from spacy.tokens import Doc

#: Table order for languages whose lookups are split by part of speech (Polish): the first wins.
_POS_TABLE_ORDER = ("noun", "verb", "adj", "adv", "num", "pron", "det", "adp", "aux", "part", "other")

#: Distinct tokens remembered per language (about 10 MB) before the cache starts afresh.
_CACHE_SIZE = 50_000

Word = tuple[str, str]
"""(surface, lemma) of one word, both lower-cased."""


def token_ids(doc: Doc) -> list[int]:
    """The ids of a parsed document's tokens' texts, in order (``Lemmatizer.words_of_ids`` reads them):
    its array of ids, without making a Token object or a string for each."""
    from spacy.attrs import ORTH

    return doc.to_array(ORTH).tolist()


class LemmaTable:
    """A form → lemma lookup table held as sorted hashes (see the module docstring)."""

    def __init__(self, hashes: array[int], numbers: array[int], lemmas: list[str]) -> None:
        """``hashes`` sorted and unique; ``numbers[i]`` indexes ``lemmas`` for the form ``hashes[i]``."""
        self._hashes = hashes
        self._numbers = numbers
        self._lemmas = lemmas

    def __len__(self) -> int:
        return len(self._hashes)

    def get(self, form: str) -> str | None:
        """The lemma of a lower-cased form, or None when the table does not know it."""
        # Python's str hash is salted per process; the table is built in the process that uses it.
        key = hash(form)
        at = bisect_left(self._hashes, key)
        if at < len(self._hashes) and self._hashes[at] == key:
            return self._lemmas[self._numbers[at]]
        return None

    def lemma(self, form: str) -> str | None:
        """The lemma of a lower-cased form, following the table one step further when the lemma has
        an entry of its own: the French table maps "réfugiées" to "réfugié" and "réfugié" to
        "réfugier", and all three must meet."""
        lemma = self.get(form)
        if lemma is None:
            return None
        further = self.get(lemma)
        return further if further is not None else lemma

    @classmethod
    def from_lookups(cls, tables: Sequence[Mapping[str, str | list[str]]]) -> LemmaTable:
        """From spacy-lookups-data tables, earlier tables first. A value may be a list of lemmas
        (French): the first is taken. Among forms equal once lower-cased, the lower-case one wins:
        "est" (être) over "Est" (the East)."""
        lemma_numbers: dict[str, int] = {}
        number_of = lemma_numbers.setdefault
        lower_hashes, lower_numbers = array("q"), array("I")
        other_hashes, other_numbers = array("q"), array("I")
        for table in tables:
            for form, lemma in table.items():
                if isinstance(lemma, list):
                    if not lemma:
                        continue
                    lemma = lemma[0]
                lowered, lemma = form.lower(), lemma.lower()
                if lowered == lemma:  # a form that is its own lemma needs no entry: it is the fallback
                    continue
                hashes, numbers = (lower_hashes, lower_numbers) if lowered == form else (other_hashes, other_numbers)
                hashes.append(hash(lowered))
                numbers.append(number_of(lemma, len(lemma_numbers)))
        import numpy as np  # only to build a table: 0.06 s of CPU of every `vigie search` start (measured)

        # numpy sorts the 1-4 million entries of the big tables in a fraction of a second; a stable
        # sort keeps the preferred entry first among equal hashes, and only that one is kept.
        all_hashes = np.concatenate([np.frombuffer(lower_hashes, np.int64), np.frombuffer(other_hashes, np.int64)])
        all_numbers = np.concatenate([np.frombuffer(lower_numbers, np.uint32), np.frombuffer(other_numbers, np.uint32)])
        order = np.argsort(all_hashes, kind="stable")
        all_hashes, all_numbers = all_hashes[order], all_numbers[order]
        first = np.ones(len(all_hashes), dtype=bool)
        np.not_equal(all_hashes[1:], all_hashes[:-1], out=first[1:])
        hashes, numbers = array("q"), array("I")
        hashes.frombytes(all_hashes[first].tobytes())
        numbers.frombytes(all_numbers[first].tobytes())
        return cls(hashes, numbers, list(lemma_numbers))


def word_lemmas(token_text: str, table: LemmaTable | None) -> list[Word]:
    """The words of one token, each with its lemma (see the module docstring)."""
    words: list[Word] = []
    for part in token_text.lower().split("-"):
        lemma = table.lemma(part) if table is not None else None
        if lemma is None:
            # "'s", "l'" in languages without a table: the bare word is what a search engine keeps.
            part = part.strip("'")
            if not part or not any(char.isalnum() for char in part):
                continue
            lemma = part
        words.append((part, lemma))
    return words


def load_lemma_table(language: str) -> LemmaTable | None:
    """The lookup table spacy-lookups-data has for a language, or None."""
    # spaCy is imported here, not with the module: query code that only needs query_tokens and
    # word_lemmas (ingest.query_lemma_index) starts without it (0.5-1.7 s, measured with -X importtime)
    from spacy.util import load_language_data, registry

    if language not in registry.lookups:
        return None
    available: Mapping[str, object] = registry.lookups.get(language)
    if "lemma_lookup" in available:
        names = ["lemma_lookup"]
    else:
        by_pos = [name for name in available if name.startswith("lemma_lookup_")]
        rank = {pos: index for index, pos in enumerate(_POS_TABLE_ORDER)}
        names = sorted(by_pos, key=lambda name: rank.get(name.removeprefix("lemma_lookup_"), len(rank)))
    if not names:
        return None
    return LemmaTable.from_lookups([load_language_data(available[name]) for name in names])


def blank_pipeline(language: str) -> Language:
    """A tokenizer-only spaCy pipeline for a language (the multi-language one if spaCy has none)."""
    import spacy  # see load_lemma_table

    try:
        return spacy.blank(language)
    except ImportError:
        return spacy.blank("xx")


class Lemmatizer:
    """Lemma tables and tokenizers per language, each loaded once, on first use."""

    def __init__(self) -> None:
        self._tables: dict[str, LemmaTable | None] = {}
        self._tokenizers: dict[str, Tokenizer] = {}
        # Words follow Zipf's law: a small cache answers most tokens without a table lookup.
        self._cache: dict[str, dict[str, list[Word]]] = {}
        # The same, by the id of the token's text in spaCy's strings (a hash of the text, the same in
        # every pipeline): a parsed token's words without making its string first.
        self._by_id: dict[str, dict[int, list[Word]]] = {}

    def table(self, language: str) -> LemmaTable | None:
        if language not in self._tables:
            self._tables[language] = load_lemma_table(language)
        return self._tables[language]

    def tokenizer(self, language: str) -> Tokenizer:
        if language not in self._tokenizers:
            self._tokenizers[language] = blank_pipeline(language).tokenizer
        return self._tokenizers[language]

    def words(self, token_texts: Iterable[str], language: str) -> list[Word]:
        table = self.table(language)
        cache = self._cache.setdefault(language, {})
        if len(cache) > _CACHE_SIZE:
            cache.clear()
        words: list[Word] = []
        for text in token_texts:
            found = cache.get(text)
            if found is None:
                found = cache[text] = word_lemmas(text, table)
            words.extend(found)
        return words

    def words_of_ids(self, ids: Iterable[int], strings: StringStore, language: str) -> list[Word]:
        """``words`` of the tokens whose texts have these ids in ``strings`` (``token_ids``): the same
        words for less than half the cost on a news article (19 µs against 40–52 with the tokens' texts,
        docs/performance.md), the ids of known tokens being looked up as they are."""
        by_id = self._by_id.setdefault(language, {})
        if len(by_id) > _CACHE_SIZE:
            by_id.clear()
        get = by_id.get
        words: list[Word] = []
        extend = words.extend
        for key in ids:
            found = get(key)
            if found is None:
                found = by_id[key] = self.words((strings[key],), language)
            extend(found)
        return words

    def words_of_text(self, text: str, language: str) -> list[Word]:
        """Tokenise (spaCy's rules for the language) and lemmatise a text."""
        return self.words((token.text for token in self.tokenizer(language)(text)), language)


#: Query tokens: numbers with their separators, words with inner hyphens or apostrophes, punctuation.
_QUERY_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|(?i:['’](?:s|re|ll|ve|d|m)\b)|\w+(?:[-'’]\w+)*|[^\w\s]")
#: French elisions spaCy splits off ("l'escalade" → "l'" + "escalade").
_ELISION = re.compile(r"(?i)(?:qu|jusqu|lorsqu|puisqu|quoiqu|[cdjlmnst])['’](?=\w)")
#: English clitics spaCy splits off ("City's" → "City" + "'s").
_CLITIC = re.compile(r"(?i)(?<=\w)(?:n't|['’](?:s|re|ll|ve|d|m))$")


def query_tokens(text: str, language: str) -> list[str]:
    """Tokens of a short query, as spaCy's tokenizer would cut them, without building that tokenizer.

    Building spaCy's French tokenizer compiles its exception lists: over 2 s in every process that
    searches. A query is a few words, and these rules give the same tokens as spaCy on every sentence
    of the evaluation corpus once Elasticsearch's own analysis has run over both (tests/ingest/
    test_lemmas.py checks it), so the indexed lemmas and the query lemmas still meet.
    """
    tokens: list[str] = []
    for match in _QUERY_TOKEN.finditer(text):
        token = match.group(0)
        if language == "fr":
            while (elided := _ELISION.match(token)) is not None:
                tokens.append(token[: elided.end()])
                token = token[elided.end():]
        elif language == "en" and (clitic := _CLITIC.search(token)) is not None:
            tokens.append(token[: clitic.start()])
            token = token[clitic.start():]
        tokens.append(token)
    return tokens


class QueryLemmatizer:
    """Query-time lemmas for search and alerts: the same words and lemmas as ``Analysis.lemmas``,
    with no NER model and no spaCy tokenizer loaded (``query_tokens`` and the lookup tables only)."""

    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = tuple(dict.fromkeys(code.lower() for code in languages))
        self._lemmatizer = Lemmatizer()

    def lemmas(self, text: str, language: str) -> list[str]:
        """Lemmas of ``text`` read as ``language`` (lower-cased words where it has no table)."""
        words = self._lemmatizer.words(query_tokens(normalize_characters(text), language), language)
        return [lemma for _, lemma in words]

    def variants(self, text: str) -> dict[str, list[str]]:
        """The lemmas of ``text`` under each configured language that has a lookup table: a query
        in an unknown language can then match articles in any of them."""
        return {
            language: self.lemmas(text, language)
            for language in self.languages
            if self._lemmatizer.table(language) is not None
        }
