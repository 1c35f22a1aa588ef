"""Alert rules: clear errors at creation, stored durably, changes seen at once, the backtest."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.alert_store import AlertStore, backtest
from index.alert_feed import describe
from index.alert_match import AlertMatcher
from index.alerts import (AlertExists, AlertInvalid, AlertNotFound, AlertRule, Delivery, changed_delivery, new_rule,
                          validate_rule)
from index.article_document import article_document
from index.store import ArticleStore
from ingest.feed_tags import feed_selected, wanted_tags
from tests.index.factories import analysed, place, topic

TOPICS = ["migration", "ceasefire", "diplomacy"]


def invalid(**kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(AlertInvalid) as error:
        validate_rule(new_rule(kwargs.pop("name", "watch"), **kwargs), TOPICS)
    return str(error.value)


def test_bad_rules_are_refused_with_a_clear_reason() -> None:
    assert "unknown topic migrations (known: ceasefire, diplomacy, migration)" in invalid(topics=["migrations"])
    message = invalid(query="Turquie AND (Syrie")
    assert "the query does not parse" in message and "parenthesis is never closed" in message
    assert "only http and https" in invalid(topics=["migration"], webhook="ftp://example.org/hook")
    assert "has no host name" in invalid(topics=["migration"], webhook="http://")
    assert "needs something to match" in invalid()
    assert "needs a name" in invalid(name="  ", topics=["migration"])
    assert "between 0 and 1" in invalid(topics=["migration"], min_score=1.5)
    assert "needs at least one topic" in invalid(query="Turquie", min_score=0.5)
    assert "digest needs a webhook" in invalid(topics=["migration"], mode="daily")
    assert "at least 16 characters" in invalid(topics=["migration"], webhook="https://example.org/h", secret="short")
    assert "ISO 639-1" in invalid(topics=["migration"], languages=["french"])
    # every problem at once, so a person fixes them in one go
    message = invalid(topics=["nope"], query='"open', webhook="file:///etc/passwd")
    assert "unknown topic nope" in message and "never closed" in message and "uses file" in message


def test_a_valid_rule_is_normalised_and_gets_a_secret_and_lemmas() -> None:
    rule = validate_rule(new_rule(" Migration Turquie ", topics=["Migration"], query="réfugiés -football",
                                  languages=["FR"], webhook="HTTPS://Example.org/hook"),
                         TOPICS, lambda word: [word.rstrip("s")])
    assert rule.name == "Migration Turquie" and rule.topics == ("migration",) and rule.languages == ("fr",)
    assert rule.delivery.webhook == "https://example.org/hook"
    assert len(rule.delivery.secret) == 64  # 32 random bytes, hex
    assert dict(rule.query_lemmas) == {"réfugiés": ("réfugié",), "football": ("football",)}
    assert rule.lemma_variants()("réfugiés") == ["réfugié"]
    assert validate_rule(new_rule("n", topics=["migration"]), TOPICS).delivery == Delivery()  # stored only


def test_feed_tags_are_a_condition_normalised_as_search_compares_them_and_survive_a_round_trip() -> None:
    rule = validate_rule(new_rule("Syrie", tags=[" Moyen-Orient/Syrie ", "moyen-orient/SYRIE", "", "News"]), TOPICS)
    assert rule.tags == ("moyen-orient/syrie", "news")  # trimmed, case folded, each once, in order
    assert AlertRule.from_dict(rule.to_dict()) == rule
    assert rule.to_dict()["tags"] == ["moyen-orient/syrie", "news"]
    old = {key: value for key, value in rule.to_dict().items() if key != "tags"}  # stored before tags existed
    assert AlertRule.from_dict(old).tags == ()
    assert "needs something to match" in invalid(tags=["  "])
    assert "printable characters" in invalid(tags=["a\u202eb"])
    assert "at most 512" in invalid(tags=["x" * 513])
    assert "from feeds tagged moyen-orient/syrie or news" in describe(rule)
    # The backtest is `vigie search --tag`: the tagged feeds' URLs, none of them when no feed has the tag.
    assert rule.filters(tagged_feeds=("http://a/feed.xml",)).feed_urls == ("http://a/feed.xml",)
    assert rule.filters(tagged_feeds=None).feed_urls == ()
    assert validate_rule(new_rule("t", topics=["migration"]), TOPICS).filters(tagged_feeds=("x",)).feed_urls is None


def test_an_alert_with_tags_fires_only_for_articles_of_feeds_carrying_one_as_search_selects_them() -> None:
    rule = validate_rule(new_rule("Moyen-Orient", tags=["Moyen-Orient"], languages=["fr"]), TOPICS)
    tagged, other, untagged = (article_document(analysed(name, title="Erdogan parle", feed=f"http://127.0.0.1/{name}.xml"))
                               for name in ("tagged", "other", "untagged"))
    feed_tags = {"http://127.0.0.1/tagged.xml": ("Moyen-Orient/Syrie",),  # a sub-folder of the tag
                 "http://127.0.0.1/other.xml": ("Moyen-Orientale", "Sport")}  # a name that only starts alike
    matcher = AlertMatcher.build([rule], None)
    assert matcher.uses_tags and not AlertMatcher.build([new_rule("q", query="x")], None).uses_tags
    fired = [match.article.article_id for match in matcher.match([tagged, other, untagged], feed_tags)]
    assert fired == ["tagged"]
    assert matcher.match([tagged]) == []  # without the feeds' tags, no tag matches
    # The same feeds `vigie search --tag Moyen-Orient` keeps.
    assert [url for url, tags in feed_tags.items() if feed_selected(tags, wanted_tags(["Moyen-Orient"]))] == [
        "http://127.0.0.1/tagged.xml"]


def test_a_delivery_change_keeps_what_is_not_given_and_makes_a_secret_only_when_needed() -> None:
    hooked = Delivery("https://example.org/hook", "k" * 20, "daily")
    assert changed_delivery(hooked) == (hooked, False)
    assert changed_delivery(hooked, mode="immediate") == (Delivery("https://example.org/hook", "k" * 20), False)
    assert changed_delivery(hooked, webhook="https://example.org/other") == (
        Delivery("https://example.org/other", "k" * 20, "daily"), False)
    assert changed_delivery(hooked, secret="s" * 20)[0].secret == "s" * 20
    renewed, new = changed_delivery(hooked, secret=None)  # asked for a new random one
    assert new and len(renewed.secret) == 64 and renewed.secret != "k" * 20
    # A webhook given to an alert that had none gets a secret, flagged as never shown.
    given, new = changed_delivery(Delivery(), webhook="https://example.org/hook")
    assert new and len(given.secret) == 64 and given.webhook == "https://example.org/hook"
    # Without a webhook no secret is made up.
    assert changed_delivery(Delivery(), mode="hourly") == (Delivery(mode="hourly"), False)


@pytest.mark.integration
def test_store_add_list_show_pause_resume_remove(es: Elasticsearch, settings: Settings) -> None:
    changes: list[str] = []
    store = AlertStore(es, settings.index_prefix, known_topics=TOPICS, on_change=lambda: changes.append("x"))
    added = store.add(new_rule("Migration Turquie", topics=["migration"], query="Turquie",
                               webhook="http://127.0.0.1:9/hook", secret="s" * 20))
    assert store.get("migration turquie") == added == store.get(added.alert_id)  # by name (any case) or id
    with pytest.raises(AlertExists):
        store.add(new_rule("MIGRATION TURQUIE", topics=["ceasefire"]))
    store.add(new_rule("Trêves", topics=["ceasefire"]))
    assert [rule.name for rule in store.list()] == ["Migration Turquie", "Trêves"]
    paused = store.pause("Trêves")
    assert paused.paused and [rule.name for rule in store.active()] == ["Migration Turquie"]
    assert not store.resume("Trêves").paused
    edited = store.update("Migration Turquie", query="Turquie OR Turkey", languages=("fr", "en"))
    assert store.get(added.alert_id).query == "Turquie OR Turkey" and edited.created_at == added.created_at
    with pytest.raises(AlertInvalid):
        store.update("Migration Turquie", topics=("unknown",))
    assert store.remove("Trêves").name == "Trêves"
    with pytest.raises(AlertNotFound):
        store.get("Trêves")
    assert len(changes) == 6  # two adds, pause, resume, update, remove: the workers were told each time
    # Durable: a new store (another process) reads the same rules.
    assert [rule.query for rule in AlertStore(es, settings.index_prefix).list()] == ["Turquie OR Turkey"]


@pytest.mark.integration
def test_backtest_lists_what_the_alert_would_have_matched(es: Elasticsearch, settings: Settings) -> None:
    now = datetime.now(timezone.utc)
    articles = ArticleStore(es, settings.index_prefix)
    articles.ensure_ready()
    articles.index_batch([
        analysed("recent", text="La Turquie accueille des réfugiés.", entities=(place("Turquie"),),
                 topics=(topic("migration"),), published=now - timedelta(days=2)),
        analysed("old", text="La Turquie accueille des réfugiés.", topics=(topic("migration"),),
                 published=now - timedelta(days=30)),
        analysed("other", text="La Grèce accueille des réfugiés.", topics=(topic("migration"),),
                 published=now - timedelta(days=1)),
    ], refresh=True)
    rule = validate_rule(new_rule("mt", topics=["migration"], query="Turquie"), TOPICS)
    result = backtest(es, settings.index_prefix, rule, now - timedelta(days=7))
    assert [hit.article_id for hit in result.hits] == ["recent"]
    assert [hit.article_id for hit in backtest(es, settings.index_prefix, rule, now - timedelta(days=60)).hits] == [
        "recent", "old"]
