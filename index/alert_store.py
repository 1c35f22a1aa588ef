"""The alert store: the rules of one installation in ``<prefix>-alerts``, each change validated
(``index.alerts.validate_rule``) before it is written, and the backtest of a rule."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from elasticsearch import Elasticsearch

from index.alerts import AlertExists, AlertInvalid, AlertNotFound, AlertRule, validate_rule
from conf.limits import AlertLimits
from index.client import call
from index.mappings import alerts_index, alerts_index_body
from index.search import LemmaVariants, SearchResult, search
from index.stores import IndexStore
from ingest.transport import AddressPolicy

_PAGE = 1000


class AlertStore(IndexStore):
    """The alert rules of one installation.

    ``known_topics``: the topic names rules may use (``ingest.topics.load_rules(...)``; None: not
    checked); ``lemma_variants``: the function `vigie search` uses (``vigie.queries.lemma_variants``),
    applied to a rule's words when it is stored; ``on_change``: called after every successful change;
    ``webhook_policy``: the addresses a webhook may resolve to, checked when a rule is added or changed.
    """

    def __init__(self, es: Elasticsearch, prefix: str, *, known_topics: Collection[str] | None = None,
                 lemma_variants: LemmaVariants | None = None, on_change: Callable[[], None] | None = None,
                 webhook_policy: AddressPolicy | None = None, limits: AlertLimits = AlertLimits()) -> None:
        super().__init__(es, alerts_index(prefix), alerts_index_body, "alerts")
        self.prefix = prefix
        self.known_topics = known_topics
        self.lemma_variants = lemma_variants
        self.on_change = on_change
        self.webhook_policy = webhook_policy
        self.limits = limits

    # -- reading ------------------------------------------------------------------------------------

    def find(self, name_or_id: str) -> AlertRule | None:
        """The alert with this id, or else this name (ignoring case); None if there is none."""
        self.ensure_ready()
        key = name_or_id.strip()
        found = call(self.es, f"reading alert {key}",
                     lambda: self.es.options(ignore_status=404).get(index=self.index, id=key))
        if found.body.get("found"):
            return AlertRule.from_dict(found["_source"])
        hits = call(self.es, f"looking up alert {key!r}", lambda: self.es.search(
            index=self.index, query={"term": {"name_key": key.lower()}}, size=1))["hits"]["hits"]
        return AlertRule.from_dict(hits[0]["_source"]) if hits else None

    def get(self, name_or_id: str) -> AlertRule:
        """Like ``find``, but AlertNotFound when there is no such alert."""
        rule = self.find(name_or_id)
        if rule is None:
            raise AlertNotFound(f"there is no alert named {name_or_id!r} (see `vigie alerts list`)")
        return rule

    def list(self) -> list[AlertRule]:
        """Every alert, by name."""
        return list(self._all())

    def active(self) -> list[AlertRule]:
        """The alerts that are not paused: what the matcher evaluates."""
        return [rule for rule in self._all() if not rule.paused]

    def _all(self) -> Iterator[AlertRule]:
        for hit in self.scan({"match_all": {}}, [{"name_key": "asc"}, {"alert_id": "asc"}], page=_PAGE):
            yield AlertRule.from_dict(hit["_source"])

    # -- changing -----------------------------------------------------------------------------------

    def add(self, rule: AlertRule) -> AlertRule:
        """Validate and store a new rule (see ``new_rule``). AlertInvalid, or AlertExists for a name in use."""
        rule = validate_rule(rule, self.known_topics, self.lemma_variants, self.webhook_policy, self.limits)
        held = self.count()
        if held >= self.limits.max_alerts:
            raise AlertInvalid(f"alert {rule.name!r} is not valid: this installation holds {held} alerts, "
                               f"the most it allows (VIGIE_MAX_ALERTS={self.limits.max_alerts})")
        if self.find(rule.name) is not None:
            raise AlertExists(f"an alert named {rule.name!r} already exists (`vigie alerts remove` it first)")
        now = datetime.now(timezone.utc)
        rule = replace(rule, created_at=now, updated_at=now)
        response = call(self.es, f"storing alert {rule.name!r}", lambda: self.es.options(ignore_status=409).index(
            index=self.index, id=rule.alert_id, document=rule.to_dict(), op_type="create", refresh="wait_for"))
        if response.meta.status == 409:
            raise AlertExists(f"an alert with id {rule.alert_id} already exists")
        self._changed()
        return rule

    def update(self, name_or_id: str, **changes: Any) -> AlertRule:
        """Change some fields of a rule (``query="..."``, ``topics=(...)``, ``delivery=Delivery(...)``...);
        the new rule is validated as a whole and applies to the next article indexed."""
        current = self.get(name_or_id)
        fixed = {"alert_id", "created_at", "updated_at"}
        if fixed & changes.keys():
            raise AlertInvalid(f"{', '.join(sorted(fixed & changes.keys()))} cannot be changed")
        rule = validate_rule(replace(current, **changes), self.known_topics, self.lemma_variants,
                             self.webhook_policy, self.limits)
        if rule.name.lower() != current.name.lower():
            other = self.find(rule.name)
            if other is not None and other.alert_id != current.alert_id:
                raise AlertExists(f"an alert named {rule.name!r} already exists")
        return self._write(replace(rule, updated_at=datetime.now(timezone.utc)))

    def pause(self, name_or_id: str) -> AlertRule:
        """Stop matching new articles (notifications already made are still delivered)."""
        return self._write(replace(self.get(name_or_id), paused=True, updated_at=datetime.now(timezone.utc)))

    def resume(self, name_or_id: str) -> AlertRule:
        return self._write(replace(self.get(name_or_id), paused=False, updated_at=datetime.now(timezone.utc)))

    def remove(self, name_or_id: str) -> AlertRule:
        """Delete the rule (its notifications stay in the notifications index)."""
        rule = self.get(name_or_id)
        call(self.es, f"removing alert {rule.name!r}", lambda: self.es.options(ignore_status=404).delete(
            index=self.index, id=rule.alert_id, refresh="wait_for"))
        self._changed()
        return rule

    def _write(self, rule: AlertRule) -> AlertRule:
        call(self.es, f"storing alert {rule.name!r}", lambda: self.es.index(
            index=self.index, id=rule.alert_id, document=rule.to_dict(), refresh="wait_for"))
        self._changed()
        return rule

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()


def backtest(es: Elasticsearch, prefix: str, rule: AlertRule, since: datetime | None,
             lemma_variants: LemmaVariants | None = None, limit: int = 100,
             tagged_feeds: tuple[str, ...] | None = None) -> SearchResult:
    """What the alert would have matched among the articles published since ``since``, newest first:
    the alert's saved search, run by `vigie search`'s code with the lemma variants the rule was stored
    with (``lemma_variants`` for words it has none for). ``tagged_feeds``: the URLs of the feeds
    carrying the rule's tags, as `vigie search --tag` resolves them (``AlertRule.filters``)."""
    return search(es, prefix, rule.search_request(since=since, limit=limit, tagged_feeds=tagged_feeds),
                  rule.lemma_variants(lemma_variants))
