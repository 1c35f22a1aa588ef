"""Wire copies analysed once (ingest.reuse): a copy of a recently analysed article takes over its
mentions where their paragraphs are the same, and its analysis is the one a fresh analysis gives."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ingest.fingerprint import signature
from ingest.models import Article
from ingest.reuse import RecentAnalysesInMemory, ReusableAnalysis, ReusePlan, paragraph_spans, plan_reuse, segment_spans
from tests.ingest.analyzers import shipped_analyzer
from tests.ingest.quality_corpus import HELDOUT_DIR, load_corpus


def wire_copies(original: Article, number: int) -> list[Article]:
    """What other outlets make of one agency story: their headline, a credit line, a cut ending, an
    inserted "read also" paragraph."""
    paragraphs = original.body.split("\n\n")
    made = [
        replace(original, article_id=f"{original.article_id}-headline", title=f"Outlet {number}: {original.title}"),
        replace(original, article_id=f"{original.article_id}-credit", body=original.body + "\n\n(Agence, 12h05)"),
        replace(original, article_id=f"{original.article_id}-inserted",
                body="\n\n".join(paragraphs[:1] + [f"Lire aussi / read also: dossier {number}"] + paragraphs[1:])),
    ]
    if len(paragraphs) >= 3:
        made.append(replace(original, article_id=f"{original.article_id}-cut", body="\n\n".join(paragraphs[:-1])))
    return made


@pytest.mark.parametrize("directory", [None, HELDOUT_DIR], ids=["corpus", "held-out"])
def test_reused_analyses_of_wire_copies_are_those_of_a_fresh_analysis(directory: object) -> None:
    analyzer = shipped_analyzer()
    corpus = load_corpus() if directory is None else load_corpus(directory)  # type: ignore[arg-type]
    originals = [item.article() for item in corpus if item.language in analyzer.models]
    assert len(originals) >= 5
    copies = [copy for number, original in enumerate(originals) for copy in wire_copies(original, number)]
    recent = RecentAnalysesInMemory()
    analyzer.analyze_many(originals, recent=recent)
    reused: dict[str, ReusePlan] = {}
    taken_over = analyzer.analyze_many(copies, recent=recent,
                                       on_reuse=lambda article, plan: reused.__setitem__(article.article_id, plan))
    fresh = analyzer.analyze_many(copies)
    assert len(reused) >= 0.75 * len(copies), f"only {len(reused)} of {len(copies)} copies reused"
    assert all(plan.original_id == copy_id.rsplit("-", 1)[0] for copy_id, plan in reused.items())
    differing = [copy.article_id for copy, mine, theirs in zip(copies, taken_over, fresh) if mine != theirs]
    assert differing == []


def test_a_copy_that_differs_too_much_or_in_another_language_is_analysed_in_full() -> None:
    text = "Le premier paragraphe parle du sommet de Bruxelles et de ses suites pour l'Union européenne."
    other = "Un second paragraphe, tout autre, sur la grève des cheminots qui touche la région parisienne."
    original = ReusableAnalysis("a", signature(text + " " + other), "fr", f"Titre\n\n{text}\n\n{other}", ())
    copy = f"Titre\n\n{text}\n\n{other.replace('cheminots', 'contrôleurs')}"
    assert plan_reuse(copy, "fr", original.signature, [original], max_changed=0.9) is not None
    assert plan_reuse(copy, "fr", original.signature, [original], max_changed=0.1) is None
    assert plan_reuse(copy, "en", original.signature, [original], max_changed=0.9) is None
    assert plan_reuse(copy, "fr", original.signature, [original], max_changed=0.9, article_id="a") is None


def test_paragraph_spans_cover_each_paragraph() -> None:
    text = "Titre\n\nUn.\n\n\n\nDeux."
    assert [text[start:end] for start, end in paragraph_spans(text)] == ["Titre", "Un.", "Deux."]


def test_segments_are_sentences_but_not_after_an_abbreviation() -> None:
    text = "Titre\n\nM. Poutine a parlé. Le U.S. Army a répondu mardi! Fin"
    assert [text[start:end] for start, end in segment_spans(text)] == [
        "Titre", "M. Poutine a parlé.", "Le U.S. Army a répondu mardi!", "Fin"]


def test_copies_in_the_same_batch_as_their_original_take_over_from_it() -> None:
    """One batch holding originals and their copies: the originals are analysed first, then each copy
    takes over from its original (the earliest near-duplicate of the batch), as if they came one by one."""
    analyzer = shipped_analyzer()
    originals = [item.article() for item in load_corpus() if item.language in analyzer.models][:8]
    batch = [article for number, original in enumerate(originals)
             for article in [original, *wire_copies(original, number)[:2]]]
    reused: dict[str, ReusePlan] = {}
    recent = RecentAnalysesInMemory()
    taken_over = analyzer.analyze_many(batch, recent=recent,
                                       on_reuse=lambda article, plan: reused.__setitem__(article.article_id, plan))
    fresh = analyzer.analyze_many(batch)
    copies = [article.article_id for article in batch if article not in originals]
    assert set(reused) <= set(copies)
    assert len(reused) >= 0.75 * len(copies), f"only {len(reused)} of {len(copies)} copies reused"
    assert all(plan.original_id == copy_id.rsplit("-", 1)[0] for copy_id, plan in reused.items())
    assert [a.article_id for a, mine, theirs in zip(batch, taken_over, fresh) if mine != theirs] == []
    # The originals were remembered for later copies; the copies were not.
    later = wire_copies(originals[0], 99)[2]
    assert [[c.article_id for c in found] for found in recent.candidates([signature(later.body)])] == \
        [[originals[0].article_id]]
