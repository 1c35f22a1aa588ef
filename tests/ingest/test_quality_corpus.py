"""The labelled corpora are read with libyaml's loader (tests/ingest/quality_corpus.py): it must read them
as PyYAML's own safe loader does."""

from __future__ import annotations

import yaml

from tests.ingest.quality_corpus import (
    CORPUS_DIR, HELDOUT_DIR, TOPICS_DEV_DIR, TOPICS_HELDOUT_DIR, YAML_LOADER, load_corpus,
)


def test_the_corpora_read_with_libyaml_are_what_the_python_loader_reads() -> None:
    assert YAML_LOADER is (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)
    paths = sorted(path for folder in (CORPUS_DIR, HELDOUT_DIR, TOPICS_DEV_DIR, TOPICS_HELDOUT_DIR)
                   for path in folder.glob("*.yaml"))
    assert len(paths) > 6000
    for path in paths[::15]:  # every fifteenth file, the same ones each run: a second of the Python loader
        text = path.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=YAML_LOADER) == yaml.safe_load(text), path.name
    # and what load_corpus makes of them (a file of each folder, its labels and text)
    for folder in (CORPUS_DIR, HELDOUT_DIR, TOPICS_DEV_DIR, TOPICS_HELDOUT_DIR):
        first = load_corpus(folder)[0]
        data = yaml.safe_load(sorted(folder.glob("*.yaml"))[0].read_text(encoding="utf-8"))
        assert (first.language, first.title, first.text) == (data["language"], data["title"], data["text"])
        assert first.iptc == frozenset(data.get("iptc", ())) and first.traps == frozenset(data.get("trap", ()))
