"""Persons named after their title, in a language without an NER model.

Without a model, an article's entities are the names the knowledge base knows (``ingest.entities.
known_entities_of``): a mayor, a player or a minister it lacks was not found at all. News writes such
a person with their role first, so a name of two to four capitalised words right after a role word
is taken for a person:

- "Bürgermeister Stefan Huber", "Mittelfeldspieler Jonas Brandt" (German compounds end in the role),
  "el presidente Daniel Ruiz", "il sindaco Marco Rossi", "губернатор Иван Петров";
- in apposition, between commas, after a role and its complement: "La presidenta de la Junta de
  Castilla, Ana Ruiz, inauguró", "El alcalde, Francisco de la Vega, dijo";
- in Russian, after a role and its genitive: "Губернатор Самарской области Иван Петров";

and every other place the article writes that same full name ("Jonas Brandt wechselt ..." in the
title). The role words are data (``ingest/data/person_titles.yaml``). One word alone after a title
("Präsident Trump") is left to the knowledge base: a lone capitalised word is too often not a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import yaml

from ingest.clean import fold_key
from ingest.mentions import Mention, word_lists

#: Languages whose nouns are all capitalised: a role word there is any capitalised word ending so.
_COMPOUND_ROLES = {"de"}
_TOKEN = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*|[,.;:!?()«»\"“”„]|\d+")
#: Lower-case words inside a name, per language ("Francisco de la Vega", "Ursula von der Leyen"): the
#: particles of one language are articles of another (German "das", "der").
_NAME_JOINERS = {
    "de": frozenset({"von", "van", "der", "den", "zu", "de"}),
    "es": frozenset({"de", "del", "la", "las", "los"}),
    "it": frozenset({"di", "de", "del", "della", "da", "dal"}),
    "pt": frozenset({"de", "da", "do", "dos", "das"}),
    "nl": frozenset({"van", "der", "den", "de", "ter", "te"}),
}
_MAX_NAME_WORDS = 4
#: How many words may stand between a role and the comma of an apposition ("presidenta de la Junta
#: de Castilla ,"), and between a Russian role and the name ("губернатор Самарской области").
_APPOSITION_WINDOW = 7
_GENITIVE_WINDOW = 3
_RUSSIAN_ENDINGS = ("", "а", "у", "ом", "ем", "е", "ы", "и", "ю", "я", "ой", "ей", "ям", "ями", "ах", "ях", "ов")
_PATRONYMIC = re.compile(r"(?:ович|евич|ич|овна|евна|ична|инична)(?:а|у|ем|ом|е|ы|ой|ей)?$")


@dataclass(frozen=True)
class _Titles:
    words: dict[str, frozenset[str]]
    german_endings: tuple[str, ...]
    russian_stems: frozenset[str]


@cache
def _titles() -> _Titles:
    data = yaml.safe_load(resources.files("ingest").joinpath("data", "person_titles.yaml").read_text(encoding="utf-8"))
    return _Titles({language: frozenset(fold_key(str(word)) for word in words)
                    for language, words in data["words"].items()},
                   tuple(fold_key(str(ending)) for ending in data["german_endings"]),
                   frozenset(str(stem) for stem in data["russian_stems"]))


def supported(language: str) -> bool:
    """Whether role words are known for ``language``."""
    titles = _titles()
    return language in titles.words or language in _COMPOUND_ROLES or language == "ru"


@lru_cache(maxsize=1 << 16)  # words repeat from article to article: each is looked at once
def _is_title(word: str, language: str) -> bool:
    titles = _titles()
    folded = fold_key(word)
    if folded in titles.words.get(language, ()) or folded in word_lists().titles:
        return True
    if language in _COMPOUND_ROLES and word[:1].isupper():
        return folded.endswith(titles.german_endings)
    if language == "ru":
        lower = word.lower().replace("ё", "е")
        return any(lower[:len(lower) - len(ending)] in titles.russian_stems
                   for ending in _RUSSIAN_ENDINGS if lower.endswith(ending) and len(lower) > len(ending))
    return False


@lru_cache(maxsize=1 << 16)
def _is_name_word(word: str, language: str) -> bool:
    if len(word) < 2 or not word[0].isupper() or not word[0].isalpha():
        return False
    if word.isupper():
        return False  # an acronym ("ÖVP", "FC")
    lists = word_lists()
    folded = fold_key(word)
    if folded in lists.never or folded in lists.determiners or folded in lists.organization_heads \
            or folded in lists.location_heads:
        return False
    return not _is_title(word, language)


def _name_at(words: list[str], start: int, language: str) -> int:
    """The end (exclusive, a token index) of the name that begins at ``start``, or ``start`` when none
    does: two to four name words, joined by a space and lower-case name particles only."""
    count, at, end = 0, start, start
    while at < len(words) and count < _MAX_NAME_WORDS:
        word = words[at]
        if _is_name_word(word, language):
            count += 1
            at += 1
            end = at
        elif word in _NAME_JOINERS.get(language, ()) and count and at + 1 < len(words):
            at += 1
        else:
            break
    return end if count >= 2 else start


def _separated_by_space(text: str, tokens: list[re.Match[str]], start: int, end: int) -> bool:
    return all(text[tokens[i].end():tokens[i + 1].start()] in (" ", "\u00a0") for i in range(start, end - 1))


def titled_persons(text: str, language: str) -> list[Mention]:
    """PERSON mentions of the names that follow a role word in ``text`` (see the module), and of every
    other occurrence of those names; offsets are in ``text``."""
    if not supported(language):
        return []
    tokens = _TOKEN.findall(text)  # strings: offsets are only looked for when a name is found
    found: list[tuple[int, int]] = []  # token spans
    for index, token in enumerate(tokens):
        if not _is_title(token, language):
            continue
        start = index + 1
        while start < len(tokens) and (_is_title(tokens[start], language) or (
                tokens[start] == "." and len(tokens[start - 1]) <= 4
                and _is_title(tokens[start - 1], language))):
            start += 1  # "Frau Dr. Hanna Zielke": titles in a row, an abbreviation's full stop
        end = _name_at(tokens, start, language)
        if end > start:
            found.append((start, end))
            continue
        # "presidenta de la Junta de Castilla, Ana Ruiz, ...": the name between commas after the role.
        for comma in range(index + 1, min(index + 1 + _APPOSITION_WINDOW, len(tokens))):
            word = tokens[comma]
            if word in ".;:!?":
                break
            if word == ",":
                end = _name_at(tokens, comma + 1, language)
                closed = end < len(tokens) and tokens[end] in ",.;)" or end == len(tokens)
                if end > comma + 1 and closed:
                    found.append((comma + 1, end))
                break
        if language == "ru":
            # "Губернатор Самарской области Иван Петров": a role, its genitive, then the name.
            for gap in range(1, _GENITIVE_WINDOW + 1):
                before = index + gap
                if before >= len(tokens) or not tokens[before].isalpha():
                    break
                if tokens[before][0].islower():
                    end = _name_at(tokens, before + 1, language)
                    if end > before + 1:
                        found.append((before + 1, end))
                        break
    if not found:
        return []
    matches = list(_TOKEN.finditer(text))
    names: dict[str, None] = {}
    for start, end in found:
        if language == "ru" and end - start == 3 and not _PATRONYMIC.search(tokens[start + 1]):
            start += 1  # "Минфина Антон Силуанов": the first word is the role's complement
        if _separated_by_space(text, matches, start, end):
            names[text[matches[start].start():matches[end - 1].end()]] = None
    spans = sorted({(match.start(), match.end()) for name in names
                    for match in re.finditer(rf"(?<![^\W\d_]){re.escape(name)}(?![^\W\d_])", text)},
                   key=lambda span: (span[0], -span[1]))
    mentions: list[Mention] = []
    for start, end in spans:  # the longest of two overlapping names ("Juan Pablo Vega", "Pablo Vega")
        if mentions and start < mentions[-1].end:
            continue
        mentions.append(Mention(text[start:end], "PERSON", start, end))
    return mentions
