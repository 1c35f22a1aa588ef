"""A mention of a name in a text, its aggregation key, and the word lists that tidy mentions.

What entity tidying (``ingest.entities``) and entity linking (``ingest.entity_linking``) both work
on. The word lists are data: ``ingest/data/entity_words.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from ingest.clean import fold_key
from ingest.models import EntityLabel


@dataclass(frozen=True, slots=True)
class Mention:
    """One tidied mention: its text, label and character offsets in the analysed string."""

    text: str
    label: EntityLabel
    start: int
    end: int
    votes: int = 1  # weight of this mention's label in its entity's majority vote
    entity_id: str = ""  # the knowledge base's id when linked (ingest.entity_linking)
    name: str = ""  # the knowledge base's canonical name when linked
    link: str = ""  # how it was linked, the evidence of a merge ("kb", "key:vladimir putin", ...)

    @property
    def key(self) -> str:
        return entity_key(self.text)


@dataclass(frozen=True, slots=True)
class WordLists:
    """The word lists of ``ingest/data/entity_words.yaml``, folded (``fold_key``)."""

    determiners: frozenset[str]
    titles: frozenset[str]
    never: frozenset[str]
    connectors: frozenset[str]
    organization_heads: frozenset[str]
    location_heads: frozenset[str]


@cache
def word_lists() -> WordLists:
    source = resources.files("ingest").joinpath("data", "entity_words.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(source)
    return WordLists(*(frozenset(fold_key(str(word)) for word in data[name])
                       for name in ("determiners", "titles", "never", "connectors", "organization_heads",
                                    "location_heads")))


def entity_key(text: str) -> str:
    """The aggregation key of a name: folded, spaces collapsed, without a leading determiner."""
    words = fold_key(text).split()
    determiners = word_lists().determiners
    while len(words) > 1 and words[0] in determiners:
        words = words[1:]
    key = " ".join(words)
    # "l'Europe" is one word with its elided determiner.
    return key[2:] if key.startswith("l'") and len(key) > 2 else key
