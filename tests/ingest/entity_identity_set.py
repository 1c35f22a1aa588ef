"""The labelled multilingual set of entity identity (``entity_set/articles.yaml``) and its scores.

Shared by tests/ingest/test_entity_identity.py and bench/entity_quality.py. A gold mention is found
when an entity of the article's analysis has that surface form among its variants; its predicted id
and label are that entity's. Scores:

- identity over mention pairs across articles: a pair is the same entity in the gold when both ids
  are equal; precision and recall of "same predicted id" against that;
- label agreement: found mentions whose label is the gold label;
- known places: gold LOCATION mentions of known ids found with the label LOCATION;
- coverage: articles given at least one entity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import yaml

from ingest.clean import fold_key
from ingest.models import Analysis, Article

SET_FILE = Path(__file__).resolve().parent / "entity_set" / "articles.yaml"
#: Cities named alike (docs/quality.md): batches 1 and 3, dev sets since rules were changed after
#: reading them; batches 2 and 4, held out.
CITY_SETS = tuple(SET_FILE.parent / f"cities-{batch}.yaml" for batch in (1, 2, 3, 4))


@dataclass(frozen=True)
class Gold:
    surface: str
    id: str
    label: str


@dataclass(frozen=True)
class LabelledArticle:
    id: str
    language: str
    split: str
    title: str
    text: str
    entities: tuple[Gold, ...]

    def article(self) -> Article:
        return Article(article_id=self.id, title=self.title, body=self.text, is_html=False, text_source="file")


def load_set(path: Path = SET_FILE) -> list[LabelledArticle]:
    items = []
    for raw in yaml.safe_load(path.read_text(encoding="utf-8")):
        gold = tuple(Gold(*(part.strip() for part in entry.split("|"))) for entry in raw["entities"])
        items.append(LabelledArticle(raw["id"], raw["language"], raw["split"], raw["title"], raw["text"], gold))
    return items


@dataclass(frozen=True)
class Observed:
    article: str
    language: str
    gold: Gold
    id: str | None
    label: str | None


def observe(items: Sequence[LabelledArticle], analyses: Sequence[Analysis]) -> list[Observed]:
    observed = []
    for item, analysis in zip(items, analyses):
        for gold in item.entities:
            match = next((entity for entity in analysis.entities
                          if gold.surface in entity.variants or gold.surface == entity.text), None)
            if match is None:
                match = next((entity for entity in analysis.entities
                              if any(fold_key(gold.surface) == fold_key(variant) for variant in entity.variants)), None)
            observed.append(Observed(item.id, item.language, gold, match.id if match else None,
                                     match.label if match else None))
    return observed


@dataclass(frozen=True)
class Scores:
    articles: int
    mentions: int
    found: float
    pair_precision: float
    pair_recall: float
    label_agreement: float
    known_places: float
    coverage: float
    misses: tuple[str, ...]


def score(items: Sequence[LabelledArticle], analyses: Sequence[Analysis],
          pair_pool: Sequence[Observed] | None = None) -> Scores:
    """Scores of ``items``; pairs are counted between their mentions and ``pair_pool`` (all
    mentions of the set by default, so one language's identity is measured against the others)."""
    observed = observe(items, analyses)
    pool = list(pair_pool) if pair_pool is not None else observed
    mine = {id(entry) for entry in observed}
    same_gold = same_predicted = both = 0
    pairs = combinations(pool, 2) if pair_pool is None else (
        (first, second) for first in observed for second in pool if id(second) not in mine)
    for first, second in pairs:
        if first.article == second.article:
            continue
        gold_same = first.gold.id == second.gold.id
        predicted_same = first.id is not None and first.id == second.id
        same_gold += gold_same
        same_predicted += predicted_same
        both += gold_same and predicted_same
    found = [entry for entry in observed if entry.id is not None]
    places = [entry for entry in observed if entry.gold.label == "LOCATION" and not entry.gold.id.startswith("x:")]
    misses = tuple(f"{entry.article}: {entry.gold.surface} ({entry.gold.id} {entry.gold.label}) → {entry.id} {entry.label}"
                   for entry in observed if entry.id is None or entry.label != entry.gold.label
                   or (not entry.gold.id.startswith("x:") and entry.id != entry.gold.id))
    return Scores(
        articles=len(items),
        mentions=len(observed),
        found=len(found) / len(observed) if observed else 1.0,
        pair_precision=both / same_predicted if same_predicted else 1.0,
        pair_recall=both / same_gold if same_gold else 1.0,
        label_agreement=sum(entry.label == entry.gold.label for entry in found) / len(found) if found else 1.0,
        known_places=sum(entry.label == "LOCATION" for entry in places) / len(places) if places else 1.0,
        coverage=sum(1 for analysis in analyses if analysis.entities) / len(analyses) if analyses else 1.0,
        misses=misses,
    )


@dataclass(frozen=True)
class KnownIds:
    """Gold mentions with a known id (not ``x:``) given that id, and those of cities (``gn:``)."""

    known: int
    known_right: int
    cities: int
    cities_right: int
    misses: tuple[str, ...]


def known_ids(items: Sequence[LabelledArticle], analyses: Sequence[Analysis]) -> KnownIds:
    observed = [entry for entry in observe(items, analyses) if not entry.gold.id.startswith("x:")]
    cities = [entry for entry in observed if entry.gold.id.startswith("gn:")]
    return KnownIds(len(observed), sum(entry.id == entry.gold.id for entry in observed),
                    len(cities), sum(entry.id == entry.gold.id for entry in cities),
                    tuple(f"{entry.article}: {entry.gold.surface} ({entry.gold.id}) → {entry.id}"
                          for entry in observed if entry.id != entry.gold.id))


#: The languages the shipped configuration has an NER model for (conf.settings' default VIGIE_MODELS).
MODEL_LANGUAGES = frozenset({"fr", "en"})


@dataclass(frozen=True)
class UnknownPersons:
    """In the articles of languages without a model: the gold persons the knowledge base lacks (``x:``
    ids) found as persons, and the persons found that no gold person names."""

    gold: int
    found: int
    predicted: int
    wrong: int
    misses: tuple[str, ...]

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return (self.predicted - self.wrong) / self.predicted if self.predicted else 1.0


def unknown_persons(items: Sequence[LabelledArticle], analyses: Sequence[Analysis]) -> UnknownPersons:
    pairs = [(item, analysis) for item, analysis in zip(items, analyses) if item.language not in MODEL_LANGUAGES]
    observed = [entry for entry in observe([item for item, _ in pairs], [analysis for _, analysis in pairs])
                if entry.gold.label == "PERSON" and entry.gold.id.startswith("x:")]
    found = [entry for entry in observed if entry.id is not None and entry.label == "PERSON"]
    predicted = wrong = 0
    misses = [f"{entry.article}: {entry.gold.surface} missed" for entry in observed if entry not in found]
    for item, analysis in pairs:
        golds = {fold_key(gold.surface) for gold in item.entities if gold.label == "PERSON"}
        for entity in analysis.entities:
            if entity.label != "PERSON":
                continue
            predicted += 1
            if not golds & {fold_key(variant) for variant in (entity.text, *entity.variants)}:
                wrong += 1
                misses.append(f"{item.id}: {entity.text} is no person of the gold")
    return UnknownPersons(len(observed), len(found), predicted, wrong, tuple(misses))
