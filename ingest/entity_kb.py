"""The knowledge base of named entities: who and where, with one id per real-world entity.

Data files under ``ingest/data/kb/`` (tab-separated, one entity a row, every row with its source):

- ``persons.tsv``, ``organizations.tsv``, ``places.tsv``: curated; columns ``id label name country``,
  then the variants per language (``fr en de es it ru``, ``|``-separated), ``source`` and
  ``qid_check`` (how the QID was checked: ``rigour``, it is a territory of ``countries.tsv``;
  ``reviewer``, checked by a reviewer who knows it, not against Wikidata; ``unverified``, typed from
  memory and not confirmed; ``none``, no QID);
- ``countries.tsv``: countries and territories (rigour, with Wikidata ids; ISO names from pycountry);
- ``cities.tsv.gz``: GeoNames cities of 15,000 people or more, with alternate names and population.

Both generated files have the columns ``id label name country prior names source`` and are rebuilt
by ``scripts/build_kb.py``. ``id`` is a Wikidata QID where known, else a stable Vigie id (``v:slug``
for curated rows, ``gn:<geonameid>`` for cities). A curated place shadows the GeoNames city of the
same name and country (Paris is Q90, not a second Paris), and takes its alternate names.

Lookups go through one dictionary from folded phrase (``ingest.name_keys.phrase_key``) to candidates;
a candidate carries the languages whose column named it, so "Bayern" is Bavaria in German and the
football club in French. Between homonyms: the article's language, then its context (the countries
of the other entities: "Atlanta, Georgia" is the US state), then for cities where the article's
language is spoken (Brest in French is Brittany's), then the prior (curated entries, then countries,
then cities by population).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import os
import pickle
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import get_args

from ingest.models import EntityLabel
from ingest import name_keys
from ingest.name_keys import name_key, phrase_key

LANGUAGE_COLUMNS = ("fr", "en", "de", "es", "it", "ru")
_LANGUAGE_BITS = {language: 1 << index for index, language in enumerate(LANGUAGE_COLUMNS)}
_ALTERNATE = 1 << 6  # a city's alternate name (not its main one): weaker evidence in free text
_FLAG_BITS = 8
CURATED_FILES = ("persons.tsv", "organizations.tsv", "places.tsv")
GENERATED_FILES = ("countries.tsv", "cities.tsv.gz")
#: Rows that add names to an entity of another file (same columns as the curated files).
EXTRA_NAMES_FILE = "extra_names.tsv"
#: How a curated row's QID was checked (column ``qid_check``; see the module's docstring).
QID_CHECKS = ("rigour", "reviewer", "unverified", "none")
_ID = re.compile(r"^(Q[1-9][0-9]*|v:[a-z0-9][a-z0-9-]*|gn:[0-9]+)$")
_LABELS = frozenset(get_args(EntityLabel))
#: Priors: curated persons and organisations, then countries, then curated places, then cities by
#: population (no city reaches 1e9).
_PRIORS = {"persons.tsv": 4e9, "organizations.tsv": 3e9, "countries.tsv": 2e9, "places.tsv": 1.5e9}
_TERRITORY_PRIOR = 1e6
_ACRONYM = re.compile(r"^[A-ZА-Я0-9.]{2,6}$")


@dataclass(frozen=True, slots=True)
class KBEntity:
    """One entity of the knowledge base."""

    id: str
    name: str  # canonical display name, with its accents
    label: EntityLabel
    country: str  # ISO 3166 alpha-2 of the country it belongs to ("" if none)
    prior: float
    curated: bool  # from a reviewed file (persons, organisations, places, countries)


@dataclass(frozen=True, slots=True)
class Candidate:
    entity: KBEntity
    languages: int  # bit set of LANGUAGE_COLUMNS that name it this way; 0: every language
    alternate: bool  # a city's alternate name

    def named_in(self, language: str) -> bool:
        return self.languages == 0 or bool(self.languages & _LANGUAGE_BITS.get(language, 0))


def kb_dir() -> Path:
    return Path(str(resources.files("ingest").joinpath("data", "kb")))


def read_table(path: Path) -> Iterator[dict[str, str]]:
    """The rows of one TSV file (gzip if its name ends in .gz) as column → value."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
        header = handle.readline().rstrip("\n").split("\t")
        for number, line in enumerate(handle, 2):
            line = line.rstrip("\n")
            if not line:
                continue
            values = line.split("\t")
            if len(values) != len(header):
                raise ValueError(f"{path.name}:{number}: {len(values)} columns, expected {len(header)}")
            yield dict(zip(header, values))


def row_variants(row: dict[str, str]) -> Iterator[tuple[str, int]]:
    """Each name of a row with the language bits of the columns that give it (0: any language)."""
    yield row["name"], 0
    for name in row.get("names", "").split("|"):
        if name:
            yield name, 0
    for language in LANGUAGE_COLUMNS:
        for name in row.get(language, "").split("|"):
            if name:
                yield name, _LANGUAGE_BITS[language]


#: A German adjective in a name, by its stem and ending: "Vereinigte", "Europäische", "Vereinte".
_GERMAN_ADJECTIVE = re.compile(r"^(\w*(?:isch|igt|eint|lich))(e|es|en|er|em)$")
_GERMAN_ENDINGS = ("e", "es", "en", "er", "em")


def german_inflections(name: str) -> list[str]:
    """The other declined forms of a name whose words before the last include German adjectives, all
    declined alike: "Vereinigte Staaten" → "Vereinigten Staaten" (as in "in den Vereinigten Staaten"),
    "Europäische Union" → "Europäischen Union", "Vereinigtes Königreich" → "Vereinigten Königreich"."""
    words = name.split(" ")
    adjectives = [(at, found) for at, word in enumerate(words[:-1])
                  if word[:1].isupper() and (found := _GERMAN_ADJECTIVE.match(word))]
    if not adjectives:
        return []
    forms = set()
    for ending in _GERMAN_ENDINGS:
        declined = list(words)
        for at, found in adjectives:
            declined[at] = found.group(1) + ending
        forms.add(" ".join(declined))
    forms.discard(name)
    return sorted(forms)


def validate_rows(files: Iterable[tuple[str, Iterable[dict[str, str]]]]) -> list[str]:
    """Problems in knowledge-base rows: ids malformed or repeated, unknown labels or countries,
    rows without a name or a source. Empty when the files are sound."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    territories: set[str] = set()
    rigour_checked: list[tuple[str, str]] = []
    countries: set[str] = set()
    pending: list[tuple[str, int, str]] = []
    extra: list[tuple[str, str]] = []
    for file_name, rows in files:
        for number, row in enumerate(rows, 2):
            where = f"{file_name}:{number}"
            if file_name == EXTRA_NAMES_FILE:
                extra.append((where, row.get("id", "")))
            elif not _ID.match(row.get("id", "")):
                problems.append(f"{where}: malformed id {row.get('id')!r}")
            elif row["id"] in seen:
                problems.append(f"{where}: id {row['id']} already in {seen[row['id']]}")
            else:
                seen[row["id"]] = where
            if row.get("label") not in _LABELS:
                problems.append(f"{where}: unknown label {row.get('label')!r}")
            if not row.get("name", "").strip():
                problems.append(f"{where}: no name")
            if not row.get("source", "").strip():
                problems.append(f"{where}: no source")
            if any(char in name for name, _ in row_variants(row) for char in "\t\n"):
                problems.append(f"{where}: a name holds a tab or a line break")
            if not any(phrase_key(name) for name, _ in row_variants(row)):
                problems.append(f"{where}: no name with a letter or a digit")
            if file_name == "countries.tsv":
                countries.add(row["country"])
                territories.add(row.get("id", ""))
            if file_name in CURATED_FILES or file_name == EXTRA_NAMES_FILE:
                check = row.get("qid_check", "")
                has_qid = row.get("id", "").startswith("Q")
                if check not in QID_CHECKS:
                    problems.append(f"{where}: qid_check {check!r} is none of {', '.join(QID_CHECKS)}")
                elif (check == "none") == has_qid:
                    problems.append(f"{where}: qid_check {check!r} for id {row.get('id')!r}")
                elif check == "rigour":
                    rigour_checked.append((where, row["id"]))
            if row.get("country"):
                pending.append((where, number, row["country"]))
    for where, identity in extra:
        if identity not in seen:
            problems.append(f"{where}: names for an unknown id {identity!r}")
    for where, identity in rigour_checked:
        if territories and identity not in territories:
            problems.append(f"{where}: qid_check 'rigour' but {identity} is no territory of countries.tsv")
    for where, _, country in pending:
        if countries and country not in countries:
            problems.append(f"{where}: unknown country code {country!r}")
    return problems


class KnowledgeBase:
    """Entities and the phrases that name them. Built once per process (``default_kb``), read-only."""

    def __init__(self, directory: Path | None = None, *, cities: bool = True) -> None:
        directory = directory or kb_dir()
        self.entities: list[KBEntity] = []
        self.by_id: dict[str, KBEntity] = {}
        # phrase key → candidate codes (entity index << _FLAG_BITS | flags); one int when alone.
        self._phrases: dict[str, int | tuple[int, ...]] = {}
        self._acronyms: dict[str, int | tuple[int, ...]] = {}
        self._name_keys: dict[str, int | tuple[int, ...]] = {}
        self._max_words: dict[str, int] = {}  # first token → most tokens of a phrase beginning with it
        self.counts: dict[str, int] = {}
        shadowed: dict[tuple[str, str], int] = {}  # (phrase key, country) of a curated place → entity
        for file_name in ("persons.tsv", "organizations.tsv", "countries.tsv", "places.tsv"):
            count = 0
            for row in read_table(directory / file_name):
                # A territory that is not a country (an oblast, a US state) ranks below the big
                # cities named like it: "в Новосибирске" is the city, not the oblast.
                prior = _TERRITORY_PRIOR if row.get("prior") == "territory" else _PRIORS[file_name]
                index = self._add(row, prior, curated=True)
                count += 1
                if file_name == "places.tsv":
                    for name, _ in row_variants(row):
                        shadowed.setdefault((phrase_key(name), row["country"]), index)
            self.counts[file_name.split(".")[0]] = count
        for row in read_table(directory / EXTRA_NAMES_FILE):
            # More names for an entity of another file (common country names ISO lacks: "Russie").
            index = self.entities.index(self.by_id[row["id"]])
            for name, languages in row_variants(row):
                self._index_name(name, index, languages)
                for inflected in german_inflections(name):
                    self._index_name(inflected, index, languages)
        if cities:
            self.counts["cities"] = self._add_cities(directory / "cities.tsv.gz", shadowed)

    def _add(self, row: dict[str, str], prior: float, *, curated: bool) -> int:
        entity = KBEntity(row["id"], row["name"], row["label"], row.get("country", ""), prior, curated)  # type: ignore[arg-type]
        index = len(self.entities)
        self.entities.append(entity)
        self.by_id[entity.id] = entity
        for name, languages in row_variants(row):
            self._index_name(name, index, languages)
            for inflected in german_inflections(name):
                self._index_name(inflected, index, languages)
        return index

    def _index_name(self, name: str, index: int, flags: int) -> None:
        code = index << _FLAG_BITS | flags
        if _ACRONYM.match(name) and sum(char.isalpha() for char in name) >= 2:
            # "EU", "UN", "ООН": matched only as written, never "eu" or "Un".
            _put(self._acronyms, name.replace(".", ""), code)
            if "." not in name:
                return
        key = phrase_key(name)
        if not key:
            return
        _put(self._phrases, key, code)
        first, size = key.split(" ", 1)[0], key.count(" ") + 1
        if size > self._max_words.get(first, 0):
            self._max_words[first] = size
        if self.entities[index].label in ("PERSON", "ORGANIZATION") and " " in key:
            _put(self._name_keys, name_key(name), code)

    def _add_cities(self, path: Path, shadowed: dict[tuple[str, str], int]) -> int:
        count = 0
        for row in read_table(path):
            names = [name for name in row["names"].split("|") if name]
            curated = shadowed.pop((phrase_key(row["name"]), row["country"]), None)
            if curated is not None:
                # The most populous city of that name and country is the curated place.
                for name in names:
                    self._index_name(name, curated, 0)
                continue
            entity = KBEntity(row["id"], row["name"], "LOCATION", row["country"], float(row["prior"]), False)
            index = len(self.entities)
            self.entities.append(entity)
            self.by_id[entity.id] = entity
            count += 1
            self._index_name(row["name"], index, 0)
            for name in names:
                if name != row["name"]:
                    self._index_name(name, index, _ALTERNATE)
        return count

    def _candidates(self, codes: int | tuple[int, ...] | None) -> list[Candidate]:
        if codes is None:
            return []
        if isinstance(codes, int):
            codes = (codes,)
        return [Candidate(self.entities[code >> _FLAG_BITS], code & 0x3F, bool(code & _ALTERNATE)) for code in codes]

    def phrase(self, key: str) -> list[Candidate]:
        """Candidates for a folded phrase key (``ingest.name_keys.phrase_key``)."""
        return self._candidates(self._phrases.get(key))

    def acronym(self, text: str) -> list[Candidate]:
        return self._candidates(self._acronyms.get(text.replace(".", "")))

    def by_name_key(self, key: str) -> list[Candidate]:
        """Persons and organisations whose romanised key (``name_key``) is ``key``."""
        return self._candidates(self._name_keys.get(key))

    def max_words(self, first_token: str) -> int:
        return self._max_words.get(first_token, 0)

    def lookup(self, text: str, language: str = "", context: frozenset[str] = frozenset()) -> KBEntity | None:
        """The best entity a name (as written) designates, or None."""
        candidates = self.acronym(text) or self.phrase(phrase_key(text))
        best = choose(candidates, language, context)
        return best.entity if best is not None else None


def choose(candidates: list[Candidate], language: str, context: frozenset[str],
           money: frozenset[str] = frozenset()) -> Candidate | None:
    """The candidate the article means.

    When every candidate comes from a language column, the article's language decides ("Bayern" is
    Bavaria in German, the club elsewhere). Otherwise the prior does, unless a candidate of nearly
    the same weight lies in a country of the article's other entities ("Atlanta, Georgia": the US
    state; Paris, Texas never outweighs Paris); failing that, between cities named so by their main
    names, unless one of nearly the same population lies where the article's language is at home
    ("Brest" in French); failing that, a city where the currency the article counts in is legal
    tender (``money``: "millones de euros", Valencia, Spain; ingest.entity_linking.currency_context).
    """
    if not candidates:
        return None
    if all(candidate.languages for candidate in candidates):
        named = [candidate for candidate in candidates if candidate.named_in(language)]
        candidates = named or candidates
    best = max(candidates, key=_rank)
    if context:
        near = [candidate for candidate in candidates
                if candidate.entity.country in context and not _is_country(candidate.entity)
                and candidate.entity.prior * _CONTEXT_RATIO >= best.entity.prior]
        if near:
            return max(near, key=_rank)
    if _is_city(best.entity) and best.alternate:
        # A city named by one of its alternate names (an old name, a nickname, another language's)
        # yields to a city of nearly its size named so by its main name, unless that name is only
        # a spelling of the other's ("Waterloo" is Ontario's, Belgium's or Iowa's, not the old name
        # of Austin; "Odessa" stays Odesa).
        main = [candidate for candidate in candidates
                if _is_city(candidate.entity) and not candidate.alternate
                and candidate.entity.prior * _MAIN_NAME_RATIO >= best.entity.prior
                and not _spelled_alike(candidate.entity.name, best.entity.name)]
        if main:
            best = max(main, key=_rank)
    if _is_city(best.entity) and not best.alternate:
        homes = home_countries(language)
        if best.entity.country not in homes:
            # Main names only: an exonym or a transliteration (an alternate name) says where the
            # writer's language puts it ("Florencia" is Florence in Spanish, not Florencia, Colombia).
            home = [candidate for candidate in candidates
                    if _is_city(candidate.entity) and not candidate.alternate and candidate.entity.country in homes
                    and candidate.entity.prior * _HOME_RATIO >= best.entity.prior]
            if home:
                return max(home, key=_rank)
    if money and _is_city(best.entity) and best.entity.country not in money:
        # Last, the currency the article counts in ("millones de euros": Valencia, Spain).
        paid = [candidate for candidate in candidates
                if _is_city(candidate.entity) and candidate.entity.country in money
                and candidate.entity.prior * _CONTEXT_RATIO >= best.entity.prior]
        if paid:
            return max(paid, key=_rank)
    return best


#: How much lighter than the favourite a candidate confirmed by the article's context may be.
_CONTEXT_RATIO = 20
#: How much less populous than a city named by an alternate name a city named by its main name may be
#: and still be the one meant. Every change it makes over the knowledge base was listed and reviewed
#: (docs/quality.md); above 20 the alternate names are mostly the exonyms of big cities ("Colonia"
#: is Cologne in Italian and Spanish, "Canton" Guangzhou in French).
_MAIN_NAME_RATIO = 20
#: How much less populous than the favourite a city in a country of the article's language may be and
#: still be the one meant when nothing else in the article tells them apart ("Brest" in French:
#: Brittany's, 145,000 people, not Belarus's, 347,000). Kept small: every change it makes over the
#: knowledge base is listed and reviewed in docs/quality.md.
_HOME_RATIO = 3
#: Languages that say little of where a text was written, so nothing of which city it means:
#: English is the wires' common language, and official in 75 territories. Reviewed over the whole
#: knowledge base (docs/quality.md), its 36 changes were mostly wrong (Heidelberg, Parma, Dieppe
#: taken for towns of South Africa, Ohio, New Brunswick).
_NO_HOME = frozenset({"en"})
#: A language is at home in a territory where it is official (or de facto) and spoken by at least
#: this share of the people (CLDR's territory data, as Babel ships it).
_HOME_SHARE = 30.0


@cache
def home_countries(language: str) -> frozenset[str]:
    """The ISO 3166 codes of the territories where ``language`` is an official language (or a de
    facto one) spoken by at least ``_HOME_SHARE`` % of the people, from CLDR (Babel): for "fr",
    France, Belgium, Switzerland, Luxembourg, Monaco, the overseas departments and most of French-
    speaking Africa; for "de", Germany, Austria, Switzerland, Liechtenstein, Luxembourg."""
    if language in _NO_HOME:
        return frozenset()
    from babel.core import get_global

    territories = get_global("territory_languages")
    return frozenset(territory for territory, spoken in territories.items()
                     if (info := spoken.get(language)) is not None
                     and info.get("official_status") in ("official", "de_facto_official")
                     and info.get("population_percent", 0.0) >= _HOME_SHARE)


_ARTICLES = frozenset({"al", "el", "an", "ar", "as", "ad", "at", "az", "ash", "ed", "es", "la", "le", "the"})
_SAINTS = {"st": "saint", "ste": "sainte", "sankt": "saint", "san": "saint", "santa": "sainte", "sao": "saint"}


def _spelled_alike(first: str, second: str) -> bool:
    """Whether two city names are spellings of one name: their keys (``name_key``) one or two
    letters apart once a leading article and the words for "saint" are set aside ("Mansoura" and
    "Al Mansurah", "St. Petersburg" and "Saint Petersburg"), or one's words among the other's
    ("Matamoros", "Heroica Matamoros")."""
    def words_of(name: str) -> list[str]:
        words = [_SAINTS.get(word, word) for word in name_key(name).split()]
        return words[1:] if len(words) > 1 and words[0] in _ARTICLES else words

    one, other = words_of(first), words_of(second)
    if not one or not other:
        return False
    if set(one) <= set(other) or set(other) <= set(one):
        return True
    return name_keys.spelling_distance(" ".join(one), " ".join(other), 2) <= 2


def _is_city(entity: KBEntity) -> bool:
    """A GeoNames city (not curated: curated places, countries and territories outweigh any city)."""
    return entity.label == "LOCATION" and not entity.curated


def _rank(candidate: Candidate) -> tuple[float, bool]:
    return candidate.entity.prior, not candidate.alternate


def _is_country(entity: KBEntity) -> bool:
    return entity.prior == _PRIORS["countries.tsv"]


def _merged(existing: int, code: int) -> int:
    """Flags of one entity named twice by the same phrase: languages united (0, any language, wins);
    alternate only if both are."""
    first, second = existing & 0xFF, code & 0xFF
    languages = (first | second) & 0x3F if (first & 0x3F and second & 0x3F) else 0
    return (existing >> _FLAG_BITS) << _FLAG_BITS | languages | (first & second & _ALTERNATE)


def _put(index: dict[str, int | tuple[int, ...]], key: str, code: int) -> None:
    existing = index.get(key)
    if existing is None:
        index[key] = code
        return
    codes = (existing,) if isinstance(existing, int) else existing
    for position, other in enumerate(codes):
        if other >> _FLAG_BITS == code >> _FLAG_BITS:
            codes = codes[:position] + (_merged(other, code),) + codes[position + 1:]
            break
    else:
        codes = codes + (code,)
    index[key] = codes[0] if len(codes) == 1 else codes


#: bump when what ``KnowledgeBase`` holds changes in a way its module's source does not show
_CACHE_FORMAT = 1
_cache_dir: Path | None = None
_log = logging.getLogger(__name__)


def data_digest(directory: Path, *extra: bytes) -> str:
    """A digest of the knowledge base's data files (names, sizes, times) and of ``extra``: a changed
    table gives another digest, so what was built from the old one is never read."""
    digest = hashlib.sha1()
    for part in extra:
        digest.update(part)
    for path in sorted(directory.iterdir()):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.name} {stat.st_size} {stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def cache_path(cache_dir: Path, directory: Path | None = None) -> Path:
    """Where the knowledge base built from ``directory`` is kept in ``cache_dir``: named by the data,
    the code that builds it and the Python version (pickles are read by the same code only)."""
    code = Path(__file__).read_bytes() + Path(name_keys.__file__).read_bytes()
    version = f"format {_CACHE_FORMAT} python {sys.version_info[0]}.{sys.version_info[1]}".encode()
    return cache_dir / f"entity-kb-{data_digest(directory or kb_dir(), version, code)}.pickle"


def load_or_build(cache_dir: Path, directory: Path | None = None) -> KnowledgeBase:
    """The knowledge base of ``directory`` as kept in ``cache_dir``, built and kept there first when
    missing. An unreadable file is built again; a cache that cannot be written is only logged."""
    path = cache_path(cache_dir, directory)
    try:
        with path.open("rb") as handle:
            kb = pickle.load(handle)
        if isinstance(kb, KnowledgeBase):
            return kb
        _log.warning("entity knowledge base cache %s holds no knowledge base: building it again", path)
    except FileNotFoundError:
        pass
    except Exception as error:  # a truncated or foreign file: build it again, and replace it
        _log.warning("entity knowledge base cache %s unreadable (%s): building it again", path, error)
    kb = KnowledgeBase(directory)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as handle:
            pickle.dump(kb, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)  # readers never see half a file
    except OSError as error:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        _log.warning("entity knowledge base cache %s not written (%s)", path, error)
    return kb


def use_cache(cache_dir: Path) -> None:
    """Let ``default_kb`` read the built knowledge base from ``cache_dir`` (and keep it there): about a
    second less for every short-lived process that analyses (`vigie analyze`, a worker starting)."""
    global _cache_dir
    _cache_dir = cache_dir


_default: KnowledgeBase | None = None
_default_lock = threading.Lock()


def default_kb() -> KnowledgeBase:
    """The bundled knowledge base, loaded once per process (before a fork, it is shared); from the
    cache directory when ``use_cache`` named one. Threads asking at once (the API's first searches and
    its loading thread) wait for one load instead of each building it."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = load_or_build(_cache_dir) if _cache_dir is not None else KnowledgeBase()
    return _default
