"""The topic rule files: their model (``Topic``, ``TopicRules``) and their parser, which reports every
error with its line. The rule language is documented in docs/topics.md; the rules Vigie ships are in
``ingest/data/topics.rules``. Matching articles against the rules is ``ingest.topics``."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from ingest.clean import fold_key
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
# An IPTC Media Topics code as written in the rules: "medtop:11000000".
_IPTC = re.compile(r"medtop:\d{8}")

#: The 17 top-level subjects of the IPTC Media Topics vocabulary (https://cv.iptc.org/newscodes/mediatopic/).
IPTC_TOP_LEVEL = {
    "medtop:01000000": "arts, culture, entertainment and media",
    "medtop:02000000": "crime, law and justice",
    "medtop:03000000": "disaster, accident and emergency incident",
    "medtop:04000000": "economy, business and finance",
    "medtop:05000000": "education",
    "medtop:06000000": "environment",
    "medtop:07000000": "health",
    "medtop:08000000": "human interest",
    "medtop:09000000": "labour",
    "medtop:10000000": "lifestyle and leisure",
    "medtop:11000000": "politics",
    "medtop:12000000": "religion",
    "medtop:13000000": "science and technology",
    "medtop:14000000": "society",
    "medtop:15000000": "sport",
    "medtop:16000000": "conflict, war and peace",
    "medtop:17000000": "weather",
}


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
    # "term! W:": a strong term. One occurrence, with every "all" group present, reaches the threshold.
    strong: bool = False


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
    # For a "not" group: what each occurrence subtracts ("not 2 sport:"); None is a veto ("not! sport:").
    weight: float | None = None


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
    excluded: tuple[Group, ...]  # "not": each subtracts its weight, or vetoes (weight None)
    line: int
    iptc: str = ""  # its IPTC Media Topics code, "medtop:20000574"
    iptc_top: str = ""  # the code of its top-level IPTC subject (its own code for a top-level topic)
    parent: str | None = None  # the topic it refines ("politics" for "elections")

    def summary(self) -> dict[str, object]:
        """What `vigie topics list` shows."""
        return {
            "name": self.name,
            "label": self.label,
            "iptc": self.iptc,
            "iptc_top": self.iptc_top,
            "parent": self.parent,
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
    # "not-compound:" words: where a word ends with one of them, no shorter rule word is read as the
    # end of a compound ("Mitglieder" is no compound of "Lied", "Wahlkampf" none of "Kampf").
    not_compound: tuple[Alternative, ...] = ()
    vocabulary: Vocabulary | None = None

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(language for topic in self.topics for language in topic.languages)

    def family(self, name: str) -> frozenset[str]:
        """``name`` and every topic below it: what filtering or alerting on ``name`` covers."""
        found = {name}
        while True:
            more = {topic.name for topic in self.topics if topic.parent in found} - found
            if not more:
                return frozenset(found)
            found |= more

    def topic(self, name: str) -> Topic | None:
        return next((topic for topic in self.topics if topic.name == name), None)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The broad per-subject vocabulary (``vocabulary: FILE`` in a rule file): one block per top-level
    subject, in the rule language, weighed when the rules give an article no top-level subject (the
    best-scoring subject is assigned if it leads the others clearly) and to settle which of two subjects
    a story is mainly about (docs/topics.md, "The vocabulary layer")."""

    topics: tuple[Topic, ...]  # one per top-level subject; its threshold is the evidence it needs
    source: str
    # The best subject's evidence (total / threshold) must be at least ``lead`` times the second's.
    lead: float = 1.5
    # The tie-break: when the rules gave subjects, a leading subject they did not give is added only
    # with at least ``primary`` times its threshold of evidence, and a subject the rules gave stays
    # beside it only when its own vocabulary evidence reaches ``keep`` times the primary's, or its
    # rules reach ``keep_rules`` times their threshold; a ``primary`` of 0 turns the tie-break off.
    primary: float = 0.0
    keep: float = 0.5
    keep_rules: float = 2.0


def _merged_by_weight(topic: Topic) -> Topic:
    """A vocabulary block with one term line per weight, heaviest first, each word once: a vocabulary
    lists the same word in several languages' lines ("concert", "Explosion", "explosión"), and a word
    counts once for its subject, at its highest weight (and each weight counts at most ``cap`` times)."""
    seen: set[str] = set()
    lines: dict[float, list[Alternative]] = {}
    first_line: dict[float, int] = {}
    for term in sorted(topic.terms, key=lambda term: -term.weight):
        first_line.setdefault(term.weight, term.line)
        for alternative in term.alternatives:
            key = fold_key(alternative.text)
            if key not in seen:
                seen.add(key)
                lines.setdefault(term.weight, []).append(alternative)
    terms = tuple(TermLine(weight, tuple(alternatives), first_line[weight]) for weight, alternatives in lines.items())
    return replace(topic, terms=terms)


def default_rules_path() -> Path:
    return Path(str(resources.files("ingest").joinpath("data", "topics.rules")))


@dataclass(frozen=True, slots=True)
class KnownCode:
    """One IPTC Media Topics code of the shipped list (ingest/data/iptc-mediatopics.tsv)."""

    code: str
    label: str
    top: str  # its top-level subject (its own code for a top-level one)
    checked: str  # where the code was confirmed


def default_codes_path() -> Path:
    return Path(str(resources.files("ingest").joinpath("data", "iptc-mediatopics.tsv")))


def load_known_codes(path: Path | None = None) -> dict[str, KnownCode]:
    """The IPTC codes Vigie knows: tab-separated code, label, top-level code, where checked."""
    path = path or default_codes_path()
    known: dict[str, KnownCode] = {}
    errors: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 4 or not _IPTC.fullmatch(fields[0]) or fields[2] not in IPTC_TOP_LEVEL:
            errors.append(f"{path}:{number}: expected 'medtop:CODE<TAB>label<TAB>top-level code<TAB>where checked'")
            continue
        known[fields[0]] = KnownCode(*fields)
    if errors:
        raise TopicRuleError(str(path), errors)
    return known


def check_iptc_codes(rules: TopicRules, known: dict[str, KnownCode]) -> list[str]:
    """Each topic's IPTC codes against the known list: the code exists, under the stated top level."""
    errors = []
    for topic in rules.topics:
        if not topic.iptc:
            continue
        entry = known.get(topic.iptc)
        if entry is None:
            errors.append(f"{rules.source}:{topic.line}: topic {topic.name!r}: iptc {topic.iptc} is not a known "
                          "IPTC Media Topics code (ingest/data/iptc-mediatopics.tsv lists them, with their source)")
        elif entry.top != topic.iptc_top:
            errors.append(f"{rules.source}:{topic.line}: topic {topic.name!r}: iptc {topic.iptc} ({entry.label}) is "
                          f"under {entry.top} in the IPTC vocabulary, not {topic.iptc_top}")
    return errors


def load_rules(path: Path | None = None) -> TopicRules:
    """Parse a rule file (the bundled one by default). TopicRuleError lists every problem."""
    path = path or default_rules_path()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TopicRuleError(str(path), [f"{path}: cannot read the rule file: {error}"]) from None
    return parse_rules(text, str(path), folder=path.parent)


def parse_rules(text: str, source: str = "<rules>", folder: Path | None = None) -> TopicRules:
    """Parse rules given as text; a ``vocabulary: FILE`` statement is read from ``folder``."""
    parser = _Parser(source)
    rules = parser.parse(text)
    if parser.vocabulary_file is None:
        return rules
    name, line = parser.vocabulary_file
    if folder is None:
        raise TopicRuleError(source, [f"{source}:{line}: 'vocabulary: {name}' needs the rules to be read from a file"])
    path = folder / name
    try:
        vocabulary_text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TopicRuleError(source, [f"{source}:{line}: cannot read the vocabulary file {name}: {error}"]) from None
    vocabulary = _Parser(str(path), vocabulary=True).parse_vocabulary(vocabulary_text, rules)
    return TopicRules(rules.topics, rules.source, rules.not_compound, vocabulary)


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
    iptc: str = ""
    iptc_top: str = ""
    parent: str | None = None
    parent_line: int = 0
    # Where a continuation line ("| more | words") appends: (kind, index) of the last list statement.
    last_list: tuple[str, int] | None = None


class _Parser:
    def __init__(self, source: str, vocabulary: bool = False) -> None:
        self.source = source
        self.errors: list[str] = []
        self.topics: list[Topic] = []
        self.not_compound: list[Alternative] = []
        self.in_not_compound = False  # whether a '|' line continues the file's not-compound list
        self.word_lists: dict[str, tuple[Alternative, ...]] = {}  # "words NAME: ...", used as "@NAME"
        self.in_word_list: str | None = None  # the words list a '|' line continues
        self.draft: _TopicDraft | None = None
        self.vocabulary_file: tuple[str, int] | None = None  # "vocabulary: FILE" and its line
        self.is_vocabulary = vocabulary  # parsing a vocabulary file: its own file-level statements
        self.settings: dict[str, float] = {}

    def parse_vocabulary(self, text: str, rules: TopicRules) -> Vocabulary:
        """A vocabulary file: blocks named after the rules' top-level topics, no hierarchy, no strong terms."""
        for number, raw in enumerate(text.splitlines(), start=1):
            statement = _COMMENT.split(raw, maxsplit=1)[0].strip()
            if statement:
                self.statement(statement, number)
        self.finish_topic()
        top_level = {topic.name for topic in rules.topics if topic.parent is None}
        for topic in self.topics:
            if topic.name not in top_level:
                self.error(topic.line, f"vocabulary {topic.name!r} is not a top-level topic of {rules.source} "
                                       f"(one of {', '.join(sorted(top_level))})")
            if topic.parent or topic.iptc:
                self.error(topic.line, f"vocabulary {topic.name!r}: its codes and parent are the rules' topic's "
                                       "(no iptc, iptc_top or parent lines here)")
            if any(term.strong for term in topic.terms):
                self.error(topic.line, f"vocabulary {topic.name!r}: no strong terms (term!) in a vocabulary")
        if not self.topics and not self.errors:
            self.error(1, "no vocabulary block defined (a block starts with a line 'topic NAME')")
        if self.errors:
            raise TopicRuleError(self.source, self.errors)
        return Vocabulary(tuple(_merged_by_weight(topic) for topic in self.topics), self.source, **self.settings)

    def vocabulary_setting(self, keyword: str, rest: str, line: int) -> None:
        """"lead N", "primary N", "keep N", "keep_rules N": the vocabulary file's own settings, before its first block."""
        if self.draft is not None or self.topics:
            self.error(line, f"{keyword!r} sets the whole vocabulary: write it before the first topic")
            return
        value = self.number(rest, line, keyword)
        if value is not None and value < 0:
            self.error(line, f"{keyword} cannot be negative (got {rest})")
        elif value is not None:
            self.settings[keyword] = value

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
        self.check_hierarchy()
        if self.errors:
            raise TopicRuleError(self.source, self.errors)
        return TopicRules(tuple(self.topics), self.source, tuple(self.not_compound))

    def check_hierarchy(self) -> None:
        """Parents exist, are not children themselves, and share the child's top-level IPTC subject."""
        by_name = {topic.name: topic for topic in self.topics}
        for topic in self.topics:
            if topic.parent is None:
                if topic.iptc and topic.iptc_top and topic.iptc != topic.iptc_top:
                    self.error(topic.line, f"topic {topic.name!r} has no parent, so it is top-level: its iptc_top must "
                                           f"be its own code {topic.iptc} (got {topic.iptc_top})")
                continue
            parent = by_name.get(topic.parent)
            if parent is None:
                self.error(topic.line, f"topic {topic.name!r}: parent {topic.parent!r} is not defined in the file")
            elif parent.parent is not None:
                self.error(topic.line, f"topic {topic.name!r}: parent {topic.parent!r} has a parent itself "
                                       "(one level of children)")
            elif topic.iptc_top and parent.iptc_top and topic.iptc_top != parent.iptc_top:
                self.error(topic.line, f"topic {topic.name!r}: iptc_top {topic.iptc_top} differs from its parent "
                                       f"{parent.name!r}'s {parent.iptc_top}")
            if topic.iptc and topic.iptc == topic.iptc_top:
                self.error(topic.line, f"topic {topic.name!r} has a parent, so its own code cannot be the top-level "
                                       f"code {topic.iptc}")
        seen: dict[str, str] = {}
        for topic in self.topics:
            if topic.iptc and topic.iptc in seen and topic.parent is None and by_name[seen[topic.iptc]].parent is None:
                self.error(topic.line, f"topic {topic.name!r}: iptc {topic.iptc} is already the code of {seen[topic.iptc]!r}")
            seen.setdefault(topic.iptc, topic.name)

    def statement(self, statement: str, line: int) -> None:
        if statement.startswith("|"):
            self.continuation(statement[1:], line)
            return
        if statement.startswith("~"):
            self.near_right(statement[1:], line)
            return
        keyword, *others = statement.split(None, 1)
        rest = others[0].strip() if others else ""
        # "term!4:" or "not!sport:" written without a space after the "!"
        for bang in ("term!", "not!"):
            if keyword.startswith(bang) and keyword != bang:
                keyword, rest = bang, f"{keyword[len(bang):]} {rest}".strip()
        self.in_not_compound = False
        self.in_word_list = None
        if keyword == "topic":
            self.start_topic(rest, line)
            return
        if keyword in ("vocabulary:", "vocabulary") and not self.is_vocabulary:
            self.vocabulary_statement(rest.removeprefix(":").strip() if keyword == "vocabulary" else rest, line)
            return
        if keyword in ("lead", "primary", "keep", "keep_rules") and self.is_vocabulary:
            self.vocabulary_setting(keyword, rest, line)
            return
        if keyword == "not-compound:" or keyword == "not-compound":
            self.not_compound_words(rest.removeprefix(":").strip() if keyword == "not-compound" else rest, line)
            return
        if keyword == "words":  # a vocabulary file's lists are its own
            self.word_list(rest, line)
            return
        if self.draft is None:
            self.error(line, f"{keyword!r} outside a topic: start one with 'topic NAME'")
            return
        handlers: dict[str, Callable[[str, int], None]] = {
            "label": self.label, "languages": self.languages, "threshold": self.threshold, "cap": self.cap,
            "iptc": self.iptc, "iptc_top": self.iptc_top, "parent": self.parent,
            "term": self.term, "term!": lambda rest, line: self.term(rest, line, strong=True), "near": self.near,
            "all": lambda rest, line: self.group(rest, line, required=True),
            "not": lambda rest, line: self.group(rest, line, required=False),
            "not!": lambda rest, line: self.group(rest, line, required=False, veto=True),
        }
        handler = handlers.get(keyword)
        if handler is None:
            self.error(line, f"unknown statement {keyword!r} (expected topic, label, languages, iptc, iptc_top, "
                             "parent, threshold, cap, term, term!, near, all, not, not!, or '|' to continue a list)")
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
        for term in draft.terms:
            if term.strong and not draft.required:
                self.error(term.line, f"topic {draft.name!r}: a strong term (term!) reaches the threshold only in "
                                      "context, so the topic needs an 'all' group")
        for problem in problems:
            self.error(draft.line, f"topic {draft.name!r} {problem}")
        if problems:
            return
        if draft.iptc and not draft.iptc_top:
            self.error(draft.line, f"topic {draft.name!r} has an 'iptc' line but no 'iptc_top' line")
            return
        if draft.iptc_top and not draft.iptc:
            self.error(draft.line, f"topic {draft.name!r} has an 'iptc_top' line but no 'iptc' line")
            return
        self.topics.append(Topic(
            name=draft.name, label=draft.label or draft.name, languages=draft.languages,
            threshold=draft.threshold or 0.0, cap=draft.cap, terms=tuple(draft.terms), nears=tuple(draft.nears),
            required=tuple(draft.required), excluded=tuple(draft.excluded), line=draft.line,
            iptc=draft.iptc, iptc_top=draft.iptc_top, parent=draft.parent,
        ))

    def iptc(self, rest: str, line: int) -> None:
        assert self.draft is not None
        if not _IPTC.fullmatch(rest):
            self.error(line, f"iptc must be an IPTC Media Topics code such as 'medtop:11000000' (got {rest!r})")
            return
        self.draft.iptc = rest

    def iptc_top(self, rest: str, line: int) -> None:
        assert self.draft is not None
        if rest not in IPTC_TOP_LEVEL:
            self.error(line, f"iptc_top must be one of the 17 top-level IPTC Media Topics codes "
                             f"(medtop:01000000 to medtop:17000000; got {rest!r})")
            return
        self.draft.iptc_top = rest

    def parent(self, rest: str, line: int) -> None:
        assert self.draft is not None
        if not _NAME.fullmatch(rest):
            self.error(line, f"parent must be a topic name (got {rest!r})")
            return
        if rest == self.draft.name:
            self.error(line, f"topic {rest!r} cannot be its own parent")
            return
        self.draft.parent = rest

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

    def term(self, rest: str, line: int, *, strong: bool = False) -> None:
        assert self.draft is not None
        keyword = "term!" if strong else "term"
        head, alternatives = self.split_list(rest, line, f"{keyword} WEIGHT: word | phrase | prefix*")
        if head is None:
            return
        weight = self.number(head, line, "term weight")
        if weight is None:
            return
        if strong and weight <= 0:
            self.error(line, f"a strong term (term!) needs a positive weight (got {head})")
            return
        self.draft.terms.append(TermLine(weight, alternatives, line, strong))
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

    def group(self, rest: str, line: int, *, required: bool, veto: bool = False) -> None:
        assert self.draft is not None
        keyword = "all" if required else ("not!" if veto else "not")
        usage = f"{keyword} NAME: word | phrase | prefix*" if required or veto else \
            "not WEIGHT NAME: word | ... (subtracts WEIGHT per occurrence) or not! NAME: word | ... (a veto)"
        head, alternatives = self.split_list(rest, line, usage)
        if head is None:
            return
        weight: float | None = None
        name = head
        if keyword == "not":
            parts = head.split()
            if len(parts) != 2:
                self.error(line, f"expected '{usage}'")
                return
            weight = self.number(parts[0], line, "not weight")
            if weight is None:
                return
            if weight <= 0:
                self.error(line, f"a not weight is what an occurrence subtracts: it must be positive (got {parts[0]})")
                return
            name = parts[1]
        groups = self.draft.required if required else self.draft.excluded
        if not _NAME.fullmatch(name):
            self.error(line, f"group name {name!r} must be lower-case letters, digits and hyphens")
            return
        if any(group.name == name for group in [*self.draft.required, *self.draft.excluded]):
            self.error(line, f"group {name!r} is defined twice in topic {self.draft.name!r}")
            return
        groups.append(Group(name, alternatives, line, weight))
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

    def vocabulary_statement(self, name: str, line: int) -> None:
        """"vocabulary: FILE": the per-subject vocabulary, a file beside the rules (a plain file name)."""
        if self.draft is not None or self.topics:
            self.error(line, "'vocabulary:' names a file for the whole rules: write it before the first topic")
        elif not re.fullmatch(r"[\w.-]+", name) or name.startswith("."):
            self.error(line, f"vocabulary takes the name of a file beside the rules, without a folder (got {name!r})")
        elif self.vocabulary_file is not None:
            self.error(line, "'vocabulary:' is given twice")
        else:
            self.vocabulary_file = (name, line)

    def not_compound_words(self, rest: str, line: int) -> None:
        """The file's "not-compound: Mitglied | Wahlkampf" list: before the first topic, plain words."""
        if self.draft is not None or self.topics:
            self.error(line, "'not-compound:' lists words for the whole file: write it before the first topic")
            return
        words = self.alternatives(rest, line)
        for word in words:
            if not re.fullmatch(r"[^\W\d_][\w-]*", word.text):
                self.error(line, f"not-compound takes single words, without '*' or spaces (got {word.text!r})")
                return
        self.not_compound.extend(words)
        self.in_not_compound = True

    def word_list(self, rest: str, line: int) -> None:
        """"words NAME: word | phrase | ...": a list written once for the whole file, before the first topic;
        "@NAME" in any topic's list stands for its alternatives."""
        if self.draft is not None or self.topics:
            self.error(line, "'words' names a list for the whole file: write it before the first topic")
            return
        head, alternatives = self.split_list(rest, line, "words NAME: word | phrase | prefix*")
        if head is None:
            return
        if not _NAME.fullmatch(head):
            self.error(line, f"words list name {head!r} must be lower-case letters, digits and hyphens")
        elif head in self.word_lists:
            self.error(line, f"words list {head!r} is defined twice")
        else:
            self.word_lists[head] = alternatives
            self.in_word_list = head

    def continuation(self, rest: str, line: int) -> None:
        if self.in_not_compound:
            self.not_compound_words(rest, line)
            return
        if self.in_word_list is not None:
            more = self.alternatives(rest, line)
            self.word_lists[self.in_word_list] += more
            return
        draft = self.draft
        if draft is None or draft.last_list is None:
            self.error(line, "a '|' line continues the list of the term, near, all or not line above it, and there is none")
            return
        more = self.alternatives(rest, line)
        if not more:
            return
        kind, index = draft.last_list
        if kind in ("term", "term!"):
            term = draft.terms[index]
            draft.terms[index] = TermLine(term.weight, term.alternatives + more, term.line, term.strong)
        elif kind == "near":  # continues the list written last: the right one if it has begun
            near = draft.nears[index]
            if near.right:
                draft.nears[index] = NearLine(near.weight, near.window, near.left, near.right + more, near.line)
            else:
                draft.nears[index] = NearLine(near.weight, near.window, near.left + more, near.right, near.line)
        else:
            groups = draft.required if kind == "all" else draft.excluded
            group = groups[index]
            groups[index] = Group(group.name, group.alternatives + more, group.line, group.weight)

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
            if alternative.startswith("@"):  # a file-level "words" list
                named = self.word_lists.get(alternative[1:])
                if named is None:
                    self.error(line, f"{alternative!r} names no words list: define it before the first topic "
                                     f"with 'words {alternative[1:]}: word | ...'")
                    return ()
                found.extend(named)
                continue
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
