"""What finding persons by their role costs the analysis of an article in a language without a model.

    .venv/bin/python bench/title_persons.py [--rounds 5] [--json]

Texts: the German and Spanish articles of the topic corpus (tests/ingest/topics-corpus, dev and
held out), given as plain-text articles. The whole analysis (``Analyzer.analyze_many``, the shipped
configuration, what the worker runs) with ``ingest.title_persons`` and without it (its finder
replaced by one that finds nothing), alternated round by round in one process; each figure is the
best of ``--rounds``. Prints articles/s of both, their ratio, and the persons found.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from ingest import entities  # noqa: E402
from ingest.models import Article  # noqa: E402

CORPUS = ROOT / "tests" / "ingest" / "topics-corpus"


def articles() -> list[Article]:
    found = []
    for path in sorted(CORPUS.glob("*/*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data.get("language") in ("de", "es"):
            found.append(Article(article_id=path.stem, title=data["title"], body=data["text"], is_html=False,
                                 text_source="file"))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    from tests.ingest.analyzers import shipped_analyzer

    analyzer = shipped_analyzer()
    texts = articles()
    finder = entities.titled_persons
    analyzer.analyze_many(texts[:8])  # models, tables and the knowledge base loaded before timing
    best = {"with": float("inf"), "without": float("inf")}
    persons = 0
    for round_ in range(args.rounds):
        for name in (("with", "without") if round_ % 2 == 0 else ("without", "with")):
            entities.titled_persons = finder if name == "with" else (lambda text, language: [])
            began = time.perf_counter()
            analyses = list(analyzer.analyze_many(texts))
            best[name] = min(best[name], time.perf_counter() - began)
            if name == "with":
                persons = sum(entity.label == "PERSON" for analysis in analyses for entity in analysis.entities)
    entities.titled_persons = finder
    rates = {name: len(texts) / seconds for name, seconds in best.items()}
    result = {"articles": len(texts), "articles_per_second": {name: round(rate, 1) for name, rate in rates.items()},
              "ratio_with_to_without": round(rates["with"] / rates["without"], 3), "persons_with": persons}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{len(texts)} German and Spanish articles, best of {args.rounds} rounds each, alternated")
        print(f"with the persons by role: {rates['with']:.1f} articles/s ({persons} person entities)")
        print(f"without:                  {rates['without']:.1f} articles/s")
        print(f"ratio: {result['ratio_with_to_without']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
