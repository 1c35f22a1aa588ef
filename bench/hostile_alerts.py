"""The cost of matching alerts against a hostile article: long, repetitive, made of the alerts' words.

    .venv/bin/python bench/hostile_alerts.py [--repeat 5]

No service needed: the compiled matcher (``index.alert_match.AlertMatcher``, what the worker runs) on
one article document (``index.store.article_document``) of 200,000 characters. The rules: the
issue's alert (64 times the phrase "a b", 572 characters, over the bound and built here without
validation) and the largest alerts the bounds allow (``VIGIE_ALERT_MAX_QUERY_TERMS`` phrases of
common words, none present). Prints Markdown for docs/performance.md; each figure is the median of
``--repeat`` runs, the article view (tokenising the article) measured apart.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conf.limits import AlertLimits  # noqa: E402
from index.alert_compile import ArticleView  # noqa: E402
from index.alert_match import AlertMatcher  # noqa: E402
from index.alerts import new_rule, validate_rule  # noqa: E402
from index.article_document import ArticleDocument, article_document  # noqa: E402
from tests.index.factories import analysed  # noqa: E402

CHARS = 200_000


def articles() -> dict[str, str]:
    return {"a a a …": ("a " * (CHARS // 2))[:CHARS], "a b a b …": ("a b " * (CHARS // 4))[:CHARS]}


def rules() -> dict[str, object]:
    terms = AlertLimits().max_query_terms
    issue = new_rule("issue", query=" OR ".join(['"a b"'] * 64))  # as stored before the bounds
    common = validate_rule(new_rule("pairs", query=" OR ".join(f'"a {chr(99 + n % 20)}{n}"' for n in range(terms))), None)
    repeats = validate_rule(new_rule("repeats", query=" OR ".join(['"b a a b"', '"a a b"'] * (terms // 2))), None)
    return {"the issue's alert (64 × \"a b\")": issue, f"{terms} phrases \"a <absent>\"": common,
            f"{terms} phrases of pairs never adjacent": repeats}


def median_seconds(action, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {platform.machine()}, median of {args.repeat} runs\n")
    print("| article (200,000 characters) | alert | view (s) | view + match (s) | matched |")
    print("| --- | --- | ---: | ---: | --- |")
    for name, text in articles().items():
        document = _document(text)
        view_seconds = median_seconds(lambda: ArticleView(document), args.repeat)
        for label, rule in rules().items():
            matcher = AlertMatcher.build([rule], None)  # type: ignore[list-item]
            found: list[object] = []
            seconds = median_seconds(lambda: found.append(matcher.match([document])), args.repeat)
            print(f"| {name} | {label} | {view_seconds:.3f} | {seconds:.3f} | {'yes' if found[-1] else 'no'} |")


def _document(text: str) -> ArticleDocument:
    return article_document(analysed("hostile00000000", title="a", text=text, lemmas=text),
                            datetime.now(timezone.utc), "hostile00000000")


if __name__ == "__main__":
    main()
