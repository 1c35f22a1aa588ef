"""The topic rule files: their model (``Topic``, ``TopicRules``) and their parser, which reports every
error with its line. The rule language is documented in docs/topics.md; the rules Vigie ships are in
``ingest/data/topics.rules``. Matching articles against the rules is ``ingest.topics``."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ingest.errors import VigieError

DEFAULT_CAP = 3
TITLE_FACTOR = 2
_MAX_NEAR_WINDOW = 50
_MIN_WILDCARD_PREFIX = 3

_NAME = re.compile(r"[a-z][a-z0-9-]*")
_LANGUAGE = re.compile(r"[a-z]{2}")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
# Letters, digits, spaces, hyphens, apostrophes and dots (U.S.) make a term; "*" ends a word.
_ALTERNATIVE = re.compile(r"[\w' .\-*]+")
_COMMENT = re.compile(r"(?:^|\s)#")
# A wildcard ends one plain word (no hyphen, no apostrophe) of a few letters: "migra*".
_WILDCARD = re.compile(rf"[^\W_]{{{_MIN_WILDCARD_PREFIX},}}\*")


class TopicRuleError(VigieError):
    """A topic rule file is invalid; ``errors`` lists every problem as ``file:line: message``."""

    kind = "invalid-topic-rules"

    def __init__(self, source: str, errors: Sequence[str]) -> None:
        super().__init__(f"{source}: {len(errors)} error(s) in the topic rules:\n" + "\n".join(errors))
        self.source = source
        self.errors = tuple(errors)


# The parsed rules (language-independent) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alternative:
    """One alternative as written in the file ("cessez-le-feu", "migra*", "demandeur d'asile")."""

    text: str
    line: int


@dataclass(frozen=True, slots=True)
class TermLine:
    weight: float
    alternatives: tuple[Alternative, ...]
    line: int


@dataclass(frozen=True, slots=True)
class NearLine:
    weight: float
    window: int
    left: tuple[Alternative, ...]
    right: tuple[Alternative, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    alternatives: tuple[Alternative, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    label: str
    languages: tuple[str, ...]
    threshold: float
    cap: int
    terms: tuple[TermLine, ...]
    nears: tuple[NearLine, ...]
    required: tuple[Group, ...]  # "all": each must be present
    excluded: tuple[Group, ...]  # "not": none may be present
    line: int

    def summary(self) -> dict[str, object]:
        """What `vigie topics list` shows."""
        return {
            "name": self.name,
            "label": self.label,
            "languages": list(self.languages),
            "threshold": self.threshold,
            "terms": sum(len(term.alternatives) for term in self.terms),
            "near": len(self.nears),
            "all": [group.name for group in self.required],
            "not": [group.name for group in self.excluded],
        }


@dataclass(frozen=True, slots=True)
class TopicRules:
    topics: tuple[Topic, ...]
    source: str

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(language for topic in self.topics for language in topic.languages)


def default_rules_path() -> Path:
    return Path(str(resources.files("ingest").joinpath("data", "topics.rules")))


def load_rules(path: Path | None = None) -> TopicRules:
    """Parse a rule file (the bundled one by default). TopicRuleError lists every problem."""
    path = path or default_rules_path()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TopicRuleError(str(path), [f"{path}: cannot read the rule file: {error}"]) from None
    return parse_rules(text, str(path))


def parse_rules(text: str, source: str = "<rules>") -> TopicRules:
    return _Parser(source).parse(text)


@dataclass
class _TopicDraft:
    name: str
    line: int
    label: str | None = None
    languages: tuple[str, ...] = ()
    threshold: float | None = None
    cap: int = DEFAULT_CAP
    terms: list[TermLine] = field(default_factory=list)
    nears: list[NearLine] = field(default_factory=list)
    required: list[Group] = field(default_factory=list)
    excluded: list[Group] = field(default_factory=list)
    # Where a continuation line ("| more | words") appends: (kind, index) of the last list statement.
    last_list: tuple[str, int] | None = None


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[str] = []
        self.topics: list[Topic] = []
        self.draft: _TopicDraft | None = None

    def error(self, line: int, message: str) -> None:
        self.errors.append(f"{self.source}:{line}: {message}")

    def parse(self, text: str) -> TopicRules:
        for number, raw in enumerate(text.splitlines(), start=1):
            statement = _COMMENT.split(raw, maxsplit=1)[0].strip()
            if statement:
                self.statement(statement, number)
        self.finish_topic()
        if not self.topics and not self.errors:
            self.error(1, "no topic defined (a topic starts with a line 'topic NAME')")
        if self.errors:
            raise TopicRuleError(self.source, self.errors)
        return TopicRules(tuple(self.topics), self.source)

    def statement(self, statement: str, line: int) -> None:
        if statement.startswith("|"):
            self.continuation(statement[1:], line)
            return
        if statement.startswith("~"):
            self.near_right(statement[1:], line)
            return
        keyword, *others = statement.split(None, 1)
        rest = others[0].strip() if others else ""
        if keyword == "topic":
            self.start_topic(rest, line)
            return
        if self.draft is None:
            self.error(line, f"{keyword!r} outside a topic: start one with 'topic NAME'")
            return
        handlers: dict[str, Callable[[str, int], None]] = {
            "label": self.label, "languages": self.languages, "threshold": self.threshold, "cap": self.cap,
            "term": self.term, "near": self.near,
            "all": lambda rest, line: self.group(rest, line, required=True),
            "not": lambda rest, line: self.group(rest, line, required=False),
        }
        handler = handlers.get(keyword)
        if handler is None:
            self.error(line, f"unknown statement {keyword!r} (expected topic, label, languages, threshold, cap, "
                             "term, near, all, not, or '|' to continue a list)")
            return
        handler(rest, line)

    def start_topic(self, name: str, line: int) -> None:
        self.finish_topic()
        if not _NAME.fullmatch(name):
            self.error(line, f"topic name {name!r} must be lower-case letters, digits and hyphens")
        elif any(topic.name == name for topic in self.topics):
            self.error(line, f"topic {name!r} is defined twice")
        self.draft = _TopicDraft(name=name, line=line)

    def finish_topic(self) -> None:
        draft, self.draft = self.draft, None
        if draft is None:
            return
        problems = []
        for near in draft.nears:
            if not near.right:
                self.error(near.line, "near has no second list: add '~ words | ...' on the line or the next one")
        if not draft.languages:
            problems.append("has no 'languages' line")
        if draft.threshold is None:
            problems.append("has no 'threshold' line")
        if not any(term.weight > 0 for term in draft.terms) and not any(near.weight > 0 for near in draft.nears):
            problems.append("has no term or near line with a positive weight, so it can never fire")
        for problem in problems:
            self.error(draft.line, f"topic {draft.name!r} {problem}")
        if problems:
            return
        self.topics.append(Topic(
            name=draft.name, label=draft.label or draft.name, languages=draft.languages,
            threshold=draft.threshold or 0.0, cap=draft.cap, terms=tuple(draft.terms), nears=tuple(draft.nears),
            required=tuple(draft.required), excluded=tuple(draft.excluded), line=draft.line,
        ))

    def label(self, rest: str, line: int) -> None:
        assert self.draft is not None
        if not rest:
            self.error(line, "'label' needs a text")
        self.draft.label = rest

    def languages(self, rest: str, line: int) -> None:
        assert self.draft is not None
        codes = tuple(rest.split())
        bad = [code for code in codes if not _LANGUAGE.fullmatch(code)]
        if not codes or bad:
            self.error(line, f"'languages' needs ISO 639-1 codes such as 'fr en' (got {rest!r})")
            return
        self.draft.languages = codes

    def threshold(self, rest: str, line: int) -> None:
        assert self.draft is not None
        value = self.number(rest, line, "threshold")
        if value is not None and value <= 0:
            self.error(line, f"threshold must be positive (got {rest})")
        elif value is not None:
            self.draft.threshold = value

    def cap(self, rest: str, line: int) -> None:
        assert self.draft is not None
        if not rest.isdigit() or int(rest) < 1:
            self.error(line, f"cap must be a whole number of at least 1 (got {rest!r})")
            return
        self.draft.cap = int(rest)

    def term(self, rest: str, line: int) -> None:
        assert self.draft is not None
        head, alternatives = self.split_list(rest, line, "term WEIGHT: word | phrase | prefix*")
        if head is None:
            return
        weight = self.number(head, line, "term weight")
        if weight is None:
            return
        self.draft.terms.append(TermLine(weight, alternatives, line))
        self.draft.last_list = ("term", len(self.draft.terms) - 1)

    def near(self, rest: str, line: int) -> None:
        assert self.draft is not None
        usage = "near WEIGHT within N: words | ... ~ words | ..."
        head, _, lists = rest.partition(":")
        parts = head.split()
        if not lists or len(parts) != 3 or parts[1] != "within":
            self.error(line, f"expected '{usage}'")
            return
        weight = self.number(parts[0], line, "near weight")
        if not parts[2].isdigit() or not 1 <= int(parts[2]) <= _MAX_NEAR_WINDOW:
            self.error(line, f"near window must be a whole number of words from 1 to {_MAX_NEAR_WINDOW} (got {parts[2]!r})")
            return
        if lists.count("~") > 1:
            self.error(line, f"near needs exactly one '~' between its two lists: '{usage}'")
            return
        # The right-hand list may start on a line of its own, beginning with '~'.
        left_text, _, right_text = lists.partition("~")
        left = self.alternatives(left_text, line)
        right = self.alternatives(right_text, line) if right_text.strip() else ()
        if weight is None or not left or (right_text.strip() and not right):
            return
        self.draft.nears.append(NearLine(weight, int(parts[2]), left, right, line))
        self.draft.last_list = ("near", len(self.draft.nears) - 1)

    def group(self, rest: str, line: int, *, required: bool) -> None:
        assert self.draft is not None
        keyword = "all" if required else "not"
        name, alternatives = self.split_list(rest, line, f"{keyword} NAME: word | phrase | prefix*")
        if name is None:
            return
        groups = self.draft.required if required else self.draft.excluded
        if not _NAME.fullmatch(name):
            self.error(line, f"group name {name!r} must be lower-case letters, digits and hyphens")
            return
        if any(group.name == name for group in [*self.draft.required, *self.draft.excluded]):
            self.error(line, f"group {name!r} is defined twice in topic {self.draft.name!r}")
            return
        groups.append(Group(name, alternatives, line))
        self.draft.last_list = (keyword, len(groups) - 1)

    def near_right(self, rest: str, line: int) -> None:
        draft = self.draft
        if draft is None or draft.last_list is None or draft.last_list[0] != "near" \
                or draft.nears[draft.last_list[1]].right:
            self.error(line, "a '~' line gives the second list of the near line above it, and there is none "
                             "waiting for one")
            return
        right = self.alternatives(rest, line)
        if right:
            near = draft.nears[draft.last_list[1]]
            draft.nears[draft.last_list[1]] = NearLine(near.weight, near.window, near.left, right, near.line)

    def continuation(self, rest: str, line: int) -> None:
        draft = self.draft
        if draft is None or draft.last_list is None:
            self.error(line, "a '|' line continues the list of the term, near, all or not line above it, and there is none")
            return
        more = self.alternatives(rest, line)
        if not more:
            return
        kind, index = draft.last_list
        if kind == "term":
            term = draft.terms[index]
            draft.terms[index] = TermLine(term.weight, term.alternatives + more, term.line)
        elif kind == "near":  # continues the list written last: the right one if it has begun
            near = draft.nears[index]
            if near.right:
                draft.nears[index] = NearLine(near.weight, near.window, near.left, near.right + more, near.line)
            else:
                draft.nears[index] = NearLine(near.weight, near.window, near.left + more, near.right, near.line)
        else:
            groups = draft.required if kind == "all" else draft.excluded
            group = groups[index]
            groups[index] = Group(group.name, group.alternatives + more, group.line)

    def split_list(self, rest: str, line: int, usage: str) -> tuple[str | None, tuple[Alternative, ...]]:
        head, colon, lists = rest.partition(":")
        if not colon or not head.strip():
            self.error(line, f"expected '{usage}'")
            return None, ()
        alternatives = self.alternatives(lists, line)
        return (head.strip(), alternatives) if alternatives else (None, ())

    def alternatives(self, text: str, line: int) -> tuple[Alternative, ...]:
        found = []
        for raw in text.split("|"):
            alternative = raw.strip().strip('"').strip()
            if not alternative:
                self.error(line, "empty alternative (two '|' in a row, or a '|' at an end)")
                return ()
            if not any(char.isalnum() for char in alternative):
                self.error(line, f"alternative {alternative!r} has no letter or digit")
                return ()
            if not _ALTERNATIVE.fullmatch(alternative) or "_" in alternative:
                bad = sorted({char for char in alternative if not (char.isalnum() or char in " '-.*")})
                self.error(line, f"alternative {alternative!r} has characters a term cannot have: {' '.join(bad)}")
                return ()
            for word in alternative.split():
                if "*" in word and not _WILDCARD.fullmatch(word):
                    self.error(line, f"wildcard {word!r}: '*' ends a single word of at least "
                                     f"{_MIN_WILDCARD_PREFIX} letters (e.g. 'migra*')")
                    return ()
            found.append(Alternative(alternative, line))
        return tuple(found)

    def number(self, text: str, line: int, what: str) -> float | None:
        if not _NUMBER.fullmatch(text.strip()):
            self.error(line, f"{what} must be a number (got {text.strip()!r})")
            return None
        return float(text)
