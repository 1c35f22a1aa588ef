"""An article given as a file (``vigie analyze FILE``): bytes to text, HTML or not, title and body.

Refused with ExtractionError (the message names the file): empty input, binary data. Everything else
is text: UTF-8 (with or without a BOM), UTF-16 with a BOM, else Windows-1252, the usual encoding of
Western European text that is not UTF-8.
"""

from __future__ import annotations

import codecs
import re

from ingest.clean import clean_line, headline_from_text
from ingest.errors import ExtractionError

#: A first line longer than this is the article itself, not its title.
MAX_TITLE_LINE_CHARS = 300
_SNIFF_CHARS = 4096
#: More control characters than this share of the first bytes: binary data, not text.
_MAX_CONTROL_SHARE = 0.02
_HTML_START = re.compile(r"\s*(<!doctype html|<html|<head|<body|<!--|<\?xml)", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?(p|div|br|span|a|article|section|h[1-6]|li|ul|table|body|head|meta|title)\b[^>]{0,500}>",
                       re.IGNORECASE)
_ALLOWED_CONTROLS = frozenset("\t\n\r\f")


def decode_text(raw: bytes | str, source_name: str) -> str:
    """The text of a file; ExtractionError when it is empty or binary."""
    if isinstance(raw, bytes):
        text = _decode(raw, source_name)
    else:
        text = raw
    if not text.strip():
        raise ExtractionError(f"{source_name}: empty input, no article to analyse")
    sample = text[:_SNIFF_CHARS]
    controls = sum(1 for char in sample if (ord(char) < 32 or 0x7F <= ord(char) < 0xA0) and char not in _ALLOWED_CONTROLS)
    if controls > _MAX_CONTROL_SHARE * len(sample):
        raise ExtractionError(f"{source_name}: binary data, not text or HTML")
    return text


def _decode(raw: bytes, source_name: str) -> str:
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                raise ExtractionError(f"{source_name}: declares {encoding} but is not valid {encoding}") from None
    if b"\x00" in raw[:_SNIFF_CHARS]:
        raise ExtractionError(f"{source_name}: binary data, not text or HTML")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # The five bytes Windows-1252 leaves undefined become U+FFFD rather than failing the file.
        return raw.decode("cp1252", errors="replace")


def looks_like_html(text: str) -> bool:
    head = text[:_SNIFF_CHARS]
    return bool(_HTML_START.match(head)) or len(_HTML_TAG.findall(head)) >= 3


def split_title(text: str) -> tuple[str, str]:
    """(title, body) of a plain-text article: the first line is the title, unless it is the whole
    article or too long to be one; then the title is the first sentence and the body all the text."""
    stripped = text.strip()
    first, _, rest = stripped.partition("\n")
    if rest.strip() and len(first) <= MAX_TITLE_LINE_CHARS:
        return clean_line(first), rest
    return headline_from_text(clean_line(first)), stripped
