"""The entity a query word names, without building the knowledge base in every short-lived process.

``index.search`` asks, for each query word, which known entity it names ("Idlib" -> Idleb's id), so
that a search finds the articles naming it in any language. Answering from ``default_kb()`` means
indexing 226,000 names first: 1.5 s to 7 s per `vigie search` on the 2-core machine, for one lookup.

``QueryEntityIndex`` keeps the answers ``KnowledgeBase.lookup(text)`` gives (no language, no
context: the query case) for every phrase key and acronym in a SQLite file, built once from the
bundled tables (named by a digest of them and of the code that keys and chooses, so a change to
either builds a new file) and then read with one
indexed SELECT per word. A process that installs none (the API, the workers: long-lived, the KB is
loaded once) keeps asking ``default_kb()``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from ingest.entity_kb import KnowledgeBase, choose, data_digest, default_kb, kb_dir
from ingest.name_keys import phrase_key

#: bump when what is stored changes
_FORMAT = 1

_installed: QueryEntityIndex | None = None
_lock = threading.Lock()


def _digest(directory: Path) -> str:
    # The code that makes the keys and chooses the entity is part of the name: a change to the
    # spelling rules or to ``choose`` builds a new file instead of answering from the old keys.
    from ingest import entity_kb, name_keys

    code = b"".join(Path(module.__file__).read_bytes() for module in (entity_kb, name_keys) if module.__file__)
    return data_digest(directory, f"format {_FORMAT}".encode(), code)


class QueryEntityIndex:
    """Phrase key or acronym -> the id of the entity ``KnowledgeBase.lookup`` chooses, on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)

    @classmethod
    def open(cls, cache_dir: Path, kb_directory: Path | None = None) -> QueryEntityIndex:
        """The index of the bundled tables in ``cache_dir``, built there first if missing."""
        directory = kb_directory or kb_dir()
        path = cache_dir / f"entity-query-{_digest(directory)}.sqlite"
        if not path.exists():
            build(path, KnowledgeBase(directory) if kb_directory else default_kb())
        return cls(path)

    def lookup(self, text: str) -> str | None:
        """What ``KnowledgeBase.lookup(text).id`` answers (None when no entity is named)."""
        row = self._connection.execute("SELECT id FROM acronyms WHERE key = ?", (text.replace(".", ""),)).fetchone()
        if row is None:
            key = phrase_key(text)
            row = self._connection.execute("SELECT id FROM phrases WHERE key = ?", (key,)).fetchone() if key else None
        return row[0] if row else None


def build(path: Path, kb: KnowledgeBase) -> None:
    """Write the index of ``kb`` to ``path`` (through a temporary file: readers never see half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    connection = sqlite3.connect(partial)
    try:
        for table, keys, candidates in (("acronyms", kb._acronyms, kb.acronym), ("phrases", kb._phrases, kb.phrase)):
            connection.execute(f"CREATE TABLE {table} (key TEXT PRIMARY KEY, id TEXT NOT NULL) WITHOUT ROWID")
            rows = []
            for key in keys:
                best = choose(candidates(key), "", frozenset())
                if best is not None:
                    rows.append((key, best.entity.id))
            connection.executemany(f"INSERT INTO {table} VALUES (?, ?)", rows)
        connection.commit()
    finally:
        connection.close()
    os.replace(partial, path)


def install(cache_dir: Path) -> None:
    """Answer ``query_entity_id`` from the on-disk index in ``cache_dir`` in this process (the CLI)."""
    global _installed
    with _lock:
        if _installed is None:
            _installed = QueryEntityIndex.open(cache_dir)


def query_entity_id(text: str) -> str | None:
    """The id of the known entity a query word or phrase names, if any."""
    if _installed is not None:
        return _installed.lookup(text)
    found = default_kb().lookup(text)
    return found.id if found is not None else None
