"""Wire copies analysed once: a near-duplicate of an article analysed recently takes over its mentions.

The same agency story reaches Vigie from many outlets, each with its own headline, credit line or cut
final paragraph. Its named entities were found once, when the first copy was analysed; a later copy
reuses them paragraph by paragraph:

1. candidates: recently analysed articles sharing a MinHash band key with the copy (the store of
   recent analyses, ``RecentAnalyses``, is Redis in the worker: state.recent_analyses), confirmed on
   estimated similarity (ingest.fingerprint) and on language;
2. what differs: the copy's sentences (title first, paragraphs split on blank lines, then on sentence
   ends: ``segment_spans``) that the original does not have, character for character; when they are more than ``max_changed`` of the copy's
   characters, the copy is analysed in full;
3. the copy's mentions are the original's mentions in the sentences they share, moved to where the
   sentence sits in the copy, plus the mentions spaCy finds in each differing sentence, read with
   some words of the sentences on either side of it (the model's labels depend on a few words of
   context). Repairs, linking and merging (ingest.entities) then run on the copy's own mentions and text,
   exactly as for a fresh analysis; tokens, lemmas and topics come from the copy's own text too.

What is kept per article is the tidied mentions (before repairs and linking, which look at the whole
article), with their offsets in the analysed string (title, blank line, text).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ingest.entities import Mention
from ingest.fingerprint import THRESHOLD, bands, similarity

PARAGRAPH_BREAK = "\n\n"
#: Characters of context read on each side of a sentence analysed again: the small models' NER sees
#: a few words to each side, and a dozen words settle a label as in the whole article.
CONTEXT_CHARS = 80


@dataclass(frozen=True, slots=True)
class ReusableAnalysis:
    """What a later copy of an article needs from its analysis."""

    article_id: str
    signature: str
    language: str
    analysed_text: str  # the title, a blank line, the text (or the text alone), as spaCy read it
    mentions: tuple[Mention, ...]  # tidied, offsets into analysed_text

    def to_dict(self) -> dict[str, Any]:
        return {"article_id": self.article_id, "signature": self.signature, "language": self.language,
                "analysed_text": self.analysed_text,
                "mentions": [[m.text, m.label, m.start, m.end, m.votes] for m in self.mentions]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReusableAnalysis:
        return cls(article_id=data["article_id"], signature=data["signature"], language=data["language"],
                   analysed_text=data["analysed_text"],
                   mentions=tuple(Mention(text, label, start, end, votes)
                                  for text, label, start, end, votes in data["mentions"]))


class RecentAnalyses(Protocol):
    """Where recent analyses are kept (Redis in the worker, a dict in tests and benches)."""

    def candidates(self, signatures: Sequence[str]) -> list[list[ReusableAnalysis]]:
        """For each signature, the recent analyses sharing a band key with it."""

    def remember(self, analyses: Sequence[ReusableAnalysis]) -> None:
        """Keep ``analyses`` for later copies."""


@dataclass(frozen=True, slots=True)
class ReusePlan:
    """How a copy is analysed from its original: the mentions taken over and the paragraphs to analyse."""

    original_id: str
    reused: tuple[Mention, ...]  # offsets into the copy's analysed string
    to_analyse: tuple[tuple[int, int], ...]  # (start, end) of the copy's paragraphs the original lacks
    changed: float  # share of the copy's characters in those paragraphs
    #: (start, end) of what spaCy reads for each sentence to analyse: the sentence with about
    #: CONTEXT_CHARS of the ones before and after it, so that its first and last words are read in
    #: the context they have in the copy; only the sentence's own mentions are kept
    context: tuple[tuple[int, int], ...] = ()


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


def plan_reuse(analysed_text: str, language: str, signature: str, candidates: Sequence[ReusableAnalysis],
               max_changed: float, article_id: str = "") -> ReusePlan | None:
    """How to analyse a copy from the most similar candidate, or None (analyse it in full)."""
    best, best_score = None, THRESHOLD
    for candidate in candidates:
        if candidate.language != language or candidate.article_id == article_id:
            continue
        score = similarity(signature, candidate.signature)
        if score >= best_score and (best is None or score > best_score):
            best, best_score = candidate, score
    if best is None or not analysed_text:
        return None
    where: dict[str, tuple[int, int]] = {}
    for start, end in segment_spans(best.analysed_text):
        where.setdefault(best.analysed_text[start:end], (start, end))
    reused: list[Mention] = []
    to_analyse: list[tuple[int, int]] = []
    context: list[tuple[int, int]] = []
    paragraphs = segment_spans(analysed_text)
    for number, (start, end) in enumerate(paragraphs):
        found = where.get(analysed_text[start:end])
        if found is None:
            to_analyse.append((start, end))
            context.append(_context(analysed_text, start, end, paragraphs[max(number - 1, 0)][0],
                                    paragraphs[min(number + 1, len(paragraphs) - 1)][1]))
            continue
        shift = start - found[0]
        reused.extend(replace(mention, start=mention.start + shift, end=mention.end + shift)
                      for mention in best.mentions if found[0] <= mention.start and mention.end <= found[1])
    changed = sum(end - start for start, end in to_analyse) / len(analysed_text)
    if changed > max_changed:
        return None
    return ReusePlan(best.article_id, tuple(reused), tuple(to_analyse), round(changed, 4), tuple(context))


def _context(text: str, start: int, end: int, before: int, after: int) -> tuple[int, int]:
    """About ``CONTEXT_CHARS`` of the neighbouring sentences on each side of ``text[start:end]``, cut
    at a space (within the sentences before and after it)."""
    left = max(before, start - CONTEXT_CHARS)
    if left > before:
        space = text.find(" ", left, start)
        left = space + 1 if space >= 0 else start
    right = min(after, end + CONTEXT_CHARS)
    if right < after:
        space = text.rfind(" ", end, right)
        right = space if space >= 0 else end
    return left, right


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
