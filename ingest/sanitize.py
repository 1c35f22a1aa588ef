"""Feed markup made safe to store and show: nh3 (the Rust ``ammonia`` sanitiser) with Vigie's policy.

Summaries and contents come from servers we do not control and end up in a search UI, so the policy
is an allow-list: ammonia's default formatting tags, no script, style, iframe, object, embed or form,
no event handler or style attribute, only http, https and mailto URLs (no ``javascript:``, no
``data:``), relative URLs resolved against the item's base so links still work out of context.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import urlsplit

import nh3

#: Tags removed together with everything inside them (their content is code or a fallback for it).
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript",
    "template", "svg", "math", "textarea", "select", "button",
})
#: ammonia's default allow-list of formatting tags, which already excludes everything above and <form>.
ALLOWED_TAGS = frozenset(nh3.ALLOWED_TAGS) - DROPPED_WITH_CONTENT
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})

_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=512)
def _cleaner(base_url: str | None) -> nh3.Cleaner:
    # One cleaner per base URL: building one costs more than cleaning a summary, and a feed's items
    # share one or two bases (the feed URL, an xml:base).
    if base_url is not None:
        relative: object = ("rewrite_with_base", base_url)
    else:
        relative = "deny"  # a relative link with nothing to resolve it against would point nowhere
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        url_schemes=set(ALLOWED_URL_SCHEMES),
        url_relative=relative,
        strip_comments=True,
    )


def _usable_base(base_url: str | None) -> str | None:
    if not base_url:
        return None
    try:
        parts = urlsplit(base_url)
    except ValueError:
        return None
    return base_url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def sanitize_html(markup: str, base_url: str | None) -> str:
    """``markup`` with only safe tags, attributes and URLs left; relative URLs made absolute."""
    if not markup:
        return ""
    return _cleaner(_usable_base(base_url)).clean(markup).strip()


_TEXT_ONLY = nh3.Cleaner(tags=set(), clean_content_tags=set(DROPPED_WITH_CONTENT), strip_comments=True)


def plain_text(markup: str) -> str:
    """The visible text of an HTML fragment, entities decoded and white space collapsed (for titles)."""
    if not markup:
        return ""
    return _SPACES.sub(" ", html.unescape(_TEXT_ONLY.clean(markup))).strip()
