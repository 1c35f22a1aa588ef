"""Wire copies analysed once (ingest.reuse): a copy of a recently analysed article takes over its
mentions where their paragraphs are the same, and its analysis is the one a fresh analysis gives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest

from ingest.entity_kb import default_kb
from ingest.entity_linking import matches_of
from ingest.fingerprint import signature
from ingest.mentions import Mention
from ingest.models import Article
from ingest.reuse import (CONTEXT_CHARS, LANGUAGE_MAX_NEW, ZONE_CHARS, RecentAnalysesInMemory, ReusableAnalysis,
                          ReusePlan, context_agrees, paragraph_spans, plan_reuse, segment_spans, settled_zone,
                          tokens_of)
from tests.ingest.analyzers import shipped_analyzer
from tests.ingest.quality_corpus import HELDOUT_DIR, load_corpus


class KeptAnalyses(RecentAnalysesInMemory):
    """Recent analyses in memory that also list what they were given to keep."""

    def __init__(self, analyses: Sequence[ReusableAnalysis] = ()) -> None:
        super().__init__()
        self.kept: list[ReusableAnalysis] = []
        self.remember(analyses)

    def remember(self, analyses: Sequence[ReusableAnalysis]) -> None:
        self.kept.extend(analyses)
        super().remember(analyses)


@cache
def analysed_originals(directory: Path | None) -> tuple[tuple[Article, ...], tuple[ReusableAnalysis, ...]]:
    """The corpus's (or held-out corpus's) articles in a language with a model, and what their
    analyses kept for later copies (analysed once per test session)."""
    analyzer = shipped_analyzer()
    corpus = load_corpus() if directory is None else load_corpus(directory)
    originals = tuple(item.article() for item in corpus if item.language in analyzer.models)
    recent = KeptAnalyses()
    analyzer.analyze_many(originals, recent=recent)
    return originals, tuple(recent.kept)


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
    originals, kept = analysed_originals(directory)  # type: ignore[arg-type]
    assert len(originals) >= 5
    copies = [copy for number, original in enumerate(originals) for copy in wire_copies(original, number)]
    recent = KeptAnalyses(kept)
    reused: dict[str, ReusePlan] = {}
    taken_over = analyzer.analyze_many(copies, recent=recent,
                                       on_reuse=lambda article, plan: reused.__setitem__(article.article_id, plan))
    fresh = analyzer.analyze_many(copies)
    assert len(reused) >= 0.75 * len(copies), f"only {len(reused)} of {len(copies)} copies reused"
    assert all(plan.original_id == copy_id.rsplit("-", 1)[0] for copy_id, plan in reused.items())
    differing = [copy.article_id for copy, mine, theirs in zip(copies, taken_over, fresh) if mine != theirs]
    assert differing == []
    # What was taken over beyond the mentions: the original's tokens and known phrases of every
    # sentence the copy shares, and (for most copies) its language.
    assert all(plan.original is not None and plan.original.sentence_cuts and max(plan.sources) >= 0
               for plan in reused.values())
    assert sum(plan.language_kept for plan in reused.values()) >= 0.5 * len(reused)


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
    assert sum(plan.language_kept for plan in reused.values()) >= 0.5 * len(reused)
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


@pytest.mark.parametrize("directory", [None, HELDOUT_DIR], ids=["corpus", "held-out"])
def test_each_sentence_alone_has_the_tokens_and_known_phrases_the_whole_text_has(directory: Path | None) -> None:
    """What a copy takes over sentence by sentence (ingest.reuse.ReusableAnalysis.sentence_cuts,
    sentence_matches), and what it finds in its new sentences read alone, is what the whole text gives."""
    analyzer, kb = shipped_analyzer(), default_kb()
    _, kept = analysed_originals(directory)
    phrases = 0
    for analysis in kept:
        text, nlp = analysis.analysed_text, analyzer.pipeline(analysis.language)
        assert nlp is not None
        sentences = segment_spans(text)
        assert len(analysis.sentence_cuts) == len(analysis.sentence_matches) == len(sentences)
        kept_tokens = [tokens_of(text[start:end], cuts) for (start, end), cuts in zip(sentences, analysis.sentence_cuts)]
        whole_tokens = [token.text for token in nlp.make_doc(text) if not token.is_space]
        assert [token for tokens in kept_tokens for token in tokens] == whole_tokens
        cut = sum(len(cuts) for cuts in analysis.sentence_cuts)
        assert len(whole_tokens) > len(text.split()) and cut == len(whole_tokens) - len(text.split())
        whole_matches = [(m.start, m.end, m.last_word - m.first_word, m.lookup)
                         for m in matches_of(text, nlp.lang, kb)]
        assert [(start + low, start + high, size, lookup) for (start, _), found in zip(sentences, analysis.sentence_matches)
                for low, high, size, lookup in found] == whole_matches
        for (start, end), tokens, found in zip(sentences, kept_tokens, analysis.sentence_matches):
            alone = [token.text for token in nlp.tokenizer(text[start:end]) if not token.is_space]
            assert alone == tokens, (analysis.article_id, text[start:end])
            assert [(m.start, m.end, m.last_word - m.first_word, m.lookup)
                    for m in matches_of(text[start:end], nlp.lang, kb)] == list(found), analysis.article_id
        phrases += len(whole_matches)
    assert phrases >= len(kept)  # known names were there to find


def retitled(original: Article, title: str, suffix: str) -> Article:
    return replace(original, article_id=f"{original.article_id}-{suffix}", title=title)


def foreign_words(text: str, chars: int) -> str:
    """About ``chars`` characters of ``text``, cut after a word."""
    cut = text[:chars].rsplit(" ", 1)[0]
    return cut if cut else text[:chars]


@pytest.mark.parametrize("directory", [None, HELDOUT_DIR], ids=["corpus", "held-out"])
def test_a_copy_keeps_its_originals_language_only_when_little_of_what_the_detector_reads_is_new(
        directory: Path | None) -> None:
    """The same text under another id (the detector's sample unchanged) and a headline in another
    language making under LANGUAGE_MAX_NEW of the sample keep the original's language; a foreign
    headline twice that long is detected again. Every analysis equals a fresh one."""
    analyzer = shipped_analyzer()
    originals, kept = analysed_originals(directory)
    corpus = load_corpus() if directory is None else load_corpus(directory)
    others = [item for item in load_corpus() + load_corpus(HELDOUT_DIR)]
    copies: list[Article] = []
    kinds: dict[str, str] = {}
    for original, item in zip(originals, [item for item in corpus if item.language in analyzer.models]):
        sample = min(1000, len(original.title) + 1 + len(original.body))
        other = next(each for each in others if each.language != item.language and len(each.text) > 300)
        made = [replace(original, article_id=f"{original.article_id}-same"),
                retitled(original, foreign_words(other.text, int(0.8 * LANGUAGE_MAX_NEW * sample)), "foreign"),
                retitled(original, foreign_words(other.text, int(2 * LANGUAGE_MAX_NEW * sample)), "foreign-long")]
        for copy in made:
            kinds[copy.article_id] = copy.article_id.split("-", 1)[1] if "-same" not in copy.article_id else "same"
        copies.extend(made)
    reused: dict[str, ReusePlan] = {}
    taken_over = analyzer.analyze_many(copies, recent=KeptAnalyses(kept),
                                       on_reuse=lambda article, plan: reused.__setitem__(article.article_id, plan))
    fresh = analyzer.analyze_many(copies)
    assert [copy.article_id for copy, mine, theirs in zip(copies, taken_over, fresh) if mine != theirs] == []
    kept_language = {copy_id for copy_id, plan in reused.items() if plan.language_kept}
    same = {copy_id for copy_id, kind in kinds.items() if kind == "same"}
    assert same <= kept_language
    assert not {copy_id for copy_id in kept_language if kinds[copy_id].endswith("foreign-long")}
    foreign = [copy_id for copy_id in reused if kinds[copy_id].endswith("foreign")]
    assert len(foreign) >= len(originals) // 2 and set(foreign) <= kept_language


def test_a_recent_analysis_kept_without_its_sentences_still_gives_a_fresh_analysis() -> None:
    """An analysis kept in Redis before sentences were kept (no tokens, phrases, confidence): its
    copies tokenise every sentence and detect their language; what is kept now survives JSON whole."""
    analyzer = shipped_analyzer()
    originals, kept = analysed_originals(None)
    assert all(ReusableAnalysis.from_dict(analysis.to_dict()) == analysis for analysis in kept)
    old_keys = {"article_id", "signature", "language", "analysed_text", "mentions"}
    older = [ReusableAnalysis.from_dict({key: value for key, value in analysis.to_dict().items() if key in old_keys})
             for analysis in kept]
    assert all(not analysis.sentence_cuts and analysis.language_confidence is None for analysis in older)
    copies = [copy for number, original in enumerate(originals[:8]) for copy in wire_copies(original, number)[:2]]
    reused: dict[str, ReusePlan] = {}
    taken_over = analyzer.analyze_many(copies, recent=KeptAnalyses(older),
                                       on_reuse=lambda article, plan: reused.__setitem__(article.article_id, plan))
    assert len(reused) >= 0.75 * len(copies) and not any(plan.language_kept for plan in reused.values())
    assert [c.article_id for c, mine, theirs in zip(copies, taken_over, analyzer.analyze_many(copies)) if mine != theirs] == []


def test_the_windows_of_a_copy_read_as_one_text_give_each_window_its_own_entities() -> None:
    """A copy's windows are joined for NER (ingest.analyze): each entity goes back to its window, in
    the copy's offsets; one the model ran over the join is cut at the windows' edges (not trusted)."""
    from ingest.analyze import _windows_read

    placed = [((0, 40), (0, 10), 0), ((100, 150), (120, 130), 42)]  # the second begins after "\n\n"
    found = [Mention("A", "PERSON", 5, 9), Mention("B", "LOCATION", 60, 64)]
    read = _windows_read(placed, [(5, 9), (35, 46), (60, 64)], found)
    assert read is not None
    assert [(spans, [(m.start, m.end) for m in mentions]) for _, _, spans, mentions in read] == [
        ([(5, 9), (35, 40)], [(5, 9)]), ([(100, 104), (118, 122)], [(118, 122)])]
    assert _windows_read(placed, [], [Mention("AB", "PERSON", 35, 46)]) is None
