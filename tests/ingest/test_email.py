"""Alert e-mails: what they say (alert, article, why, story) and how a send can fail."""

from __future__ import annotations

import socket
from datetime import datetime, timezone

import pytest

from ingest.email import EmailError, EmailSender, SmtpConfig, digest_message, match_message, valid_address
from ingest.models import TopicMatch
from ingest.notification_records import Matched
from tests.index.factories import make_notification
from tests.support.smtp import SmtpReceiver

STORY = {"id": "s1", "headline": "Erdogan à Moscou", "size": 4, "languages": ["fr", "en"], "reason": "new"}


def _item(article: str, story: dict | None = None):  # type: ignore[no-untyped-def, type-arg]
    return make_notification(
        "a1", article, alert_name="Idleb <urgent>", title=f"Titre {article} & co", url=f"https://x.example/{article}",
        feed="https://x.example/feed.xml", language="fr", published="2026-11-30T08:00:00+00:00",
        matched=Matched(topics=(TopicMatch("conflict", 0.71, ()),), terms=("Idleb",), entities=("Idleb", "Erdogan")),
        story=story)


def test_a_match_message_names_the_alert_the_article_why_and_its_story() -> None:
    item = _item("one", STORY)
    message = match_message(item, "vigie@example.org", "ana@example.org")
    assert message["Subject"] == "[Vigie] Idleb <urgent>: Titre one & co"
    assert message["To"] == "ana@example.org" and message["From"] == "vigie@example.org"
    assert message["Message-ID"] == f"<{item.notification_id}@vigie>" and message["X-Vigie-Alert"] == "a1"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for expected in ("Alert “Idleb <urgent>” matched an article.", "Titre one & co", "https://x.example/one",
                     "feed https://x.example/feed.xml", "Matched: conflict 0.71, “Idleb”", "Names: Idleb, Erdogan",
                     "Story: Erdogan à Moscou (4 articles)"):
        assert expected in text, expected
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Idleb &lt;urgent&gt;" in html and "<urgent>" not in html  # names are escaped in HTML
    assert 'href="https://x.example/one"' in html and "Story: Erdogan à Moscou (4 articles)" in html


def test_a_digest_lists_each_match_once() -> None:
    end = datetime(2026, 11, 30, 9, tzinfo=timezone.utc)
    message = digest_message("a1", "Idleb", "d1", end, [_item("one"), _item("two", STORY)], "v@example.org",
                             "ana@example.org")
    assert message["Subject"] == "[Vigie] Idleb: 2 article(s) until 2026-11-30T09:00+00:00"
    assert message["Message-ID"] == "<d1@vigie>"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "1. Titre one & co" in text and "2. Titre two & co" in text and text.count("Story:") == 1


@pytest.mark.parametrize("address, valid", [("ana@example.org", True), ("a.b+c@mail.example.co.uk", True),
                                            ("ana", False), ("ana@localhost", False), ("Ana <ana@example.org>", False),
                                            ("a@b.org, c@d.org", False), ("a b@example.org", False)])
def test_addresses(address: str, valid: bool) -> None:
    assert valid_address(address) is valid


def test_failures_say_whether_trying_again_may_help() -> None:
    message = match_message(_item("one"), "v@example.org", "ana@example.org")
    with pytest.raises(EmailError) as unset:
        EmailSender(SmtpConfig(host=None)).send(message)
    assert unset.value.kind == "not-configured" and not unset.value.transient
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(EmailError) as refused:
        EmailSender(SmtpConfig(host="127.0.0.1", port=closed, starttls=False, timeout=3)).send(message)
    assert refused.value.kind == "connection-refused" and refused.value.transient
    server = SmtpReceiver(refuse_first=1)
    try:
        sender = EmailSender(SmtpConfig(host="127.0.0.1", port=server.port, starttls=False, timeout=5))
        with pytest.raises(EmailError) as later:
            sender.send(message)
        assert later.value.kind == "smtp-451" and later.value.transient and "ana@example.org" in str(later.value)
        assert sender.send(message).recipient == "ana@example.org"
        # The server's STARTTLS is missing: a permanent refusal, never a message sent in clear.
        with pytest.raises(EmailError) as no_tls:
            EmailSender(SmtpConfig(host="127.0.0.1", port=server.port, starttls=True, timeout=5)).send(message)
        assert no_tls.value.kind == "tls-error" and not no_tls.value.transient
        assert len(server.mails()) == 1
    finally:
        server.close()
