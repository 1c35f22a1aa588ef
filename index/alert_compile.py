"""Alert rules compiled for matching in Python: the article side (``ArticleView``, every analysed
field tokenised as Elasticsearch does) and the rule side (``compile_rule``: a predicate over an
article view, and the keys an article must hold for the rule to be tried). See ``index.alert_match``
for how it is used and how it agrees with `vigie search`."""

from __future__ import annotations

import struct
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from index.alerts import AlertRule
from index.article_document import ArticleDocument
from index.query import And, MatchAll, Node, Not, Or, Term, name_runs, parse_query
from index.search import LemmaVariants
from index.tokens import standard_spans, standard_tokens
from ingest.entity_kb import default_kb
from ingest.feed_tags import feed_selected, selecting_keys, wanted_tags
from ingest.name_keys import search_fold

_ENTITY_KINDS = ("person", "location", "organization", "misc")
#: ``ignore_above`` of the keyword fields compared (index.mappings): longer values are not indexed.
_KEYWORD_LIMIT = 512
_FEED_LIMIT = 2048
PREFIX_KEY = 3
#: A phrase whose rarest token occurs more often than this is looked for through the pairs of tokens.
PAIR_INDEX_FROM = 64

Key = tuple[str, str]
"""(kind, value): something an article holds, by which rules are indexed: ("t", token),
("p", first three letters of a token), ("topic", name), ("lang", code), ("feed", url), ("domain", host),
("ekey", entity key), ("tag", a tag that selects the article's feed: ``ingest.feed_tags.selecting_keys``)."""

#: Cost of a key kind when choosing a rule's index key: a language is in most articles, a word in few.
_KEY_COST = {"t": 1, "ekey": 1, "eid": 1, "p": 3, "feed": 5, "domain": 5, "tag": 5, "topic": 10, "lang": 100}


def _float32(value: float) -> float:
    """A value as Elasticsearch's ``float`` field holds it."""
    return struct.unpack("f", struct.pack("f", value))[0]


# -- the article side -------------------------------------------------------------------------------


@dataclass
class _Field:
    """One analysed field value: its tokens in order and where each token occurs."""

    tokens: list[str]
    positions: dict[str, list[int]] = field(default_factory=dict)
    sorted_tokens: list[str] | None = None  # for prefixes, made on first use
    #: Where each pair of adjacent tokens occurs, made on first use by a phrase whose rarest token
    #: is frequent: what keeps a phrase of common words in a long repetitive text cheap.
    pairs: dict[tuple[str, str], list[int]] | None = None
    #: Phrases already looked for in this field (many rules share words): each is looked for once.
    answers: dict[tuple[tuple[str, ...], bool], bool] = field(default_factory=dict)

    @classmethod
    def of(cls, text: str) -> _Field:
        tokens = standard_tokens(text or "")
        positions: dict[str, list[int]] = {}
        for at, token in enumerate(tokens):
            positions.setdefault(token, []).append(at)
        return cls(tokens, positions)

    def has_phrase(self, phrase: Sequence[str], prefix: bool = False) -> bool:
        if not phrase:
            return False
        key = (tuple(phrase), prefix)
        found = self.answers.get(key)
        if found is None:
            found = self.answers[key] = (self._has_prefix_phrase(key[0]) if prefix
                                         else any(True for _ in self._starts(key[0])))
        return found

    def _starts(self, phrase: tuple[str, ...]) -> Iterator[int]:
        """Where ``phrase`` starts, looked for from its rarest token (or, when that one is frequent,
        its rarest pair of adjacent tokens): the cost follows the rarest part, not the commonest."""
        counts = [len(self.positions.get(token, ())) for token in phrase]
        if min(counts) == 0:
            return
        offset = min(range(len(phrase)), key=counts.__getitem__)
        anchors = self.positions[phrase[offset]]
        if len(phrase) > 1 and len(anchors) > PAIR_INDEX_FROM:
            pairs = self._pairs()
            count, offset = min((len(pairs.get((phrase[at], phrase[at + 1]), ())), at) for at in range(len(phrase) - 1))
            if count == 0:
                return
            anchors = pairs[(phrase[offset], phrase[offset + 1])]
        tokens, size, wanted = self.tokens, len(phrase), list(phrase)
        for at in anchors:
            start = at - offset
            if start >= 0 and (size == 1 or tokens[start : start + size] == wanted):
                yield start

    def _pairs(self) -> dict[tuple[str, str], list[int]]:
        if self.pairs is None:
            self.pairs = {}
            for at, pair in enumerate(zip(self.tokens, self.tokens[1:])):
                self.pairs.setdefault(pair, []).append(at)
        return self.pairs

    def _has_prefix_phrase(self, phrase: tuple[str, ...]) -> bool:
        *exact, last = phrase
        if self.sorted_tokens is None:
            self.sorted_tokens = sorted(self.positions)
        at = bisect_left(self.sorted_tokens, last)
        if not (at < len(self.sorted_tokens) and self.sorted_tokens[at].startswith(last)):
            return False  # no word begins so: nothing to look for
        if not exact:
            return True
        tokens, size = self.tokens, len(exact)
        return any(start + size < len(tokens) and tokens[start + size].startswith(last)
                   for start in self._starts(tuple(exact)))


class ArticleView:
    """An indexed article as the matcher sees it: its document (``index.article_document``, or
    the ``_source`` read back) with every analysed field tokenised as Elasticsearch does, and the tags
    of its feed (the registry's, as `vigie search --tag` reads them: articles do not carry them)."""

    def __init__(self, document: ArticleDocument, feed_tags: Iterable[str] = ()) -> None:
        self.document = document
        self.feed_tags: tuple[str, ...] = tuple(feed_tags)
        self.article_id: str = document.article_id
        self.language: str = document.language or "und"
        self.feed: str | None = document.feed
        self.domain: str | None = (document.source_domain or "").lower() or None
        self.title = _Field.of(document.title or "")
        self.text = _Field.of(document.text or "")
        self.lemmas = _Field.of(document.lemmas or "")
        self.folded = _Field.of(document.folded or "")
        self.entity_names = [_Field.of(name) for name in document.entity_names]
        entities = document.entities
        self.entities: dict[str, list[_Field]] = {
            kind: [_Field.of(entity.get("text") or "") for entity in entities.get(kind) or ()]
            for kind in _ENTITY_KINDS
        }
        self.entity_keys = frozenset(key for key in document.entity_keys if len(key) <= _KEYWORD_LIMIT)
        self.entity_ids = frozenset(document.entity_ids)
        self.topics = document.topics
        self.topic_names = frozenset(document.topic_names or (topic.name for topic in self.topics))
        self._cache: dict[int, bool] = {}
        self._spans: dict[str, dict[str, list[tuple[int, int]]]] = {}
        self._entity_tokens: list[tuple[str, tuple[str, ...]]] | None = None
        self._sorted: dict[str, list[str]] = {}
        #: highlights already made for this article, by (words, prefixes) marked
        self.highlighted: dict[tuple[frozenset[str], tuple[str, ...]], dict[str, list[str]]] = {}

    def sorted_tokens(self, name: str) -> list[str]:
        """The distinct tokens of the title or the text, sorted (to find those with a prefix)."""
        key = f"sorted:{name}"
        if key not in self._sorted:
            self._sorted[key] = sorted(self.spans(name))
        return self._sorted[key]

    def entity_tokens(self) -> list[tuple[str, tuple[str, ...]]]:
        """Each entity's text and its tokens (to tell which names a matched phrase covers)."""
        if self._entity_tokens is None:
            self._entity_tokens = [(entity.text, analysed_tokens(entity.text))
                                   for entity in self.document.entity_list if entity.text]
        return self._entity_tokens

    def field_text(self, name: str) -> str:
        """The title or the text as indexed."""
        return (self.document.title if name == "title" else self.document.text) or ""

    def spans(self, name: str) -> dict[str, list[tuple[int, int]]]:
        """Where each token of the title or the text is (for highlights; computed once, on first match)."""
        if name not in self._spans:
            where: dict[str, list[tuple[int, int]]] = {}
            for token, start, end in standard_spans(self.field_text(name)):
                where.setdefault(token, []).append((start, end))
            self._spans[name] = where
        return self._spans[name]

    def words(self) -> set[str]:
        """Every token of every analysed field (the keys by which rules are found)."""
        words = (set(self.title.positions) | set(self.text.positions) | set(self.lemmas.positions)
                 | set(self.folded.positions))
        for value in self.entity_names:
            words.update(value.positions)
        for values in self.entities.values():
            for value in values:
                words.update(value.positions)
        return words

    def keys(self) -> Iterable[Key]:
        yield ("lang", self.language)
        for name in self.topic_names:
            yield ("topic", name)
        if self.feed:
            yield ("feed", self.feed)
        if self.domain:
            yield ("domain", self.domain)
        for key in self.entity_keys:
            yield ("ekey", key)
        for identity in self.entity_ids:
            yield ("eid", identity)
        for tag in self.feed_tags:
            for key in selecting_keys(tag):
                yield ("tag", key)


# -- the rule side ----------------------------------------------------------------------------------


Predicate = Callable[[ArticleView], bool]


@dataclass(frozen=True)
class Phrase:
    """A query term compiled: the fields it is looked for in, as token phrases."""

    fields: tuple[str, ...]  # "title", "text", "lemmas", "entities.<kind>"
    phrases: tuple[tuple[str, tuple[str, ...]], ...]  # (field, tokens)
    prefix: bool = False
    identities: frozenset[str] = frozenset()  # entity ids that match too (a known entity's other names)

    def __call__(self, view: ArticleView) -> bool:
        # Many rules share a word: each compiled term is tested once per article (keyed by identity,
        # cheaper than hashing the phrases; compiled terms live as long as their rules).
        key = id(self)
        cached = view._cache.get(key)
        if cached is not None:
            return cached
        found = (not self.identities.isdisjoint(view.entity_ids)
                 or any(_field_has(view, name, tokens, self.prefix) for name, tokens in self.phrases))
        view._cache[key] = found
        return found

    def keys(self) -> frozenset[Key] | None:
        """Keys one of which an article holds whenever this term matches it (None: no such keys)."""
        keys: set[Key] = set()
        for _, tokens in self.phrases:
            if not tokens:
                continue
            if self.prefix and len(tokens) == 1:
                if len(tokens[0]) < PREFIX_KEY:
                    return None
                keys.add(("p", tokens[0][:PREFIX_KEY]))
            else:
                exact = tokens[:-1] if self.prefix else tokens
                keys.add(("t", max(exact, key=len)))
        keys.update(("eid", identity) for identity in self.identities)
        return frozenset(keys)


def _field_has(view: ArticleView, name: str, tokens: tuple[str, ...], prefix: bool) -> bool:
    if name == "title":
        return view.title.has_phrase(tokens, prefix)
    if name == "text":
        return view.text.has_phrase(tokens, prefix)
    if name == "lemmas":
        return view.lemmas.has_phrase(tokens, prefix)
    if name == "folded":
        return view.folded.has_phrase(tokens, prefix)
    if name == "entity_names":
        return any(value.has_phrase(tokens, prefix) for value in view.entity_names)
    kind = name.removeprefix("entities.")
    return any(value.has_phrase(tokens, prefix) for value in view.entities[kind])


@dataclass(frozen=True)
class Keyword:
    """``topic:``, ``lang:``, ``feed:``, ``domain:``: the keyword the index holds, compared exactly."""

    kind: str
    value: str

    def __call__(self, view: ArticleView) -> bool:
        if self.kind == "topic":
            return self.value in view.topic_names
        if self.kind == "lang":
            return view.language == self.value
        if self.kind == "feed":
            return view.feed == self.value and len(self.value) <= _FEED_LIMIT
        return view.domain == self.value

    def keys(self) -> frozenset[Key]:
        return frozenset({(self.kind, self.value)})


@dataclass(frozen=True)
class _Compiled:
    """A node of the query tree compiled into a predicate and its index keys."""

    test: Predicate
    keys: frozenset[Key] | None  # one of them is in every matching article; None: no such keys
    terms: tuple[tuple[str, Predicate], ...] = ()  # (query text, predicate) of each positive term


def _cost(keys: frozenset[Key]) -> int:
    return sum(_KEY_COST[kind] for kind, _ in keys)


def _cheapest(options: Iterable[frozenset[Key] | None]) -> frozenset[Key] | None:
    usable = [keys for keys in options if keys is not None]
    return min(usable, key=_cost) if usable else None


def _union(options: Sequence[frozenset[Key] | None]) -> frozenset[Key] | None:
    if any(keys is None for keys in options):
        return None
    return frozenset().union(*options)  # type: ignore[arg-type]


@lru_cache(maxsize=65536)
def analysed_tokens(text: str) -> tuple[str, ...]:
    return tuple(standard_tokens(text))


def _compile_term(term: Term, lemma_variants: LemmaVariants | None) -> _Compiled:
    name = term.field
    if name in ("topic", "language", "domain"):
        kind = {"topic": "topic", "language": "lang", "domain": "domain"}[name]
        keyword = Keyword(kind, term.text.lower())
        return _Compiled(keyword, keyword.keys(), ((term.text, keyword),))
    if name == "feed":
        keyword = Keyword("feed", term.text)
        return _Compiled(keyword, keyword.keys(), ((term.text, keyword),))
    tokens = analysed_tokens(term.text)
    phrases: list[tuple[str, tuple[str, ...]]]
    identities: frozenset[str] = frozenset()
    if name is None:
        phrases = [("title", tokens), ("text", tokens)]
        if not term.prefix and lemma_variants is not None:
            phrases += [("lemmas", analysed_tokens(variant)) for variant in dict.fromkeys(lemma_variants(term.text))
                        if variant]
        if not term.prefix:
            # As index.search: accents and case folded, and the known entity the words name.
            phrases.append(("folded", analysed_tokens(search_fold(term.text))))
            identities = frozenset(filter(None, (_known_entity_id(term.text),)))
    elif name in ("title", "text"):
        phrases = [(name, tokens)]
    elif name == "entity":
        phrases = [(f"entities.{kind}", tokens) for kind in _ENTITY_KINDS]
        phrases.append(("entity_names", analysed_tokens(search_fold(term.text))))
        identities = frozenset(filter(None, (term.text, _known_entity_id(term.text))))
    else:
        phrases = [(f"entities.{name}", tokens)]
    phrase = Phrase(tuple(name for name, _ in phrases), tuple(phrases), term.prefix, identities)
    label = f"{term.text}*" if term.prefix else term.text
    return _Compiled(phrase, phrase.keys(), ((label, phrase),))


def compile_node(node: Node, lemma_variants: LemmaVariants | None) -> _Compiled:
    """The predicate of a parsed query, equivalent to ``index.search.compile_query``'s query."""
    if isinstance(node, MatchAll):
        return _Compiled(lambda view: True, None)
    if isinstance(node, Term):
        return _compile_term(node, lemma_variants)
    if isinstance(node, Not):
        inner = compile_node(node.item, lemma_variants)
        return _Compiled(lambda view: not inner.test(view), None)
    if isinstance(node, And):
        items = [_compile_segment(node.items[start:stop], identity, lemma_variants)
                 for start, stop, identity in name_runs(node.items, _known_entity_id)]
    else:
        items = [compile_node(item, lemma_variants) for item in node.items]
    tests = [item.test for item in items]
    terms = tuple(term for item in items for term in item.terms)
    if isinstance(node, And):
        return _Compiled(lambda view: all(test(view) for test in tests), _cheapest(item.keys for item in items), terms)
    assert isinstance(node, Or)
    return _Compiled(lambda view: any(test(view) for test in tests), _union([item.keys for item in items]), terms)


def _compile_segment(words: tuple[Node, ...], identity: str | None,
                     lemma_variants: LemmaVariants | None) -> _Compiled:
    """One segment of ``index.query.name_runs``: an item alone, or a run of words naming a known
    entity, matched by all its words or by the entity's id (as ``index.search._and_clauses``)."""
    if identity is None:
        return compile_node(words[0], lemma_variants)
    parts = [compile_node(word, lemma_variants) for word in words]
    tests = [part.test for part in parts]
    by_words = _cheapest(part.keys for part in parts)
    keys = None if by_words is None else by_words | {("eid", identity)}
    return _Compiled(lambda view: all(test(view) for test in tests) or identity in view.entity_ids, keys,
                     tuple(term for part in parts for term in part.terms))


@dataclass(frozen=True)
class CompiledRule:
    rule: AlertRule
    test: Predicate
    keys: frozenset[Key] | None
    terms: tuple[tuple[str, Predicate], ...]
    entity_tests: tuple[tuple[str, Predicate], ...]
    variants: LemmaVariants | None = None


def compile_rule(rule: AlertRule, lemma_variants: LemmaVariants | None) -> CompiledRule:
    """The rule's query and filters as one predicate (``index.search._filters``, clause by clause)."""
    variants = rule.lemma_variants(lemma_variants)
    query = compile_node(parse_query(rule.query), variants)
    tests: list[Predicate] = [query.test]
    options: list[frozenset[Key] | None] = [query.keys]
    if rule.languages:
        languages = frozenset(rule.languages)
        tests.append(lambda view: view.language in languages)
        options.append(frozenset(("lang", code) for code in languages))
    if rule.topics:
        names = [topic.lower() for topic in rule.topics]
        groups = [[name] for name in names] if rule.all_topics else [names]
        for group in groups:
            tests.append(_topic_test(frozenset(group), rule.min_score))
            options.append(frozenset(("topic", name) for name in group))
    entity_tests: list[tuple[str, Predicate]] = []
    for entity in rule.entities:
        test, keys = _entity_test(entity)
        tests.append(test)
        entity_tests.append((entity, test))
        options.append(keys)
    if rule.feeds:
        feeds = frozenset(feed for feed in rule.feeds if len(feed) <= _FEED_LIMIT)
        domains = frozenset(feed.lower() for feed in rule.feeds)
        tests.append(lambda view: view.feed in feeds or view.domain in domains)
        options.append(frozenset([*(("feed", feed) for feed in feeds), *(("domain", d) for d in domains)]))
    if rule.tags:
        tags = wanted_tags(rule.tags)  # as validate_rule stores them: compared trimmed and case folded
        tests.append(lambda view: feed_selected(view.feed_tags, tags))
        options.append(frozenset(("tag", tag) for tag in tags))

    def matches(view: ArticleView) -> bool:
        return all(test(view) for test in tests)

    return CompiledRule(rule, matches, _cheapest(options), query.terms, tuple(entity_tests), variants)


def _topic_test(names: frozenset[str], min_score: float | None) -> Predicate:
    if min_score is None:
        return lambda view: not names.isdisjoint(view.topic_names)
    floor = _float32(min_score)
    return lambda view: any((topic.name in names or topic.parent in names) and _float32(topic.score) >= floor
                            for topic in view.topics)


def _entity_test(entity: str) -> tuple[Predicate, frozenset[Key]]:
    key = entity.lower()
    phrase = Phrase(tuple(f"entities.{kind}" for kind in _ENTITY_KINDS) + ("entity_names",),
                    tuple((f"entities.{kind}", analysed_tokens(entity)) for kind in _ENTITY_KINDS)
                    + (("entity_names", analysed_tokens(search_fold(entity))),))
    phrase_keys = phrase.keys() or frozenset()

    # By identity too: an id as given ("Q7747"), or the known entity the name designates, whatever
    # the article's spelling ("Putin" matches "Vladimir Poutine").
    identities = frozenset(filter(None, (entity, _known_entity_id(entity))))

    def test(view: ArticleView) -> bool:
        return ((key in view.entity_keys and len(key) <= _KEYWORD_LIMIT) or phrase(view)
                or not identities.isdisjoint(view.entity_ids))

    return test, frozenset({("ekey", key), *phrase_keys, *(("eid", identity) for identity in identities)})


def _known_entity_id(name: str) -> str | None:
    found = default_kb().lookup(name)
    return found.id if found is not None else None
