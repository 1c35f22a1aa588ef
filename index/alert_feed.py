"""An alert's matches as an Atom feed (RFC 4287), so people follow it in the feed reader they use.

Pure rendering: the caller reads the notifications (``NotificationStore.recent``) and serves the
bytes (`vigie alerts feed NAME` prints them; the HTTP API serves them as
``application/atom+xml``). Entry ids are the notification ids, so a reader shows each match once.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timezone
from urllib.parse import quote
from xml.etree import ElementTree as ET

from index.alerts import AlertRule
from ingest.notification_records import Notification

ATOM = "http://www.w3.org/2005/Atom"


def alert_feed_url(base_url: str, rule: AlertRule) -> str:
    """Where the API serves the feed: ``<base_url>/alerts/<alert id>/feed``."""
    return f"{base_url.rstrip('/')}/alerts/{quote(rule.alert_id)}/feed"


def describe(rule: AlertRule) -> str:
    """The rule in one line, for people: 'migration or ceasefire; "Turquie OR Turkey"; in fr, en'."""
    parts: list[str] = []
    if rule.topics:
        joined = (" and " if rule.all_topics else " or ").join(rule.topics)
        parts.append(joined + (f" (score ≥ {rule.min_score:g})" if rule.min_score is not None else ""))
    if rule.query:
        parts.append(f"“{rule.query}”")
    if rule.entities:
        parts.append("naming " + " and ".join(rule.entities))
    if rule.languages:
        parts.append("in " + ", ".join(rule.languages))
    if rule.feeds:
        parts.append("from " + ", ".join(rule.feeds))
    if rule.tags:
        parts.append("from feeds tagged " + " or ".join(rule.tags))
    return "; ".join(parts)


def alert_atom(rule: AlertRule, notifications: Sequence[Notification], base_url: str) -> bytes:
    """The Atom document of ``rule``'s matches (give the newest first; the order is kept)."""
    feed = ET.Element("feed", xmlns=ATOM)  # plain tags under a default namespace
    _text(feed, "id", f"urn:vigie:alert:{rule.alert_id}")
    _text(feed, "title", f"Vigie alert: {rule.name}")
    _text(feed, "subtitle", describe(rule))
    moments = [item.created_at for item in notifications if item.created_at]
    updated = max(moments) if moments else (rule.updated_at or datetime.now(timezone.utc))
    _text(feed, "updated", _stamp(updated))
    ET.SubElement(feed, "link", rel="self", type="application/atom+xml", href=alert_feed_url(base_url, rule))
    author = ET.SubElement(feed, "author")
    _text(author, "name", "Vigie")
    _text(feed, "generator", "Vigie")
    for item in notifications:
        feed.append(_entry(item))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _entry(item: Notification) -> ET.Element:
    entry = ET.Element("entry")
    _text(entry, "id", f"urn:vigie:notification:{item.notification_id}")
    _text(entry, "title", item.title or item.article_id)
    if item.url:
        ET.SubElement(entry, "link", rel="alternate", type="text/html", href=item.url)
    _text(entry, "updated", _stamp(item.created_at))
    if item.published:
        try:
            _text(entry, "published", _stamp(datetime.fromisoformat(item.published)))
        except ValueError:
            pass
    for topic in item.matched.topics:
        ET.SubElement(entry, "category", term=topic.name, label=f"{topic.name} {topic.score:.2f}")
    summary = ET.SubElement(entry, "summary", type="html")
    summary.text = _summary_html(item)
    return entry


def _summary_html(item: Notification) -> str:
    """Highlights are Vigie's own text with ``<mark>`` added: escaped, then the marks restored."""
    matched = item.matched
    why: list[str] = []
    if matched.topics:
        why.append("topics: " + ", ".join(f"{topic.name} ({topic.score:.2f})" for topic in matched.topics))
    if matched.terms:
        why.append("words: " + ", ".join(matched.terms))
    if matched.entities:
        why.append("names: " + ", ".join(matched.entities))
    parts = [f"<p>{html.escape(' · '.join(why))}</p>"] if why else []
    for fragment in matched.highlights.get("text", []):
        escaped = html.escape(fragment).replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")
        parts.append(f"<blockquote>… {escaped} …</blockquote>")
    return "".join(parts) or html.escape(item.title)


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = value
    return element


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
