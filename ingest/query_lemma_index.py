"""Query lemmas without loading the lemma tables in every short-lived process.

``QueryLemmatizer`` loads a language's whole lookup table (0.3 s to 5 s, and spaCy's import) to
lemmatise the two or three words of a query. ``DiskQueryLemmatizer`` answers the same
``variants(text)`` from one SQLite file per language (form -> the lemma ``LemmaTable.lemma`` gives),
built once from the loaded table in the cache directory and named after the spacy-lookups-data
version; the words are cut by the same ``query_tokens`` and ``word_lemmas``, so a query lemmatised
either way meets the same indexed lemmas (tests/ingest/test_query_indexes.py compares them).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from ingest.clean import normalize_characters
from ingest.lemmas import load_lemma_table, query_tokens, word_lemmas

#: bump when what is stored changes
_FORMAT = 1


class DiskLemmaTable:
    """``LemmaTable.lemma`` read from SQLite: one indexed SELECT per word."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._cache: dict[str, str | None] = {}

    def lemma(self, form: str) -> str | None:
        if form not in self._cache:
            row = self._connection.execute("SELECT lemma FROM lemmas WHERE form = ?", (form,)).fetchone()
            self._cache[form] = row[0] if row else None
        return self._cache[form]


def _forms(language: str) -> list[str]:
    """Every form of the language's lookup tables, lower-cased (what ``LemmaTable.lemma`` may know)."""
    from spacy.util import load_language_data, registry

    available = registry.lookups.get(language)
    forms: set[str] = set()
    for name in available:
        if name.startswith("lemma_lookup"):
            forms.update(form.lower() for form in load_language_data(available[name]))
    return sorted(forms)


def build(path: Path, language: str) -> None:
    """The lemma file of ``language`` (no table at all: an empty file with ``has_table`` 0)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    table = load_lemma_table(language)
    connection = sqlite3.connect(partial)
    try:
        connection.execute("CREATE TABLE meta (has_table INTEGER NOT NULL)")
        connection.execute("INSERT INTO meta VALUES (?)", (int(table is not None),))
        connection.execute("CREATE TABLE lemmas (form TEXT PRIMARY KEY, lemma TEXT NOT NULL) WITHOUT ROWID")
        if table is not None:
            rows = ((form, lemma) for form in _forms(language) if (lemma := table.lemma(form)) is not None)
            connection.executemany("INSERT INTO lemmas VALUES (?, ?)", rows)
        connection.commit()
    finally:
        connection.close()
    os.replace(partial, path)


def lemma_file(cache_dir: Path, language: str) -> Path:
    """The lemma file of ``language`` in ``cache_dir``, built first if missing."""
    try:
        version = metadata.version("spacy-lookups-data")
    except metadata.PackageNotFoundError:
        version = "none"
    path = cache_dir / "query-lemmas" / f"{language}-{version}-v{_FORMAT}.sqlite"
    if not path.exists():
        build(path, language)
    return path


class DiskQueryLemmatizer:
    """``QueryLemmatizer.variants`` answered from the lemma files (see the module docstring)."""

    def __init__(self, languages: Sequence[str], cache_dir: Path) -> None:
        self.languages = tuple(dict.fromkeys(code.lower() for code in languages))
        self._tables: dict[str, DiskLemmaTable] = {}
        for language in self.languages:
            path = lemma_file(cache_dir, language)
            table = DiskLemmaTable(path)
            if table._connection.execute("SELECT has_table FROM meta").fetchone()[0]:
                self._tables[language] = table

    def lemmas(self, text: str, language: str) -> list[str]:
        table = self._tables.get(language)
        return [lemma for token in query_tokens(normalize_characters(text), language)
                for _, lemma in word_lemmas(token, table)]  # type: ignore[arg-type]

    def variants(self, text: str) -> dict[str, list[str]]:
        return {language: self.lemmas(text, language) for language in self.languages if language in self._tables}
