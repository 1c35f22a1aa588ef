"""The knowledge base kept on disk (``ingest.entity_kb.load_or_build``): what is read back holds
exactly what a fresh build holds; a damaged file is built again; a cache that cannot be written
still gives the knowledge base; a changed table or another cache never reads the old file."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from ingest import entity_kb
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


def test_threads_asking_at_once_for_the_default_knowledge_base_wait_for_one_load(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The API loads it in a thread while its first searches may ask for it: one load, one object."""
    loads: list[int] = []

    def slow_build(*_: object) -> object:
        loads.append(threading.get_ident())
        time.sleep(0.3)  # long enough for every thread to be waiting
        return object()

    monkeypatch.setattr(entity_kb, "_default", None)
    monkeypatch.setattr(entity_kb, "_cache_dir", None)
    monkeypatch.setattr(entity_kb, "KnowledgeBase", slow_build)
    found: list[object] = []
    threads = [threading.Thread(target=lambda: found.append(entity_kb.default_kb())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and len(found) == 4 and all(kb is found[0] for kb in found)
