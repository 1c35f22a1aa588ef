"""Near-duplicate signatures: the same wire story syndicated by several outlets gets one cluster.

MinHash over word 3-shingles estimates the Jaccard similarity of two texts from 64 numbers each.
Banding (16 bands of 4 values) turns it into exact-match keys Elasticsearch can look up: two texts
with Jaccard 0.8 share a band with probability 0.999, two unrelated texts almost never. Candidates are
then confirmed on the estimated similarity (index.dedup).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ingest.clean import without_ascii

PERMUTATIONS = 64
BANDS = 16
ROWS = PERMUTATIONS // BANDS
SHINGLE = 3
#: Estimated Jaccard similarity from which two texts are the same story (a headline, a credit line
#: or a cut final paragraph apart).
THRESHOLD = 0.6

_PRIME = np.uint64((1 << 31) - 1)
_rng = np.random.default_rng(20260301)  # fixed seed: signatures must be comparable across processes
_A = _rng.integers(1, int(_PRIME), size=PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, int(_PRIME), size=PERMUTATIONS, dtype=np.uint64)
_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    # accents dropped: every combining mark present, each removed in one pass (they are never ASCII;
    # the same text as keeping, one by one, the characters that are not combining)
    for mark in {character for character in without_ascii(folded) if unicodedata.combining(character)}:
        folded = folded.replace(mark, "")
    return _WORD.findall(folded)


def _shingle_hashes(text: str) -> np.ndarray:
    words = _words(text)
    shingles = set(map(" ".join, zip(*(words[i:] for i in range(SHINGLE)))))
    # each shingle's 4-byte digest, read as one big-endian array (not one int.from_bytes a shingle)
    digests = b"".join([hashlib.blake2b(shingle.encode(), digest_size=4).digest() for shingle in shingles])
    return np.frombuffer(digests, dtype=">u4").astype(np.uint64)


def minhash(text: str) -> np.ndarray | None:
    """The 64 MinHash values of ``text``; None when it has too few words to compare (under 8)."""
    hashes = _shingle_hashes(text)
    if hashes.size < 6:
        return None
    # (a·x + b) mod p for every permutation and shingle; a < 2^31 and x < 2^32 keep it inside uint64.
    permuted = (_A[:, None] * hashes[None, :] + _B[:, None]) % _PRIME
    return permuted.min(axis=1)


# The last texts' signatures: with wire copies analysed once, the analysis signs a text to find its
# original, and the record stored (ingest.articles) signs the same text again. The worker clears it
# after each batch (worker.tasks), so no text outlives its batch here.
@lru_cache(maxsize=64)
def signature(text: str) -> str:
    """The hex signature stored with an article ('' when the text is too short)."""
    values = minhash(text)
    # each value as 8 hex digits, big-endian: what ``_values`` reads back
    return "" if values is None else values.astype(">u4").tobytes().hex()


def _values(signature_hex: str) -> np.ndarray:
    """The signature's values (big-endian 32-bit words of its hex), read in one go: parsing its 64 hex
    numbers one by one made a comparison cost about 30 µs, this about 3."""
    return np.frombuffer(bytes.fromhex(signature_hex), dtype=">u4")


def bands(signature_hex: str) -> list[str]:
    """The band keys of a signature, ``"<band>:<hash>"``: equal keys make candidates."""
    return list(_bands(signature_hex)) if signature_hex else []


@lru_cache(maxsize=8192)
def _bands(signature_hex: str) -> tuple[str, ...]:
    # kept: a write asks for the bands of each of its articles five times (lookup, shaping, record)
    width = ROWS * 8
    return tuple(
        f"{band}:{hashlib.blake2b(signature_hex[band * width:(band + 1) * width].encode(), digest_size=6).hexdigest()}"
        for band in range(BANDS)
    )


def similarity(a: str, b: str) -> float:
    """The estimated Jaccard similarity of the two texts behind two signatures."""
    return similarities(a, [b])[0]


def similarities(signature_hex: str, others: Sequence[str]) -> list[float]:
    """``similarity(signature_hex, other)`` for each of ``others``, those of this signature's length
    compared in one array operation (the write path compares a batch's articles with one another)."""
    scores = [0.0] * len(others)
    if not signature_hex:
        return scores
    comparable = [number for number, other in enumerate(others) if len(other) == len(signature_hex)]
    if comparable:
        matrix = np.frombuffer(bytes.fromhex("".join(others[number] for number in comparable)),
                               dtype=">u4").reshape(len(comparable), -1)
        same = np.count_nonzero(matrix == _values(signature_hex), axis=1)
        width = len(signature_hex) // 8
        for number, count in zip(comparable, same.tolist()):
            scores[number] = count / width
    return scores


def first_best(scores: Sequence[float], threshold: float) -> int | None:
    """Where the highest of ``scores`` is, the first on a tie, when it is at least ``threshold``: how a
    near duplicate's original is chosen among its candidates (index.dedup, ``BatchSignatures``)."""
    best, best_score = None, threshold
    for number, score in enumerate(scores):
        if score >= best_score and (best is None or score > best_score):
            best, best_score = number, score
    return best


class BatchSignatures:
    """The signatures of a batch's articles, each read once as it joins, so that an article is compared
    with every earlier one in one array operation (``similarities`` reads every other signature again
    on each call: quadratic in the batch's size). A signature of another length than ``signature``
    makes (none in practice) is compared with those of its own length, as ``similarities`` does."""

    WIDTH = PERMUTATIONS * 8  # hex digits of a signature

    def __init__(self, capacity: int) -> None:
        self._rows = np.empty((max(capacity, 1), PERMUTATIONS), dtype=">u4")
        self._labels: list[str] = []
        self._odd: list[tuple[str, str]] = []  # (signature, label) of another length

    def add(self, signature_hex: str, label: str) -> None:
        """``signature_hex`` joins, with ``label`` (its cluster) as what ``best`` answers."""
        if len(signature_hex) != self.WIDTH:
            self._odd.append((signature_hex, label))
            return
        self._rows[len(self._labels)] = _values(signature_hex)
        self._labels.append(label)

    def best(self, signature_hex: str, threshold: float) -> str | None:
        """The label of the earliest most similar signature added, when at least ``threshold`` similar
        (``first_best``)."""
        if len(signature_hex) != self.WIDTH:
            found = first_best(similarities(signature_hex, [other for other, _ in self._odd]), threshold)
            return None if found is None else self._odd[found][1]
        if not self._labels:
            return None
        same = np.count_nonzero(self._rows[: len(self._labels)] == _values(signature_hex), axis=1)
        top = int(same.argmax())
        return self._labels[top] if int(same[top]) / PERMUTATIONS >= threshold else None


def near_duplicates(a: str, b: str) -> bool:
    return similarity(a, b) >= THRESHOLD


# -- recent band keys (the write path's near-duplicate lookup: index.dedup, state.recent_bands) -----


@dataclass(frozen=True)
class RecentCopy:
    """An article just written: what the store of recent band keys records about it."""

    article_id: str
    indexed_ms: int
    signature: str
    cluster_id: str
    bands: tuple[str, ...]
    dropped_bands: tuple[str, ...] = ()  # bands of its previous signature it no longer has (a changed article)


@dataclass(frozen=True)
class RecentBandRecord:
    """After a bulk write: the batch's token, its written articles, and what became of its bands."""

    token: str
    written: tuple[RecentCopy, ...]
    confirmed: frozenset[str]  # reserved bands Elasticsearch held no document of
    refused: frozenset[str]  # reserved bands it did hold: left to Elasticsearch
    released: frozenset[str]  # every band the batch looked up (its in-flight mark is removed; a reserved
    # band's mark is its reservation, which ``confirmed`` or ``refused`` settles)


#: Members kept per band key: the lookup takes the oldest CANDIDATES (20) of an article's bands but
#: itself, so the 21 oldest of each band are enough to answer exactly.
RECENT_BAND_MEMBERS = 21
