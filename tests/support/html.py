"""Checking that sanitised HTML is safe to put in a page."""

from __future__ import annotations

from html.parser import HTMLParser


class _Markup(HTMLParser):
    """Tags and attributes of sanitised HTML, as a browser would see them."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_safe_html(markup: str) -> None:
    for tag, attrs in _Markup(markup).tags:
        assert tag not in {"script", "style", "iframe", "object", "embed", "form", "svg"}, tag
        for name, value in attrs:
            assert not name.startswith("on"), name
            if name in {"href", "src"}:
                assert (value or "").startswith(("http://", "https://", "mailto:")), value
