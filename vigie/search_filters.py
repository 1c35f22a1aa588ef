"""What the command line and the API both check or resolve before a search: topic names against the
topic rules, tags to the feeds that carry them, feed titles for the hits. One place, one meaning."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ingest.errors import VigieError
from ingest.feed_tags import feed_selected, wanted_tags

if TYPE_CHECKING:  # types only: the topic rules' parser is 0.01 s of a `vigie search` without --topic (measured)
    from ingest.topic_rules import TopicRules
    from state.registry import FeedRegistry

log = logging.getLogger("vigie.search")


class UnknownTopic(VigieError):
    kind = "unknown-topic"


def known_topic_names(asked: Iterable[str], rules: TopicRules) -> tuple[str, ...]:
    """``asked`` lower-cased, or UnknownTopic naming the unknown ones and listing every known topic."""
    names = tuple(dict.fromkeys(name.strip().lower() for name in asked if name.strip()))
    known = sorted(topic.name.lower() for topic in rules.topics)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UnknownTopic(f"unknown topic{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                           f"(known topics: {', '.join(known)})")
    return names


def feeds_tagged(registry: FeedRegistry, tags: Iterable[str]) -> tuple[str, ...] | None:
    """The URLs of the feeds carrying any of ``tags`` (case-insensitive; "News" also takes the feeds of
    "News/World": ``ingest.feed_tags``, as alerts' tags); None when no tag is asked (no restriction)."""
    wanted = wanted_tags(tags)
    if not wanted:
        return None
    return tuple(feed.url for feed in registry.all() if feed_selected(feed.tags, wanted))


def feed_titles(registry: FeedRegistry) -> dict[str, str]:
    """Feed URL -> the name people know it by; empty (hits keep their URL) when Redis cannot answer,
    so a search never fails for want of a title."""
    try:
        return registry.titles()
    except Exception as error:  # noqa: BLE001 - the titles are a nicety, the hits are not
        log.warning("search.feed_titles_unavailable", extra={"error": str(error)})
        return {}
