"""Name keys: one form per name whatever the language, the script or the spelling.

Two levels, after the method of the JRC's multilingual name lists (Steinberger, Pouliquen et al.):

- ``phrase_tokens``: the words of a name folded for exact lookup (case and accents folded, Russian
  case endings cut, so "в Киеве" and "Киев" give the same token, "Idleb" and "IDLEB" too). This is
  what the knowledge base is indexed by: exact and cheap.
- ``name_key``: a romanised, spelling-normalised key for names the knowledge base lacks or spells
  otherwise: transliterated to Latin (anyascii), then the spelling rules of the languages that
  transliterate names differently (French ou → u, German w → v and sch → sh, j/y/i, kh/ch,
  doubled consonants, a final French e), except that a given name these rules would make another
  ("Jeanne", "Jean") keeps its own key. "Poutine", "Putin" and "Путин" share "putin"; "Peskow"
  and "Peskov", "Dmitri" and "Dmitry" share theirs. ``key_distance`` compares two keys when they
  still differ by a letter ("Selenskyj"/"Zelensky"); ``spelling_distance``, what merges and links
  use, never takes a different figure or regnal number for a spelling ("Louis XIV"/"Louis XV").
"""

from __future__ import annotations

import re
from functools import lru_cache

from anyascii import anyascii

from ingest.clean import fold_key

_WORD = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
#: Russian (and Ukrainian) case and number endings, folded (й → и), longest first. Cutting them
#: gives one stem for "Киев", "Киеве", "Киева"; stems are only compared with stems.
_RUSSIAN_ENDINGS = tuple(sorted(
    ("ами", "ями", "ого", "его", "ому", "ему", "ыми", "ими", "ои", "еи", "ом", "ем", "ах", "ях", "ам", "ям",
     "ую", "юю", "ия", "ии", "ию", "ые", "ие", "ых", "их", "ым", "им", "ыи", "ье", "ья", "ьи", "а", "я", "о",
     "е", "и", "ы", "у", "ю", "ь"), key=len, reverse=True))
_MIN_STEM = 3

# Spelling rules on romanised lower-case text, in order. Each maps the spellings languages use for
# one sound to one letter string; the key need not be readable, only shared.
_SPELLING_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement) for pattern, replacement in (
        (r"tsch", "ch"), (r"sch", "sh"), (r"tch", "ch"), (r"dzh", "j"), (r"dj", "j"), (r"zh", "j"),
        (r"kh", "h"), (r"ph", "f"), (r"ck", "k"), (r"q", "k"), (r"ou", "u"), (r"w", "v"), (r"y", "i"),
        (r"j", "i"), (r"x", "ks"), (r"c(?=[aou])", "k"),
        (r"([a-z])\1+", r"\1"),  # doubled letters: "Assad"/"Asad", "Netanjahu"/"Netanyahu" (after y → i)
        (r"(?<=[a-z]{4})e\b", ""),  # a final French e: "Poutine" → "putin"
        (r"(?<=[a-z]{3})(?:ii|ij|iy)\b", "i"),
    ))


#: Given names that differ from another given name only by a final e, doubled letters or an accent
#: (most often its feminine form): "Jeanne" and "Jean", "Louise" and "Louis", "Michèle" and "Michel",
#: "Renée" and "René", and the Italian "Simone", "Daniele" beside "Simon", "Daniel". The spelling rules
#: (doubled letters, a final French e) give both one key, which made "Louise Michel" the Belgian
#: politician "Louis Michel". Folded. Reviewed by hand; left out on purpose: "Marine" (Russian writes
#: Marine Le Pen "Марин Ле Пен", which must keep meeting her), and "Caroline" (the German "Carolin" is
#: a spelling of it, not another name).
DISTINCT_GIVEN_NAMES = frozenset((
    "adrienne", "aimee", "alberte", "andree", "armande", "augustine", "christiane", "claire", "danielle",
    "daniele", "denise", "emanuele", "emmanuelle", "fabienne", "fernande", "francoise", "frederique",
    "gabriele", "gabrielle", "germaine", "ghislaine", "gilberte", "huberte", "jeanne", "joelle",
    "josiane", "julienne", "justine", "louise", "lucienne", "manuelle", "marcelle", "martine", "michele",
    "michelle", "nicole", "noelle", "pascale", "paule", "pauline", "raffaele", "raphaelle", "raymonde",
    "renee", "roberte", "romaine", "samuele", "severine", "simone", "valentine", "vivienne", "yvonne",
))
#: What such a name's key ends with: no other word's key can end with a doubled letter (they are
#: folded first), and two letters keep it two edits from the other name's (``spelling_distance``).
_DISTINCT_MARK = "ee"


def words(text: str) -> list[str]:
    """The words of a text (letters and digits), apostrophes and hyphens cutting them."""
    return _WORD.findall(text)


def has_distinct_given_name(text: str) -> bool:
    """Whether ``text`` holds one of ``DISTINCT_GIVEN_NAMES`` (its key changed when they were added)."""
    return any(fold_key(word) in DISTINCT_GIVEN_NAMES for word in words(text))


def russian_stem(word: str) -> str:
    """A folded Cyrillic word without its case ending ("киеве" → "киев"); other words unchanged."""
    if not _CYRILLIC.search(word):
        return word
    # The endings are written folded (й → и), as "Нижний", "Дмитрий", "Китай" must be: the folding of
    # accents keeps й, and without this only their other cases lost an ending ("Нижним" → "нижн",
    # "Нижний" unchanged), so "Сергея Лаврова" and "с Нижним Новгородом" named nobody.
    word = word.replace("й", "и")
    # Twice: "Фридрихом" → "фридрих" → "фридр", as "Фридрих" → "фридр" (a base form may itself end
    # like a case ending); the same function on both sides keeps them equal.
    for cut in range(2):
        for ending in _RUSSIAN_ENDINGS:
            # A second cut keeps a stem of four letters: "Китай" → "кита", not "кит" ("Кито", Quito).
            if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM + cut:
                word = word[: -len(ending)]
                break
        else:
            break
    return word


@lru_cache(maxsize=65536)
def lookup_token(word: str) -> str:
    """One word as the knowledge base indexes it: folded, Russian ending cut, ё as е."""
    return russian_stem(fold_key(word).replace("ё", "е"))


def phrase_tokens(text: str) -> tuple[str, ...]:
    """A name's lookup tokens ("Bachar al-Assad" → ("bachar", "al", "assad"))."""
    return tuple(lookup_token(word) for word in words(text))


def phrase_key(text: str) -> str:
    return " ".join(phrase_tokens(text))


_DIGITS = re.compile(r"\d+")
#: A regnal or ordinal number in Roman numerals, I to XXXIX ("Louis XIV", "Charles III", "Malcolm X").
_ROMAN = re.compile(r"x{0,3}(?:ix|iv|v?i{0,3})")
_ROMAN_UPPER = re.compile(r"X{0,3}(?:IX|IV|V?I{0,3})")


def _is_regnal(word: str) -> bool:
    """An upper-case Roman numeral (I to XXXIX): after a name, its regnal number ("Charles III")."""
    return word.isupper() and bool(_ROMAN_UPPER.fullmatch(word))


@lru_cache(maxsize=65536)
def _word_key(word: str) -> str:
    folded = fold_key(word)
    romanised = anyascii(folded).lower()
    romanised = re.sub(r"[^a-z0-9]", "", romanised)
    for pattern, replacement in _SPELLING_RULES:
        romanised = pattern.sub(replacement, romanised)
    return romanised + _DISTINCT_MARK if folded in DISTINCT_GIVEN_NAMES else romanised


def name_key(text: str) -> str:
    """The romanised, spelling-normalised key of a name ("Wladimir Putin", "Владимир Путин" and
    "Vladimir Poutine" → "vladimir putin")."""
    # A regnal number is kept as written ("Charles III" is not "Charles II": no doubled letters cut),
    # after the first word only ("XI JINPING" in a headline is still "Xi Jinping").
    return " ".join(key for key in (word.lower() if at and _is_regnal(word) else _word_key(word)
                                    for at, word in enumerate(words(text))) if key)


def key_distance(first: str, second: str, limit: int = 2) -> int:
    """Levenshtein distance between two keys, or ``limit + 1`` as soon as it exceeds ``limit``."""
    if abs(len(first) - len(second)) > limit:
        return limit + 1
    previous = list(range(len(second) + 1))
    for row, char in enumerate(first, 1):
        current = [row]
        for column, other in enumerate(second, 1):
            current.append(min(previous[column] + 1, current[column - 1] + 1,
                               previous[column - 1] + (char != other)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return min(previous[-1], limit + 1)


@lru_cache(maxsize=65536)
def numbers_of(key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The figures of a key ("airbus a320" → 320) and its words that are Roman numerals ("louis xiv"
    → xiv), in order."""
    return (tuple(_DIGITS.findall(key)),
            tuple(word for word in key.split() if word and _ROMAN.fullmatch(word)))


def spelling_distance(first: str, second: str, limit: int = 1) -> int:
    """``key_distance`` for telling spellings of one name apart from other names: two keys whose
    figures or Roman numerals differ are other names however close their letters ("Airbus A320" and
    "Airbus A321", "Louis XIV" and "Louis XV", "Apollo 11" and "Apollo 12"), ``limit + 1``."""
    if numbers_of(first) != numbers_of(second):
        return limit + 1
    return key_distance(first, second, limit)


def search_fold(text: str) -> str:
    """Text as the folded search fields hold it: case and accents folded, elisions cut ("d'Ousmane
    Dembélé" → "d ousmane dembele", so the word "dembele" or "ousmane" finds it)."""
    return fold_key(text).replace("'", " ").replace("’", " ").replace("ʼ", " ")
