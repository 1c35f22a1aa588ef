"""The knowledge base kept on disk (``ingest.entity_kb.load_or_build``): what is read back holds
exactly what a fresh build holds; a damaged file is built again; a cache that cannot be written
still gives the knowledge base; a changed table or another cache never reads the old file."""

from __future__ import annotations

import shutil
from pathlib import Path

from ingest.entity_kb import KnowledgeBase, cache_path, kb_dir, load_or_build


def _held(kb: KnowledgeBase) -> tuple[object, ...]:
    return (kb.entities, kb.by_id, kb._phrases, kb._acronyms, kb._name_keys, kb._max_words, kb.counts)


def test_the_kept_knowledge_base_holds_what_a_fresh_build_holds(tmp_path: Path) -> None:
    fresh = KnowledgeBase()
    built = load_or_build(tmp_path)
    path = cache_path(tmp_path)
    assert path.is_file() and path.stat().st_size > 1_000_000
    assert not list(tmp_path.glob("*.partial"))
    read = load_or_build(tmp_path)
    assert read is not built  # read from the file, not the same object
    assert _held(read) == _held(fresh) == _held(built)
    for text, language in (("Poutine", "fr"), ("Idleb", "fr"), ("Путин", "ru"), ("EU", "en")):
        assert read.lookup(text, language) == fresh.lookup(text, language), text


def test_a_damaged_file_is_built_again_and_replaced(tmp_path: Path) -> None:
    path = cache_path(tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x80\x05not a pickle at all")
    kb = load_or_build(tmp_path)
    assert kb.by_id["Q7747"].name == "Vladimir Putin"
    assert load_or_build(tmp_path).counts == kb.counts  # the file now reads


def test_a_cache_that_cannot_be_written_still_gives_the_knowledge_base(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory should be")
    kb = load_or_build(blocked)
    assert kb.by_id["Q7747"].name == "Vladimir Putin"


def test_a_changed_table_is_another_file(tmp_path: Path) -> None:
    tables = tmp_path / "kb"
    shutil.copytree(kb_dir(), tables)
    before = cache_path(tmp_path / "cache", tables)
    persons = tables / "persons.tsv"
    persons.write_text(persons.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    after = cache_path(tmp_path / "cache", tables)
    assert after != before
    assert cache_path(tmp_path / "cache") == before != after  # the bundled tables keep their name
