"""Why an alert matched an article: the topics, the query terms and the entities found, and
highlighted passages of the text."""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Sequence

from index.alert_compile import ArticleView, CompiledRule, Keyword, Phrase, analysed_tokens
from index.search import LemmaVariants
from ingest.notification_records import Matched

_FRAGMENT = 160
_FRAGMENTS = 3
_STEM = 4


# -- why it matched ---------------------------------------------------------------------------------


def explain(compiled: CompiledRule, view: ArticleView, lemma_variants: LemmaVariants | None = None) -> Matched:
    """The alert's topics the article has, the query terms found, the entities named, and highlights."""
    rule = compiled.rule
    found = [(label, test) for label, test in compiled.terms if test(view)]  # each test run once
    terms = tuple(dict.fromkeys(label for label, _ in found))
    wanted = {topic.lower() for topic in rule.topics}
    wanted |= {label.lower() for label, test in compiled.terms if isinstance(test, Keyword) and test.kind == "topic"}
    topics = tuple(topic for topic in view.topics if topic.name in wanted)
    names: list[str] = [entity for entity, test in compiled.entity_tests if test(view)]
    labels = [label for label, test in found if isinstance(test, Phrase)]
    phrases = [phrase for phrase in (analysed_tokens(label.rstrip("*")) for label in labels) if phrase]
    if phrases:
        names.extend(text for text, tokens in view.entity_tokens() if any(_contains(tokens, phrase) for phrase in phrases))
    return Matched(topics=topics, terms=terms, entities=tuple(dict.fromkeys(names)),
                   highlights=highlights(view, labels, lemma_variants))


def _contains(tokens: Sequence[str], phrase: Sequence[str]) -> bool:
    size = len(phrase)
    return any(tuple(tokens[at : at + size]) == tuple(phrase) for at in range(len(tokens) - size + 1))


def highlights(view: ArticleView, labels: Sequence[str], lemma_variants: LemmaVariants | None) -> dict[str, list[str]]:
    """The title and up to three passages of the text with the matched words in ``<mark>``: the words
    themselves, the words a ``prefix*`` covers, and inflections of a word that matched by its lemma
    (recognised by the stem the word and its lemma share, "réfugi" for réfugiés/réfugier: the
    worker holds no lemma tables)."""
    if not labels:
        return {}
    exact: set[str] = set()
    prefixes: set[str] = set()
    for label in labels:
        if label.endswith("*"):
            tokens = analysed_tokens(label[:-1])
            prefixes.update(tokens[-1:])
            exact.update(tokens[:-1])
            continue
        tokens = analysed_tokens(label)
        exact.update(tokens)
        for variant in (lemma_variants(label) if lemma_variants is not None else ()):
            lemmas = analysed_tokens(variant)
            if len(lemmas) == len(tokens):
                for word, lemma in zip(tokens, lemmas):
                    stem = os.path.commonprefix([word, lemma])
                    if lemma != word and (len(stem) >= _STEM or stem == word):
                        prefixes.add(stem)

    starts = tuple(sorted(prefixes))
    key = (frozenset(exact), starts)
    if key not in view.highlighted:  # many alerts of one article mark the same words
        view.highlighted[key] = _passages(view, exact, starts)
    return {name: list(passages) for name, passages in view.highlighted[key].items()}


def _passages(view: ArticleView, exact: set[str], starts: tuple[str, ...]) -> dict[str, list[str]]:
    """The title and up to three passages of the text, with ``exact`` words and words beginning with one
    of ``starts`` marked."""
    def marks_in(name: str) -> list[tuple[int, int]]:
        where = view.spans(name)
        tokens = {token for token in exact if token in where}
        if starts:
            ordered = view.sorted_tokens(name)
            for start in starts:  # the article's words beginning with it sit together in sorted order
                at = bisect_left(ordered, start)
                while at < len(ordered) and ordered[at].startswith(start):
                    tokens.add(ordered[at])
                    at += 1
        return sorted(span for token in tokens for span in where[token])

    result: dict[str, list[str]] = {}
    title = view.field_text("title")
    title_marks = marks_in("title")
    if title_marks:
        result["title"] = [_marked(title, title_marks, 0, len(title))]
    text = view.field_text("text")
    marks = marks_in("text")
    fragments: list[str] = []
    covered = -1
    for start, end in marks:
        if start < covered or len(fragments) >= _FRAGMENTS:
            continue
        begin = max(0, text.rfind(" ", 0, max(0, start - _FRAGMENT // 2)) + 1)
        finish = text.find(" ", min(len(text), begin + _FRAGMENT))
        finish = len(text) if finish < 0 else finish
        fragments.append(_marked(text, [mark for mark in marks if begin <= mark[0] and mark[1] <= finish], begin, finish))
        covered = finish
    if fragments:
        result["text"] = fragments
    return result


def _marked(text: str, marks: Sequence[tuple[int, int]], begin: int, end: int) -> str:
    parts: list[str] = []
    at = begin
    for start, stop in marks:
        parts.append(text[at:start])
        parts.append(f"<mark>{text[start:stop]}</mark>")
        at = stop
    parts.append(text[at:end])
    return "".join(parts).strip()
