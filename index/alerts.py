"""Alert rules: saved searches that fire once per matching article, stored in ``<prefix>-alerts``.

An alert is a `vigie search` with a name and a delivery: the same query language (``index.query``),
topics (any or all, with an optional minimum score), entities, languages, feeds and feed tags as filters. Its
``search_request`` is the search that `vigie alerts test` (the backtest) runs, and the matcher
(``index.alert_match``) evaluates the same conditions on each newly indexed article.

This module holds the rules and their validation, pure (``validate_rule``: the query parses, the
topics exist, the webhook is http(s)); every change goes through ``index.alert_store.AlertStore``,
which validates first, writes with ``refresh=wait_for`` and then calls its ``on_change`` hook, so the
workers reload their rules before the next article (``vigie.alert_store`` wires the hook to a version
counter in Redis).
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from conf.limits import AlertLimits
from conf.logs import redacted_url
from index.errors import QuerySyntaxError
from index.query import And, Node, Not, Or, Term, parse_query
from index.search import LemmaVariants, SearchFilters, SearchRequest
from ingest.email import valid_address
from ingest.errors import FetchError, VigieError
from ingest.feed_tags import wanted_tags
from ingest.models import parse_time
from ingest.transport import AddressPolicy
from ingest.webhook import validate_webhook_url

DeliveryMode = Literal["immediate", "hourly", "daily"]
DELIVERY_MODES: tuple[str, ...] = ("immediate", "hourly", "daily")

MAX_NAME_CHARS = 200
MAX_TAG_CHARS = 512  # the ``ignore_above`` of the stored tags (index.mappings)
MIN_SECRET_CHARS = 16
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
#: Characters that reorder how text is displayed (U+202E shows "exe.txt" as "txt.exe"): no name needs them.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class AlertError(VigieError):
    """An alert cannot be created, changed or found; the message names the alert."""

    kind = "alert-error"


class AlertInvalid(AlertError):
    """A rule that cannot work: its query does not parse, a topic is unknown, the webhook is not http(s)."""

    kind = "alert-invalid"


class AlertNotFound(AlertError):
    kind = "alert-not-found"


class AlertExists(AlertError):
    kind = "alert-exists"


@dataclass(frozen=True)
class Delivery:
    """Where and how an alert's notifications go: a webhook or an e-mail address (one of them). Neither:
    they are only stored (`vigie alerts fired`, the Atom feed)."""

    webhook: str | None = None
    secret: str = ""  # HMAC-SHA256 key of the X-Vigie-Signature header
    mode: DeliveryMode = "immediate"  # or a digest: one message per hour or per day
    email: str | None = None  # the address alert e-mails go to (ingest.email)

    @property
    def channel(self) -> str | None:
        """``webhook``, ``email``, or None (stored only): the label of the delivery counters too."""
        return "webhook" if self.webhook else "email" if self.email else None

    def to_dict(self, include_secret: bool = True) -> dict[str, Any]:
        webhook = self.webhook if include_secret or not self.webhook else redacted_url(self.webhook)
        data = {"webhook": webhook, "secret": self.secret if include_secret else _masked(self.secret), "mode": self.mode}
        if self.email:
            data["email"] = self.email  # absent when not e-mailed, as before e-mail existed
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Delivery:
        return cls(webhook=data.get("webhook"), secret=data.get("secret") or "", mode=data.get("mode") or "immediate",
                   email=data.get("email") or None)


@dataclass(frozen=True)
class AlertRule:
    alert_id: str
    name: str
    topics: tuple[str, ...] = ()
    all_topics: bool = False  # every topic (default: any of them)
    query: str = ""  # Vigie's query language, as in `vigie search`
    entities: tuple[str, ...] = ()  # each must be named (as in `vigie search --entity`)
    languages: tuple[str, ...] = ()  # any of them
    feeds: tuple[str, ...] = ()  # feed URLs or domains, any of them
    min_score: float | None = None  # the topics count only with at least this score
    delivery: Delivery = field(default_factory=Delivery)
    paused: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    #: (word, its lemma variants) for each word of the query, fixed when the rule is stored
    query_lemmas: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Per story (index.story_alerts): one notification per story, then optional updates.
    per_story: bool = False
    story_updates: int = 0  # notify again each time the story has grown by this many articles (0: never)
    story_new_language: bool = False  # notify again when the story reaches a new language
    #: feed tags, any of them (compared as ``ingest.feed_tags``: "news" takes the feeds of "News/World"),
    #: as `vigie search --tag`: resolved to the tagged feeds' URLs when the rule is evaluated
    tags: tuple[str, ...] = ()

    def lemma_variants(self, fallback: LemmaVariants | None = None) -> LemmaVariants:
        """The lemma variants the rule was stored with (``fallback`` for a word it has none for)."""
        stored = dict(self.query_lemmas)

        def variants(text: str) -> list[str]:
            if text in stored:
                return list(stored[text])
            return list(fallback(text)) if fallback is not None else []

        return variants

    def filters(self, since: datetime | None = None, until: datetime | None = None,
                article_ids: tuple[str, ...] = (), tagged_feeds: tuple[str, ...] | None = None) -> SearchFilters:
        """``tagged_feeds``: the URLs of the feeds carrying the rule's tags (``vigie.search_filters.feeds_tagged``,
        as `vigie search --tag` resolves them); ignored when the rule has no tags, none of them when it has."""
        return SearchFilters(
            languages=self.languages, topics=self.topics, entities=self.entities, feeds=self.feeds,
            since=since, until=until, article_ids=article_ids, all_topics=self.all_topics,
            min_topic_score=self.min_score, feed_urls=(tagged_feeds or ()) if self.tags else None,
        )

    def search_request(self, since: datetime | None = None, limit: int = 100,
                       article_ids: tuple[str, ...] = (), tagged_feeds: tuple[str, ...] | None = None) -> SearchRequest:
        """The saved search: what `vigie search` would run for this alert (``tagged_feeds``: see ``filters``)."""
        return SearchRequest(query=self.query, filters=self.filters(since, article_ids=article_ids,
                                                                    tagged_feeds=tagged_feeds),
                             sort="date", limit=limit)

    def to_dict(self, include_secret: bool = True) -> dict[str, Any]:
        """The stored document (and the JSON of `vigie alerts show --json`, secret masked there)."""
        return {
            "alert_id": self.alert_id,
            "name": self.name,
            "name_key": self.name.lower(),
            "topics": list(self.topics),
            "all_topics": self.all_topics,
            "query": self.query,
            "entities": list(self.entities),
            "languages": list(self.languages),
            "feeds": list(self.feeds),
            "tags": list(self.tags),
            "min_score": self.min_score,
            "delivery": self.delivery.to_dict(include_secret),
            "paused": self.paused,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "query_lemmas": {word: list(variants) for word, variants in self.query_lemmas},
            "per_story": self.per_story, "story_updates": self.story_updates,
            "story_new_language": self.story_new_language,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlertRule:
        return cls(
            alert_id=data["alert_id"],
            name=data["name"],
            topics=tuple(data.get("topics") or ()),
            all_topics=bool(data.get("all_topics")),
            query=data.get("query") or "",
            entities=tuple(data.get("entities") or ()),
            languages=tuple(data.get("languages") or ()),
            feeds=tuple(data.get("feeds") or ()),
            tags=tuple(data.get("tags") or ()),  # rules stored before tags have none
            min_score=data.get("min_score"),
            delivery=Delivery.from_dict(data.get("delivery") or {}),
            paused=bool(data.get("paused")),
            created_at=parse_time(data.get("created_at")),
            updated_at=parse_time(data.get("updated_at")),
            query_lemmas=tuple((word, tuple(variants)) for word, variants in (data.get("query_lemmas") or {}).items()),
            per_story=bool(data.get("per_story")), story_updates=int(data.get("story_updates") or 0),
            story_new_language=bool(data.get("story_new_language")),
        )


def new_rule(name: str, *, topics: Collection[str] = (), all_topics: bool = False, query: str = "",
             entities: Collection[str] = (), languages: Collection[str] = (), feeds: Collection[str] = (),
             min_score: float | None = None, webhook: str | None = None, secret: str | None = None,
             mode: str = "immediate", paused: bool = False, per_story: bool = False, story_updates: int = 0,
             story_new_language: bool = False, email: str | None = None, tags: Collection[str] = ()) -> AlertRule:
    """A rule with a fresh id (and a fresh secret when it has a webhook and none was given); not yet
    validated nor stored: pass it to ``AlertStore.add``."""
    return AlertRule(
        alert_id=uuid.uuid4().hex[:16], name=name, topics=tuple(topics), all_topics=all_topics, query=query,
        entities=tuple(entities), languages=tuple(languages), feeds=tuple(feeds), min_score=min_score,
        delivery=Delivery(webhook=webhook, secret=secret if secret is not None else (secrets.token_hex(32) if webhook else ""),
                          mode=mode, email=email),  # type: ignore[arg-type]
        paused=paused, per_story=per_story, story_updates=story_updates, story_new_language=story_new_language,
        tags=tuple(tags),
    )


_KEEP: Any = object()


def changed_delivery(current: Delivery, *, webhook: Any = _KEEP, secret: Any = _KEEP,
                     mode: Any = _KEEP, email: Any = _KEEP) -> tuple[Delivery, bool]:
    """``current`` with the fields given changed (``secret=None``: a new random one), and whether its
    secret is a new one nobody has seen: a webhook given to an alert without a secret gets one, as
    ``new_rule`` does. Left out, a field keeps its value."""
    webhook = current.webhook if webhook is _KEEP else webhook
    mode = current.mode if mode is _KEEP else mode
    secret = current.secret if secret is _KEEP else (secret or "")
    generated = False
    if webhook and not secret:
        secret, generated = secrets.token_hex(32), True
    email = current.email if email is _KEEP else (email or None)
    return Delivery(webhook=webhook, secret=secret, mode=mode, email=email), generated


def validate_rule(rule: AlertRule, known_topics: Collection[str] | None,
                  lemma_variants: LemmaVariants | None = None,
                  webhook_policy: AddressPolicy | None = None, limits: AlertLimits = AlertLimits()) -> AlertRule:
    """``rule`` normalised (names trimmed, codes lower-cased, webhook URL normalised, the lemma variants
    of its query's words computed with ``lemma_variants``), or AlertInvalid listing every problem found.
    ``known_topics`` None: topics are not checked; ``webhook_policy``: the addresses the webhook may
    resolve to (``ingest.transport.AddressPolicy``; None: not checked)."""
    problems: list[str] = []
    name = rule.name.strip()
    if not name:
        problems.append("the alert needs a name")
    elif len(name) > MAX_NAME_CHARS or any(ord(char) < 32 or char in BIDI_CONTROLS for char in name):
        problems.append(f"the name must be at most {MAX_NAME_CHARS} printable characters, without control or "
                        "bidirectional override characters")
    label = f"alert {name!r}" if name else "the alert"

    known = {topic.lower() for topic in known_topics or ()}
    topics = tuple(dict.fromkeys(topic.strip().lower() for topic in rule.topics if topic.strip()))
    unknown = [topic for topic in topics if topic not in known] if known_topics is not None else []
    if unknown:
        problems.append(f"unknown topic{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                        f"(known: {', '.join(sorted(known)) or 'none'})")
    query = rule.query.strip()
    query_lemmas = rule.query_lemmas
    if len(query) > limits.max_query_chars:
        problems.append(f"the query has {len(query)} characters; at most {limits.max_query_chars} "
                        "(VIGIE_ALERT_MAX_QUERY_CHARS)")
    elif query:
        try:
            node = parse_query(query)
        except QuerySyntaxError as error:
            problems.append(f"the query does not parse: {error}")
        else:
            terms = len(_all_terms(node))
            if terms > limits.max_query_terms:
                problems.append(f"the query has {terms} words and phrases; at most {limits.max_query_terms} "
                                "(VIGIE_ALERT_MAX_QUERY_TERMS)")
            if lemma_variants is not None:
                words = dict.fromkeys(term.text for term in _all_terms(node) if term.field is None and not term.prefix)
                query_lemmas = tuple((word, tuple(dict.fromkeys(lemma_variants(word)))) for word in words)
    entities = tuple(dict.fromkeys(entity.strip() for entity in rule.entities if entity.strip()))
    languages = tuple(dict.fromkeys(code.strip().lower() for code in rule.languages if code.strip()))
    bad_codes = [code for code in languages if not _LANGUAGE.match(code)]
    if bad_codes:
        problems.append(f"languages are ISO 639-1 codes such as fr or en (got {', '.join(bad_codes)})")
    feeds = tuple(dict.fromkeys(feed.strip() for feed in rule.feeds if feed.strip()))
    tags = wanted_tags(rule.tags)  # as `vigie search --tag` compares them: trimmed, case folded
    if any(len(tag) > MAX_TAG_CHARS or any(ord(char) < 32 or char in BIDI_CONTROLS for char in tag) for tag in tags):
        problems.append(f"a tag is at most {MAX_TAG_CHARS} printable characters, without control or bidirectional "
                        "override characters")
    if not (topics or query or entities or feeds or languages or tags):
        problems.append("the alert needs something to match: a topic, a query, an entity, a language, a feed "
                        "or a feed tag")
    if rule.min_score is not None:
        if not topics:
            problems.append("a minimum topic score needs at least one topic")
        if not 0 < rule.min_score <= 1:
            problems.append(f"the minimum topic score is between 0 and 1 (got {rule.min_score})")
    delivery = rule.delivery
    webhook = delivery.webhook.strip() if delivery.webhook else None
    if webhook:
        try:
            webhook = validate_webhook_url(webhook, webhook_policy)
        except FetchError as error:
            problems.append(f"the webhook URL cannot be used: {error}")
        if len(delivery.secret) < MIN_SECRET_CHARS:
            problems.append(f"the webhook secret must have at least {MIN_SECRET_CHARS} characters")
    email = delivery.email.strip() if delivery.email else None
    if email and not valid_address(email):
        problems.append(f"the e-mail address {email!r} is not one address such as ana@example.org")
    if webhook and email:
        problems.append("an alert goes to a webhook or to an e-mail address, not both")
    if not webhook and not email and delivery.mode != "immediate":
        problems.append(f"a {delivery.mode} digest needs a webhook or an e-mail address to be sent to")
    if delivery.mode not in DELIVERY_MODES:
        problems.append(f"delivery is one of {', '.join(DELIVERY_MODES)} (got {delivery.mode!r})")
    if rule.story_updates < 0:
        problems.append(f"story updates are a number of articles, 0 or more (got {rule.story_updates})")
    if (rule.story_updates or rule.story_new_language) and not rule.per_story:
        problems.append("story updates need a per-story alert")
    if problems:
        raise AlertInvalid(f"{label} is not valid: " + "; ".join(problems))
    return replace(rule, name=name, topics=topics, query=query, entities=entities, languages=languages,
                   feeds=feeds, tags=tags, query_lemmas=query_lemmas if query else (), delivery=replace(delivery, webhook=webhook or None, email=email or None,
                                                 secret=delivery.secret if webhook else ""))


def _all_terms(node: Node) -> list[Term]:
    """Every term of a query, negated ones included."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, (And, Or)):
        return [term for item in node.items for term in _all_terms(item)]
    if isinstance(node, Not):
        return _all_terms(node.item)
    return []


def _masked(secret: str) -> str:
    return f"…{secret[-4:]}" if secret else ""
