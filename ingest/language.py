"""Which language an article is written in: lingua, restricted to the configured languages.

Restricting lingua to the languages Vigie cares about makes it faster and more accurate (it only has
to separate those). Lingua runs in its low-accuracy mode (trigram models only): on the evaluation
corpus it gives the high-accuracy mode's answer for every article and every first sentence, with
22 MB of models instead of 302 MB for twelve languages (bench/language_modes.py, docs/quality.md).
Only the first ``sample_chars`` characters are read: a paragraph settles the language, and the cost
stays flat however long the article is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from ingest.models import UNDETERMINED

#: Fewer letters than this and no detector can tell (a number, an acronym, a single word).
_MIN_LETTERS = 12


@dataclass(frozen=True, slots=True)
class DetectedLanguage:
    """A language decision: ISO 639-1 code (or "und"), lingua's confidence, and why, when unsure."""

    code: str
    confidence: float
    note: str | None = None


def lingua_language(code: str) -> Language:
    """The lingua language of an ISO 639-1 code; ValueError names a code lingua does not know."""
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code.strip().lower()))
    except ValueError:
        raise ValueError(f"unknown language code {code!r} (expected an ISO 639-1 code such as 'fr')") from None


class LanguageIdentifier:
    """Detects the language of a text among a configured set.

    ``min_confidence``: below it the language is undetermined, unless the source declared one of the
    configured languages (a feed's ``language``), which is then used.
    """

    def __init__(self, languages: Sequence[str], *, sample_chars: int = 1000, min_confidence: float = 0.5) -> None:
        wanted = list(dict.fromkeys(lingua_language(code) for code in languages))
        if not wanted:
            raise ValueError("no language configured for detection")
        self.languages: tuple[str, ...] = tuple(language.iso_code_639_1.name.lower() for language in wanted)
        self._sample_chars = sample_chars
        self._min_confidence = min_confidence
        builder = LanguageDetectorBuilder.from_languages(*wanted) if len(wanted) > 1 else None
        # lingua needs two candidates; with one configured language the answer is that language.
        self._detector: LanguageDetector | None = builder.with_low_accuracy_mode().build() if builder else None

    def sample(self, text: str) -> str:
        """What ``detect`` reads of ``text``: its decision depends on this and on the hint only (the hint
        only when the decision carries a note). A wire copy with the same sample has the same language."""
        return text[: self._sample_chars]

    def detect(self, text: str, hint: str | None = None) -> DetectedLanguage:
        # Feeds declare "fr-FR", "en-us": the primary subtag is the language.
        hint = hint.split("-")[0].split("_")[0].strip().lower() if hint else None
        sample = self.sample(text)
        if sum(1 for char in sample if char.isalpha()) < _MIN_LETTERS:
            return self._fallback(hint, 0.0, "too little text to tell its language")
        if self._detector is None:
            return DetectedLanguage(self.languages[0], 1.0)
        values = self._detector.compute_language_confidence_values(sample)
        best = values[0]
        if best.value <= 0.0:
            return self._fallback(hint, 0.0, "written in none of the configured languages")
        code = best.language.iso_code_639_1.name.lower()
        if best.value < self._min_confidence:
            hinted = next((value.value for value in values if value.language.iso_code_639_1.name.lower() == hint), 0.0)
            return self._fallback(hint, hinted, f"detector unsure (best guess {code!r} at {best.value:.2f})")
        return DetectedLanguage(code, round(best.value, 3))

    def _fallback(self, hint: str | None, confidence: float, why: str) -> DetectedLanguage:
        if hint is not None and hint in self.languages:
            return DetectedLanguage(hint, round(confidence, 3), f"language taken from the source's declaration: {why}")
        return DetectedLanguage(UNDETERMINED, 0.0, f"language undetermined: {why}")
