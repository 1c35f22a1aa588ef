"""Near-duplicate signatures (ingest.fingerprint): stable across versions, computed once per text."""

from __future__ import annotations

import hashlib
import unicodedata
from itertools import filterfalse

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ingest.fingerprint import _WORD, _words, signature, similarity

TEXT = ("Le président turc Recep Tayyip Erdogan a rencontré Vladimir Poutine à Sotchi ; la trêve d’Idleb, "
        "fragile, tient toujours selon l’Élysée et Ankara.")


def test_a_signature_is_the_one_stored_by_earlier_versions() -> None:
    # Signatures are stored in the index and compared with new ones: the value must never drift
    # (this one was computed by the code of 2026-12-01, before accents were dropped with filterfalse).
    stored = signature.__wrapped__(TEXT)
    assert len(stored) == 512 and stored[:16] == "05e6fc8803ba78cf"
    assert hashlib.sha1(stored.encode()).hexdigest() == "b95a7d85f0587c7fa2f8cbcdc90686fc423b1c25"


# Letters (Latin with and without accents, Cyrillic, Hangul), combining marks of several scripts (a third of
# the characters drawn: a mark left in place splits a word), spaces and punctuation.
_SIGNED_TEXT = st.lists(st.one_of(
    st.sampled_from([chr(code) for code in [*range(0x41, 0x5B), *range(0x61, 0x7B), *range(0xC0, 0x250),
                                            *range(0x400, 0x460), *range(0x1E00, 0x1F10), 0xAC00, 0xFB1D]]),
    st.sampled_from([chr(code) for code in [*range(0x300, 0x370), 0x0483, 0x0591, 0x05B0, 0x0610, 0x064B, 0x0E48,
                                            0x0F71, 0x093C, 0x1DC0, 0x20D0, 0x3099, 0xFE20]]),
    st.sampled_from([" ", " ", ".", "’", "-", "0", "\u00a0", "\u2000", "\ufeff"]),
), max_size=300).map("".join)


@settings(max_examples=300, deadline=None)
@given(_SIGNED_TEXT)
@example("ab\u05b0cd e\u0e48f Erdog\u0306an")
def test_a_text_s_words_are_its_words_without_any_combining_mark(text: str) -> None:
    # The definition: lower case, NFKD, every combining character dropped one by one, then the words.
    # The code removes each mark present in one pass; the words must be the same, or signatures drift.
    decomposed = unicodedata.normalize("NFKD", text.lower())
    assert _words(text) == _WORD.findall("".join(filterfalse(unicodedata.combining, decomposed)))


def test_accents_and_case_do_not_change_the_signature() -> None:
    folded = "le president turc recep tayyip erdogan a rencontre vladimir poutine a sotchi ; la treve d’idleb, " \
             "fragile, tient toujours selon l’elysee et ankara."
    assert signature(folded) == signature(TEXT)
    assert similarity(signature(TEXT), signature(TEXT.replace("Sotchi", "Moscou"))) < 1.0


def test_the_same_text_is_signed_once() -> None:
    signature.cache_clear()
    first = signature(TEXT)
    assert signature(TEXT) is first and signature.cache_info().hits == 1
    assert signature("trop court") == ""  # under eight words: nothing to compare


def test_similarities_of_many_signatures_are_each_pair_s_similarity() -> None:
    import random

    from ingest.fingerprint import similarities, similarity

    base = signature(TEXT)
    chunks = [base[i:i + 8] for i in range(0, len(base), 8)]
    rng = random.Random(7)
    others = []
    for share in (0.0, 0.1, 0.3, 0.5, 0.9, 1.0):
        changed = list(chunks)
        for position in rng.sample(range(len(chunks)), int(share * len(chunks))):
            changed[position] = f"{rng.getrandbits(32):08x}"
        others.append("".join(changed))
    others += ["", base[:-8]]  # no signature, another length: not comparable
    scores = similarities(base, others)
    assert scores == [similarity(base, other) for other in others]
    assert scores[0] == 1.0 and scores[-2:] == [0.0, 0.0]
    # the fraction of equal values, as a count over the signature's length
    assert [round(score * len(chunks)) for score in scores[:6]] == [
        sum(a == b for a, b in zip(chunks, [other[i:i + 8] for i in range(0, len(other), 8)])) for other in others[:6]]


def test_a_batch_answers_the_earliest_most_similar_of_its_signatures_from_the_threshold() -> None:
    """BatchSignatures.best chooses as index.dedup chooses among candidates pair by pair: the highest
    similarity from the threshold on, the earliest on a tie, nothing below it."""
    import random

    from ingest.fingerprint import THRESHOLD, BatchSignatures, similarity

    base = signature(TEXT)
    chunks = [base[i:i + 8] for i in range(0, len(base), 8)]
    rng = random.Random(11)

    def varied(count: int) -> str:
        changed = list(chunks)
        for position in rng.sample(range(len(chunks)), count):
            changed[position] = f"{rng.getrandbits(32):08x}"
        return "".join(changed)

    for trial in range(200):
        signatures = [varied(rng.choice([0, 5, 20, 25, 26, 30, 40, 64])) for _ in range(rng.randint(0, 12))]
        probe = varied(rng.choice([0, 10, 25, 40]))
        batch = BatchSignatures(len(signatures))
        for number, other in enumerate(signatures):
            batch.add(other, f"c{number}")
        expected, best_score = None, THRESHOLD
        for number, other in enumerate(signatures):  # index.dedup._best, pair by pair
            score = similarity(probe, other)
            if score >= best_score and (expected is None or score > best_score):
                expected, best_score = f"c{number}", score
        assert batch.best(probe, THRESHOLD) == expected, trial
