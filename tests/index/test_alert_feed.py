"""An alert's matches as an Atom feed that feed readers, and Vigie's own feed parser, read."""

from __future__ import annotations

from datetime import datetime, timezone

from index.alert_feed import alert_atom, describe
from index.alerts import new_rule
from ingest.feeds import parse_feed
from ingest.models import TopicMatch
from ingest.notification_records import Matched, Notification
from tests.index.factories import make_notification


def notification(article: str, title: str) -> Notification:
    return make_notification(
        "a1", article, alert_name="Migration & Turquie", title=title, url=f"https://example.org/{article}?a=1&b=2",
        published="2026-11-20T08:00:00+00:00",
        matched=Matched(topics=(TopicMatch("migration", 0.84, ()),), terms=("Turquie",),
                        highlights={"text": ["la <mark>Turquie</mark> & <b>l'Europe</b>"]}),
        state="delivered", created_at=datetime(2026, 11, 25, 12, tzinfo=timezone.utc), due_at=None,
    )


def test_the_feed_parses_and_lists_each_match_once_with_why() -> None:
    rule = new_rule("Migration & Turquie", topics=["migration", "ceasefire"], query="Turquie OR Turkey")
    items = [notification("x", "Erdogan & l'Europe"), notification("y", "Deuxième article")]
    body = alert_atom(rule, items, "http://127.0.0.1:8766/")
    parsed = parse_feed(body, feed_url="http://127.0.0.1:8766/alerts/feed")
    assert [item.title for item in parsed.items] == ["Erdogan & l'Europe", "Deuxième article"]
    assert parsed.items[0].url == "https://example.org/x?a=1&b=2"
    assert len({item.article_id for item in parsed.items}) == 2
    assert "<mark>Turquie</mark>" in parsed.items[0].summary and "<b>" not in parsed.items[0].summary
    assert b'href="http://127.0.0.1:8766/alerts/' in body and b"<title>Vigie alert: Migration &amp; Turquie</title>" in body
    assert describe(rule) == "migration or ceasefire; “Turquie OR Turkey”"


def test_an_alert_without_matches_is_a_valid_empty_feed() -> None:
    body = alert_atom(new_rule("rien", topics=["migration"]), [], "http://localhost")
    assert parse_feed(body, feed_url="http://localhost/feed").items == ()
