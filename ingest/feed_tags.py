"""Feed tags (the user's folders: OPML folders on import, `vigie feeds tag`) as filters: which feeds a
set of asked tags selects. One meaning for `vigie search --tag`, the API's ``tag=`` and alert rules'
``tags``: case-insensitive, and a folder takes its sub-folders ("News" selects "News/World")."""

from __future__ import annotations

from collections.abc import Iterable

#: separates nested folder names in a tag ("News/World")
FOLDER_SEPARATOR = "/"


def tag_key(tag: str) -> str:
    """How a tag is compared: trimmed, case folded."""
    return tag.strip().casefold()


def wanted_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """The asked tags as compared (``tag_key``), empty ones dropped, each once, in order."""
    return tuple(dict.fromkeys(key for key in map(tag_key, tags) if key))


def tag_selected(feed_tag: str, wanted: Iterable[str]) -> bool:
    """Whether a feed's tag is one of ``wanted`` (already ``tag_key``-ed) or inside one of them."""
    folded = tag_key(feed_tag)
    return any(folded == want or folded.startswith(want + FOLDER_SEPARATOR) for want in wanted)


def feed_selected(feed_tags: Iterable[str], wanted: Iterable[str]) -> bool:
    """Whether a feed carrying ``feed_tags`` is selected by any of ``wanted`` (already ``tag_key``-ed)."""
    wanted = tuple(wanted)
    return any(tag_selected(tag, wanted) for tag in feed_tags)


def selecting_keys(feed_tag: str) -> tuple[str, ...]:
    """Every asked tag (as ``tag_key``) that selects a feed carrying ``feed_tag``: the tag and each of
    its parent folders ("news/world" -> "news", "news/world"). ``tag_selected(t, [w])`` holds exactly
    when ``w`` is one of these."""
    folded = tag_key(feed_tag)
    parents = (folded[:at] for at, char in enumerate(folded) if char == FOLDER_SEPARATOR)
    return tuple(dict.fromkeys([*parents, folded]))
