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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache

from ingest.clean import fold_key
from ingest.lemmas import Lemmatizer, Word, word_lemmas
from ingest.models import TopicMatch
from ingest.topic_model import (TopicModel, asks_about_every_article, features, features_of_folded, given_by_model,
                                 kin_of_topic, step_features, unlikeness)
from ingest.topic_rules import TITLE_FACTOR, Alternative, NearLine, Topic, TopicRules, Vocabulary

#: Languages that write compounds as one word, where rule words also match the end of a compound.
COMPOUND_LANGUAGES = frozenset({"de"})
_CANDIDATES_CACHE_SIZE = 200_000
# Each (surface, lemma) word met, folded (case, accents): texts repeat their words, and the lemmatiser
# hands out the same tuples, so a word is one dictionary look-up. Cleared past this size: a
# long-running worker meets new words forever.
_word_keys: dict[Word, tuple[str, str]] = {}
_WORD_KEYS_SIZE = 100_000
_MIN_COMPOUND_HEAD = 3  # letters before the rule word: "Landtags|wahl", never "s|wahl"
_MIN_COMPOUND_TAIL = 4  # the rule word is at least this long: "Krieg" yes, "Rat" no
_COMPOUND_ENDINGS = ("", "e", "en", "n", "s", "es", "er", "ern")

# One word of a compiled pattern: the folded keys it matches exactly, or a folded prefix.
_PatternWord = frozenset[str] | str


# What a word can start, cached per (surface, lemma): the one-word patterns, the longer ones by the keys
# of their second word, and the longer ones whose second word is a prefix.
_Candidates = tuple[tuple["_Pattern", ...], dict[str, tuple["_Pattern", ...]], tuple["_Pattern", ...]]


# Compared by identity (hashing a tuple of frozensets at every lookup is the matcher's main cost):
# the matcher interns patterns, so alternatives that compile alike share one object.
@dataclass(frozen=True, slots=True, eq=False)
class _Pattern:
    words: tuple[_PatternWord, ...]


# A list of alternatives, compiled: its distinct patterns, each with the ways it is written.
# Alternatives that compile alike ("élection" and "election" once accents are folded) are one.
class _CompiledList(tuple[tuple[_Pattern, tuple[str, ...]], ...]):
    """The (pattern, spellings) pairs of a list, with the set of its patterns: most lists find nothing
    in an article, and one set test says so without walking the list."""

    patterns: frozenset[_Pattern]
    order: dict[_Pattern, int]

    def __new__(cls, items: Sequence[tuple[_Pattern, tuple[str, ...]]]) -> _CompiledList:
        compiled = super().__new__(cls, items)
        compiled.patterns = frozenset(pattern for pattern, _ in items)
        compiled.order = {pattern: at for at, (pattern, _) in enumerate(items)}
        return compiled

    def found_in(self, found: dict[_Pattern, list[int]]) -> frozenset[_Pattern] | set[_Pattern]:
        """The list's patterns found in an article, in no order (what the numbers need): a set
        intersection that walks the smaller side, the article's found patterns or the list's."""
        patterns = self.patterns
        return patterns.intersection(found) if len(found) < len(patterns) else found.keys() & patterns

    def in_order(self, present: Iterable[_Pattern]) -> list[tuple[_Pattern, tuple[str, ...]]]:
        """The (pattern, spellings) pairs of ``present`` (patterns of this list), in the list's order:
        the words shown."""
        order = self.order
        return [self[at] for at in sorted(order[pattern] for pattern in present)]


@dataclass(frozen=True, slots=True)
class _CompiledTopic:
    topic: Topic
    terms: tuple[tuple[float, _CompiledList], ...]
    nears: tuple[tuple[NearLine, _CompiledList, _CompiledList], ...]
    required: tuple[tuple[str, _CompiledList], ...]
    excluded: tuple[_CompiledList, ...]
    positive: frozenset[_Pattern]  # patterns that add to the score: none found, nothing to evaluate
    required_sets: tuple[frozenset[_Pattern], ...] = ()  # each "all" group's patterns: one must be found
    veto_set: frozenset[_Pattern] = frozenset()  # the "not!" groups' patterns: none may be found
    # Each pattern of the term lines and the not groups, with the lists it is in: their places in
    # ``terms``, then those in ``excluded`` after them (``len(terms)`` the first). An article's few
    # found patterns name the lists worth weighing.
    lines: dict[_Pattern, tuple[int, ...]] = field(default_factory=dict)

    def may_fire(self, found: dict[_Pattern, list[int]]) -> bool:
        """The cheap part of the verdict: a positive word, every required group, no veto."""
        return (not self.positive.isdisjoint(found) and self.veto_set.isdisjoint(found)
                and all(not group.isdisjoint(found) for group in self.required_sets))


class _LanguageMatcher:
    """The topics of one language, compiled, and every pattern indexed by its first word."""

    def __init__(self, topics: Sequence[Topic], lemmatizer: Lemmatizer, language: str,
                 not_compound: Sequence[Alternative] = (), vocabulary: Sequence[Topic] = ()) -> None:
        self._lemmatizer = lemmatizer
        self._language = language
        self._patterns: dict[str, _Pattern] = {}
        self._interned: dict[tuple[_PatternWord, ...], _Pattern] = {}
        self._by_first_key: dict[str, list[_Pattern]] = {}
        self._by_prefix: dict[int, dict[str, list[_Pattern]]] = {}
        # German writes compounds as one word ("Landtagswahl"): there, a one-word rule term also
        # matches the end of a longer word. Keyed by the term's folded forms and their inflections.
        self._by_suffix: dict[str, list[_Pattern]] = {}
        self._compounds = language in COMPOUND_LANGUAGES
        # Words a compound may end with that are not the shorter rule word they end with ("Mitglied"
        # ends with "Lied"): where one ends a word, no rule word inside it is the compound's end.
        self._not_compound: frozenset[str] = frozenset(
            key + ending for alternative in not_compound if self._compounds
            for key in self._word_keys(alternative.text) for ending in _COMPOUND_ENDINGS)
        self.topics = tuple(self._compile_topic(topic) for topic in topics)
        self._by_name = {compiled.topic.name: compiled for compiled in self.topics}
        # Each pattern that adds to a topic, with the topics it adds to (their places in ``topics``): an
        # article's found patterns name the few topics worth weighing, the others are not looked at.
        by_positive: dict[_Pattern, list[int]] = {}
        for at, compiled in enumerate(self.topics):
            for pattern in compiled.positive:
                by_positive.setdefault(pattern, []).append(at)
        self._topics_by_positive = {pattern: tuple(ats) for pattern, ats in by_positive.items()}
        # The per-subject vocabulary, compiled with the rules: one pass over the words finds both.
        self.vocabulary = tuple(self._compile_topic(topic) for topic in vocabulary)
        # Every vocabulary pattern with the (block, line) lists it is in and the line's signed weight:
        # one pass over an article's found patterns sums all 17 subjects at once.
        # The blocks whose evidence cannot be summed line by line (a near line, a strong term): weighed
        # the long way (``_vocabulary_evidence``).
        self.vocabulary_long_way = tuple(bool(compiled.nears) or any(term.strong for term in compiled.topic.terms)
                                         for compiled in self.vocabulary)
        self.vocabulary_lines: dict[_Pattern, list[tuple[int, int]]] = {}
        self.vocabulary_weights: list[list[float]] = []
        for block, compiled in enumerate(self.vocabulary):
            lists = [(weight, patterns) for weight, patterns in compiled.terms]
            lists += [(-(group.weight or 0.0), patterns) for group, patterns
                      in zip(compiled.topic.excluded, compiled.excluded) if group.weight is not None]
            self.vocabulary_weights.append([weight for weight, _ in lists])
            for line, (_, patterns) in enumerate(lists):
                for pattern in patterns.patterns:
                    self.vocabulary_lines.setdefault(pattern, []).append((block, line))
        self._prefix_lengths = sorted(self._by_prefix)
        # What each distinct (surface, lemma) word can start: texts repeat their words.
        self._candidates_cache: dict[tuple[str, str], _Candidates] = {}

    def rule_topic(self, name: str) -> _CompiledTopic | None:
        return self._by_name.get(name)

    def topics_that_may_fire(self, found: dict[_Pattern, list[int]]) -> list[_CompiledTopic]:
        """The topics an article's found patterns may fire (``_CompiledTopic.may_fire``), in their order."""
        by_positive = self._topics_by_positive
        places: set[int] = set()
        for pattern in found:
            ats = by_positive.get(pattern)
            if ats is not None:
                places.update(ats)
        topics = self.topics
        return [compiled for at in sorted(places) if (compiled := topics[at]).may_fire(found)]

    def _compile_topic(self, topic: Topic) -> _CompiledTopic:
        terms = tuple((term.weight, self._compile_list(term.alternatives)) for term in topic.terms)
        nears = tuple((near, self._compile_list(near.left), self._compile_list(near.right)) for near in topic.nears)
        required = tuple((group.name, self._compile_list(group.alternatives)) for group in topic.required)
        excluded = tuple(self._compile_list(group.alternatives) for group in topic.excluded)
        positive = {pattern for weight, compiled in terms if weight > 0 for pattern, _ in compiled}
        positive |= {pattern for near, left, _ in nears if near.weight > 0 for pattern, _ in left}
        return _CompiledTopic(
            topic=topic,
            terms=terms,
            nears=nears,
            required=required,
            excluded=excluded,
            positive=frozenset(positive),
            required_sets=tuple(patterns.patterns for _, patterns in required),
            veto_set=frozenset(pattern for group, patterns in zip(topic.excluded, excluded, strict=True)
                               if group.weight is None for pattern in patterns.patterns),
            lines=_lines_of([*(patterns for _, patterns in terms), *excluded]),
        )

    def _word_keys(self, text: str) -> frozenset[str]:
        """The folded keys of a one-word rule term: its form and its lemma."""
        table = self._lemmatizer.table(self._language)
        return frozenset(key for surface, lemma in word_lemmas(text, table)
                         for key in _rule_word_keys(fold_key(surface), fold_key(lemma)))

    def _compile_list(self, alternatives: Sequence[Alternative]) -> _CompiledList:
        spellings: dict[_Pattern, list[str]] = {}
        for alternative in alternatives:
            spellings.setdefault(self._pattern(alternative.text), []).append(alternative.text)
        return _CompiledList([(pattern, tuple(texts)) for pattern, texts in spellings.items()])

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
                    words.append(_rule_word_keys(fold_key(surface), fold_key(lemma)))
        key = tuple(words)
        pattern = self._interned.get(key)
        if pattern is not None:
            self._patterns[text] = pattern
            return pattern
        pattern = self._patterns[text] = self._interned[key] = _Pattern(key)
        first = pattern.words[0]
        # Compounds: German nouns, which the rules write capitalised ("Wahl", "Markt"); an English
        # "war" or "union" in the same list must not match inside German words.
        if self._compounds and len(words) == 1 and not isinstance(first, str) and text[:1].isupper():
            for key in first:
                if len(key) >= _MIN_COMPOUND_TAIL:
                    for ending in _COMPOUND_ENDINGS:
                        self._by_suffix.setdefault(key + ending, []).append(pattern)
        if isinstance(first, str):
            self._by_prefix.setdefault(len(first), {}).setdefault(first, []).append(pattern)
        else:
            for key in first:
                self._by_first_key.setdefault(key, []).append(pattern)
        return pattern

    def occurrences(self, keys: Sequence[tuple[str, str]]) -> dict[_Pattern, list[int]]:
        """Start positions of every pattern in a text given as (surface, lemma) folded keys."""
        found: dict[_Pattern, list[int]] = {}
        cache = self._candidates_cache
        if len(cache) > _CANDIDATES_CACHE_SIZE:  # a long-running worker meets new words forever
            cache.clear()
        last = len(keys) - 1
        for at, word in enumerate(keys):
            candidates = cache.get(word)
            if candidates is None:
                candidates = cache[word] = self._candidates(*word)
            single, by_second, other = candidates
            for pattern in single:
                found.setdefault(pattern, []).append(at)
            if by_second and at < last:
                surface, lemma = keys[at + 1]
                longer = by_second.get(surface, ())
                if lemma != surface and lemma in by_second:
                    longer = tuple(dict.fromkeys((*longer, *by_second[lemma])))
                for pattern in longer:
                    if len(pattern.words) == 2 or _matches_at(pattern, keys, at):
                        found.setdefault(pattern, []).append(at)
            for pattern in other:
                if _matches_at(pattern, keys, at):
                    found.setdefault(pattern, []).append(at)
        return found

    def _candidates(self, surface: str, lemma: str) -> _Candidates:
        """The patterns a word can start: one-word ones (matched already); longer ones whose second word
        is a key, by that key (most longer patterns start with "the", "la" or "a" and are ruled out by
        the next word, one lookup); and longer ones whose second word is a prefix, checked in full."""
        candidates = list(self._by_first_key.get(surface, ()))
        if lemma != surface:
            candidates.extend(self._by_first_key.get(lemma, ()))
        for length in self._prefix_lengths:
            if len(surface) < length and len(lemma) < length:
                break
            table = self._by_prefix[length]
            candidates.extend(table.get(surface[:length], ()))
            if lemma[:length] != surface[:length]:
                candidates.extend(table.get(lemma[:length], ()))
        if self._by_suffix:
            candidates.extend(self._compound_tails(surface, lemma))
        # a pattern found by surface and lemma counts once
        unique = list(dict.fromkeys(candidates))
        single = tuple(pattern for pattern in unique if len(pattern.words) == 1)
        by_second: dict[str, list[_Pattern]] = {}
        other = []
        for pattern in unique:
            if len(pattern.words) == 1:
                continue
            second = pattern.words[1]
            if isinstance(second, str):
                other.append(pattern)
                continue
            for key in second:
                by_second.setdefault(key, []).append(pattern)
        return single, {key: tuple(patterns) for key, patterns in by_second.items()}, tuple(other)

    def _compound_tails(self, surface: str, lemma: str) -> list[_Pattern]:
        """One-word patterns that end a compound: "wahl" in "landtagswahl", "wahlen" in "bundestagswahlen".

        The longest rule word that ends the word is its last part ("Strom|preise", not "Stromp|reise"),
        and none is when a listed not-compound word ends it first ("Mit|glieder" has no "Lied").
        """
        tails: list[_Pattern] = []
        for key in {surface, lemma}:
            for start in range(len(key) - _MIN_COMPOUND_TAIL + 1):
                found = self._by_suffix.get(key[start:]) if start >= _MIN_COMPOUND_HEAD else None
                if found:  # a rule word that is also listed ("Wahlkampf") still ends its compounds
                    tails.extend(found)
                    break
                if key[start:] in self._not_compound:
                    break
        return tails


def _lines_of(lists: Sequence[_CompiledList]) -> dict[_Pattern, tuple[int, ...]]:
    """Each pattern of these lists with the places of the lists it is in, in order."""
    lines: dict[_Pattern, list[int]] = {}
    for at, patterns in enumerate(lists):
        for pattern in patterns.patterns:
            lines.setdefault(pattern, []).append(at)
    return {pattern: tuple(ats) for pattern, ats in lines.items()}


def _lines_found(lines: dict[_Pattern, tuple[int, ...]], found: dict[_Pattern, list[int]]) -> dict[int, list[_Pattern]]:
    """The lines (places in their list) some pattern of which is found, with those patterns."""
    present: dict[int, list[_Pattern]] = {}
    get = lines.get
    for pattern in found:
        ats = get(pattern)
        if ats is not None:
            for at in ats:
                if at in present:
                    present[at].append(pattern)
                else:
                    present[at] = [pattern]
    return present


def _rule_word_keys(surface: str, lemma: str) -> frozenset[str]:
    """The keys a rule word matches: its form, and its lemma when that is the same word inflected.

    Rule words are dictionary forms; when another language's table maps one to a different word
    (English "war" is German "sein"'s past, "été" is "être"'s), the lemma would match that word's
    every form, so it is dropped.
    """
    stem = min(3, len(surface))
    return frozenset({surface, lemma}) if lemma[:stem] == surface[:stem] else frozenset({surface})


def _keys(words: Sequence[Word]) -> list[tuple[str, str]]:
    """An article's (surface, lemma) words, case and accents folded, as the patterns are."""
    known = _word_keys
    if len(known) > _WORD_KEYS_SIZE:
        known.clear()
    get = known.get
    keys = []
    for word in words:
        key = get(word)
        if key is None:
            surface, lemma = word
            folded = fold_key(surface)
            folded = surface if folded == surface else folded  # one string kept, not two equal ones
            key = known[word] = (folded, folded if lemma == surface else fold_key(lemma))
        keys.append(key)
    return keys


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

    def __init__(self, rules: TopicRules, lemmatizer: Lemmatizer, model: TopicModel | None = None) -> None:
        self.rules = rules
        self._lemmatizer = lemmatizer
        self.model = model  # the learned second opinion (ingest.topic_model.TopicModel.judged)
        self._matchers: dict[str, _LanguageMatcher | None] = {}

    def has_lexicon(self, language: str) -> bool:
        return language in self.rules.languages

    def preload(self, languages: Iterable[str]) -> None:
        """Compile the rules of ``languages`` (those they cover) now rather than on first use: a
        worker's parent does it once before its pool forks, instead of each pool process."""
        for language in sorted(set(languages) & set(self.rules.languages)):
            self._matcher(language)

    def topics(self, words: Sequence[Word], title_words: int, language: str,
               with_model: bool = True) -> list[TopicMatch]:
        """The topics an article is about, best first.

        ``words``: the article's (surface, lemma) words, title first; ``title_words``: how many of
        them are the title's (they count twice); ``with_model``: False for the rules' topics alone.
        """
        matcher = self._matcher(language)
        if matcher is None or not words:
            return []
        keys = _keys(words)
        found = matcher.occurrences(keys)
        surfaces = [surface for surface, _ in words]
        # Weighed once for the verdicts and for the model's features: each subject's vocabulary
        # evidence, and the totals of the topics weighed.
        evidence = _vocabulary_evidence(matcher, found, title_words, surfaces) if matcher.vocabulary else []
        totals: dict[str, float] = {}
        verdicts = self._verdicts(matcher, found, title_words, surfaces, totals, evidence)
        matches = [match for compiled, explanation in verdicts
                   if (match := _evaluate(compiled, found, title_words, surfaces, explanation)) is not None]
        model = self.model if with_model else None
        if model is not None and self._model_may_change(model, matches):
            found_features = self._model_features(matcher, keys, found, title_words, surfaces, totals, evidence,
                                                  exact=False)
            opinion, probabilities = model.judge(found_features, shown=False)
            topics = model.judged(matches, opinion, probabilities, self.rules)
            if any(given_by_model(topic) for topic in topics):  # its evidence: the words that weighed most
                opinion, _ = model.judge(found_features)
                topics = model.judged(matches, opinion, probabilities, self.rules)
            return topics
        return sorted(matches, key=lambda match: (-match.score, match.name))

    @staticmethod
    def _model_may_change(model: TopicModel, matches: Sequence[TopicMatch]) -> bool:
        """Whether the model's opinion can change these rule topics (ingest.topic_model.with_model_opinion):
        it is not asked otherwise, and costs nothing."""
        if not matches or asks_about_every_article(model.beside, model.replace):
            return True
        if model.specific_veto is not None and any(match.parent is not None for match in matches):
            return True
        return model.veto > 0.0 and len({match.parent or match.name for match in matches}) >= 2

    def model_features(self, words: Sequence[Word], title_words: int, language: str) -> frozenset[str]:
        """What the topic model reads of an article (ingest.topic_model.features): what it is trained on."""
        matcher = self._matcher(language)
        if matcher is None or not words:
            return features(words)
        keys = _keys(words)
        return frozenset(self._model_features(matcher, keys, matcher.occurrences(keys), title_words,
                                              [surface for surface, _ in words]))

    @staticmethod
    def _model_features(matcher: _LanguageMatcher, keys: Sequence[tuple[str, str]], found: dict[_Pattern, list[int]],
                        title_words: int, surfaces: Sequence[str], totals: dict[str, float] | None = None,
                        evidence: list[tuple[float, bool]] | None = None, exact: bool = True) -> Iterable[str]:
        """``keys``: the article's words folded (``_keys``). ``totals``, ``evidence``: what the verdicts
        weighed of it (``topics``), else weighed here the same way: the rules' part is read from the
        topics that may fire (``_CompiledTopic.may_fire``), the ones the verdicts weigh. ``exact`` False:
        every folded lemma, short or not a word ones too (a model knows none of those: it reads the same),
        repeated ones too (it reads each once), without the cost of leaving them out or of a set."""
        if evidence is None:
            evidence = _vocabulary_evidence(matcher, found, title_words, surfaces) if matcher.vocabulary else []
        vocabulary = {compiled.topic.name: score for (score, _), compiled in zip(evidence, matcher.vocabulary)}
        if totals is None:
            totals = {compiled.topic.name: _explain(compiled, found, title_words, surfaces, with_texts=False).total
                      for compiled in matcher.topics_that_may_fire(found)}
        rules: dict[str, float] = {}
        for compiled in matcher.topics:
            total = totals.get(compiled.topic.name)
            if total is None:
                continue
            subject = compiled.topic.parent or compiled.topic.name
            rules[subject] = max(rules.get(subject, 0.0), max(total, 0.0) / compiled.topic.threshold)
        lemmas = [lemma for _, lemma in keys]
        if exact:
            return features_of_folded(lemmas, vocabulary, rules)
        return (*step_features(vocabulary, rules), *lemmas)

    def _verdicts(self, matcher: _LanguageMatcher, found: dict[_Pattern, list[int]], title_words: int,
                  surfaces: Sequence[str], totals: dict[str, float] | None = None,
                  evidence: list[tuple[float, bool]] | None = None) -> list[tuple[_CompiledTopic, TopicExplanation]]:
        """The topics that fire (by their rules, then through the vocabulary layer), with their verdicts.
        ``totals``: filled with the total of every topic weighed, by name; ``evidence``: the vocabulary's,
        if already weighed."""
        fired = []
        for compiled in matcher.topics_that_may_fire(found):
            explanation = _explain(compiled, found, title_words, surfaces, with_texts=None)
            if totals is not None:
                totals[compiled.topic.name] = explanation.total
            if explanation.fired:
                fired.append((compiled, explanation))
        if matcher.vocabulary:
            fired = self._with_vocabulary(matcher, fired, found, title_words, surfaces, evidence)
        return fired

    def _with_vocabulary(self, matcher: _LanguageMatcher, fired: list[tuple[_CompiledTopic, TopicExplanation]],
                         found: dict[_Pattern, list[int]], title_words: int, surfaces: Sequence[str],
                         evidence: list[tuple[float, bool]] | None = None,
                         ) -> list[tuple[_CompiledTopic, TopicExplanation]]:
        """The rules' verdicts, completed by the per-subject vocabulary (docs/topics.md, "The vocabulary
        layer"): with no top-level subject from the rules, the subject whose vocabulary leads the others
        clearly is given; and a subject the vocabulary shows as clearly primary takes the place of a
        weaker one the rules gave on little evidence."""
        vocabulary = self.rules.vocabulary
        assert vocabulary is not None
        verdict = _leading_subject(vocabulary, matcher, found, title_words, surfaces, evidence)
        if verdict is None:
            return fired
        best, best_compiled, evidence = verdict
        given = {compiled.topic.parent or compiled.topic.name for compiled, _ in fired}
        primary = matcher.rule_topic(best_compiled.topic.name)
        if best_compiled.topic.name in given or primary is None:
            return fired
        if given:
            if not vocabulary.primary or best < vocabulary.primary:
                return fired
            # The tie-break: the leading subject, which the rules missed, is the primary one; a subject
            # the rules gave stays beside it only with enough evidence of its own, in the vocabulary
            # (``keep`` times the primary's) or in its rules (``keep_rules`` times their threshold).
            fired = [(compiled, explanation) for compiled, explanation in fired
                     if evidence.get(compiled.topic.parent or compiled.topic.name, 0.0) >= vocabulary.keep * best
                     or explanation.total >= vocabulary.keep_rules * compiled.topic.threshold]
        total = best * primary.topic.threshold
        words = _explain(best_compiled, found, title_words, surfaces)  # the words, for the subject given only
        return [*fired, (primary, _vocabulary_verdict(primary.topic, words, total))]

    def vocabulary_subject(self, words: Sequence[Word], title_words: int, language: str) -> str | None:
        """The top-level subject the vocabulary layer alone gives the article (whatever the rules say),
        or None when no subject leads clearly: the layer measured on its own."""
        matcher = self._matcher(language)
        if matcher is None or not matcher.vocabulary or not words:
            return None
        keys = _keys(words)
        found = matcher.occurrences(keys)
        verdict = _leading_subject(self.rules.vocabulary, matcher, found, title_words, [s for s, _ in words])
        return verdict[1].topic.name if verdict is not None else None

    def explain(self, words: Sequence[Word], title_words: int, language: str, name: str) -> TopicExplanation:
        """Why topic ``name`` fired on the article or did not (KeyError: no such topic): by its rules,
        the vocabulary layer, or the model when the rules gave the article no topic."""
        explanation = self._explain_rules(words, title_words, language, name)
        model = self.model
        if model is None or not words:
            return explanation
        final = self.topics(words, title_words, language)
        # Only ``replace`` leaves the model's subject alone where the rules gave topics.
        ruled = (self.topics(words, title_words, language, with_model=False)
                 if model.replace > 0.0 and len(final) == 1 and given_by_model(final[0]) else [])
        replaced = bool(ruled)
        if explanation.fired:
            if any(match.name == name for match in final):
                return explanation
            # The rules gave it; the model's veto took it away beside the article's other subjects, or
            # the model found every subject the rules gave unlikely and gave its own instead.
            subject = explanation.topic.parent or explanation.topic.name
            opinion, probabilities = model.judge(self.model_features(words, title_words, language), shown=False)
            probability = probabilities.get(subject, 0.0)
            kin = kin_of_topic(model.kin, name, subject)
            if (explanation.topic.parent is not None and model.specific_veto is not None and opinion is not None
                    and (unlike := unlikeness(kin, opinion, probabilities)) < model.specific_veto):
                return replace(explanation, fired=False, reason=(
                    f"{explanation.reason}, but the topic model finds the article unlike those that carry this "
                    f"topic: {', '.join(kin)} {unlike:.2f} per word against {opinion.subject!r}, under its "
                    f"specific veto {model.specific_veto:g}"))
            if replaced:
                return replace(explanation, fired=False, reason=(
                    f"{explanation.reason}, but the topic model finds every subject the rules gave unlikely "
                    f"({subject!r}: probability {probability:.2g}, under {model.replace:g}) and gives "
                    f"{final[0].name!r} instead, {final[0].evidence[0]}"))
            others = sorted({match.parent or match.name for match in final})
            return replace(explanation, fired=False, reason=(
                f"{explanation.reason}, but the topic model finds the subject {subject!r} unlikely beside the "
                f"article's other subjects ({', '.join(others)}): probability {probability:.2g}, under its veto "
                f"{model.veto:g}"))
        given = next((match for match in final if match.name == name and given_by_model(match)), None)
        if given is None:
            return explanation
        others = [match.name for match in final if not given_by_model(match)]
        # The rules' terms stay shown (why they did not fire); the model's words are in the reason.
        if others:
            why = (f"the rules gave the article {', '.join(others)} but not this subject, and the topic model "
                   f"gives it beside them, {given.evidence[0]} (from {model.beside:.10g})")
        elif replaced:
            names = ", ".join(sorted({match.name for match in ruled}))
            why = (f"the rules gave the article {names}, every subject of them unlikely to the topic model (under "
                   f"{model.replace:g}), which gives this subject instead, {given.evidence[0]} "
                   f"(from {model.replace_from:.10g})")
        else:
            why = (f"the rules gave the article no topic, and the topic model gives this subject, "
                   f"{given.evidence[0]} (threshold {model.threshold:.10g})")
        return replace(explanation, fired=True, by="model", model_score=given.score,
                       reason=f"{explanation.reason}; {why}, on: {', '.join(given.evidence[1:])}")

    def _explain_rules(self, words: Sequence[Word], title_words: int, language: str, name: str) -> TopicExplanation:
        topic = self.rules.topic(name)
        if topic is None:
            raise KeyError(name)
        matcher = self._matcher(language)
        compiled = next((each for each in matcher.topics if each.topic.name == name), None) if matcher else None
        if matcher is None or compiled is None:
            return TopicExplanation(topic, False, 0.0, (), (), (), f"the topic has no rules for language {language!r}")
        found = matcher.occurrences(_keys(words))
        surfaces = [surface for surface, _ in words]
        explanation = _explain(compiled, found, title_words, surfaces)
        if not matcher.vocabulary:
            return explanation
        # The vocabulary layer may have given the topic, or taken it away beside a primary subject.
        verdicts = {each.topic.name: verdict for each, verdict in self._verdicts(matcher, found, title_words, surfaces)}
        given = verdicts.get(name)
        if given is not None and given.reason == BY_VOCABULARY:
            return given
        if explanation.fired and given is None:
            primary = next((verdict.topic.name for verdict in verdicts.values() if verdict.reason == BY_VOCABULARY), "?")
            return replace(explanation, fired=False, reason=f"{explanation.reason}, but the vocabulary shows "
                           f"{primary!r} as the primary subject and this one's own evidence is too weak beside it")
        return explanation

    def _matcher(self, language: str) -> _LanguageMatcher | None:
        if language not in self._matchers:
            topics = [topic for topic in self.rules.topics if language in topic.languages]
            vocabulary = [topic for topic in self.rules.vocabulary.topics if language in topic.languages] \
                if self.rules.vocabulary is not None else []
            self._matchers[language] = _LanguageMatcher(topics, self._lemmatizer, language,
                                                        self.rules.not_compound, vocabulary) if topics else None
        return self._matchers[language]


# What a line found weighs, before its words are shown: ``TermFound``'s numbers, in its order.
_Weighed = tuple[float, int, float, int, bool]
# A list's patterns found in an article (unordered), with the list, which puts them in order for the words.
_Hits = tuple[_CompiledList, frozenset[_Pattern] | set[_Pattern] | list[_Pattern]]
#: The reason of a topic given by the vocabulary layer rather than by its rules.
BY_VOCABULARY = "the subject's vocabulary leads the others clearly"


@dataclass(frozen=True, slots=True)
class TermFound:
    """One term or near line that found words: what it added (or, for a ``not`` line, subtracted)."""

    texts: tuple[str, ...]  # the alternatives that fired, spelt like the article when possible
    weight: float
    count: int  # occurrences counted (title twice, at most the cap)
    contribution: float  # weight x count, or the threshold for a strong term in context
    line: int
    strong: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"terms": list(self.texts), "weight": self.weight, "count": self.count,
                "contribution": self.contribution, "line": self.line, "strong": self.strong}


@dataclass(frozen=True, slots=True)
class TopicExplanation:
    """Why a topic fired on an article or did not: what ``vigie analyze --explain TOPIC`` prints."""

    topic: Topic
    fired: bool
    total: float
    terms: tuple[TermFound, ...]  # positive and negative term and near lines that found words
    exclusions: tuple[tuple[str, TermFound | None], ...]  # (group, what it subtracted; None: a veto)
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # each "all" group and the words that satisfied it
    reason: str
    by: str = "rules"  # "model": given by the learned second opinion (ingest.topic_model)
    model_score: float | None = None  # when the model gave the topic: its score on the rules' scale
    worded: bool = True  # False: the verdict and total only, no terms, groups or reason (``_explain``)

    @property
    def score(self) -> float:
        if self.model_score is not None:
            return self.model_score
        return round(1.0 - 0.5 ** (max(self.total, 0.0) / self.topic.threshold), 3) if self.fired else 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "topic": self.topic.name, "iptc": self.topic.iptc, "iptc_top": self.topic.iptc_top,
            "parent": self.topic.parent, "fired": self.fired, "by": self.by, "score": self.score, "total": self.total,
            "threshold": self.topic.threshold, "reason": self.reason,
            "terms": [term.to_dict() for term in self.terms],
            "exclusions": [{"group": name, "veto": found is None, **(found.to_dict() if found else {})}
                           for name, found in self.exclusions],
            "groups": [{"group": name, "found": list(words)} for name, words in self.groups],
        }


def _explain(compiled: _CompiledTopic, found: dict[_Pattern, list[int]], title_words: int,
             surfaces: Sequence[str], with_texts: bool | None = True) -> TopicExplanation:
    """The verdict and its reasons. ``with_texts`` False: the verdict and total only (no terms, groups,
    reason or words shown), what deciding whether a topic fires needs, done for every candidate topic of
    every article; None: the whole explanation, words too, but only when the topic fires (they are its
    evidence)."""
    topic = compiled.topic

    def hits(patterns: _CompiledList) -> _Hits:
        return patterns, patterns.found_in(found)

    # A word matched by two alternatives of one list ("migrants": "migrant", and "migrante" whose
    # French lemma is "migrant") is one occurrence.
    def positions(present: _Hits) -> list[int]:
        return sorted({at for pattern in present[1] for at in found[pattern]})

    def shown(present: _Hits) -> tuple[str, ...]:
        """The alternatives that found words no earlier one found, spelt like the article if possible."""
        covered: set[int] = set()
        texts = []
        patterns, found_here = present
        for pattern, spellings in patterns.in_order(found_here):
            at = found[pattern]
            if not covered.issuperset(at):
                texts.append(_spelling(spellings, surfaces[at[0]]))
                covered.update(at)
        return tuple(texts)

    def counted(present: _Hits) -> int:
        at = positions(present)
        in_title = bisect_left(at, title_words)
        return min(topic.cap, in_title * TITLE_FACTOR + len(at) - in_title)

    # The numbers first, each line's (weight, count, contribution, line, strong) with its hits beside
    # it: the words shown (``TermFound``) are made once the verdict is known, and only if asked.
    # Most lines find nothing in an article: only those a found pattern is in are weighed, in order.
    terms: list[tuple[_Weighed, tuple[_Hits, ...]]] = []
    lines_found = _lines_found(compiled.lines, found)
    places = sorted(lines_found)
    first_excluded = bisect_left(places, len(compiled.terms))
    for at in places[:first_excluded]:
        weight, patterns = compiled.terms[at]
        line = topic.terms[at]
        present = (patterns, lines_found[at])
        count = counted(present)
        # A strong term in context weighs at least the threshold on its own. The context is
        # another word: "rebels" cannot be both the strong term and the proof of a conflict.
        contribution = weight * count
        if line.strong:
            own = set(positions(present))
            if all(set(positions(hits(group))) - own for _, group in compiled.required):
                contribution = max(contribution, topic.threshold)
        terms.append(((weight, count, contribution, line.line, line.strong), (present,)))
    for near, left_patterns, right_patterns in compiled.nears:
        left, right = hits(left_patterns), hits(right_patterns)
        if not left[1] or not right[1]:
            continue
        right_at = positions(right)
        count = min(topic.cap, sum(1 for at in positions(left) if _has_neighbour(right_at, at, near.window)))
        if count:
            terms.append(((near.weight, count, near.weight * count, near.line, False), (left, right)))
    exclusions: list[tuple[str, _Weighed | None, _Hits]] = []
    for place in places[first_excluded:]:
        at = place - len(compiled.terms)
        group = topic.excluded[at]
        present = (compiled.excluded[at], lines_found[place])
        if group.weight is None:
            exclusions.append((group.name, None, present))
        else:
            count = counted(present)
            exclusions.append((group.name, (group.weight, count, -group.weight * count, group.line, False), present))
    total = round(sum(term[2] for term, _ in terms)
                  + sum(subtracted[2] for _, subtracted, _ in exclusions if subtracted is not None), 3)
    vetoes = [name for name, subtracted, _ in exclusions if subtracted is None]
    missing = [name for (name, _), group in zip(compiled.required, compiled.required_sets, strict=True)
               if group.isdisjoint(found)]
    reached = not vetoes and not missing and total >= topic.threshold
    lone = _lone_word(compiled, found, [term for term, _ in terms]) if reached else None  # only a topic that would fire
    fired = reached and lone is None
    if not (with_texts or (with_texts is None and fired)):
        # The verdict and its total only: what deciding and the model's features read of a topic weighed
        # for every article (its terms, groups and reason are for --explain and the evidence).
        return TopicExplanation(topic, fired, total, (), (), (), "", worded=False)
    if vetoes:
        reason = f"vetoed by the not! group {', '.join(vetoes)}"
    elif missing:
        reason = f"no word of the required group {', '.join(missing)}"
    elif total < topic.threshold:
        reason = f"total {total:g} is under the threshold {topic.threshold:g}"
    elif lone is not None:
        reason = (f"total {total:g} reaches the threshold {topic.threshold:g} with one word only, of weight "
                  f"{lone:g}: repeated, a word under a third of the threshold does not make the topic alone")
    else:
        reason = f"total {total:g} reaches the threshold {topic.threshold:g}"

    def words(term: _Weighed, lists: tuple[_Hits, ...]) -> TermFound:
        if len(lists) == 2:  # a near line: its two sides
            texts: tuple[str, ...] = (f"{' | '.join(shown(lists[0]))} ~ {' | '.join(shown(lists[1]))}",)
        else:
            texts = shown(lists[0])
        return TermFound(texts, *term)

    return TopicExplanation(topic, fired, total, tuple(words(term, lists) for term, lists in terms),
                            tuple((name, subtracted if subtracted is None else words(subtracted, (present,)))
                                  for name, subtracted, present in exclusions),
                            tuple((name, shown(hits(required))) for name, required in compiled.required), reason)


def _lone_word(compiled: _CompiledTopic, found: dict[_Pattern, list[int]], terms: Sequence[_Weighed]) -> float | None:
    """The weight of the one word a topic's total rests on, when it is a single distinct word (however
    often repeated, in the title or not) weighing less than a third of the threshold and not a strong term
    in context; None otherwise. A church named four times in a story about a lightning strike, a
    town called Regen, the potatoes of a recipe: one light word, repeated, is not a subject."""
    topic = compiled.topic
    positive = compiled.positive  # the intersection walks the smaller side
    if len(positive.intersection(found) if len(found) < len(positive) else found.keys() & positive) != 1:
        return None
    weights = [weight for weight, *_ in terms if weight > 0]
    if not weights or any(strong and contribution > weight * count for weight, count, contribution, _, strong in terms):
        return None
    weight = max(weights)
    return weight if 3 * weight < topic.threshold else None


def _leading_subject(vocabulary: Vocabulary, matcher: _LanguageMatcher, found: dict[_Pattern, list[int]],
                     title_words: int, surfaces: Sequence[str], evidence: list[tuple[float, bool]] | None = None,
                     ) -> tuple[float, _CompiledTopic, dict[str, float]] | None:
    """The subject whose vocabulary leads: its evidence and block, and every subject's
    evidence; None when none reaches its threshold with a lead of ``vocabulary.lead`` over the second.
    ``evidence``: ``_vocabulary_evidence`` of the article, if already weighed."""
    if evidence is None:
        evidence = _vocabulary_evidence(matcher, found, title_words, surfaces)
    scored = sorted(zip(evidence, matcher.vocabulary), key=lambda pair: -pair[0][0])
    if not scored:
        return None
    (best, fired), compiled = scored[0]
    second = scored[1][0][0] if len(scored) > 1 else 0.0
    if not fired or best < 1.0 or best < vocabulary.lead * second:
        return None
    return best, compiled, {each.topic.name: score for (score, _), each in scored}


def _vocabulary_evidence(matcher: _LanguageMatcher, found: dict[_Pattern, list[int]], title_words: int,
                         surfaces: Sequence[str]) -> list[tuple[float, bool]]:
    """Each subject's vocabulary evidence (its total over its threshold) and whether the block's own
    conditions hold (threshold reached, groups present, no veto), in the order of the blocks.

    Every block is weighed for every article: the sums are made in one pass over the article's found
    patterns (what ``_explain`` computes, without the words it shows)."""
    positions: dict[tuple[int, int], set[int]] = {}
    lines = matcher.vocabulary_lines
    for pattern, at in found.items():
        for key in lines.get(pattern, ()):
            positions.setdefault(key, set()).update(at)
    totals = [0.0] * len(matcher.vocabulary)
    for (block, line), at in positions.items():
        cap = matcher.vocabulary[block].topic.cap
        in_title = sum(1 for position in at if position < title_words)
        totals[block] += matcher.vocabulary_weights[block][line] * min(cap, in_title * TITLE_FACTOR + len(at) - in_title)
    evidence = []
    for compiled, total, long_way in zip(matcher.vocabulary, totals, matcher.vocabulary_long_way):
        topic = compiled.topic
        if compiled.positive.isdisjoint(found):
            evidence.append((0.0, False))
            continue
        if long_way:  # not summed above
            explanation = _explain(compiled, found, title_words, surfaces, with_texts=False)
            evidence.append((max(explanation.total, 0.0) / topic.threshold, explanation.fired))
            continue
        total = round(total, 3)
        fired = (total >= topic.threshold and compiled.veto_set.isdisjoint(found)
                 and all(not group.isdisjoint(found) for group in compiled.required_sets))
        evidence.append((max(total, 0.0) / topic.threshold, fired))
    return evidence


def _vocabulary_verdict(topic: Topic, vocabulary: TopicExplanation, total: float) -> TopicExplanation:
    """A subject given by its vocabulary: its words as the evidence, scored like a rule at its threshold."""
    words = tuple(text for term in sorted(vocabulary.terms, key=lambda term: -term.contribution)
                  if term.weight > 0 for text in term.texts)
    found = TermFound(("vocabulary: " + ", ".join(dict.fromkeys(words)),), 1.0, 1, total, vocabulary.topic.line)
    return TopicExplanation(topic, True, total, (found,), (), (), BY_VOCABULARY)


def _evaluate(compiled: _CompiledTopic, found: dict[_Pattern, list[int]], title_words: int,
              surfaces: Sequence[str], verdict: TopicExplanation) -> TopicMatch | None:
    if not verdict.fired:
        return None
    # The verdicts that fire come with their words (the rules' or the vocabulary's): the evidence.
    explanation = verdict if verdict.worded else _explain(compiled, found, title_words, surfaces)
    topic = compiled.topic
    # Terms as written, strongest first, then the groups that were required.
    positive = sorted((term for term in explanation.terms if term.weight > 0), key=lambda term: -term.contribution)
    evidence = [text for term in positive for text in term.texts]
    evidence += [f"{name}: {', '.join(words)}" for name, words in explanation.groups]
    return TopicMatch(name=topic.name, score=explanation.score, evidence=tuple(dict.fromkeys(evidence)),
                      iptc=topic.iptc, iptc_top=topic.iptc_top, parent=topic.parent)


_FIRST_WORD_END = re.compile(r"[\s'-]")


def _spelling(spellings: tuple[str, ...], surface: str) -> str:
    """The spelling of an alternative whose first word is the article's word, else the first one."""
    firsts, one_word_keys = _spelling_keys(spellings)
    for text, first in zip(spellings, firsts):
        if first == surface:
            return text
    # A compound found by its last part ("Wahl" in "Landtagswahl"): the article's word says more.
    if one_word_keys:
        folded = fold_key(surface)
        for key in one_word_keys:
            if len(folded) >= len(key) + _MIN_COMPOUND_HEAD and key in folded[_MIN_COMPOUND_HEAD:]:
                return surface
    return spellings[0]


@cache
def _spelling_keys(spellings: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What ``_spelling`` compares, worked out once per list of spellings (the rules' are few, each met
    again and again): the first word of each, lower-cased; the folded keys of those of one word."""
    return (tuple(_FIRST_WORD_END.split(text.lower(), maxsplit=1)[0] for text in spellings),
            tuple(fold_key(text) for text in spellings if " " not in text))


def _has_neighbour(positions: list[int], at: int, window: int) -> bool:
    """Whether a sorted position list has one within ``window`` words of ``at`` (not ``at`` itself)."""
    start = bisect_left(positions, at - window)
    return any(other != at for other in positions[start: bisect_left(positions, at + window + 1)])
