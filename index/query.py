"""Vigie's query language, shared by `vigie search` and alerts. Parsing only; no Elasticsearch here.

    idleb                     a word (matched on text, title and lemmas, so "réfugiés" finds "réfugié")
    "cessez-le-feu"           a phrase; a hyphenated word is a phrase too
    migra*                    a word prefix
    a b  /  a AND b           both (AND is the default)
    a OR b                    either
    NOT a  /  -a              without
    ( ... )                   grouping
    field:value               title: text: person: location: org: misc: entity: topic: lang: feed: domain:

Operators are upper case; ``and``/``or``/``not`` in lower case are ordinary words. A ``word:`` whose
prefix is not a known field is an ordinary word (so "10:30" stays searchable).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Union

from index.errors import QuerySyntaxError

#: Bounds of one query, so that no request (an API call, an alert) makes Elasticsearch work without
#: end or nests deeper than its bool queries allow: past them, parsing stops with a QuerySyntaxError.
MAX_QUERY_CHARS = 2000
MAX_TERMS = 64
MAX_DEPTH = 10  # nested groups and NOTs

#: Field prefixes and what they search (aliases map to the canonical name).
FIELDS: dict[str, str] = {
    "title": "title",
    "text": "text",
    "person": "person",
    "location": "location",
    "loc": "location",
    "org": "organization",
    "organization": "organization",
    "misc": "misc",
    "entity": "entity",
    "topic": "topic",
    "lang": "language",
    "language": "language",
    "feed": "feed",
    "domain": "domain",
}


@dataclass(frozen=True)
class Term:
    text: str
    field: str | None = None  # canonical field name, None for "anywhere"
    phrase: bool = False  # quoted, or several tokens (hyphenated)
    prefix: bool = False  # ended with '*'


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class MatchAll:
    pass


Node = Union[Term, And, Or, Not, MatchAll]


@dataclass(frozen=True)
class _Token:
    kind: str  # WORD, PHRASE, LPAREN, RPAREN, AND, OR, NOT, MINUS
    text: str
    position: int
    field: str | None = None


_SPECIAL = set('()"')


def _tokenize(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "(":
            tokens.append(_Token("LPAREN", ch, i))
            i += 1
            continue
        if ch == ")":
            tokens.append(_Token("RPAREN", ch, i))
            i += 1
            continue
        if ch == "-" and (i + 1 < n and not query[i + 1].isspace()) and (i == 0 or query[i - 1].isspace() or query[i - 1] == "("):
            tokens.append(_Token("MINUS", ch, i))
            i += 1
            continue
        start = i
        field = None
        prefix_text = ""
        # A word, possibly "field:" followed by a word or a phrase.
        while i < n and not query[i].isspace() and query[i] not in _SPECIAL:
            if query[i] == ":" and field is None and query[start:i].lower() in FIELDS:
                prefix_text = query[start : i + 1]
                field = FIELDS[query[start:i].lower()]
                i += 1
                start = i
                break
            i += 1
        if field is not None:
            if i < n and query[i] == '"':
                text, i = _phrase(query, i)
                tokens.append(_Token("PHRASE", text, start, field))
                continue
            word_start = i
            while i < n and not query[i].isspace() and query[i] not in _SPECIAL:
                i += 1
            if i == word_start:
                raise QuerySyntaxError(query, word_start, f"'{prefix_text}' needs a value")
            tokens.append(_Token("WORD", query[word_start:i], word_start, field))
            continue
        if i == start and query[i] == '"':
            text, i = _phrase(query, i)
            tokens.append(_Token("PHRASE", text, start))
            continue
        word = query[start:i]
        kind = word if word in ("AND", "OR", "NOT") else "WORD"
        tokens.append(_Token(kind, word, start))
    return tokens


def _phrase(query: str, i: int) -> tuple[str, int]:
    end = query.find('"', i + 1)
    if end < 0:
        raise QuerySyntaxError(query, i, "this quote is never closed")
    text = query[i + 1 : end].strip()
    if not text:
        raise QuerySyntaxError(query, i, "empty phrase")
    return text, end + 1


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        if len(query) > MAX_QUERY_CHARS:
            raise QuerySyntaxError(query[:MAX_QUERY_CHARS], MAX_QUERY_CHARS,
                                   f"the query is longer than {MAX_QUERY_CHARS} characters")
        self.tokens = _tokenize(query)
        terms = [token for token in self.tokens if token.kind in ("WORD", "PHRASE")]
        if len(terms) > MAX_TERMS:
            raise QuerySyntaxError(query, terms[MAX_TERMS].position, f"a query may hold at most {MAX_TERMS} terms")
        self.pos = 0
        self.depth = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            return MatchAll()
        node = self.or_expr()
        token = self.peek()
        if token is not None:
            raise QuerySyntaxError(self.query, token.position, f"unexpected '{token.text}'")
        return node

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while (token := self.peek()) is not None and token.kind not in ("OR", "RPAREN"):
            if token.kind == "AND":
                self.take()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expr(self) -> Node:
        token = self.peek()
        if token is not None and token.kind in ("NOT", "MINUS"):
            self.take()
            with self.nested(token):
                return Not(self.not_expr())
        return self.atom()

    @contextmanager
    def nested(self, token: _Token) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QuerySyntaxError(self.query, token.position, f"groups and NOTs nest at most {MAX_DEPTH} deep")
        yield
        self.depth -= 1

    def atom(self) -> Node:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError(self.query, len(self.query), "the query ends where a term was expected")
        if token.kind == "LPAREN":
            self.take()
            with self.nested(token):
                node = self.or_expr()
            closing = self.peek()
            if closing is None or closing.kind != "RPAREN":
                raise QuerySyntaxError(self.query, token.position, "this parenthesis is never closed")
            self.take()
            return node
        if token.kind in ("WORD", "PHRASE"):
            self.take()
            return _term(token)
        raise QuerySyntaxError(self.query, token.position, f"unexpected '{token.text}'")


def _term(token: _Token) -> Term:
    text = token.text
    prefix = token.kind == "WORD" and text.endswith("*") and len(text) > 1
    if prefix:
        text = text.rstrip("*")
        if not text:  # "**" is "*": a prefix of nothing, which would match every word
            raise QuerySyntaxError(token.text, 0, "'*' is only allowed at the end of a word")
    if token.kind == "WORD" and "*" in text:
        raise QuerySyntaxError(text, text.index("*"), "'*' is only allowed at the end of a word")
    phrase = token.kind == "PHRASE" or any(not ch.isalnum() for ch in text if ch not in "'’")
    return Term(text=text, field=token.field, phrase=phrase, prefix=prefix)


def parse_query(query: str) -> Node:
    """The syntax tree of ``query``; raises QuerySyntaxError naming the position of the problem."""
    return _Parser(query).parse()


def terms_of(node: Node) -> list[Term]:
    """Every positive term of a query (used for highlighting and alert evidence)."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, (And, Or)):
        return [term for item in node.items for term in terms_of(item)]
    return []


#: The longest run of plain query words looked up as one name ("Dmitry Peskov", "Ursula von der Leyen").
NAME_RUN_MAX = 5


def _plain_word(item: Node) -> bool:
    return isinstance(item, Term) and item.field is None and not item.prefix and not item.phrase


def name_runs(items: tuple[Node, ...], known_id: Callable[[str], str | None]) -> list[tuple[int, int, str | None]]:
    """An AND's items cut into segments ``(start, stop, id)``: a run of two or more plain words that
    together name a known entity (``known_id`` of the words joined by spaces; the longest run wins)
    with its id, every other item alone with None. Search and alerts match such a run by its words or
    by the entity's id, so unquoted "Dmitry Peskov" finds "Dmitri Peskov" as the quoted phrase does."""
    segments: list[tuple[int, int, str | None]] = []
    i = 0
    while i < len(items):
        end = i
        while end < len(items) and end - i < NAME_RUN_MAX and _plain_word(items[end]):
            end += 1
        for stop in range(end, i + 1, -1):  # two words or more, longest first
            identity = known_id(" ".join(word.text for word in items[i:stop]))  # type: ignore[union-attr]
            if identity:
                segments.append((i, stop, identity))
                i = stop
                break
        else:
            segments.append((i, i + 1, None))
            i += 1
    return segments

