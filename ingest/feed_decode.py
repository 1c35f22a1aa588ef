"""Feed bytes to text: which charset they are really in (the next step is ingest.feed_xml).

Charset, in this order (first that fits wins):
1. a byte-order mark (UTF-8, UTF-16, UTF-32), or UTF-16/32 recognised from how ``<?`` is encoded;
2. the HTTP ``charset``, then the XML declaration's ``encoding``. Labels are read as browsers read
   them (WHATWG Encoding Standard): ``iso-8859-1``, ``latin1`` and ``us-ascii`` mean windows-1252, so
   the curly quotes and œ of French feeds survive. A declared single-byte charset loses to UTF-8 when
   the bytes are valid UTF-8 with non-ASCII characters (a server's default ``charset=iso-8859-1`` on
   a UTF-8 file is the most common lie); a declared UTF-8 that does not decode is ignored;
3. with nothing declared and not UTF-8: charset_normalizer's guess, else windows-1252.
ingest.feed_xml then re-encodes the text as UTF-8 with a matching declaration: feedparser sees one charset.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: "<" in a wide encoding without a BOM (XML 1.0, appendix F): no 8-bit feed starts with a NUL beside it.
_WIDE_SIGNATURES = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)
#: Labels browsers decode as windows-1252 (WHATWG Encoding Standard, "windows-1252" labels).
_WINDOWS_1252_LABELS = {"latin_1", "ascii", "iso8859_1", "cp1252", "iso-8859-1", "us-ascii"}
_XML_DECLARATION = re.compile(rb"^\s*<\?xml\b[^>]{0,300}?\?>", re.IGNORECASE)
_DECLARED_ENCODING = re.compile(rb"""encoding\s*=\s*["']\s*([A-Za-z][A-Za-z0-9._:-]{0,40})\s*["']""")
_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class DecodedFeed:
    text: str
    encoding: str  # Python codec name actually used
    warnings: tuple[str, ...]


def _codec(label: str | None) -> str | None:
    """Python codec name for a charset label, browser-style; None if unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip()).name
    except LookupError:
        return None
    return "cp1252" if name in _WINDOWS_1252_LABELS else name


def _is_wide(codec: str) -> bool:
    return codec.startswith(("utf-16", "utf-32"))


def _decodes(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _guess(body: bytes) -> str | None:
    best = charset_normalizer.from_bytes(body[:_SNIFF_BYTES]).best()
    return _codec(best.encoding) if best is not None else None


def decode_feed_bytes(body: bytes, header_charset: str | None = None) -> DecodedFeed:
    """Decode ``body`` as a feed: see the module docstring for the order of evidence."""
    warnings: list[str] = []
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return DecodedFeed(body[len(bom):].decode(codec, "replace"), codec, ())
    for signature, codec in _WIDE_SIGNATURES:
        if body.startswith(signature):
            return DecodedFeed(body.decode(codec, "replace"), codec, ())

    declaration = _XML_DECLARATION.match(body[:512])
    declared_xml = _DECLARED_ENCODING.search(declaration.group(0)) if declaration else None
    candidates = [
        ("the HTTP header", header_charset),
        ("the XML declaration", declared_xml.group(1).decode("ascii") if declared_xml else None),
    ]
    as_utf8 = _decodes(body, "utf-8")
    utf8_has_non_ascii = as_utf8 is not None and not body.isascii()
    for source, label in candidates:
        if not label:
            continue
        codec = _codec(label)
        if codec is None:
            warnings.append(f"unknown charset {label!r} in {source} ignored")
            continue
        if _is_wide(codec):
            # A declaration we could read as ASCII cannot be right about a 16/32-bit encoding.
            warnings.append(f"charset {label!r} in {source} contradicts the bytes; ignored")
            continue
        if codec == "utf-8":
            if as_utf8 is not None:
                return DecodedFeed(as_utf8, "utf-8", tuple(warnings))
            warnings.append(f"{source} says {label} but the body is not valid UTF-8")
            continue
        if utf8_has_non_ascii and as_utf8 is not None:
            warnings.append(f"{source} says {label} but the body is UTF-8; read as UTF-8")
            return DecodedFeed(as_utf8, "utf-8", tuple(warnings))
        text = _decodes(body, codec)
        if text is not None:
            return DecodedFeed(text, codec, tuple(warnings))
        warnings.append(f"{source} says {label} but the body does not decode as {label}")

    if as_utf8 is not None:
        return DecodedFeed(as_utf8, "utf-8", tuple(warnings))
    guessed = _guess(body) or "cp1252"
    if _is_wide(guessed):
        guessed = "cp1252"  # no BOM and no wide signature: an 8-bit text that merely looked wide
    warnings.append(f"charset not declared (or wrong) and not UTF-8; read as {guessed}")
    return DecodedFeed(body.decode(guessed, "replace"), guessed, tuple(warnings))
