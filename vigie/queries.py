"""What a query needs from the analysis side: lemma variants of query words, so that "réfugiés" in a
query finds articles whose lemmas hold "réfugié". Shared by the CLI, the API and alerts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from ingest.lemmas import QueryLemmatizer


@lru_cache(maxsize=4)
def _lemmatizer(languages: tuple[str, ...]) -> QueryLemmatizer:
    return QueryLemmatizer(languages)


def lemma_variants(languages: Sequence[str]) -> Callable[[str], Iterable[str]]:
    """A function giving the distinct lemma phrases of a piece of query text, one per language."""
    lemmatizer = _lemmatizer(tuple(languages))

    def variants(text: str) -> list[str]:
        phrases = {" ".join(lemmas) for lemmas in lemmatizer.variants(text).values() if lemmas}
        return sorted(phrases)

    return variants
