"""Article text as an analyst reads it: clean paragraphs from plain text or an HTML fragment.

The result is NFC text with one paragraph per block, paragraphs separated by a blank line. Spans of
entities index into it, so everything that changes offsets happens here and nowhere later.

What cleaning does, in order:
- characters: NFC; non-breaking and other exotic spaces become a space; typographic quotes become
  ASCII ones (guillemets stay: they are how French quotes); invisible and control characters go;
- paragraphs: blank-line blocks (or lines, when the text has no blank line) with whitespace collapsed;
- glitches: a full stop glued to the next sentence (``Idleb.Avec``) gets its space back;
- boilerplate: short paragraphs such as "Lire aussi ...", "Advertisement" or a row of share buttons
  (patterns in ``data/boilerplate.txt``) are dropped;
- repeats: a paragraph repeated verbatim, or a long sentence repeated verbatim, is kept once. Near
  repeats are kept on purpose: wire copy often restates a sentence with a different figure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import cache
from html.parser import HTMLParser
from importlib import resources

import nh3

PARAGRAPH_SEPARATOR = "\n\n"

#: Boilerplate patterns only apply to paragraphs shorter than this, so real text is never dropped.
_BOILERPLATE_MAX_CHARS = 200
#: Sentences at least this long (in words) are dropped when repeated verbatim; short ones
#: ("Il a refusé.") legitimately recur.
_REPEATED_SENTENCE_MIN_WORDS = 8

_SPACE_CHARS = "\u00a0\u202f\u2007\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u205f\u3000\t"
_INVISIBLE_CHARS = "\u200b\u2060\ufeff\u00ad"
_CONTROL_CHARS = "".join(chr(code) for code in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)] if chr(code) not in "\t\n")
_LINE_BREAK_CHARS = "\r\u2028\x0b\x0c\x85"

# Later entries win: \r, \x85 and friends are in the control range but mean a line break.
_CHARACTER_TABLE: dict[int, str | None] = {
    **dict.fromkeys(map(ord, _CONTROL_CHARS), None),
    **dict.fromkeys(map(ord, _LINE_BREAK_CHARS), "\n"),
    ord("\u2029"): "\n\n",
    **dict.fromkeys(map(ord, _SPACE_CHARS), " "),
    **dict.fromkeys(map(ord, _INVISIBLE_CHARS), None),
    **dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032"), "'"),
    **dict.fromkeys(map(ord, "\u201c\u201d\u201e\u201f\u2033"), '"'),
}


def _fold_table() -> dict[int, str | None]:
    # Latin letters with diacritics → their base letter; combining marks (decomposed input, the dot
    # that lower() leaves on Turkish İ) → nothing. Other scripts are left alone: a Cyrillic й is a
    # letter of its own, not an и with an accent.
    table: dict[int, str | None] = dict.fromkeys(range(0x0300, 0x0370), None)
    for code in [*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)]:
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base.isascii() and base.isalpha() and base != chr(code):
            table[code] = base.lower()
    table.update({ord("ß"): "ss", ord("æ"): "ae", ord("œ"): "oe", ord("ø"): "o", ord("ł"): "l",
                  ord("đ"): "d", ord("ı"): "i", ord("þ"): "th", ord("ð"): "d"})
    return table


_FOLD_TABLE = _fold_table()


_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")


def without_ascii(text: str) -> str:
    """``text`` without its ASCII characters: what is left to look at for accents, marks or any character
    a table changes, found by one regular expression (a set of every character costs twice the time)."""
    return _ASCII_RUNS.sub("", text)


def translator(table: Mapping[int, str | None]) -> Callable[[str], str]:
    """``str.translate`` with ``table``, fast on texts that hold few of its characters.

    CPython translates a text that is not pure ASCII one character at a time through the table (a
    dictionary lookup per character: about 0.25 ms for a French article of 4,000 characters). Here the
    table's characters present in a text are found once and each replaced by ``str.replace`` (the same
    article in 0.07 ms); a text with many of them (another script, a transliteration) has only the runs
    of the table's characters translated, found by one regular expression (0.14 ms). A short text (a
    word, a name) is translated directly: for it either way costs more than the lookups. Same result
    as ``text.translate(table)``.

    The characters present are what is left of the text once one regular expression has removed the
    runs of the others (of ASCII characters, when the table has none: the cheapest class to match),
    not the set of all its characters (``set(text)``: twice the time on a 3,000-character article)."""
    characters = "".join(re.escape(chr(code)) for code in sorted(table))
    pattern = re.compile(f"[{characters}]+")
    single = {chr(code): value or "" for code, value in table.items()}
    keys = frozenset(single)
    others = _ASCII_RUNS if all(code > 0x7F for code in table) else re.compile(f"[^{characters}]+")
    # one replacement after another equals one translation only if no replacement holds a key
    by_replace = not any(character in keys for value in single.values() for character in value)

    def run(match: re.Match[str]) -> str:
        found = match.group()
        return single[found] if len(found) == 1 else found.translate(table)

    def translate(text: str) -> str:
        if len(text) < 32:
            return text.translate(table)
        present = keys.intersection(others.sub("", text))
        if not by_replace or len(present) > 16:
            return pattern.sub(run, text)
        for character in present:
            text = text.replace(character, single[character])
        return text

    return translate


_fold = translator(_FOLD_TABLE)
_normalize = translator(_CHARACTER_TABLE)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_SPACES = re.compile(r"\s+")
# A sentence end glued to the next word: "Idleb.Avec". Checked further in _unglue.
_GLUED_SENTENCE = re.compile(r"(?<=[^\W\d_]{2})([.!?])(?=[^\W\d_]{2})")
# ".»Nous": a closing guillemet glued to a capitalised word after a sentence end is really the
# opening guillemet of the next quotation.
_MISTYPED_OPENING_GUILLEMET = re.compile(r"([.!?])»(?=[^\W\d_])")
# Candidate sentence boundaries, used only to find verbatim repeats.
_SENTENCE_BOUNDARY = re.compile(r"(?<=[.!?…»\"])\s+")
_ABBREVIATIONS = frozenset({"Mr", "Mrs", "Ms", "Dr", "St", "Mme", "Mlle", "Mgr", "Jr", "Sr", "Gen", "Prof", "etc"})


def normalize_characters(text: str) -> str:
    """NFC, plain spaces and quotes, no control or invisible characters.

    Query-time code (ingest.lemmas) applies the same function, so a query word and an indexed word
    are normalised alike.
    """
    text = _normalize(unicodedata.normalize("NFC", text).replace("\r\n", "\n"))
    # ‘'quoted'' (a curly quote plus an apostrophe, or two apostrophes) is a double quote.
    return text.replace("''", '"')


def fold_key(text: str) -> str:
    """Lower-case, accent-free form of a word or name for matching ("Erdoğan" → "erdogan")."""
    lowered = text.lower()
    return lowered if lowered.isascii() else _fold(lowered)


def clean_line(text: str) -> str:
    """One line of clean text (a title): characters normalised, all whitespace collapsed."""
    return _SPACES.sub(" ", normalize_characters(text)).strip()


def headline_from_text(text: str, max_chars: int = 200) -> str:
    """A title for a text that has none: its first sentence, shortened at a comma or a word."""
    line = _SPACES.sub(" ", text).strip()
    end = len(line)
    for match in _SENTENCE_BOUNDARY.finditer(line):
        previous_word = line[: match.start()].rsplit(" ", 1)[-1].rstrip(".!?…»\"")
        next_char = line[match.end()]
        if (len(previous_word) > 1 and previous_word not in _ABBREVIATIONS  # not "M. Poutine"
                and (next_char.isupper() or next_char in "«\"(")):
            end = match.start()
            break
    sentence = line[:end]
    if len(sentence) <= max_chars:
        return sentence
    comma = sentence.rfind(", ", 0, max_chars)
    if comma >= max_chars // 3:
        return sentence[:comma]
    space = sentence.rfind(" ", 0, max_chars)
    return sentence[: space if space > 0 else max_chars] + "…"


def clean_text(text: str) -> str:
    """Plain text to clean paragraphs separated by a blank line (see the module docstring)."""
    paragraphs: list[str] = []
    seen_paragraphs: set[str] = set()
    seen_sentences: set[str] = set()
    for block in _split_paragraphs(normalize_characters(text)):
        paragraph = _repair_glitches(_SPACES.sub(" ", block).strip())
        if not paragraph or _is_boilerplate(paragraph):
            continue
        key = _repeat_key(paragraph)
        if key in seen_paragraphs:
            continue
        seen_paragraphs.add(key)
        paragraph = _without_repeated_sentences(paragraph, seen_sentences)
        if paragraph:
            paragraphs.append(paragraph)
    return PARAGRAPH_SEPARATOR.join(paragraphs)


def html_to_text(html: str) -> str:
    """An HTML fragment (a feed summary or content) to clean paragraphs.

    nh3 (html5ever) repairs broken markup and removes scripts, styles and comments; what is left
    keeps only the block tags that mark paragraphs, which the collector turns into blank lines.
    """
    structure_only = nh3.clean(
        html,
        tags=_BLOCK_TAGS | {"br"},
        clean_content_tags={"script", "style", "noscript", "template", "iframe", "svg", "math"},
        attributes={},
        strip_comments=True,
        link_rel=None,
    )
    collector = _TextCollector()
    collector.feed(structure_only)
    collector.close()
    return clean_text(collector.text())


_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
    "pre", "section", "table", "td", "th", "tr", "ul",
}


class _TextCollector(HTMLParser):
    """Text of sanitised HTML: block tags become paragraph breaks, <br> a line break."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._parts.append("\n" if tag == "br" else PARAGRAPH_SEPARATOR)

    def handle_endtag(self, tag: str) -> None:
        if tag != "br":
            self._parts.append(PARAGRAPH_SEPARATOR)

    def handle_data(self, data: str) -> None:
        # Newlines in HTML source are layout, not paragraphs.
        self._parts.append(_SPACES.sub(" ", data))

    def text(self) -> str:
        return "".join(self._parts)


def _split_paragraphs(text: str) -> list[str]:
    # Text with blank lines uses them between paragraphs (single newlines are hard wrapping);
    # text without any uses one line per paragraph (trafilatura's output, most .txt exports).
    if _BLANK_LINE.search(text):
        return [block.replace("\n", " ") for block in _BLANK_LINE.split(text)]
    return text.split("\n")


def _repair_glitches(paragraph: str) -> str:
    paragraph = _MISTYPED_OPENING_GUILLEMET.sub(_opening_guillemet, paragraph)
    return _GLUED_SENTENCE.sub(_unglue, paragraph)


def _opening_guillemet(match: re.Match[str]) -> str:
    if match.string[match.end()].isupper():
        return f"{match.group(1)} «"
    return match.group(0)


def _unglue(match: re.Match[str]) -> str:
    text, at = match.string, match.start()
    # Only "lower.Upper lower": abbreviations (U.S.A.), versions (3.Mars) and names stay as they are.
    if not (text[at - 1].islower() and text[at + 1].isupper() and text[at + 2].islower()):
        return match.group(0)
    # Web addresses, e-mail addresses and file names keep their dots.
    chunk_start = text.rfind(" ", 0, at) + 1
    chunk_end = text.find(" ", at)
    chunk = text[chunk_start : chunk_end if chunk_end >= 0 else len(text)]
    if "/" in chunk or "@" in chunk or "www" in chunk.lower():
        return match.group(0)
    return f"{match.group(1)} "


def _is_boilerplate(paragraph: str) -> bool:
    return len(paragraph) < _BOILERPLATE_MAX_CHARS and _boilerplate_pattern().fullmatch(paragraph) is not None


@cache
def _boilerplate_pattern() -> re.Pattern[str]:
    source = resources.files("ingest").joinpath("data", "boilerplate.txt").read_text(encoding="utf-8")
    patterns = [line.strip() for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns), re.IGNORECASE)


def _repeat_key(text: str) -> str:
    return text.casefold()


def _without_repeated_sentences(paragraph: str, seen: set[str]) -> str:
    sentences = _SENTENCE_BOUNDARY.split(paragraph)
    kept: list[str] = []
    for sentence in sentences:
        if len(sentence.split()) >= _REPEATED_SENTENCE_MIN_WORDS:
            key = _repeat_key(sentence)
            if key in seen:
                continue
            seen.add(key)
        kept.append(sentence)
    if len(kept) == len(sentences):
        return paragraph
    return " ".join(kept)
