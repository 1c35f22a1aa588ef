"""Wire copies analysed once (ingest.reuse): a copy of a recently analysed article takes over its
mentions where their paragraphs are the same, and its analysis is the one a fresh analysis gives."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ingest.fingerprint import signature
from ingest.models import Article
from ingest.entities import Mention
from ingest.reuse import (CONTEXT_CHARS, ZONE_CHARS, RecentAnalysesInMemory, ReusableAnalysis, ReusePlan,
                          context_agrees, paragraph_spans, plan_reuse, segment_spans, settled_zone)
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


def test_in_a_reworded_sentence_only_the_differing_words_and_their_neighbours_are_analysed() -> None:
    first = ("Le ministre de l'Intérieur Gérald Darmanin a présenté mardi à Paris un projet de loi sur "
             "l'immigration qui divise la majorité depuis plusieurs semaines déjà.")
    second = ("Les sénateurs Les Républicains ont promis de durcir le texte lors de son examen au "
              "Palais du Luxembourg.")
    text = f"Titre du jour\n\n{first} {second}"
    mentions = (Mention("Gérald Darmanin", "PERSON", text.index("Gérald"), text.index("Gérald") + 15),
                Mention("Palais du Luxembourg", "LOCATION", text.index("Palais"), text.index("Palais") + 20))
    original = ReusableAnalysis("a", signature(text), "fr", text, mentions)
    copy = text.replace("divise la majorité", "divise fortement la majorité")
    plan = plan_reuse(copy, "fr", signature(copy), [original], max_changed=0.9)
    assert plan is not None
    (start, end), = plan.to_analyse
    word = copy.index("fortement")
    # The new word with about ZONE_CHARS on each side, in whole words: not the whole sentence.
    assert start <= word and word + len("fortement") <= end
    assert start - ZONE_CHARS - 15 <= word - 1 and end - word - 9 <= ZONE_CHARS + 15
    assert end - start < len(first)
    (left, right), = plan.context
    assert left <= start and end <= right and right - left < end - start + 2 * CONTEXT_CHARS + 2
    # Both mentions lie outside the zone: taken over, moved to where their words are in the copy.
    assert [(copy[m.start:m.end], m.label) for m in plan.reused] == [("Gérald Darmanin", "PERSON"),
                                                                      ("Palais du Luxembourg", "LOCATION")]


def test_the_context_must_agree_with_the_original_and_a_name_running_to_the_window_edge_settles_nothing() -> None:
    text = "a" * 10 + " " + " ".join(["mot"] * 60)
    window, zone = (100, 200), (140, 160)
    kept = [Mention("mot", "PERSON", 127, 130)]
    assert context_agrees(text, window, zone, [Mention("mot", "PERSON", 127, 130)], kept)
    assert not context_agrees(text, window, zone, [], kept)  # the original's name was not found again
    # The window's first EDGE_CHARS, read without what comes before them, are not compared.
    assert context_agrees(text, window, zone, [Mention("mot", "MISC", 103, 106), *kept], kept)
    assert not context_agrees(text, window, zone, [Mention("mot", "LOCATION", 127, 130)], kept)
    # A name found in the zone that overlaps a mention taken over: no agreement.
    assert not context_agrees(text, window, zone, [Mention("x", "PERSON", 118, 145), *kept], kept)
    # An entity running from the zone on grows it; one reaching the window's cut edge settles nothing.
    assert settled_zone(text, window, zone, [(150, 172)]) == (140, 172)
    assert settled_zone(text, window, zone, [(150, 199)]) is None
    assert settled_zone(text, (0, 200), zone, [(0, 150)]) == (0, 160)
