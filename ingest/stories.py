"""Online story clustering: each analysed article joins the best recent story, or starts one.

A *story* is one event as many outlets tell it, in any language; a near-duplicate cluster (index.dedup,
one wire text and its copies) stays a level below it: a copy joins its original's story directly.

An article is compared with every story seen within the window (``StoryParams.window_hours``) on three
signals, each a cosine between TF-IDF-weighted sparse vectors or a share of numbers:

- **words**: its lemmas (``Analysis.lemmas``, stop words out, tagged by language) against the story's
  centroid in that language: the same event told in the same language shares its vocabulary;
- **names**: entity identities where the analysis gives them (``Entity.id``), otherwise entity keys,
  capitalised words found inside sentences and place names folded to one form (``places.tsv``).
  Names are the same in every language, so they carry a story across languages;
- **numbers**: figures normalised across writing conventions ("1,200", "1.200", "1 200" -> 1200),
  years left out.

The score is a weighted sum, the weights depending on whether the story already has articles in the
article's language (words count) or not (names and numbers alone), the names counting half when the
article shares a single name and no figure with the story (one city says where, not which event), the
numbers adding at most as much as the names (shared figures without shared names are no evidence),
multiplied by a decay on the time since the story's last article (``0.5 ** (hours / window)``). The
best story at or above ``threshold`` wins, ties broken by story id; none: the article starts a story
whose id is derived from its own. When the article also scores above ``merge_threshold`` against a
second story, the two stories have converged: the smaller (later, on ties) is merged into the other, and
the merge is returned so that it can be recorded.

IDF comes from document frequencies counted over the stream itself (``Frequencies``), so that a
word common in today's news weighs little. Everything here is pure and deterministic: the same
articles in the same order give the same stories, whatever process runs it.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from functools import cache
from importlib import resources
from types import MappingProxyType

from ingest.clean import fold_key
from ingest.models import AnalyzedArticle

#: Terms kept per language in a story's centroid, names and numbers kept per story (a bounded record).
CENTROID_TERMS = 300
CENTROID_NAMES = 120
CENTROID_NUMBERS = 60


@dataclass(frozen=True, slots=True)
class StoryParams:
    """How stories are formed; the values come from settings (VIGIE_STORY_*)."""

    window_hours: float = 72.0
    threshold: float = 0.24
    merge_threshold: float = 0.45
    #: weights when the story has articles in the article's language: words, names, numbers
    same_language: tuple[float, float, float] = (0.55, 0.35, 0.10)
    #: weights when it has none: names, numbers
    cross_language: tuple[float, float] = (0.75, 0.25)
    #: the names' cosine is multiplied by this when the article shares a single name with the story
    #: (identities aside: each comes with its name) and no figure: one place says where, not which event
    #: (a building fire in Valencia joined the Valencia flood story on the city's name alone)
    lone_name: float = 0.5


@dataclass(frozen=True, slots=True)
class StoryFeatures:
    """What story clustering reads from one analysed article."""

    article_id: str
    time: datetime
    language: str
    title: str
    terms: Mapping[str, float]  # "lang:lemma" -> frequency share in the article (sums to 1)
    names: Mapping[str, float]  # folded name or entity id -> frequency share
    numbers: frozenset[str]
    cluster_id: str = ""  # near-duplicate cluster (index.dedup); the article's own id when it has none
    source: str = ""  # the outlet: the article's host, else its feed
    entities: tuple[str, ...] = ()  # entity identities (id, else key), most mentioned first
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoryCentroid:
    """A story as clustering sees it: sums of its members' vectors, bounded, and its time span."""

    story_id: str
    size: int
    first_seen: datetime
    last_seen: datetime
    terms: Mapping[str, float]  # sum of members' term shares
    names: Mapping[str, float]
    numbers: Mapping[str, int]  # number -> members mentioning it
    languages: Mapping[str, int]  # language -> members
    headline: str = ""  # the founding article's title

    @classmethod
    def founded_by(cls, story_id: str, features: StoryFeatures) -> StoryCentroid:
        return cls(
            story_id=story_id, size=1, first_seen=features.time, last_seen=features.time,
            terms=MappingProxyType(dict(features.terms)), names=MappingProxyType(dict(features.names)),
            numbers=MappingProxyType({number: 1 for number in features.numbers}),
            languages=MappingProxyType({features.language: 1}), headline=features.title,
        )

    def with_member(self, features: StoryFeatures) -> StoryCentroid:
        numbers = Counter(self.numbers)
        numbers.update(features.numbers)
        languages = Counter(self.languages)
        languages[features.language] += 1
        return replace(
            self, size=self.size + 1,
            first_seen=min(self.first_seen, features.time), last_seen=max(self.last_seen, features.time),
            terms=_bounded_sum(self.terms, features.terms, CENTROID_TERMS, by_language=True),
            names=_bounded_sum(self.names, features.names, CENTROID_NAMES),
            numbers=_top(numbers, CENTROID_NUMBERS), languages=MappingProxyType(dict(languages)),
        )

    def merged_with(self, other: StoryCentroid) -> StoryCentroid:
        """This story with ``other``'s members added (this one keeps its id and headline)."""
        numbers = Counter(self.numbers)
        numbers.update(other.numbers)
        languages = Counter(self.languages)
        languages.update(other.languages)
        return replace(
            self, size=self.size + other.size,
            first_seen=min(self.first_seen, other.first_seen), last_seen=max(self.last_seen, other.last_seen),
            terms=_bounded_sum(self.terms, other.terms, CENTROID_TERMS, by_language=True),
            names=_bounded_sum(self.names, other.names, CENTROID_NAMES),
            numbers=_top(numbers, CENTROID_NUMBERS), languages=MappingProxyType(dict(languages)),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "story_id": self.story_id, "size": self.size,
            "first_seen": self.first_seen.isoformat(), "last_seen": self.last_seen.isoformat(),
            "terms": dict(self.terms), "names": dict(self.names), "numbers": dict(self.numbers),
            "languages": dict(self.languages), "headline": self.headline,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> StoryCentroid:
        def mapping(key: str) -> Mapping[str, float]:
            value = data.get(key) or {}
            assert isinstance(value, Mapping)
            return MappingProxyType({str(k): float(v) for k, v in value.items()})

        def counts(key: str) -> Mapping[str, int]:
            value = data.get(key) or {}
            assert isinstance(value, Mapping)
            return MappingProxyType({str(k): int(v) for k, v in value.items()})

        return cls(
            story_id=str(data["story_id"]), size=int(data["size"]),  # type: ignore[call-overload]
            first_seen=_utc(datetime.fromisoformat(str(data["first_seen"]))),
            last_seen=_utc(datetime.fromisoformat(str(data["last_seen"]))),
            terms=mapping("terms"), names=mapping("names"), numbers=counts("numbers"),
            languages=counts("languages"), headline=str(data.get("headline") or ""),
        )


@dataclass(frozen=True, slots=True)
class Merge:
    """Two stories found to tell one event: ``absorbed`` now lives on as ``into``."""

    absorbed: str
    into: str
    by_article: str
    score: float


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where an article went, and why."""

    article_id: str
    story_id: str
    created: bool
    score: float  # similarity to the story joined (1.0 for a near-duplicate, 0.0 for a new story)
    reason: str  # "new", "similar", "near-duplicate", "already" (a redelivery)
    merges: tuple[Merge, ...] = ()


# -- features --------------------------------------------------------------------------------------

#: A word; apostrophes end it ("l'Allemagne" -> "l", "Allemagne"; "Macron's" -> "Macron", "s").
_WORD = re.compile(r"[^\W\d_][\w-]*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?:;…«»\"“”(\[\n]\s*$")
# A group of thousands ("1,200", "1.200", "1 200" with any space), else a plain or decimal number.
_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:[ \u00a0\u202f.,’']\d{3})+|\d+(?:[.,]\d+)?)(?![\w])")
_GROUP_SEPARATORS = re.compile(r"[ \u00a0\u202f.,’']")
_MIN_NAME_CHARS = 3


@cache
def _stop_words(language: str) -> frozenset[str]:
    """spaCy's stop words of a language, folded (empty for a language spaCy lacks)."""
    try:
        module = __import__(f"spacy.lang.{language}.stop_words", fromlist=["STOP_WORDS"])
    except ImportError:
        return frozenset()
    return frozenset(fold_key(word) for word in module.STOP_WORDS)


#: Days and months, capitalised in English, German and Dutch and at any sentence start: a date says
#: when, not which event ("Monday" is in half the week's news), so they are no names here. Folded.
_CALENDAR_WORDS = frozenset(fold_key(word) for word in (
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
    "august september october november december "
    "montag dienstag mittwoch donnerstag freitag samstag sonnabend sonntag januar februar märz mai juni juli "
    "oktober dezember "
    "lundi mardi mercredi jeudi vendredi samedi dimanche janvier février mars avril juin juillet août "
    "septembre octobre novembre décembre "
    "lunes martes miércoles jueves viernes sábado domingo enero febrero marzo abril mayo junio julio agosto "
    "septiembre octubre noviembre diciembre "
    "lunedì martedì mercoledì giovedì venerdì sabato domenica gennaio febbraio aprile maggio giugno luglio "
    "settembre ottobre dicembre "
    "segunda terça quarta quinta sexta janeiro fevereiro março maio junho julho setembro outubro novembro "
    "dezembro "
    "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag januari februari maart mei augustus"
).split())


@cache
def _all_stop_words() -> frozenset[str]:
    words: set[str] = set()
    for language in ("fr", "en", "de", "es", "it", "pt", "nl"):
        words |= _stop_words(language)
    return frozenset(words)


@cache
def place_forms() -> Mapping[str, str]:
    """Folded place name in any language -> one form ("allemagne", "deutschland" -> "germany").

    From ingest/data/places.tsv: one place a line, its names in several languages, tab-separated;
    the first name is the form kept.
    """
    forms: dict[str, str] = {}
    text = resources.files("ingest").joinpath("data/places.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        names = [fold_key(name.strip()) for name in line.split("\t") if name.strip()]
        for name in names:
            forms.setdefault(name, names[0])
    return MappingProxyType(forms)


def _shares(counts: Counter[str]) -> Mapping[str, float]:
    total = sum(counts.values())
    if not total:
        return MappingProxyType({})
    return MappingProxyType({key: count / total for key, count in sorted(counts.items())})


def numbers_in(text: str) -> frozenset[str]:
    """The figures of a text in one notation, whatever the language wrote ("12 500" -> "12500").

    Years (1900-2100) and whole numbers below 10 are left out: they say little about which event it
    is (a decimal such as a magnitude, "7.4", or a rate, "2.25", does).
    """
    found: set[str] = set()
    for match in _NUMBER.finditer(text):
        raw = match.group(1)
        if re.fullmatch(r"\d{1,3}(?:[ \u00a0\u202f.,’']\d{3})+", raw):
            value = _GROUP_SEPARATORS.sub("", raw)
        else:
            value = raw.replace(",", ".")
        try:
            number = float(value)
        except ValueError:
            continue
        if (number.is_integer() and number < 10) or (number.is_integer() and 1900 <= number <= 2100):
            continue
        found.add(f"{number:g}" if not number.is_integer() else str(int(number)))
    return frozenset(found)


_VOWELS = re.compile(r"[aeiouy]+")
_REPEATS = re.compile(r"(.)\1+")


def name_key(name: str) -> str:
    """One key for the spellings of a name across languages: folded, then its consonant skeleton
    ("khartoum", "khartum" -> "khrtm"; "dschidda"'s German "sch" stays apart from "jeddah").

    Short skeletons (fewer than three consonants) keep the folded name, they would collide.
    """
    skeleton = _REPEATS.sub(r"\1", _VOWELS.sub("", name[1:]))
    skeleton = name[0] + skeleton
    return skeleton if len(skeleton) >= 4 else name


@cache
def _known_place_keys() -> frozenset[str]:
    return frozenset(name_key(place) for place in place_forms().values())


def names_in(text: str, language: str) -> Counter[str]:
    """Capitalised words used inside sentences, folded, places in one form, with their counts (days
    and months left out).

    A word capitalised at the start of a sentence is counted only when it is also seen inside one.
    """
    stop = _all_stop_words()
    places = place_forms()
    known_places = _known_place_keys()
    inside: set[str] = set()
    every: Counter[str] = Counter()
    for match in _WORD.finditer(text):
        word = match.group(0).strip("-")
        if len(word) < _MIN_NAME_CHARS or not word[0].isupper():
            continue
        key = fold_key(word)
        if key in stop or key in _CALENDAR_WORDS:
            continue
        key = name_key(places.get(key, key))
        every[key] += 1
        before = text[max(0, match.start() - 3): match.start()]
        if key in known_places or (match.start() > 0 and not _SENTENCE_END.search(before)
                                          and not (word.isupper() and len(word) > 5)):
            inside.add(key)
    return Counter({key: count for key, count in every.items() if key in inside})


def features_of(item: AnalyzedArticle, cluster_id: str = "", time: datetime | None = None) -> StoryFeatures:
    """The story features of an analysed article (``time``: its published time, else when fetched)."""
    article, analysis = item.article, item.analysis
    language = analysis.language
    stop = _stop_words(language) | _stop_words("en")
    terms: Counter[str] = Counter()
    for lemma in analysis.lemmas.split():
        if len(lemma) < 3 or lemma.isdigit() or fold_key(lemma) in stop:
            continue
        terms[f"{language}:{lemma}"] += 1
    title = analysis.title or article.title
    body = f"{title}\n{analysis.text}"
    names = names_in(analysis.text, language)
    entities: Counter[str] = Counter()
    places = place_forms()
    for entity in analysis.entities:
        identity = getattr(entity, "id", "") or ""
        key = entity.key or fold_key(entity.text)
        entities[identity or key] += entity.mentions
        if identity:
            names[f"id:{identity}"] += entity.mentions
        for part in key.split():
            part = name_key(places.get(part, part))
            if len(part) >= _MIN_NAME_CHARS and part not in _all_stop_words():
                names[part] += entity.mentions
        whole = places.get(key)
        if whole is not None and " " in key:
            names[name_key(whole)] += entity.mentions
    when = time or article.published or article.fetched_at or datetime.now(timezone.utc)
    source = ""
    if article.url:
        source = re.sub(r"^www\.", "", re.split(r"[/:]", article.url.split("//", 1)[-1], maxsplit=1)[0].lower())
    return StoryFeatures(
        article_id=article.article_id, time=_utc(when), language=language, title=title,
        terms=_shares(terms), names=_shares(names), numbers=numbers_in(body),
        cluster_id=cluster_id or article.article_id, source=source or (article.feed_url or ""),
        entities=tuple(key for key, _ in sorted(entities.items(), key=lambda pair: (-pair[1], pair[0]))),
        topics=tuple(topic.name for topic in analysis.topics),
    )


# -- similarity ------------------------------------------------------------------------------------


def frequency_keys(vector: StoryFeatures | StoryCentroid) -> list[str]:
    """The keys an article or a story is counted and weighed by: its terms, then ``name:`` and each name."""
    return [*vector.terms, *(f"name:{name}" for name in vector.names)]


#: Changes of the counts a ``Frequencies`` keeps to bring its story norms up to date; past them, the
#: norms are computed again (a long stream clustered in memory would otherwise keep every change).
NORM_CHANGES = 64


@dataclass(slots=True)
class _StoryNorm:
    """The IDF-weighted squared norm of one story vector, kept as three sums that follow the counts.
    With a = log(documents + 1) + 1 and L = log(count + 1), a key's IDF is a - L, so the norm is
    a²·Σv² - 2a·Σv²L + Σv²L²: a new article changes a for every key at once (the documents), and L
    only for its own keys, whose terms alone are moved in the sums."""

    source: Mapping[str, float]  # the vector summed: held, so that no other vector can take its id
    squares: dict[str, float]  # count key -> the value squared
    logs: dict[str, float]  # count key -> L as summed
    s0: float
    s1: float
    s2: float
    seen: int  # changes of the counts already in the sums


class Frequencies:
    """Document frequencies of terms and names over the articles seen: the IDF of the stream. Counts
    change only through ``add`` and ``counted`` (story norms follow them)."""

    def __init__(self, documents: int = 0, counts: Mapping[str, int] | None = None) -> None:
        self.documents = documents
        self.counts: Counter[str] = Counter(counts or {})
        self._changes: list[Sequence[str]] = []  # keys whose counts changed, one entry per change
        self._norms: dict[tuple[int, str, str | None], _StoryNorm] = {}

    def add(self, features: StoryFeatures) -> None:
        self.count(frequency_keys(features))

    def count(self, keys: Sequence[str]) -> None:
        """Count one more article, holding ``keys`` (``frequency_keys``)."""
        self.documents += 1
        self.counts.update(keys)
        self._changed(keys)

    def counted(self, counts: Mapping[str, int]) -> None:
        """Set the counts of keys (read from where they are kept)."""
        for key, value in counts.items():
            self.counts[key] = value
        self._changed(list(counts))

    def _changed(self, keys: Sequence[str]) -> None:
        if len(self._changes) >= NORM_CHANGES:
            self._changes.clear()
            self._norms.clear()
        self._changes.append(keys)

    def idf(self, key: str) -> float:
        """The weight of ``key`` (a term, or ``name:`` and a name): rarer keys weigh more, never under 1.
        ``_weighted`` computes the same, inline."""
        return math.log((self.documents + 1) / (self.counts.get(key, 0) + 1)) + 1.0

    def squared_norm(self, story: Mapping[str, float], key_prefix: str = "", keep: str | None = None) -> float:
        """Σ (value × idf)² over ``story`` (the IDF of ``key_prefix`` + each key; ``keep``: only the
        keys starting with it), kept between calls (``_StoryNorm``): each article is compared with
        the same few stories, whose centroids hold hundreds of keys, while it changes the counts of
        its own keys only. Equal to the sum computed key by key up to rounding (a relative 1e-12
        at most, checked by the tests)."""
        log = math.log
        counts = self.counts.get
        slot = (id(story), key_prefix, keep)
        norm = self._norms.get(slot)
        if norm is None:  # a story that grew is a new mapping: summed afresh
            squares = {key_prefix + key: value * value for key, value in story.items()
                       if keep is None or key.startswith(keep)}
            logs = {key: log(counts(key, 0) + 1) for key in squares}
            s1 = s2 = 0.0
            for key, square in squares.items():
                s1 += square * logs[key]
                s2 += square * logs[key] * logs[key]
            norm = self._norms[slot] = _StoryNorm(story, squares, logs, sum(squares.values()), s1, s2,
                                                  len(self._changes))
        elif norm.seen < len(self._changes):
            changed = set().union(*self._changes[norm.seen:]) & norm.squares.keys()
            for key in changed:
                before, after = norm.logs[key], log(counts(key, 0) + 1)
                if after != before:
                    square = norm.squares[key]
                    norm.s1 += square * (after - before)
                    norm.s2 += square * (after * after - before * before)
                    norm.logs[key] = after
            norm.seen = len(self._changes)
        a = log(self.documents + 1) + 1.0
        return a * a * norm.s0 - 2.0 * a * norm.s1 + norm.s2


@dataclass(frozen=True, slots=True)
class _Weighted:
    """One article vector weighted by IDF (``Frequencies.idf`` of ``key_prefix`` + each key): its keys
    with weight and IDF, in the article's order, and its squared norm. The same for every story the
    article is compared with (the frequencies do not change while it is)."""

    items: tuple[tuple[str, float, float], ...]  # (key, share x idf, idf)
    squared_norm: float


def _weighted(article: Mapping[str, float], frequencies: Frequencies, key_prefix: str = "") -> _Weighted:
    """``article`` weighted by IDF. The IDFs are computed inline, as ``Frequencies.idf`` does: this
    runs twice for every article decided."""
    counts = frequencies.counts.get
    documents = frequencies.documents + 1
    log = math.log
    items = []
    norm = 0.0
    for key, share in article.items():
        idf = log(documents / (counts(key_prefix + key, 0) + 1)) + 1.0
        weight = share * idf
        norm += weight * weight
        items.append((key, weight, idf))
    return _Weighted(tuple(items), norm)


def _weights_of(features: StoryFeatures, frequencies: Frequencies) -> tuple[_Weighted, _Weighted]:
    """An article's names and terms weighted by IDF, as ``similarity`` compares them."""
    return _weighted(features.names, frequencies, "name:"), _weighted(features.terms, frequencies)


def _cosine(weighted: _Weighted, story: Mapping[str, float], frequencies: Frequencies,
            key_prefix: str = "", keep: str | None = None) -> float:
    """Cosine of an article vector weighted by IDF (``_weighted``, with ``key_prefix``) and a story's,
    weighted alike; ``keep``: only the story's keys starting with it count in its norm
    (``Frequencies.squared_norm``)."""
    get = story.get
    dot = 0.0
    for key, weight, idf in weighted.items:
        other = get(key)
        if other:
            dot += weight * other * idf
    if not dot:
        return 0.0
    return dot / math.sqrt(weighted.squared_norm * frequencies.squared_norm(story, key_prefix, keep))


def _shared_names(weighted: _Weighted, story: Mapping[str, float]) -> int:
    """How many of an article's names (``_weighted``) a story holds, identities (``id:``) aside: an
    identity's name is among the names too, so one place counts once."""
    shared = 0
    for key, _, _ in weighted.items:
        if key in story and not key.startswith("id:"):
            shared += 1
            if shared == 2:
                break
    return shared


def _number_score(numbers: frozenset[str], story: Mapping[str, int]) -> float:
    shared = sum(1 for number in numbers if number in story)
    return min(1.0, shared / 2)


def similarity(features: StoryFeatures, story: StoryCentroid, frequencies: Frequencies,
               params: StoryParams, weighted: tuple[_Weighted, _Weighted] | None = None) -> float:
    """How well ``features`` fits ``story``, in [0, 1], time decay included (0 outside the window).
    ``weighted``: the article's names and terms weighted already (``best_stories``: the same for
    every candidate)."""
    hours = (features.time - story.last_seen).total_seconds() / 3600
    if hours > params.window_hours or (story.first_seen - features.time).total_seconds() / 3600 > params.window_hours:
        return 0.0
    decay = 0.5 ** (max(0.0, abs(hours)) / params.window_hours)
    names_weighted, terms_weighted = weighted or _weights_of(features, frequencies)
    names = _cosine(names_weighted, story.names, frequencies, "name:")
    numbers = _number_score(features.numbers, story.numbers)
    if names and not numbers and _shared_names(names_weighted, story.names) < 2:
        names *= params.lone_name
    if story.languages.get(features.language):
        words = _cosine(terms_weighted, story.terms, frequencies, keep=f"{features.language}:")
        w_words, w_names, w_numbers = params.same_language
    else:
        words, w_words = 0.0, 0.0
        w_names, w_numbers = params.cross_language
    named = w_names * names
    # Figures alone tell no event ("12" and "20" are in half the news): they add to the names'
    # evidence, never more than it.
    return (w_words * words + named + min(w_numbers * numbers, named)) * decay


def story_id_for(article_id: str) -> str:
    """The id of the story an article founds: derived from it, so a redelivery cannot found two."""
    return "s" + hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).hexdigest()


def best_stories(features: StoryFeatures, candidates: Iterable[StoryCentroid], frequencies: Frequencies,
                 params: StoryParams) -> list[tuple[float, StoryCentroid]]:
    """Candidates scored, best first (ties: smaller story id first), those scoring 0 left out."""
    weighted = _weights_of(features, frequencies)
    scored = [(similarity(features, story, frequencies, params, weighted), story) for story in candidates]
    return sorted(((score, story) for score, story in scored if score > 0),
                  key=lambda pair: (-pair[0], pair[1].story_id))


def decide(features: StoryFeatures, candidates: Sequence[StoryCentroid], frequencies: Frequencies,
           params: StoryParams, duplicate_of: StoryCentroid | None = None) -> tuple[Assignment, list[StoryCentroid]]:
    """Where ``features`` goes among ``candidates``, and the stories as they are afterwards.

    ``duplicate_of``: the story of the article's near-duplicate original, when it has one: the article
    joins it whatever the scores. The stories returned are the one joined or created, first, then the
    ones merged into it (to delete), unchanged stories left out.
    """
    if duplicate_of is not None:
        joined = duplicate_of.with_member(features)
        return Assignment(features.article_id, joined.story_id, False, 1.0, "near-duplicate"), [joined]
    ranked = best_stories(features, candidates, frequencies, params)
    if not ranked or ranked[0][0] < params.threshold:
        story = StoryCentroid.founded_by(story_id_for(features.article_id), features)
        return Assignment(features.article_id, story.story_id, True, 0.0, "new"), [story]
    score, best = ranked[0]
    merges: list[Merge] = []
    absorbed: list[StoryCentroid] = []
    for other_score, other in ranked[1:]:
        if other_score < params.merge_threshold:
            break
        keep, lose = sorted((best, other), key=_kept_first)
        merges.append(Merge(absorbed=lose.story_id, into=keep.story_id, by_article=features.article_id,
                            score=round(other_score, 4)))
        best = keep.merged_with(lose)
        absorbed.append(lose)
    joined = best.with_member(features)
    return (Assignment(features.article_id, joined.story_id, False, round(score, 4), "similar", tuple(merges)),
            [joined, *absorbed])


def _kept_first(story: StoryCentroid) -> tuple[int, datetime, str]:
    """Of two stories that merge, the bigger (then older, then smaller id) keeps its id."""
    return (-story.size, story.first_seen, story.story_id)


def decided_story_id(features: StoryFeatures, candidates: Sequence[StoryCentroid], frequencies: Frequencies,
                     params: StoryParams) -> str:
    """The id of the story ``decide`` puts ``features`` in (no near-duplicate original), without
    building the stories as they are afterwards: what a guess of the decision needs."""
    ranked = best_stories(features, candidates, frequencies, params)
    if not ranked or ranked[0][0] < params.threshold:
        return story_id_for(features.article_id)
    keep = ranked[0][1]
    size, first_seen = keep.size, keep.first_seen
    for other_score, other in ranked[1:]:
        if other_score < params.merge_threshold:
            break
        merged = replace(keep, size=size, first_seen=first_seen)  # the merged story as decide compares it
        keep = min((merged, other), key=_kept_first)
        size, first_seen = merged.size + other.size, min(first_seen, other.first_seen)
    return keep.story_id


# -- a whole stream in memory ----------------------------------------------------------------------


@dataclass
class StoryClusterer:
    """Clusters a stream of articles in memory, in arrival order (tests, benches, `vigie stories`)."""

    params: StoryParams = field(default_factory=StoryParams)
    frequencies: Frequencies = field(default_factory=Frequencies)
    stories: dict[str, StoryCentroid] = field(default_factory=dict)
    membership: dict[str, str] = field(default_factory=dict)  # article id -> story id
    by_cluster: dict[str, str] = field(default_factory=dict)  # near-duplicate cluster -> story id
    merged_into: dict[str, str] = field(default_factory=dict)
    merges: list[Merge] = field(default_factory=list)

    def story_of(self, article_id: str) -> str:
        story = self.membership[article_id]
        while story in self.merged_into:
            story = self.merged_into[story]
        return story

    def add(self, features: StoryFeatures) -> Assignment:
        if features.article_id in self.membership:
            story = self.story_of(features.article_id)
            return Assignment(features.article_id, story, False, 1.0, "already")
        self.frequencies.add(features)
        duplicate_of = None
        if features.cluster_id != features.article_id and features.cluster_id in self.by_cluster:
            original = self.by_cluster[features.cluster_id]
            while original in self.merged_into:
                original = self.merged_into[original]
            duplicate_of = self.stories.get(original)
        horizon = features.time - timedelta(hours=self.params.window_hours)
        candidates = [story for story in self.stories.values() if story.last_seen >= horizon]
        assignment, changed = decide(features, candidates, self.frequencies, self.params, duplicate_of)
        joined, *absorbed = changed
        self.stories[joined.story_id] = joined
        for story in absorbed:
            del self.stories[story.story_id]
            self.merged_into[story.story_id] = joined.story_id
        self.merges.extend(assignment.merges)
        self.membership[features.article_id] = joined.story_id
        self.by_cluster.setdefault(features.cluster_id, joined.story_id)
        return assignment

    def labels(self) -> dict[str, str]:
        """Every article's story, merges followed."""
        return {article_id: self.story_of(article_id) for article_id in self.membership}


# -- helpers ---------------------------------------------------------------------------------------

def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _top(counts: Mapping[str, float], limit: int) -> Mapping[str, int]:
    kept = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]
    return MappingProxyType({key: int(value) for key, value in kept})


def _bounded_sum(left: Mapping[str, float], right: Mapping[str, float], limit: int,
                 by_language: bool = False) -> Mapping[str, float]:
    total: dict[str, float] = dict(left)
    for key, value in right.items():
        total[key] = total.get(key, 0.0) + value
    if by_language:
        groups: dict[str, list[tuple[str, float]]] = {}
        for key, value in total.items():
            groups.setdefault(key.split(":", 1)[0], []).append((key, value))
        kept: dict[str, float] = {}
        for items in groups.values():
            kept.update(sorted(items, key=lambda pair: (-pair[1], pair[0]))[:limit])
    else:
        kept = dict(sorted(total.items(), key=lambda pair: (-pair[1], pair[0]))[:limit])
    return MappingProxyType(dict(sorted(kept.items())))


def params_from(window_hours: float, threshold: float, merge_threshold: float) -> StoryParams:
    """StoryParams from the settings' values (VIGIE_STORY_WINDOW_HOURS and friends)."""
    if window_hours <= 0:
        raise ValueError(f"the story window must be positive (got {window_hours} hours)")
    if not 0 < threshold <= merge_threshold:
        raise ValueError(f"need 0 < story threshold <= merge threshold (got {threshold}, {merge_threshold})")
    return StoryParams(window_hours=window_hours, threshold=threshold, merge_threshold=merge_threshold)
