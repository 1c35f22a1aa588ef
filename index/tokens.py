"""Elasticsearch's ``standard`` analyzer, reproduced in Python, for matching alerts without a request.

The articles' ``title``, ``text``, ``lemmas`` and entity fields are analysed by the ``standard``
analyzer (``index.mappings``): Lucene's StandardTokenizer (the word boundaries of Unicode UAX #29)
followed by a lower-case filter, no stop words. The alert matcher (``index.alert_match``) must cut
an article and a query into exactly the tokens Elasticsearch does, or an alert and `vigie search`
would disagree on the same query. What Lucene does, and what this module does the same way:

- words are the segments between UAX #29 word boundaries (the ``regex`` module's ``WORD`` flag), so
  ``l'armée``, ``o'clock``, ``u.s.a``, ``3.14``, ``1,000,000``, ``foo_bar`` and ``a:b`` stay whole,
  and hyphens, slashes and dashes split;
- a segment becomes a token only if it holds a letter, a digit of the UAX #29 ``Numeric`` class, a
  Katakana or Hiragana character, an ideograph or an emoji: punctuation, ``___``, ``²`` and ``½``
  are dropped; each ideograph and each Hiragana character is a token of its own;
- tokens longer than 255 characters are cut into pieces of 255;
- lower case is Java's, one code point at a time: ``İ`` becomes ``i`` and ``Σ`` always ``σ``
  (Python's ``str.lower`` gives ``i̇`` and a final ``ς``).

``tests/index/test_tokens.py`` compares this with Elasticsearch's ``_analyze`` on the evaluation
corpus and on the edge cases above.
"""

from __future__ import annotations

import regex

#: Lucene's default ``max_token_length`` for the standard tokenizer.
MAX_TOKEN_LENGTH = 255

_BOUNDARY = regex.compile(r"(?wV1)\b")
_KEEP = regex.compile(
    r"[\p{Word_Break=ALetter}\p{Word_Break=Hebrew_Letter}\p{Word_Break=Numeric}\p{Word_Break=Katakana}"
    r"\p{Ideographic}\p{Script=Hiragana}\p{Extended_Pictographic}]"
)
#: Characters Lucene emits one token each (UAX #29 does not join them).
_SINGLE = regex.compile(r"[\p{Ideographic}\p{Script=Hiragana}]")
#: The word segments that may be tokens: those that start with a word character or an emoji.
_SEGMENT = regex.compile(r"(?wsV1)\b(?=[\w\p{Extended_Pictographic}]).+?\b")
_JAVA_LOWER = str.maketrans({"İ": "i", "Σ": "σ"})

Span = tuple[str, int, int]
"""A token and its start and end offsets in the analysed text."""


def _lower(text: str) -> str:
    return text.translate(_JAVA_LOWER).lower()


def standard_spans(text: str) -> list[Span]:
    """The tokens of ``text`` under the standard analyzer, with their character offsets (slower than
    ``standard_tokens``: for highlighting the few articles that matched)."""
    if not text:
        return []
    spans: list[Span] = []
    cuts = [match.start() for match in _BOUNDARY.finditer(text)]
    for start, end in zip(cuts, cuts[1:]):
        segment = text[start:end]
        if _KEEP.search(segment) is None:
            continue
        if len(segment) > 1 and _SINGLE.search(segment) is not None:
            spans.extend(_split_singles(segment, start))
            continue
        if len(segment) <= MAX_TOKEN_LENGTH:
            spans.append((_lower(segment), start, end))
        else:
            for at in range(0, len(segment), MAX_TOKEN_LENGTH):
                piece = segment[at : at + MAX_TOKEN_LENGTH]
                spans.append((_lower(piece), start + at, start + at + len(piece)))
    return spans


def standard_tokens(text: str) -> list[str]:
    """The tokens of ``text`` under the standard analyzer, in order (positions are list indices)."""
    # Lower-casing first changes no word boundary (letters keep their class) and lets the common
    # token, a run of letters, go through without a second look.
    tokens: list[str] = []
    for segment in _SEGMENT.findall(_lower(text)):
        if segment.isalpha() and len(segment) <= MAX_TOKEN_LENGTH and (
                segment.isascii() or _SINGLE.search(segment) is None):
            tokens.append(segment)
        else:
            tokens.extend(token for token, _, _ in standard_spans(segment))
    return tokens


def _split_singles(segment: str, offset: int) -> list[Span]:
    """A segment mixing ideographs or Hiragana with other word characters: each ideograph and each
    Hiragana character alone, the runs in between as words (Lucene's IDEOGRAPHIC and HIRAGANA types)."""
    spans: list[Span] = []
    run_start: int | None = None
    for index, char in enumerate(segment):
        if _SINGLE.match(char):
            if run_start is not None:
                spans.append((_lower(segment[run_start:index]), offset + run_start, offset + index))
                run_start = None
            spans.append((_lower(char), offset + index, offset + index + 1))
        elif run_start is None:
            run_start = index
    if run_start is not None and _KEEP.search(segment[run_start:]):
        spans.append((_lower(segment[run_start:]), offset + run_start, offset + len(segment)))
    return spans
