"""Wire copies analysed once: a near-duplicate of an article analysed recently takes over its mentions.

The same agency story reaches Vigie from many outlets, each with its own headline, credit line or cut
final paragraph. Its named entities were found once, when the first copy was analysed; a later copy
reuses them sentence by sentence:

1. candidates: recently analysed articles sharing a MinHash band key with the copy (the store of
   recent analyses, ``RecentAnalyses``, is Redis in the worker: state.recent_analyses), and the
   earlier articles of the same batch analysed in full (``Analyzer.analyze_many``), confirmed on
   estimated similarity (ingest.fingerprint) and on language; the most similar is the original;
2. what differs: the copy's sentences (title first, paragraphs split on blank lines, then on sentence
   ends: ``segment_spans``) are aligned with the original's (``difflib``); when the sentences the
   original lacks are more than ``max_changed`` of the copy's characters, the copy is analysed in full.
   In a sentence reworded (one in place of one), only the words from the first to the last that
   differ are new; a sentence added is new whole;
3. the new words go through NER with CONTEXT_CHARS of the copy on each side; the mentions found
   within ZONE_CHARS of them (grown over any entity that runs on from them: ``settled_zone``) are
   kept, the original's there are dropped, and the original's other mentions are moved to where
   their words sit in the copy. What NER found in the rest of the window must be what is taken over
   from the original there (``context_agrees``): otherwise the change reached further than the
   window can tell, and the copy is analysed in full. Repairs, linking and merging (ingest.entities)
   then run on the copy's own mentions and text, exactly as for a fresh analysis;
4. sentence by sentence, the copy also takes over what never runs over a sentence end: its tokens
   (spaCy cuts a text at its spaces first) and the knowledge base's phrases found in it (a name's
   words are joined by a space, a hyphen or an apostrophe only); its new sentences are tokenised and
   searched alone. Lemmas and topics are then computed from those words, linking from those
   phrases, as for a fresh analysis. Its language is its original's when what the detector reads of
   the two is the same, or differs in at most LANGUAGE_MAX_NEW of it and the original's was certain
   (``language_kept``); otherwise it is detected.

What is kept per article is the tidied mentions (before repairs and linking, which look at the whole
article), with their offsets in the analysed string (title, blank line, text); where the title ends;
the language's confidence; and per sentence where spaCy cut its words into tokens besides its
spaces and the knowledge base's phrases found in it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ingest.fingerprint import THRESHOLD, bands, similarity
from ingest.mentions import Mention

PARAGRAPH_BREAK = "\n\n"
#: Characters of context read on each side of the words analysed again: the small models' NER sees
#: a few words to each side, and a dozen words settle a label as in the whole article.
CONTEXT_CHARS = 80
#: Around the words that differ, the mentions spaCy finds are kept (and the original's there dropped)
#: this many characters further, in whole words: a changed word changes how the model reads the
#: four or so words on each side of it ("the Federal (reworded) chairman": "Federal" is now alone).
ZONE_CHARS = 30
#: The first and last characters of a window cut out of the copy, read without their own context,
#: are not compared with the original's mentions (``context_agrees``).
EDGE_CHARS = 25
#: A copy keeps its original's language when the original's was certain (confidence 1.0, no note)
#: and at most this share of what the detector reads of the copy is new (a headline, a reworded
#: word): the rest is the original's own text, which settled it. Half of what changed no decision
#: in a harsher trial: a headline in another language, each corpus article under each other
#: language's, changed none of 3,058 decisions at 15% of the sample, 2 at 20% (docs/performance.md).
#: With the detector's sample unchanged, the language is the original's whatever its confidence.
LANGUAGE_MAX_NEW = 0.1

#: A KB phrase found in a sentence (ingest.entity_linking.Match as kept): (start, end) in the
#: sentence, its number of words, and how its candidates are found again (``Match.lookup``).
KeptMatch = tuple[int, int, int, str]


@dataclass(frozen=True, slots=True)
class ReusableAnalysis:
    """What a later copy of an article needs from its analysis."""

    article_id: str
    signature: str
    language: str
    analysed_text: str  # the title, a blank line, the text (or the text alone), as spaCy read it
    mentions: tuple[Mention, ...]  # tidied, offsets into analysed_text
    text_start: int = 0  # where the text begins in analysed_text (after the title and its blank line)
    #: The language's confidence; None when the decision carried a note (unsure, or too little text):
    #: a copy's language is then detected again
    language_confidence: float | None = None
    #: Per sentence of analysed_text (``segment_spans``): where spaCy cut its words into tokens besides
    #: its spaces ("mars." → "mars" "."; offsets into the sentence: ``sentence_cuts``, ``tokens_of``).
    #: Empty when not kept: the copy's sentences are then all tokenised again.
    sentence_cuts: tuple[tuple[int, ...], ...] = ()
    #: Per sentence: the knowledge base's phrases found in it (``KeptMatch``); empty when not kept
    sentence_matches: tuple[tuple[KeptMatch, ...], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"article_id": self.article_id, "signature": self.signature, "language": self.language,
                "analysed_text": self.analysed_text,
                "mentions": [[m.text, m.label, m.start, m.end, m.votes] for m in self.mentions],
                "text_start": self.text_start, "language_confidence": self.language_confidence,
                "sentence_cuts": [list(cuts) for cuts in self.sentence_cuts],
                "sentence_matches": [[list(match) for match in matches] for matches in self.sentence_matches]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReusableAnalysis:
        # An analysis kept before per-sentence tokens and matches were: its copies compute them afresh
        # and detect their language.
        return cls(article_id=data["article_id"], signature=data["signature"], language=data["language"],
                   analysed_text=data["analysed_text"],
                   mentions=tuple(Mention(text, label, start, end, votes)
                                  for text, label, start, end, votes in data["mentions"]),
                   text_start=data.get("text_start", 0), language_confidence=data.get("language_confidence"),
                   sentence_cuts=tuple(tuple(cuts) for cuts in data.get("sentence_cuts", ())),
                   sentence_matches=tuple(tuple((start, end, words, lookup) for start, end, words, lookup in matches)
                                          for matches in data.get("sentence_matches", ())))

    def detection_text(self) -> str:
        """What the language detector was given: the title, one line break, the text (ingest.analyze)."""
        if not self.text_start:
            return self.analysed_text
        return f"{self.analysed_text[:self.text_start - 2]}\n{self.analysed_text[self.text_start:]}"


class RecentAnalyses(Protocol):
    """Where recent analyses are kept (Redis in the worker, a dict in tests and benches)."""

    def candidates(self, signatures: Sequence[str]) -> list[list[ReusableAnalysis]]:
        """For each signature, the recent analyses sharing a band key with it."""

    def remember(self, analyses: Sequence[ReusableAnalysis]) -> None:
        """Keep ``analyses`` for later copies."""


@dataclass(frozen=True, slots=True)
class ReusePlan:
    """How a copy is analysed from its original: the mentions taken over and the words to analyse."""

    original_id: str
    reused: tuple[Mention, ...]  # offsets into the copy's analysed string
    #: (start, end) of what the copy has that the original lacks, in whole words: within a sentence
    #: reworded, only the words from the first to the last that differ; a sentence added, all of it
    to_analyse: tuple[tuple[int, int], ...]
    changed: float  # share of the copy's characters in the sentences the original lacks
    #: (start, end) of what spaCy reads for each region to analyse: the region with about
    #: CONTEXT_CHARS of the copy before and after it, so that its first and last words are read in
    #: the context they have in the copy. The region's mentions are kept; those of the context must
    #: be the ones taken over from the original there (``context_agrees``), else the copy is
    #: analysed in full
    context: tuple[tuple[int, int], ...] = ()
    #: (start, end) of the copy's sentences (``segment_spans``), and for each the number of the
    #: original's sentence it is equal to (-1: reworded or added): an equal sentence takes over the
    #: original's tokens and knowledge-base phrases (``ReusableAnalysis.sentence_cuts``)
    sentences: tuple[tuple[int, int], ...] = ()
    sources: tuple[int, ...] = ()
    #: (start, end) of the characters the original lacks, not widened (``to_analyse`` is)
    new: tuple[tuple[int, int], ...] = ()
    original: ReusableAnalysis | None = field(default=None, repr=False, compare=False)
    language_kept: bool = False  # the copy took its original's language without detecting it


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph of ``text`` (split on blank lines), empty ones left out."""
    spans, start = [], 0
    while start <= len(text):
        end = text.find(PARAGRAPH_BREAK, start)
        end = len(text) if end < 0 else end
        if end > start:
            spans.append((start, end))
        start = end + len(PARAGRAPH_BREAK)
    return spans


def segment_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of each paragraph of ``text``: a paragraph is cut after a full
    stop, question or exclamation mark that ends a word of three lower-case letters or more and is
    followed by a space and a capital ("... le 12 mars. Le ministre"; not "M. Poutine", "U.S. Army")."""
    spans = []
    for start, end in paragraph_spans(text):
        cut = start
        for match in _SENTENCE_END.finditer(text, start, end):
            spans.append((cut, match.start() + 1))
            cut = match.end()
        spans.append((cut, end))
    return [(start, end) for start, end in spans if end > start]


_SENTENCE_END = re.compile(r"(?<=[a-zà-ÿ]{3})[.!?]\s+(?=[A-ZÀ-Ý«\"])")


def plan_reuse(analysed_text: str, language: str | None, signature: str, candidates: Sequence[ReusableAnalysis],
               max_changed: float, article_id: str = "") -> ReusePlan | None:
    """How to analyse a copy from the most similar candidate, or None (analyse it in full).

    ``language``: the copy's; None when not detected yet (any candidate's: see ``language_kept``).
    The copy's sentences are aligned with the original's (``difflib`` over the sentences): a sentence
    found in the original takes over its mentions; a sentence reworded (one sentence of the copy in
    place of one of the original) takes over the mentions before its first and after its last
    differing word, and those words are analysed; a sentence added is analysed whole. Sentences the
    copy lacks leave nothing to analyse."""
    best, best_score = None, THRESHOLD
    for candidate in candidates:
        if (language is not None and candidate.language != language) or candidate.article_id == article_id:
            continue
        score = similarity(signature, candidate.signature)
        if score >= best_score and (best is None or score > best_score):
            best, best_score = candidate, score
    if best is None or not analysed_text:
        return None
    original = best.analysed_text
    original_spans, copy_spans = segment_spans(original), segment_spans(analysed_text)
    matcher = SequenceMatcher(None, [original[start:end] for start, end in original_spans],
                              [analysed_text[start:end] for start, end in copy_spans], autojunk=False)
    # (start, end, shift): copy[start:end] == original[start - shift:end - shift]
    blocks: list[tuple[int, int, int]] = []
    regions: list[tuple[int, int]] = []
    sources = [-1] * len(copy_spans)
    differing = 0
    for tag, first, last, copy_first, copy_last in matcher.get_opcodes():
        if tag == "equal":
            sources[copy_first:copy_last] = range(first, last)
            blocks.extend((copy_start, copy_end, copy_start - start) for (start, _), (copy_start, copy_end)
                          in zip(original_spans[first:last], copy_spans[copy_first:copy_last]))
            continue
        differing += sum(end - start for start, end in copy_spans[copy_first:copy_last])
        if copy_first == copy_last:
            continue
        if tag == "replace" and last - first == 1 and copy_last - copy_first == 1:
            (start, end), (copy_start, copy_end) = original_spans[first], copy_spans[copy_first]
            low, high = _differing_words(original[start:end], analysed_text[copy_start:copy_end])
            blocks.append((copy_start, copy_start + low, copy_start - start))
            blocks.append((copy_start + high, copy_end, copy_end - end))
            regions.append((copy_start + low, copy_start + high))
        else:
            regions.append((copy_spans[copy_first][0], copy_spans[copy_last - 1][1]))
    changed = differing / len(analysed_text)
    if changed > max_changed:
        return None
    joined = _joined(regions)
    regions = [_widened(analysed_text, start, end, ZONE_CHARS) for start, end in joined]
    reused = []
    for mention in best.mentions:
        for start, end, shift in blocks:
            if start - shift <= mention.start and mention.end <= end - shift:
                moved = replace(mention, start=mention.start + shift, end=mention.end + shift)
                if not any(moved.start < high and low < moved.end for low, high in regions):
                    reused.append(moved)
                break
    return ReusePlan(best.article_id, tuple(reused), tuple(regions), round(changed, 4),
                     tuple(_widened(analysed_text, start, end, CONTEXT_CHARS) for start, end in joined),
                     tuple(copy_spans), tuple(sources), tuple(joined), best)


def language_kept(plan: ReusePlan, copy_sample: str, original_sample: str, sample_end: int) -> bool:
    """Whether a copy has its original's language without detecting it. What the detector reads of
    each (``copy_sample``, ending at ``sample_end`` of the copy's analysed text; ``original_sample``,
    of ``ReusableAnalysis.detection_text``) is the same, or differs in at most LANGUAGE_MAX_NEW of
    the copy's while the original's language was certain; and the original's decision carried no
    note (it depended on what the detector read only, not on the source's declaration)."""
    original = plan.original
    if original is None or original.language_confidence is None or not copy_sample:
        return False
    if copy_sample == original_sample:
        return True
    new = sum(min(end, sample_end) - start for start, end in plan.new if start < sample_end)
    return original.language_confidence >= 1.0 and new <= LANGUAGE_MAX_NEW * len(copy_sample)


def sentence_cuts(text: str, sentences: Sequence[tuple[int, int]], offsets: Iterable[int]) -> tuple[tuple[int, ...], ...]:
    """Where spaCy cut each sentence of ``text`` into tokens besides its spaces (``offsets``: of every
    token of the whole text), as offsets into the sentence (``ReusableAnalysis.sentence_cuts``).
    spaCy cuts a text at its spaces first and a sentence ends where a space begins, so no token runs
    over a sentence's end and a sentence tokenised alone gives the same tokens (``tokens_of``)."""
    starts = [start for start, _ in sentences]
    cuts: list[list[int]] = [[] for _ in sentences]
    for offset in offsets:
        at = bisect_right(starts, offset) - 1
        if at >= 0 and starts[at] < offset < sentences[at][1] and not text[offset].isspace() \
                and not text[offset - 1].isspace():
            cuts[at].append(offset - starts[at])
    return tuple(tuple(found) for found in cuts)


def tokens_of(sentence: str, cuts: Sequence[int]) -> list[str]:
    """The tokens of a sentence (spaces left out: they make no words) from its ``sentence_cuts``."""
    tokens: list[str] = []
    pending = iter(cuts)
    cut = next(pending, None)
    for match in _NOT_SPACE.finditer(sentence):
        start, end = match.span()
        while cut is not None and cut < end:
            tokens.append(sentence[start:cut])
            start, cut = cut, next(pending, None)
        tokens.append(sentence[start:end])
    return tokens


_NOT_SPACE = re.compile(r"\S+")


def sentence_matches(sentences: Sequence[tuple[int, int]],
                     matches: Iterable[tuple[int, int, int, str]]) -> tuple[tuple[KeptMatch, ...], ...]:
    """The knowledge base's phrases of an analysed text ((start, end, words, lookup), offsets into
    the text) by sentence, offsets into the sentence. None runs over a sentence end
    (ingest.entity_linking.matches_of)."""
    starts = [start for start, _ in sentences]
    kept: list[list[KeptMatch]] = [[] for _ in sentences]
    for start, end, words, lookup in matches:
        at = bisect_right(starts, start) - 1
        kept[at].append((start - starts[at], end - starts[at], words, lookup))
    return tuple(tuple(found) for found in kept)


def _differing_words(original: str, copy: str) -> tuple[int, int]:
    """(start, end) in ``copy`` of the words from the first to the last that differ from ``original``."""
    prefix = 0
    limit = min(len(original), len(copy))
    while prefix < limit and original[prefix] == copy[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and original[-1 - suffix] == copy[-1 - suffix]:
        suffix += 1
    low, high = prefix, len(copy) - suffix
    while low > 0 and not copy[low - 1].isspace():
        low -= 1
    while high < len(copy) and not copy[high].isspace():
        high += 1
    if high <= low:  # words removed at a space: read the words on either side of it
        low, high = max(0, low - 1), min(len(copy), high + 1)
        while low > 0 and not copy[low - 1].isspace():
            low -= 1
        while high < len(copy) and not copy[high].isspace():
            high += 1
    return low, high


def _joined(regions: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The regions in order, those less than CONTEXT_CHARS apart made one."""
    joined: list[tuple[int, int]] = []
    for start, end in sorted(regions):
        if joined and start - joined[-1][1] < CONTEXT_CHARS:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


def _widened(text: str, start: int, end: int, chars: int) -> tuple[int, int]:
    """``text[start:end]`` with about ``chars`` of ``text`` on each side, cut at a space."""
    left = max(0, start - chars)
    if left > 0:
        while left < start and not text[left - 1].isspace():
            left += 1
    right = min(len(text), end + chars)
    if right < len(text):
        while right > end and not text[right].isspace():
            right -= 1
    return left, right


def settled_zone(text: str, window: tuple[int, int], zone: tuple[int, int],
                 entities: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
    """The zone whose mentions are taken from the window's NER, grown over every entity spaCy found
    (``entities``: its raw spans, offsets into ``text``) that overlaps it: a name the model ran on
    from the changed words into the words after them changes those too. None when such an entity
    reaches the window's edges (EDGE_CHARS): what it covers in the copy cannot be told from there."""
    low, high = zone
    for start, end in sorted(entities):
        if start < high and low < end:
            low, high = min(low, start), max(high, end)
    left, right = _trusted(text, window, zone)
    if (low < left and low != window[0]) or (high > right and high != window[1]):
        return None
    if (window[0] > 0 and low <= window[0]) or (window[1] < len(text) and high >= window[1]):
        return None
    return low, high


def _trusted(text: str, window: tuple[int, int], zone: tuple[int, int]) -> tuple[int, int]:
    """The part of a window read with enough context: EDGE_CHARS less on each side cut out of ``text``."""
    left, right = window
    if left > 0:
        left = min(left + EDGE_CHARS, zone[0])
        while left < zone[0] and not text[left - 1].isspace():
            left += 1
    if right < len(text):
        right = max(right - EDGE_CHARS, zone[1])
        while right > zone[1] and not text[right].isspace():
            right -= 1
    return left, right


def context_agrees(text: str, window: tuple[int, int], region: tuple[int, int], found: Sequence[Mention],
                   reused: Sequence[Mention]) -> bool:
    """Whether what spaCy found in the context around a region (``found``, offsets into ``text``)
    is what is taken over from the original there (``reused``), and nothing found in the region
    overlaps a mention taken over. The first and last EDGE_CHARS of a window cut out of the text
    are left out (read without what comes before or after them, a name there is read differently)."""
    left, right = _trusted(text, window, region)

    def around(mentions: Sequence[Mention]) -> set[tuple[int, int, str]]:
        return {(m.start, m.end, m.label) for m in mentions
                if left <= m.start and m.end <= right and (m.end <= region[0] or m.start >= region[1])}

    taken = [m for m in found if m.start < region[1] and region[0] < m.end]
    if any(m.start < other.end and other.start < m.end for m in taken for other in reused):
        return False
    return around(found) == around(reused)


class RecentAnalysesInMemory:
    """Recent analyses in a dict, by band key (for `vigie analyze` on many files, tests and benches)."""

    def __init__(self) -> None:
        self._by_band: dict[str, str] = {}
        self._analyses: dict[str, ReusableAnalysis] = {}

    def candidates(self, signatures: Sequence[str]) -> list[list[ReusableAnalysis]]:
        found = []
        for signature in signatures:
            ids = dict.fromkeys(self._by_band[key] for key in bands(signature) if key in self._by_band)
            found.append([self._analyses[article_id] for article_id in ids])
        return found

    def remember(self, analyses: Sequence[ReusableAnalysis]) -> None:
        for analysis in analyses:
            self._analyses[analysis.article_id] = analysis
            for key in bands(analysis.signature):
                self._by_band[key] = analysis.article_id
