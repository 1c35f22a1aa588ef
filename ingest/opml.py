"""OPML, the format feed readers import and export subscription lists in.

Parsed with lxml with entity resolution, DTD loading and network access turned off, so a hostile
OPML file cannot expand entities or read local files.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from lxml import etree

from ingest.errors import VigieError


class OpmlError(VigieError):
    kind = "invalid-opml"


@dataclass(frozen=True, slots=True)
class Subscription:
    url: str
    name: str | None = None


_PARSER = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False,
                          remove_comments=True, recover=False)


def parse_opml(data: bytes, source: str) -> list[Subscription]:
    """Every outline with an ``xmlUrl`` in ``data`` (nested categories included), in document order."""
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
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url and url not in found:
            name = (outline.get("title") or outline.get("text") or "").strip() or None
            found[url] = Subscription(url=url, name=name)
    return list(found.values())


def render_opml(subscriptions: Iterable[Subscription], title: str = "Vigie feeds") -> str:
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{title}</title></head>",
        "  <body>",
    ]
    for sub in subscriptions:
        name = sub.name or sub.url
        lines.append(f"    <outline type=\"rss\" text={quoteattr(name)} title={quoteattr(name)} xmlUrl={quoteattr(sub.url)}/>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)
