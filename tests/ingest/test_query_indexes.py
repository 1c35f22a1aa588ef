"""The on-disk query indexes `vigie search` reads instead of loading the knowledge base and the lemma
tables: they must answer exactly as those do, for the words of the evaluation corpus and for names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ingest.entity_kb import default_kb
from ingest.entity_query_index import QueryEntityIndex
from ingest.lemmas import QueryLemmatizer
from ingest.query_lemma_index import DiskQueryLemmatizer

CORPUS = Path(__file__).parent / "corpus"
CACHE = Path(__file__).resolve().parents[2] / ".vigie-test" / "query-index-cache"
LANGUAGES = ("fr", "en", "de", "it", "uk")


def _corpus_words(limit: int = 3000) -> list[str]:
    words: list[str] = []
    for path in sorted(CORPUS.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        text = " ".join(str(value) for value in document.values() if isinstance(value, str))
        words.extend(re.findall(r"\w+(?:[-'’]\w+)*", text))
    return list(dict.fromkeys(words))[:limit]


@pytest.fixture(scope="module")
def disk_lemmatizer() -> DiskQueryLemmatizer:
    return DiskQueryLemmatizer(LANGUAGES, CACHE)


def test_disk_lemmas_are_the_tables_lemmas(disk_lemmatizer: DiskQueryLemmatizer) -> None:
    tables = QueryLemmatizer(LANGUAGES)
    words = _corpus_words()
    assert len(words) > 1000
    for word in words:
        assert disk_lemmatizer.variants(word) == tables.variants(word), word
    assert disk_lemmatizer.variants("réfugiés")["fr"] == ["réfugier"]
    assert "uk" not in disk_lemmatizer.variants("біженці")  # no Ukrainian table: no variant, as before


def test_disk_entity_ids_are_the_knowledge_base_choices() -> None:
    index = QueryEntityIndex.open(CACHE)
    kb = default_kb()
    names = ["Idlib", "Idleb", "Poutine", "Putin", "Путин", "EU", "U.N.", "ООН", "Paris", "Kharkiv", "Bayern",
             "Erdogan", "Recep Tayyip Erdogan", "Nothing named so", "", "  ", *_corpus_words(600)]
    for name in names:
        found = kb.lookup(name)
        assert index.lookup(name) == (found.id if found is not None else None), name
    assert index.lookup("Idlib") == index.lookup("Idleb") is not None
