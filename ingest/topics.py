"""Topics from a rule file: weighted terms, required groups, exclusions and proximity, on lemmas.

The rule language is documented in docs/topics.md; the rules Vigie ships are in
``ingest/data/topics.rules``. In short, a topic fires when

- the weighted sum of its ``term`` and ``near`` lines reaches its ``threshold`` (each line counts each
  occurrence, at most ``cap`` times; an occurrence in the title counts twice),
- every ``all`` group has at least one of its alternatives in the article (an AND of ORs),
- no ``not`` group has any (an exclusion),
- and the article is in one of the topic's ``languages`` (where its lexicon exists).

Its score is ``1 - 0.5 ** (sum / threshold)``: 0.5 at the threshold, 0.75 at twice it, never 1.

Matching works on words as ingest.lemmas makes them: a rule word matches a text word when their
surface forms or their lemmas are equal once case and accents are folded ("réfugiés" matches the
rule word "réfugié"); ``migra*`` matches any word starting with "migra". Rule alternatives are
tokenised and lemmatised with the same tokenizer and tables as the article, per language, so
"cessez-le-feu" or "demandeur d'asile" split the way the text does.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.clean import fold_key
from ingest.lemmas import Lemmatizer, Word, word_lemmas
from ingest.models import TopicMatch
from ingest.topic_rules import TITLE_FACTOR, Alternative, NearLine, Topic, TopicRules

# One word of a compiled pattern: the folded keys it matches exactly, or a folded prefix.
_PatternWord = frozenset[str] | str


@dataclass(frozen=True, slots=True)
class _Pattern:
    words: tuple[_PatternWord, ...]


# A list of alternatives, compiled: its distinct patterns, each with the ways it is written.
# Alternatives that compile alike ("élection" and "election" once accents are folded) are one.
_CompiledList = tuple[tuple[_Pattern, tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True)
class _CompiledTopic:
    topic: Topic
    terms: tuple[tuple[float, _CompiledList], ...]
    nears: tuple[tuple[NearLine, _CompiledList, _CompiledList], ...]
    required: tuple[tuple[str, _CompiledList], ...]
    excluded: tuple[_CompiledList, ...]
    positive: frozenset[_Pattern]  # patterns that add to the score: none found, nothing to evaluate


class _LanguageMatcher:
    """The topics of one language, compiled, and every pattern indexed by its first word."""

    def __init__(self, topics: Sequence[Topic], lemmatizer: Lemmatizer, language: str) -> None:
        self._lemmatizer = lemmatizer
        self._language = language
        self._patterns: dict[str, _Pattern] = {}
        self._by_first_key: dict[str, list[_Pattern]] = {}
        self._by_prefix: dict[int, dict[str, list[_Pattern]]] = {}
        self.topics = tuple(self._compile_topic(topic) for topic in topics)

    def _compile_topic(self, topic: Topic) -> _CompiledTopic:
        terms = tuple((term.weight, self._compile_list(term.alternatives)) for term in topic.terms)
        nears = tuple((near, self._compile_list(near.left), self._compile_list(near.right)) for near in topic.nears)
        positive = {pattern for weight, compiled in terms if weight > 0 for pattern, _ in compiled}
        positive |= {pattern for near, left, _ in nears if near.weight > 0 for pattern, _ in left}
        return _CompiledTopic(
            topic=topic,
            terms=terms,
            nears=nears,
            required=tuple((group.name, self._compile_list(group.alternatives)) for group in topic.required),
            excluded=tuple(self._compile_list(group.alternatives) for group in topic.excluded),
            positive=frozenset(positive),
        )

    def _compile_list(self, alternatives: Sequence[Alternative]) -> _CompiledList:
        spellings: dict[_Pattern, list[str]] = {}
        for alternative in alternatives:
            spellings.setdefault(self._pattern(alternative.text), []).append(alternative.text)
        return tuple((pattern, tuple(texts)) for pattern, texts in spellings.items())

    def _pattern(self, text: str) -> _Pattern:
        if text in self._patterns:
            return self._patterns[text]
        tokenizer = self._lemmatizer.tokenizer(self._language)
        table = self._lemmatizer.table(self._language)
        words: list[_PatternWord] = []
        for chunk in text.split():
            if chunk.endswith("*"):
                words.append(fold_key(chunk[:-1]))
                continue
            for token in tokenizer(chunk):
                for surface, lemma in word_lemmas(token.text, table):
                    words.append(frozenset({fold_key(surface), fold_key(lemma)}))
        pattern = self._patterns[text] = _Pattern(tuple(words))
        first = pattern.words[0]
        if isinstance(first, str):
            self._by_prefix.setdefault(len(first), {}).setdefault(first, []).append(pattern)
        else:
            for key in first:
                self._by_first_key.setdefault(key, []).append(pattern)
        return pattern

    def occurrences(self, keys: Sequence[tuple[str, str]]) -> dict[_Pattern, list[int]]:
        """Start positions of every pattern in a text given as (surface, lemma) folded keys."""
        found: dict[_Pattern, list[int]] = {}
        prefix_lengths = sorted(self._by_prefix)
        for at, (surface, lemma) in enumerate(keys):
            candidates = list(self._by_first_key.get(surface, ()))
            if lemma != surface:
                candidates.extend(self._by_first_key.get(lemma, ()))
            for length in prefix_lengths:
                if len(surface) < length and len(lemma) < length:
                    break
                table = self._by_prefix[length]
                candidates.extend(table.get(surface[:length], ()))
                if lemma[:length] != surface[:length]:
                    candidates.extend(table.get(lemma[:length], ()))
            for pattern in dict.fromkeys(candidates):  # a pattern found by surface and lemma counts once
                if _matches_at(pattern, keys, at):
                    found.setdefault(pattern, []).append(at)
        return found


def _matches_at(pattern: _Pattern, keys: Sequence[tuple[str, str]], at: int) -> bool:
    if at + len(pattern.words) > len(keys):
        return False
    for offset, word in enumerate(pattern.words):
        surface, lemma = keys[at + offset]
        if isinstance(word, str):
            if not (surface.startswith(word) or lemma.startswith(word)):
                return False
        elif surface not in word and lemma not in word:
            return False
    return True


class TopicClassifier:
    """Applies a rule set to articles; compiles the rules once per language, on first use."""

    def __init__(self, rules: TopicRules, lemmatizer: Lemmatizer) -> None:
        self.rules = rules
        self._lemmatizer = lemmatizer
        self._matchers: dict[str, _LanguageMatcher | None] = {}

    def has_lexicon(self, language: str) -> bool:
        return language in self.rules.languages

    def topics(self, words: Sequence[Word], title_words: int, language: str) -> list[TopicMatch]:
        """The topics an article is about, best first.

        ``words``: the article's (surface, lemma) words, title first; ``title_words``: how many of
        them are the title's (they count twice).
        """
        matcher = self._matcher(language)
        if matcher is None or not words:
            return []
        keys = [(fold_key(surface), fold_key(lemma)) for surface, lemma in words]
        found = matcher.occurrences(keys)
        surfaces = [surface for surface, _ in words]
        matches = [
            match
            for compiled in matcher.topics
            if not compiled.positive.isdisjoint(found)
            and (match := _evaluate(compiled, found, title_words, surfaces)) is not None
        ]
        return sorted(matches, key=lambda match: (-match.score, match.name))

    def _matcher(self, language: str) -> _LanguageMatcher | None:
        if language not in self._matchers:
            topics = [topic for topic in self.rules.topics if language in topic.languages]
            self._matchers[language] = _LanguageMatcher(topics, self._lemmatizer, language) if topics else None
        return self._matchers[language]


_Hits = list[tuple[_Pattern, tuple[str, ...]]]


def _evaluate(compiled: _CompiledTopic, found: dict[_Pattern, list[int]], title_words: int,
              surfaces: Sequence[str]) -> TopicMatch | None:
    topic = compiled.topic

    def hits(patterns: _CompiledList) -> _Hits:
        return [(pattern, spellings) for pattern, spellings in patterns if pattern in found]

    # A word matched by two alternatives of one list ("migrants": "migrant", and "migrante" whose
    # French lemma is "migrant") is one occurrence.
    def positions(present: _Hits) -> list[int]:
        return sorted({at for pattern, _ in present for at in found[pattern]})

    def shown(present: _Hits) -> list[str]:
        """The alternatives that found words no earlier one found, spelt like the article if possible."""
        covered: set[int] = set()
        texts = []
        for pattern, spellings in present:
            new = set(found[pattern]) - covered
            if new:
                texts.append(_spelling(spellings, surfaces[found[pattern][0]]))
                covered |= new
        return texts

    if any(hits(excluded) for excluded in compiled.excluded):
        return None
    group_evidence = []
    for name, required in compiled.required:
        present = hits(required)
        if not present:
            return None
        group_evidence.append(f"{name}: {', '.join(shown(present))}")

    total = 0.0
    contributions: list[tuple[float, str]] = []
    for weight, patterns in compiled.terms:
        present = hits(patterns)
        if not present:
            continue
        at = positions(present)
        in_title = bisect_left(at, title_words)
        count = min(topic.cap, in_title * TITLE_FACTOR + len(at) - in_title)
        total += weight * count
        if weight > 0:
            contributions.extend((weight * count, text) for text in shown(present))
    for near, left_patterns, right_patterns in compiled.nears:
        left, right = hits(left_patterns), hits(right_patterns)
        if not left or not right:
            continue
        right_at = positions(right)
        count = min(topic.cap, sum(1 for at in positions(left) if _has_neighbour(right_at, at, near.window)))
        if count:
            total += near.weight * count
            if near.weight > 0:
                contributions.append((near.weight * count, f"{' | '.join(shown(left))} ~ {' | '.join(shown(right))}"))
    if total < topic.threshold:
        return None
    score = round(1.0 - 0.5 ** (total / topic.threshold), 3)
    # Terms as written, strongest first, then the groups that were required.
    evidence = [text for _, text in sorted(contributions, key=lambda item: -item[0])]
    return TopicMatch(name=topic.name, score=score, evidence=tuple(dict.fromkeys(evidence + group_evidence)))


def _spelling(spellings: tuple[str, ...], surface: str) -> str:
    """The spelling of an alternative whose first word is the article's word, else the first one."""
    for text in spellings:
        if re.split(r"[\s'-]", text.lower(), maxsplit=1)[0] == surface:
            return text
    return spellings[0]


def _has_neighbour(positions: list[int], at: int, window: int) -> bool:
    """Whether a sorted position list has one within ``window`` words of ``at`` (not ``at`` itself)."""
    start = bisect_left(positions, at - window)
    return any(other != at for other in positions[start: bisect_left(positions, at + window + 1)])
