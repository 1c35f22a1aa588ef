"""OPML, the format feed readers import and export subscription lists in.

Parsed with lxml with entity resolution, DTD loading and network access turned off, so a hostile
OPML file cannot expand entities or read local files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from ingest.errors import VigieError
from ingest.feed_tags import FOLDER_SEPARATOR  # separates nested folder names in a tag


class OpmlError(VigieError):
    kind = "invalid-opml"


@dataclass(frozen=True, slots=True)
class Subscription:
    url: str
    name: str | None = None
    #: the folders (outlines without a feed) it sits in, nested ones joined by "/": "News/World"
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OpmlDocument:
    subscriptions: tuple[Subscription, ...]  # one per feed URL, in document order, tags of every copy merged
    duplicates: tuple[Subscription, ...]  # the second and later outlines of a URL already listed



_PARSER = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False,
                          remove_comments=True, recover=False)


def parse_opml(data: bytes, source: str) -> list[Subscription]:
    """Every outline with an ``xmlUrl`` in ``data`` (nested categories included), in document order."""
    return list(read_opml(data, source).subscriptions)


def read_opml(data: bytes, source: str) -> OpmlDocument:
    """The feeds of an OPML file with their folders as tags, and the outlines repeating a URL."""
    if b"<!ENTITY" in data[:65536].upper():
        # A subscription list has no use for entities; declaring some is how entity bombs and XXE start.
        raise OpmlError(f"{source} declares XML entities; Vigie refuses such OPML files.")
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as error:
        raise OpmlError(f"{source} is not valid OPML: {error}") from None
    if root.tag.lower() != "opml":
        raise OpmlError(f"{source} is not OPML: its root element is <{root.tag}>, not <opml>.")
    found: dict[str, Subscription] = {}
    duplicates: list[Subscription] = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:
            continue
        sub = Subscription(url=url, name=_label(outline), tags=_folder_of(outline))
        if url in found:
            duplicates.append(sub)
            first = found[url]
            found[url] = Subscription(url=url, name=first.name or sub.name,
                                      tags=tuple(dict.fromkeys(first.tags + sub.tags)))
        else:
            found[url] = sub
    return OpmlDocument(subscriptions=tuple(found.values()), duplicates=tuple(duplicates))


def _label(outline: etree._Element) -> str | None:
    return (outline.get("title") or outline.get("text") or "").strip() or None


def _folder_of(outline: etree._Element) -> tuple[str, ...]:
    """The folder path of an outline: the labels of the outlines around it, outermost first."""
    names = []
    for parent in outline.iterancestors("outline"):
        label = _label(parent)
        if label:
            names.append(label.replace(FOLDER_SEPARATOR, " "))
    return (FOLDER_SEPARATOR.join(reversed(names)),) if names else ()


def render_opml(subscriptions: Iterable[Subscription], title: str = "Vigie feeds") -> str:
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{escape(_NOT_XML.sub('', title))}</title></head>",
        "  <body>",
    ]
    # A folder tree: each tag is a folder path; a feed with two tags sits in both folders, as feed
    # readers export it; a feed without tags sits at the top.
    tree: dict[str, Any] = {}
    for sub in subscriptions:
        for tag in sub.tags or ("",):
            node = tree
            for folder in (part for part in tag.split(FOLDER_SEPARATOR) if part.strip()):
                node = node.setdefault(folder, {})
            node.setdefault(_FEEDS, []).append(sub)
    _render_folder(tree, lines, 2)
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _attr(value: str) -> str:
    """An attribute value XML can carry: characters XML 1.0 forbids are dropped, the rest quoted."""
    return quoteattr(_NOT_XML.sub("", value))


_FEEDS = "\0feeds"  # the feeds of a folder, beside its subfolders (no folder name holds a NUL)


def _render_folder(node: dict[str, Any], lines: list[str], depth: int) -> None:
    pad = "  " * depth
    for sub in node.get(_FEEDS, []):
        name = sub.name or sub.url
        lines.append(f"{pad}<outline type=\"rss\" text={_attr(name)} title={_attr(name)} xmlUrl={_attr(sub.url)}/>")
    for folder, child in node.items():
        if folder == _FEEDS:
            continue
        lines.append(f"{pad}<outline text={_attr(folder)} title={_attr(folder)}>")
        _render_folder(child, lines, depth + 1)
        lines.append(f"{pad}</outline>")
