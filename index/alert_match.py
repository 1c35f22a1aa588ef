"""Evaluating alerts on articles as they are indexed, in Python, without a request per batch.

The local Elasticsearch has no percolator, so Vigie evaluates its saved searches itself. Two ways
were measured (``bench/alerts.py``, docs/performance.md): one ``msearch`` of every rule restricted to
the batch's ids (``index.alert_msearch``, kept for the bench and the agreement tests), and this module's
compiled matcher, which is chosen: it needs no request and no refresh (a search sees an article only
after a refresh, up to a second later), and its cost grows with the rules an article can match, not
with all the rules.

Agreement with `vigie search`: an alert is ``AlertRule.search_request`` and the matcher reproduces
what ``index.search`` asks of Elasticsearch, clause by clause:

- a word or phrase is a phrase of the ``standard`` analyzer's tokens (``index.tokens``) in the title
  or the text, or one of its lemma variants (the same ``lemma_variants`` the search uses) as a phrase
  in the lemmas; ``title:``/``text:`` without lemmas; ``person:``... within one entity of that kind;
- ``topic:``, ``lang:``, ``feed:``, ``domain:`` compare with the keyword the index holds;
- filters: any of the languages, the topics (any or all, with the minimum score compared as a 32-bit
  float, as the ``float`` field stores it), each entity (by key or as a phrase of an entity), any
  feed (by URL or domain), any feed tag (the article's feed carries it, as the registry says when the
  batch is matched: ``vigie search --tag`` resolves tags to feeds the same way, ``ingest.feed_tags``).

One known difference: Elasticsearch expands a ``word*`` prefix to the first 50 indexed words that
start with it; the matcher accepts every such word. `tests/index/test_alert_match.py` checks the
agreement against the real index on the evaluation corpus.

Speed: each rule is compiled once, and indexed by a key the article must hold for the rule to match
(a word of its query, one of its topics, ...): an article is tested only against the rules one of
whose keys it holds, plus the few that have no such key (a purely negative query).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from index.alert_compile import PREFIX_KEY, ArticleView, CompiledRule, compile_rule
from index.alert_explain import explain
from index.alerts import AlertRule
from index.article_document import ArticleDocument
from index.search import LemmaVariants
from ingest.notification_records import PENDING, STORED, Matched, Notification, notification_id


@dataclass(frozen=True)
class AlertMatch:
    rule: AlertRule
    article: ArticleDocument
    matched: Matched

    def notification(self, now: datetime) -> Notification:
        """The notification this match makes: pending for a webhook (sent now, or in the next digest),
        stored only when the alert has none."""
        rule, article = self.rule, self.article
        has_webhook = rule.delivery.channel is not None  # a webhook or an e-mail address
        return Notification(
            notification_id=notification_id(rule.alert_id, article.article_id),
            alert_id=rule.alert_id, alert_name=rule.name, article_id=article.article_id,
            title=article.title or "", url=article.url, feed=article.feed,
            language=article.language or "und", published=article.published,
            matched=self.matched, mode=rule.delivery.mode if has_webhook else "none",
            state=PENDING if has_webhook else STORED, created_at=now, due_at=now,
        )


class AlertMatcher:
    """Compiled rules and the index over them. Build with ``AlertMatcher.build``; ``match`` is pure."""

    def __init__(self, rules: Sequence[CompiledRule], lemma_variants: LemmaVariants | None) -> None:
        self.rules = tuple(rules)
        self.lemma_variants = lemma_variants
        self._always: list[int] = []
        self._by_kind: dict[str, dict[str, list[int]]] = {}
        for number, compiled in enumerate(self.rules):
            if compiled.keys is None:
                self._always.append(number)
                continue
            for kind, value in compiled.keys:
                self._by_kind.setdefault(kind, {}).setdefault(value, []).append(number)

    @classmethod
    def build(cls, rules: Iterable[AlertRule], lemma_variants: LemmaVariants | None,
              previous: AlertMatcher | None = None) -> AlertMatcher:
        """Compile ``rules``, reusing the compiled form of the rules ``previous`` already had unchanged."""
        known = {(item.rule.alert_id, item.rule.updated_at): item for item in previous.rules} if previous else {}
        compiled = [known.get((rule.alert_id, rule.updated_at)) or compile_rule(rule, lemma_variants)
                    for rule in rules if not rule.paused]
        return cls(compiled, lemma_variants)

    def __len__(self) -> int:
        return len(self.rules)

    @property
    def uses_tags(self) -> bool:
        """Whether a rule has feed tags: ``match`` then needs the feeds' tags."""
        return any(compiled.rule.tags for compiled in self.rules)

    def candidates(self, view: ArticleView) -> list[CompiledRule]:
        """The rules the article holds a key of, and those without keys."""
        numbers: set[int] = set(self._always)
        words = self._by_kind.get("t")
        all_words = view.words() if words or "p" in self._by_kind else set()
        if words:
            for word in all_words:
                found = words.get(word)
                if found:
                    numbers.update(found)
        prefixes = self._by_kind.get("p")
        if prefixes:
            for start in {word[:PREFIX_KEY] for word in all_words if len(word) >= PREFIX_KEY}:
                found = prefixes.get(start)
                if found:
                    numbers.update(found)
        for kind, value in view.keys():
            found = self._by_kind.get(kind, {}).get(value)
            if found:
                numbers.update(found)
        return [self.rules[number] for number in sorted(numbers)]

    def match(self, documents: Iterable[ArticleDocument],
              feed_tags: Mapping[str, Sequence[str]] | None = None) -> list[AlertMatch]:
        """Every (rule, article) pair that matches, with why. ``feed_tags``: feed URL -> its tags (the
        registry's, read for this batch; needed when ``uses_tags``: without them no tag matches)."""
        if not self.rules:
            return []
        tags = feed_tags or {}
        matches: list[AlertMatch] = []
        for document in documents:
            view = ArticleView(document, tags.get(document.feed or "", ()))
            for compiled in self.candidates(view):
                if compiled.test(view):
                    matches.append(AlertMatch(compiled.rule, document, explain(compiled, view, compiled.variants)))
        return matches
