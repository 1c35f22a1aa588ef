"""The near-duplicate lookup of a batch in one search gives each article the very candidates (same
documents, same order) and so the very clusters that one search per article gives; past one page of
candidates it falls back to the per-article search (real Elasticsearch)."""

from __future__ import annotations

import random

import pytest
from elasticsearch import Elasticsearch

import index.dedup as dedup
from conf.settings import Settings
from index.store import ArticleStore
from ingest.fingerprint import signature
from ingest.models import AnalyzedArticle
from tests.index.factories import analysed

pytestmark = pytest.mark.integration

WORDS = ("ministre accord frontière réfugiés sommet gouvernement élection tempête côte électricité séisme "
         "Ankara Bruxelles Idleb Moscou Paris Berlin armée cessez-le-feu négociation parlement vote budget "
         "hôpital école grève syndicat marché pétrole gaz prix inflation banque taux dette").split()


def family_text(rng: random.Random, family: int, copy: int) -> str:
    """Copies of one story: the same sentences, a credit line and sometimes a cut last sentence."""
    story = random.Random(family)
    sentences = [" ".join(story.choice(WORDS) for _ in range(14)) + "." for _ in range(6)]
    if copy % 3 == 2:
        sentences = sentences[:-1]
    return f"Agence {copy} — " + " ".join(sentences) + (" Lire aussi." if rng.random() < 0.5 else "")


def article(number: int, family: int, copy: int, rng: random.Random) -> AnalyzedArticle:
    text = family_text(rng, family, copy)
    return analysed(f"a{number}", text=text, signature=signature(text))


def test_one_search_per_batch_finds_what_one_search_per_article_finds(es: Elasticsearch, settings: Settings,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(15)
    store = ArticleStore(es, settings.index_prefix)
    store.ensure_ready()
    number = 0
    # Earlier batches: 12 families, some with more copies than one article's candidates (20).
    for round_ in range(6):
        batch = []
        for family in range(12):
            for copy in range(1 + (5 if family < 2 else 0)):
                batch.append(article(number, family, round_ * 10 + copy, rng))
                number += 1
        store.index_batch(batch, refresh=True)
    new = [article(number + n, family, 100 + n, rng) for n, family in enumerate([0, 1, 3, 3, 7, 20, 21])]
    new.append(analysed("a0", text=family_text(rng, 0, 0), signature=signature(family_text(rng, 0, 0))))

    one = dedup._candidates_in_one_search(es, settings.index_prefix, new)
    each = dedup._candidates_per_article(es, settings.index_prefix, new)
    assert one == each
    assert [len(found) for found in each][:2] == [20, 20]  # families with more copies than candidates
    assert each[5] == [] and each[6] == []                 # new stories: nothing to find
    assert all(candidate[0] != "a0" for candidate in each[-1])  # a redelivered article is not its own copy

    clusters = dedup.assign_clusters(es, settings.index_prefix, new)
    # A page smaller than the union: an article with CANDIDATES documents in it has its oldest ones;
    # the others are looked up alone (None here), and the clusters come out the same.
    monkeypatch.setattr(dedup, "UNION_PAGE", 45)
    partial = dedup._candidates_in_one_search(es, settings.index_prefix, new)
    assert None in partial and any(found is not None for found in partial)
    assert all(found == exact for found, exact in zip(partial, each) if found is not None)
    monkeypatch.setattr(dedup, "UNION_PAGE", 5)
    assert set(dedup._candidates_in_one_search(es, settings.index_prefix, new)) == {None}
    assert dedup.assign_clusters(es, settings.index_prefix, new) == clusters
    assert clusters[new[0].article.article_id] != new[0].article.article_id  # joined its family
    assert clusters[new[5].article.article_id] == new[5].article.article_id
