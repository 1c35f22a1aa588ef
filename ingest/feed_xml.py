"""Feed text to XML that feedparser's strict parser reads in bounded time and memory.

feedparser falls back to a lenient, pure-Python parser whenever the XML is not well-formed. That
parser recovers well on small feeds but takes minutes and hundreds of megabytes on a few megabytes of
broken or hostile markup (measured: 9 MB of ``<`` took 124 s; a truncated 8 MB feed 196 s). So feedparser
only ever gets XML that expat has already accepted, prepared by ``feed_document`` in linear steps:

1. ``strip_doctype``: every DOCTYPE in the prolog goes, internal subset included. Feeds never need
   one, and it is where entity bombs (billion laughs) and external entities (XXE, ``SYSTEM
   "file:///etc/passwd"``) are declared; without it an entity reference is just a name.
2. ``normalise_entities``: HTML named entities (``&eacute;``, common in RSS 0.91) become numeric
   references, unknown ones and bare ``&`` become text, outside CDATA sections.
3. Only if expat then reports them: prefixes used but never declared (``dc:creator`` without
   ``xmlns:dc``) are declared on the root with their usual namespace (``declare_prefixes``), and
   references to characters XML forbids (``&#0;``) are dropped.
4. ``rebuild``: one expat pass that bounds the document (items, elements, depth). Where expat stops
   on an error, the document is cut after the last complete item and parsing resumes at the next
   item, inside the same ancestors: items before and after a broken one are kept, the broken one and
   a truncated last one are dropped, never half-parsed.
"""

from __future__ import annotations

import html
import html.entities
import pyexpat
import re
from dataclasses import dataclass, field

#: Bounds on what feedparser is given (it spends ~12 µs per element and ~55 µs per item).
MAX_ITEMS = 5_000
MAX_ELEMENTS = 200_000
MAX_DEPTH = 100
#: A prolog (XML declaration, comments, DOCTYPE) longer than this is not a feed's.
MAX_PROLOG_CHARS = 1024 * 1024
#: Namespace prefixes declared on the root for a document that forgot them, at most.
MAX_PREFIXES = 64
_ENTITY_WINDOW = 256 * 1024
#: Resumptions after errors, at most (each costs a new parser; a feed this broken is not worth more).
MAX_RESUMPTIONS = 1_000

#: Prefixes feeds use without declaring them, with the namespace they mean.
KNOWN_PREFIXES = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "media": "http://search.yahoo.com/mrss/",
    "atom": "http://www.w3.org/2005/Atom",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "slash": "http://purl.org/rss/1.0/modules/slash/",
    "wfw": "http://wellformedweb.org/CommentAPI/",
    "sy": "http://purl.org/rss/1.0/modules/syndication/",
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "georss": "http://www.georss.org/georss",
    "feedburner": "http://rssnamespace.org/feedburner/ext/1.0",
}

_ITEM_NAMES = (b"item", b"entry")
_CONTAINER_NAMES = {"rss", "channel", "feed", "rdf"}
_XML_DECLARATION = re.compile(r"<\?xml\b[^>]{0,300}?\?>", re.IGNORECASE)
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PROLOG_SKIP = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)
_DOCTYPE_TOKEN = re.compile(r"\"[^\"]*\"|'[^']*'|<!--.*?-->|[\[\]>]", re.DOTALL)
_CDATA = re.compile(r"(<!\[CDATA\[.*?\]\]>)", re.DOTALL)
#: A bare ``&`` or a named entity XML does not predefine; valid references are not even matched.
_ENTITY_OR_AMP = re.compile(
    r"&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});)(?:([A-Za-z][A-Za-z0-9]{0,31});)?")
_CHAR_REF = re.compile(r"&#(?:([0-9]{1,7})|[xX]([0-9a-fA-F]{1,6}));")
_USED_PREFIX = re.compile(r"</?([A-Za-z_][\w.-]*):[A-Za-z_]|\s([A-Za-z_][\w.-]*):[A-Za-z_][\w.-]*\s*=")
_DECLARED_PREFIX = re.compile(r"""\bxmlns:([A-Za-z_][\w.-]*)\s*=\s*("[^"]*"|'[^']*')""")
_START_TAG = re.compile(rb"""<([^\s/>]+)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")
_START_TAG_TEXT = re.compile(r"""<([^\s/>]+)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")
_UNDECLARED = "urn:vigie:undeclared:"
_ITEM_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s/>]")


class UnreadableXml(ValueError):
    """The text cannot be made into a feed document (message says why, without the feed URL)."""


# --- prolog -----------------------------------------------------------------------------------------


def _end_of_doctype(text: str, start: int) -> int:
    """Index just past the DOCTYPE at ``start``: quoted strings, comments and ``[...]`` are skipped."""
    depth = 0
    limit = min(len(text), start + MAX_PROLOG_CHARS)
    for token in _DOCTYPE_TOKEN.finditer(text, start + len("<!DOCTYPE"), limit):
        char = token.group(0)
        if char == "[":
            depth += 1
        elif char == "]":
            depth = max(0, depth - 1)
        elif char == ">" and depth == 0:
            return token.end()
    raise UnreadableXml("its DOCTYPE never ends (or is longer than a megabyte)")


def _prolog(text: str) -> tuple[list[str], list[tuple[int, int]], int]:
    """Kept prolog pieces, DOCTYPE spans, and the index where the first element starts."""
    kept: list[str] = []
    doctypes: list[tuple[int, int]] = []
    i = 0
    while i < min(len(text), MAX_PROLOG_CHARS):
        skipped = _PROLOG_SKIP.match(text, i)
        if skipped and skipped.end() > i:
            kept.append(skipped.group(0))
            i = skipped.end()
        elif text[i:i + 9].upper() == "<!DOCTYPE":
            end = _end_of_doctype(text, i)
            doctypes.append((i, end))
            i = end
        else:
            break
    return kept, doctypes, i


def strip_doctype(text: str) -> tuple[str, bool]:
    """``text`` without the DOCTYPE declarations of its prolog; True if one was removed."""
    kept, doctypes, start = _prolog(text)
    if not doctypes:
        return text, False
    return "".join(kept) + text[start:], True


def root_element(text: str) -> str | None:
    """Name of the first element (``rss``, ``rdf:RDF``, ``feed``, ``html``); None if there is none.

    A DOCTYPE naming ``html`` counts as an html root, whatever follows it.
    """
    try:
        _, doctypes, start = _prolog(text)
    except UnreadableXml:
        return None
    for begin, end in doctypes:
        declared = re.match(r"<!DOCTYPE\s+([^\s>\[]+)", text[begin:end], re.IGNORECASE)
        if declared and declared.group(1).lower() == "html":
            return "html"
    tag = re.match(r"<([A-Za-z_][\w:.-]*)", text[start:start + 256])
    return tag.group(1) if tag else None


# --- text repairs -----------------------------------------------------------------------------------


def _entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name is None:
        return "&amp;"  # a bare ampersand ("Tom & Jerry")
    value = html.entities.html5.get(name + ";")
    if value is None:
        return "&amp;" + match.group(0)[1:]  # unknown: shown as written, never expanded
    return "".join(f"&#{ord(char)};" for char in value)


def _allowed_char_ref(match: re.Match[str]) -> str:
    code = int(match.group(1)) if match.group(1) else int(match.group(2), 16)
    allowed = (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
               or 0x10000 <= code <= 0x10FFFF)
    return match.group(0) if allowed else ""


def normalise_entities(text: str) -> str:
    """HTML named entities as numeric references; unknown entities and bare ``&`` as text.

    CDATA sections are left alone: what they hold is literal. Long stretches are rewritten a window
    at a time, so a document made of millions of ``&`` never holds millions of fragments at once.
    """
    if "&" not in text:
        return text
    parts = _CDATA.split(text)
    for index in range(0, len(parts), 2):  # odd indexes are the CDATA sections themselves
        part = parts[index]
        if "&" not in part:
            continue
        pieces: list[str] = []
        begin = 0
        while begin < len(part):
            # Cut only where a reference starts, so none is ever split between two windows.
            cut = part.find("&", begin + _ENTITY_WINDOW)
            end = len(part) if cut < 0 else cut
            pieces.append(_ENTITY_OR_AMP.sub(_entity, part[begin:end]))
            begin = end
        parts[index] = "".join(pieces)
    return "".join(parts)


def declare_prefixes(text: str) -> tuple[str, list[str]]:
    """Declare on the root element every prefix the document uses that the root does not declare.

    Returns the text and the prefixes declared nowhere in the document (worth a warning). A prefix
    declared deeper in the document gets the same namespace on the root; redeclaring it is harmless.
    """
    _, _, start = _prolog(text)
    root = _START_TAG_TEXT.match(text, start)
    if root is None:
        return text, []
    on_root = {m.group(1) for m in _DECLARED_PREFIX.finditer(root.group(0))}
    anywhere: dict[str, str] = {}
    for declared in _DECLARED_PREFIX.finditer(text):
        anywhere.setdefault(declared.group(1), declared.group(2)[1:-1])
    used: set[str] = set()
    for match in _USED_PREFIX.finditer(text):
        used.add(match.group(1) or match.group(2))
        if len(used) > MAX_PREFIXES:
            break  # no feed uses this many vocabularies; what is left undeclared is cut out by rebuild
    missing = sorted(used - on_root - {"xml", "xmlns"})[:MAX_PREFIXES]
    if not missing:
        return text, []
    declarations = "".join(
        f' xmlns:{prefix}="{html.escape(anywhere.get(prefix) or KNOWN_PREFIXES.get(prefix) or _UNDECLARED + prefix)}"'
        for prefix in missing
    )
    name_end = start + 1 + len(root.group(1))
    return text[:name_end] + declarations + text[name_end:], [p for p in missing if p not in anywhere]


def xml_utf8(text: str) -> bytes:
    """``text`` as UTF-8 bytes with a UTF-8 XML declaration and without characters XML forbids."""
    body = _XML_FORBIDDEN.sub("", text).lstrip()
    declaration = _XML_DECLARATION.match(body)
    if declaration:
        body = body[declaration.end():]
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body.encode("utf-8", "replace")


# --- the bounded expat pass -------------------------------------------------------------------------


_UNBOUND_PREFIX = pyexpat.errors.codes[pyexpat.errors.XML_ERROR_UNBOUND_PREFIX]
_BAD_CHAR_REF = pyexpat.errors.codes[pyexpat.errors.XML_ERROR_BAD_CHAR_REF]


class _Fixable(Exception):
    """The document stops on an error ``feed_document`` knows how to fix in the text."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _Stop(Exception):
    """Raised from an expat handler to end a pass early (a cap was reached)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Open:
    qname: bytes
    start_tag: bytes


@dataclass
class Rebuilt:
    """The document feedparser gets, and what had to be done to it."""

    data: bytes
    warnings: list[str] = field(default_factory=list)
    items: int = 0


class _Pass:
    """One expat pass over ``context start tags + data[start:]``: cut points found, or where it stopped.

    ``context`` re-opens the ancestors (rss, channel) when resuming after an error, so the namespace
    declarations on them are in force again.
    """

    def __init__(self, data: bytes, start: int, context: list[_Open], budget: dict[str, int]) -> None:
        self.data = data
        self.start = start
        self.synthetic = b"".join(element.start_tag for element in context)
        self.budget = budget
        self.stack: list[_Open] = []
        self.item_depth: int | None = None
        self.item_end_if_empty = 0
        self.last_cut: int | None = None  # absolute offset just after the last complete item
        self.cut_context: list[_Open] = []  # the item's ancestors at that point
        self.root_closed = False
        self.error: str | None = None
        self.error_code: int | None = None
        self.error_at = len(data)
        self.capped: str | None = None
        self.items = 0
        self.parser = pyexpat.ParserCreate(namespace_separator=" ")
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end

    def _absolute(self, fed: int) -> int:
        return self.start + fed - len(self.synthetic)

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        fed = self.parser.CurrentByteIndex
        if fed < len(self.synthetic):  # re-opening an ancestor: not counted again
            source, offset = self.synthetic, fed
        else:
            source, offset = self.data, self._absolute(fed)
            self.budget["elements"] -= 1
            if self.budget["elements"] < 0:
                raise _Stop(f"more than {MAX_ELEMENTS:,} elements")
        if len(self.stack) >= MAX_DEPTH:
            raise _Stop(f"elements nested more than {MAX_DEPTH} deep")
        tag = _START_TAG.match(source, offset)
        if tag is None:  # cannot happen for a tag expat accepted; stop rather than guess
            raise _Stop("a start tag that cannot be re-read")
        local = tag.group(1).rsplit(b":", 1)[-1]
        if self.item_depth is None and local in _ITEM_NAMES and 1 <= len(self.stack) <= 3:
            if self.budget["items"] <= 0:
                raise _Stop(f"more than {MAX_ITEMS:,} items")
            self.item_depth = len(self.stack)
            self.item_end_if_empty = tag.end() if tag.group(2) == b"/" else -1
        self.stack.append(_Open(tag.group(1), tag.group(0)))

    def _end(self, name: str) -> None:
        self.stack.pop()
        self.root_closed = not self.stack
        if self.item_depth is not None and len(self.stack) == self.item_depth:
            if self.item_end_if_empty >= 0:
                self.last_cut = self.item_end_if_empty
            else:
                self.last_cut = self.data.index(b">", self._absolute(self.parser.CurrentByteIndex)) + 1
            self.cut_context = list(self.stack)
            self.item_depth = None
            self.items += 1
            self.budget["items"] -= 1

    def run(self) -> bool:
        """True if this pass read to the end of the document without error."""
        try:
            if self.synthetic:
                self.parser.Parse(self.synthetic, False)
            view = memoryview(self.data)
            for chunk in range(self.start, len(self.data), 1 << 16):
                self.parser.Parse(view[chunk:chunk + (1 << 16)], False)
            self.parser.Parse(b"", True)
            return True
        except _Stop as stop:
            self.capped = stop.reason
            self.error_at = max(self.start, self._absolute(self.parser.CurrentByteIndex))
        except pyexpat.ExpatError as error:
            self.error = pyexpat.ErrorString(error.code)
            self.error_code = error.code
            self.error_at = max(self.start, self._absolute(self.parser.ErrorByteIndex))
        return False


def _line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _closing(context: list[_Open]) -> bytes:
    return b"".join(b"</" + element.qname + b">" for element in reversed(context))


def _containers(stack: list[_Open]) -> list[_Open]:
    """The leading run of rss/channel/feed/RDF elements: where items live."""
    run: list[_Open] = []
    for element in stack:
        if element.qname.rsplit(b":", 1)[-1].decode("ascii", "replace").lower() not in _CONTAINER_NAMES:
            break
        run.append(element)
    return run


def rebuild(data: bytes, *, fixable: set[int] | frozenset[int] = frozenset()) -> Rebuilt:
    """``data`` checked by expat, bounded, and cut around what it could not read (see module docstring).

    Raises ``_Fixable`` instead of cutting when the first error is one of the ``fixable`` codes.
    """
    budget = {"items": MAX_ITEMS, "elements": MAX_ELEMENTS}
    walk = _Pass(data, 0, [], budget)
    if walk.run():
        return Rebuilt(data=data, items=walk.items)  # the usual case: well-formed and within bounds
    if walk.error_code is not None and walk.error_code in fixable:
        raise _Fixable(walk.error_code)

    segments: list[bytes] = []
    context: list[_Open] = []
    warnings: list[str] = []
    first_error: str | None = None
    items = broken = resumptions = 0
    while True:
        items += walk.items
        if walk.root_closed and walk.error:
            segments.append(data[walk.start:walk.error_at])  # junk after the root element: the rest is whole
            context = []
            break
        if walk.capped:
            warnings.append(f"the feed has {walk.capped}; the rest was ignored")
        elif first_error is None:
            first_error = f"line {_line(data, walk.error_at)}: {walk.error}"
        if walk.item_depth is not None and not walk.capped:
            broken += 1  # the item being read when the error came is lost
        if walk.last_cut is not None:
            segments.append(data[walk.start:walk.last_cut])
            context = walk.cut_context
        elif walk.start == 0:
            # Nothing complete before the first error: keep the containers, lose their first children.
            context = _containers(walk.stack)
            segments.append(b"".join(element.start_tag for element in context))
        following = _ITEM_START.search(data, walk.error_at + 1)
        resumptions += 1
        if walk.capped or following is None or not context or resumptions > MAX_RESUMPTIONS:
            break
        walk = _Pass(data, following.start(), context, budget)
        if walk.run():
            items += walk.items
            segments.append(data[walk.start:])
            context = []
            break

    if not items:
        raise UnreadableXml(f"no readable item ({first_error or (warnings[0] if warnings else 'none found')})")
    if first_error is not None:
        dropped = f", {broken} broken or truncated one(s) dropped" if broken else ""
        warnings.insert(0, f"malformed XML ({first_error}); {items} item(s) kept{dropped}")
    output = b"".join(segments) + _closing(context)
    _verify(output)
    return Rebuilt(data=output, warnings=warnings, items=items)


def _verify(output: bytes) -> None:
    parser = pyexpat.ParserCreate(namespace_separator=" ")
    try:
        parser.Parse(output, True)
    except pyexpat.ExpatError as error:  # a bug in rebuild: refuse rather than hand feedparser bad XML
        raise UnreadableXml(f"it could not be repaired ({pyexpat.ErrorString(error.code)})") from None


# --- the whole preparation ---------------------------------------------------------------------


def feed_document(text: str) -> Rebuilt:
    """Steps 1 to 4 of the module docstring: what feedparser may safely be given, and the warnings.

    Undeclared prefixes and references to forbidden characters are only searched for when expat
    reports them: a clean feed pays for none of it.
    """
    text, removed = strip_doctype(text)
    text = normalise_entities(text)
    warnings = ["DOCTYPE removed: the entities it declared are not expanded"] if removed else []
    fixable = {_UNBOUND_PREFIX, _BAD_CHAR_REF}
    while True:
        try:
            rebuilt = rebuild(xml_utf8(text), fixable=fixable)
            break
        except _Fixable as needed:
            fixable.discard(needed.code)  # each fix is tried once
            if needed.code == _UNBOUND_PREFIX:
                text, undeclared = declare_prefixes(text)
                if undeclared:
                    warnings.append(f"namespace prefix(es) used without declaration: {', '.join(undeclared)}")
            else:
                text = _CHAR_REF.sub(_allowed_char_ref, text)
    rebuilt.warnings[:0] = warnings
    return rebuilt
