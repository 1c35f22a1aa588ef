"""Per-story alerts: one notification per story, then, if the rule asks, updates.

A rule with ``per_story`` notifies a story's first matching article once (reason "new story"); a
later matching article of the same story notifies again only when the rule asks for updates and
the story has grown by ``story_updates`` articles since that first notification (once per step:
"grew by 5", "grew by 10", ...) or has reached a language it did not have then (once per language).
Updates are looked at when a matching article arrives.

Each of these notifications has an id derived from (alert, story, step), written with
``op_type=create`` like every notification: redeliveries and two workers on one story at once still
make one notification per step. The notification (and the webhook body) carries the story: id,
headline, size, languages and the reason.

An article without a story (stories off, or its assignment deferred) is notified as before, alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from index.alert_match import AlertMatch
from index.alerts import AlertRule
from index.article_document import ArticleDocument
from index.notifications import NotificationStore
from index.stories import StoryRecord, StoryStore
from ingest.notification_records import Matched, Notification, notification_id


def story_notification_id(alert_id: str, story_id: str, step: str) -> str:
    return notification_id(alert_id, f"story:{story_id}:{step}")


@dataclass(frozen=True)
class StoryAlertMatch:
    """A per-story alert's match: what ``notification`` makes, for the story and the step."""

    rule: AlertRule
    article: ArticleDocument
    matched: Matched
    story: dict[str, Any]
    step: str  # "first", "grew:<n>", "language:<code>"

    def notification(self, now: datetime) -> Notification:
        base = AlertMatch(self.rule, self.article, self.matched).notification(now)
        return replace(base, notification_id=story_notification_id(self.rule.alert_id, self.story["id"], self.step),
                       story=self.story)


def _story(record: StoryRecord, reason: str) -> dict[str, Any]:
    return {"id": record.story_id, "headline": record.headline, "size": record.size,
            "languages": list(record.languages), "reason": reason}


#: what makes a notification: an alert's match, or a per-story alert's
Match = AlertMatch | StoryAlertMatch


def story_matches(matches: Sequence[Match], stories: StoryStore, notifications: NotificationStore) -> list[Match]:
    """``matches`` with those of per-story rules turned into story notifications (or dropped when the
    story was notified and nothing new is due); the others unchanged, in order."""
    per_story = [m for m in matches if m.rule.per_story and m.article.story_id]
    if not per_story:
        return list(matches)
    resolved = stories.resolve({m.article.story_id for m in per_story})
    records = stories.records(sorted(set(resolved.values())))
    firsts = {(m.rule.alert_id, resolved[m.article.story_id]) for m in per_story}
    known = {item.notification_id: item for item in notifications.get_many(
        [story_notification_id(alert, story, "first") for alert, story in sorted(firsts)])}
    result: list[Match] = []
    done: set[tuple[str, str]] = set()
    for match in matches:
        if not (match.rule.per_story and match.article.story_id):
            result.append(match)
            continue
        rule = match.rule
        story_id = resolved[match.article.story_id]
        record = records.get(story_id)
        if record is None or (rule.alert_id, story_id) in done:
            continue
        done.add((rule.alert_id, story_id))
        first = known.get(story_notification_id(rule.alert_id, story_id, "first"))
        if first is None:
            result.append(StoryAlertMatch(rule, match.article, match.matched, _story(record, "new story"), "first"))
            continue
        before = first.story or {}
        if rule.story_updates > 0:
            steps = (record.size - int(before.get("size") or 0)) // rule.story_updates
            if steps >= 1:
                grown = steps * rule.story_updates
                result.append(StoryAlertMatch(rule, match.article, match.matched,
                                              _story(record, f"grew by {grown} articles (now {record.size})"),
                                              f"grew:{grown}"))
        if rule.story_new_language:
            for language in sorted(set(record.languages) - set(before.get("languages") or ())):
                result.append(StoryAlertMatch(rule, match.article, match.matched,
                                              _story(record, f"reached a new language: {language}"),
                                              f"language:{language}"))
    return result
