"""What the text primitives every article goes through cost, against their definitions, in one run.

    .venv/bin/python bench/text.py [--articles 1000] [--rounds 5] [--json]

Texts: ``--articles`` news-like articles of about 600 words, French and English (bench.common.articles,
``news``), title and text as the analysis and the write path read them. Each row times one primitive
over all the texts, best of ``--rounds``, in µs per article, beside its definition written plainly here
(the baseline, measured in the same run), and checks that both give the same output on every text:

- signature: the MinHash signature of the near-duplicate lookup, computed once for every article
  analysed (``ingest.fingerprint.signature``, its cache bypassed), against lower case, NFKD, combining marks dropped one character at a time, one
  ``int.from_bytes`` per shingle's digest;
- fold: case and accents folded (``ingest.clean.fold_key``: the folded search field, the topic rules'
  words), against ``str.translate`` with the same table;
- normalise: characters normalised (``ingest.clean.normalize_characters``'s table: every article's
  cleaning, every query), against ``str.translate`` with the same table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from itertools import filterfalse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.common import articles  # noqa: E402
from ingest import clean, fingerprint  # noqa: E402


def reference_signature(text: str) -> str:
    """``ingest.fingerprint.signature`` as defined: the words, their 3-shingles, each shingle's digest."""
    folded = unicodedata.normalize("NFKD", text.lower())
    words = fingerprint._WORD.findall("".join(filterfalse(unicodedata.combining, folded)))
    shingles = {" ".join(words[i:i + fingerprint.SHINGLE]) for i in range(len(words) - fingerprint.SHINGLE + 1)}
    values = [int.from_bytes(hashlib.blake2b(s.encode(), digest_size=4).digest(), "big") for s in shingles]
    hashes = np.fromiter(values, dtype=np.uint64, count=len(values))
    if hashes.size < 6:
        return ""
    permuted = (fingerprint._A[:, None] * hashes[None, :] + fingerprint._B[:, None]) % fingerprint._PRIME
    return "".join(f"{int(v):08x}" for v in permuted.min(axis=1))


def best_of(function: Callable[[str], str], texts: Sequence[str], rounds: int) -> tuple[float, list[str]]:
    """The best time over ``rounds`` of ``function`` on every text (seconds), and its outputs."""
    best, outputs = float("inf"), []
    for _ in range(rounds):
        started = time.perf_counter()
        outputs = [function(text) for text in texts]
        best = min(best, time.perf_counter() - started)
    return best, outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object too")
    args = parser.parse_args()
    texts = [f"{story.title}\n\n{story.text}" for _, story in articles(args.articles, news=True)]
    rows = [
        ("signature", fingerprint.signature.__wrapped__, reference_signature),
        ("fold", clean.fold_key, lambda text: text.lower().translate(clean._FOLD_TABLE)),
        ("normalise", clean._normalize, lambda text: text.translate(clean._CHARACTER_TABLE)),
    ]
    words = sum(len(text.split()) for text in texts) / len(texts)
    print(f"{len(texts)} articles of {words:.0f} words on average; best of {args.rounds} rounds\n")
    print("| primitive | Vigie (µs an article) | definition (µs an article) | Vigie ÷ definition | same output |")
    print("| --- | ---: | ---: | ---: | --- |")
    result = {}
    for name, shipped, reference in rows:
        seconds, got = best_of(shipped, texts, args.rounds)
        baseline, expected = best_of(reference, texts, args.rounds)
        same = got == expected
        result[name] = {"vigie_us": round(seconds / len(texts) * 1e6, 1),
                        "definition_us": round(baseline / len(texts) * 1e6, 1),
                        "ratio": round(seconds / baseline, 3), "same": same}
        print(f"| {name} | {result[name]['vigie_us']} | {result[name]['definition_us']} | "
              f"{result[name]['ratio']:.2f} | {'yes' if same else 'NO'} |")
    if args.json:
        print(json.dumps(result))
    if not all(row["same"] for row in result.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
