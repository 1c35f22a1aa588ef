"""Entity linking: every mention gets the identity of the real-world entity it names.

Input: the tidied mentions of one article (``ingest.entities``; none for a language without an NER
model) and its text. In one pass over the text's words and one dictionary lookup per candidate
phrase (``ingest.entity_kb``):

1. a mention the knowledge base knows takes its entity: id, canonical name and label (a city is a
   LOCATION whatever the model said); a mention that only contains a known person ("Conseil Giorgia
   Meloni") or a known name followed by a score ("Manchester City 2-1") is cut to it;
2. a word of the article's own persons stands for them ("Leyen" beside "Ursula von der Leyen",
   "Jordan" beside "Michael Jordan", before "Jordan" could be the country);
3. the knowledge base's names the model missed are added: every known entity in a language without
   a model, curated entities otherwise;
4. an unknown name whose romanised key (``ingest.name_keys.name_key``) is a known person's key is
   that person ("Wladimir Putin"); one a letter away is that person only when the article confirms
   it (the person's country is among the article's entities); every such merge keeps its evidence
   in ``Mention.link``;
5. homonyms are settled by the article's language and the countries of its other entities.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from ingest.clean import fold_key
from ingest.entity_kb import Candidate, KBEntity, KnowledgeBase, choose, home_countries
from ingest.mentions import Mention
from ingest.name_keys import lookup_token, name_key, phrase_key, spelling_distance

_WORD = re.compile(r"[^\W_]+")
#: What may stand between two words of one name (a set: looked up for every word of every text).
_JOINERS = frozenset({"", " ", "\u00a0", "'", "’", "-"})
_SCORE = re.compile(r"^[\s\d:–—-]*$")
#: Free-text matches of cities not curated: the least population, for a city's main name and for
#: one of its alternate names (alternate names include old and foreign forms: stronger prior).
_MIN_CITY_POPULATION = 50_000
_MIN_ALTERNATE_POPULATION = 300_000
_FUZZY_MIN_KEY = 8
#: Languages whose names take a genitive -s ("Frankreichs Präsident").
_GENITIVE_S = frozenset({"de", "nl"})


class Word(NamedTuple):
    """A word of the text (a tuple: built for every word of every article, it must be cheap)."""

    text: str
    token: str  # ingest.name_keys.lookup_token
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Match:
    """A phrase of the text the knowledge base knows."""

    start: int
    end: int
    first_word: int
    last_word: int  # exclusive
    candidates: tuple[Candidate, ...]
    #: How the candidates were found ("a:" + an acronym, "p:" + a phrase key): a match kept with a
    #: sentence of a recent analysis (ingest.reuse) finds them again with ``match_from``
    lookup: str = ""


def text_words(text: str) -> list[Word]:
    words = []
    for match in _WORD.finditer(text):
        word = match.group()
        start, end = match.span()
        words.append(Word(word, lookup_token(word), start, end))
    return words


def find_matches(words: Sequence[Word], text: str, kb: KnowledgeBase, *, genitive_s: bool = False) -> list[Match]:
    """The longest known phrases, left to right, not overlapping, each beginning with a capital
    (or a word of a script without case). Acronyms ("EU", "ООН") only as written."""
    matches: list[Match] = []
    index = 0
    while index < len(words):
        word = words[index]
        found = None
        if _capitalised(word.text):
            acronyms = kb.acronym(word.text) if word.text.isupper() else []
            if acronyms:
                found = Match(word.start, word.end, index, index + 1, tuple(acronyms), "a:" + word.text)
            longest = kb.max_words(word.token)
            if genitive_s and not longest and word.token.endswith("s"):
                longest = 1 if kb.max_words(word.token[:-1]) else 0
            # The words that follow this one within one name (joined by a space, a hyphen...).
            run = 1
            while run < longest and index + run < len(words) and \
                    text[words[index + run - 1].end:words[index + run].start] in _JOINERS:
                run += 1
            for size in range(min(longest, run), 0, -1):
                if found is not None and size == 1:
                    break
                last = index + size
                key = " ".join(w.token for w in words[index:last])
                candidates = kb.phrase(key)
                if not candidates and genitive_s and key.endswith("s") and len(words[last - 1].token) > 4:
                    key = key[:-1]
                    candidates = kb.phrase(key)  # German genitive: "Frankreichs", "Syriens"
                if candidates:
                    found = Match(word.start, words[last - 1].end, index, last, tuple(candidates), "p:" + key)
                    break
        if found is not None:
            matches.append(found)
            index = found.last_word
        else:
            index += 1
    return matches


def matches_of(text: str, language: str, kb: KnowledgeBase) -> list[Match]:
    """The known phrases of ``text`` (``find_matches`` over its words). None runs over a sentence end
    (only a space, a hyphen or an apostrophe may join two words of a name), so the matches of an
    article are those of its sentences, each found alone: a wire copy keeps its original's for the
    sentences they share (ingest.reuse)."""
    return find_matches(text_words(text), text, kb, genitive_s=language in _GENITIVE_S)


def match_from(kb: KnowledgeBase, start: int, end: int, words: int, lookup: str) -> Match:
    """A match kept as (start, end, number of words, ``Match.lookup``), with its candidates found
    again. Its word numbers count from 0: only their difference (the name's length) is read."""
    kind, _, value = lookup.partition(":")
    candidates = kb.acronym(value) if kind == "a" else kb.phrase(value)
    return Match(start, end, 0, words, tuple(candidates), lookup)


def _capitalised(word: str) -> bool:
    first = word[0]
    return first.isupper() or (first.isalpha() and not first.islower())


def free_text_allowed(match: Match, chosen: Candidate, *, every_entity: bool, match_text: str = "",
                      text: str = "", language: str = "") -> bool:
    """Whether a phrase found outside the model's mentions may be an entity."""
    entity = chosen.entity
    if entity.curated:
        return True
    if not every_entity:
        return False
    if match.last_word - match.first_word == 1 and match.end - match.start < 4:
        return False
    if text and _home_town(match, entity, text, language):
        return True
    # A Latin-script alternate name may be a common word somewhere ("Terminus"); one in another
    # script is a transliteration ("Идлиб"), as safe as the main name.
    latin = any("a" <= char <= "z" for char in fold_key(match_text))

    def passes(candidate: Candidate) -> bool:
        return candidate.entity.prior >= (_MIN_ALTERNATE_POPULATION if candidate.alternate and latin
                                          else _MIN_CITY_POPULATION)

    # The floor tells whether the phrase names a city at all: a smaller namesake the article's context
    # chose ("Армавир" beside Armenia, not Russia's bigger one) stands when a bigger namesake passes.
    return passes(chosen) or any(passes(candidate) for candidate in match.candidates
                                 if not candidate.entity.curated and candidate.entity.prior > entity.prior)


def _evident(match: Match) -> KBEntity | None:
    """The entity a phrase names beyond doubt: its only candidate, or one far heavier than the rest."""
    ranked = sorted(match.candidates, key=lambda candidate: -candidate.entity.prior)
    if len({candidate.entity.id for candidate in ranked}) == 1:
        return ranked[0].entity
    if ranked[0].entity.prior >= _EVIDENT_RATIO * ranked[1].entity.prior:
        return ranked[0].entity
    return None


_EVIDENT_RATIO = 20


def context_of(matches: Sequence[Match]) -> frozenset[str]:
    """The countries the article names beyond doubt (context for homonyms): those of its evident
    entities, and of a phrase whose every candidate lies in one country ("Нижний Новгород", the city
    or its oblast: Russia either way). A region's code counts for its country too ("GB-SCT": GB)."""
    countries: set[str] = set()
    for match in matches:
        entity = _evident(match)
        found = ({entity.country} if entity is not None
                 else {_country(candidate.entity.country) for candidate in match.candidates})
        if entity is not None or len(found) == 1:
            countries.update(code for code in found if code)
            countries.update(_country(code) for code in found if code)
    return frozenset(countries)


#: Languages without a model whose home towns are found whatever their size (``_home_town``). Measured
#: (docs/quality.md) and left out: German capitalises its common nouns ("Linden", "Hof", "Weiden" are
#: towns); Spanish is at home in 22 territories, and over 216 Spanish articles it added 89 entities,
#: most of them wrong (Madrid's barrios "Universidad", "Palacio"; towns of Cuba and Colombia called
#: "Salud", "Banco", "Andalucía"); Russian added none.
_HOME_TOWN_LANGUAGES = frozenset({"it"})
_SENTENCE_END = frozenset(".!?:;\n")
_OPENERS = " \t\u00a0\"'«»“”„‘’()[]-–—"


def _home_town(match: Match, entity: KBEntity, text: str, language: str) -> bool:
    """A town of any size where the article's language is at home (Italian only, see
    ``_HOME_TOWN_LANGUAGES``), written as a name: capitalised, neither opening a sentence nor beside
    another capitalised word ("Nola", "Padova", "Rovereto"; not "Alba Rohrwacher" or "Marino" after
    "Ignazio"). The population floor of free text is for names that could be words or people."""
    if (language not in _HOME_TOWN_LANGUAGES or entity.label != "LOCATION"
            or entity.country not in home_countries(language)):
        return False
    before = text[max(0, match.start - 80):match.start]  # what precedes it, not the whole text again
    opened = before.rstrip(_OPENERS)
    if not opened or opened[-1] in _SENTENCE_END:
        return False
    previous = _WORD_BEFORE.search(before)
    if previous and _capitalised(previous.group(1)):
        return False
    following = _WORD_AFTER.match(text, match.end)
    return not (following and _capitalised(following.group(1)))


_WORD_BEFORE = re.compile(r"([^\W_]+) $")
_WORD_AFTER = re.compile(r" ([^\W_]+)")


def _may_be_entity(match: Match, mentions: Sequence[Mention], text: str, language: str, every_entity: bool) -> bool:
    """Whether a known phrase can name an entity of the article: a curated one, one ending a mention of
    the model, or (for a language without a model) a city found in free text that passes its floor.
    A capitalised word a town happens to be named after ("Union Street", "Port officials") is none."""
    if any(candidate.entity.curated for candidate in match.candidates):
        return True
    if any(mention.start <= match.start and match.end == mention.end
           and (mention.label != "PERSON" or mention.start == match.start) for mention in mentions):
        # The mention's head ("de Lille", "Bank of England"), not a word before it ("Union Street");
        # a person's surname is no place of the article ("Дмитрий Пестов" is not Pestovo, Russia).
        return True
    chosen = choose(list(match.candidates), language, frozenset())
    return chosen is not None and free_text_allowed(match, chosen, every_entity=every_entity, text=text,
                                                    match_text=text[match.start:match.end], language=language)


#: Where a currency is legal tender: a sum in it says where a story is likely set ("4,2 millones de
#: euros": Valencia, Spain, not Venezuela; "£420m": Worcester, England, not Massachusetts). Weaker than
#: the countries an article names and than the language at home (``entity_kb.choose``).
_EURO_AREA = frozenset({"AT", "BE", "HR", "CY", "EE", "FI", "FR", "DE", "GR", "IE", "IT", "LV", "LT", "LU", "MT",
                        "NL", "PT", "SK", "SI", "ES"})
_CURRENCIES = ((re.compile(r"€|\b(?:euros?|евро)\b", re.IGNORECASE), _EURO_AREA),
               (re.compile(r"£|\b(?:pounds? sterling|livres? sterling|libras? esterlinas?|Pfund Sterling)\b",
                           re.IGNORECASE), frozenset({"GB"})))


def currency_context(text: str) -> frozenset[str]:
    """The countries whose currency the text counts in (the euro area for euros, the United Kingdom
    for pounds sterling): the last tie-break between homonyms (``entity_kb.choose``)."""
    return frozenset(country for pattern, countries in _CURRENCIES if pattern.search(text) for country in countries)


def _country(code: str) -> str:
    """The country of an ISO 3166 code: a subdivision's ("GB-SCT", "US-OH") is its first part."""
    return code.split("-", 1)[0]


def unknown_id(label: str, text: str) -> str:
    """The stable Vigie id of a name the knowledge base lacks: same romanised key, same id."""
    import hashlib

    key = name_key(text) or text.casefold()
    return "v:" + hashlib.sha1(f"{label}|{key}".encode()).hexdigest()[:12]


def fuzzy_person(text: str, kb: KnowledgeBase, persons: Sequence[KBEntity],
                 context: frozenset[str]) -> tuple[KBEntity, str] | None:
    """A known person an unknown multi-word name is a spelling of, with the evidence: the same
    romanised key, or one letter away from a person of this article or of a country it names."""
    key = name_key(text)
    if " " not in key:
        return None
    exact = [candidate for candidate in kb.by_name_key(key) if candidate.entity.label == "PERSON"]
    if len({candidate.entity.id for candidate in exact}) == 1:
        return exact[0].entity, f"key:{key}"
    if len(key) < _FUZZY_MIN_KEY:
        return None
    for person in persons:
        if spelling_distance(key, name_key(person.name), 1) <= 1:
            return person, f"key~{name_key(person.name)}; same article"
    return None


def link_mentions(mentions: Sequence[Mention], text: str, language: str, kb: KnowledgeBase,
                  *, every_entity: bool, matches: Sequence[Match] | None = None) -> list[Mention]:
    """The article's mentions with their identity, and the known entities the model missed
    (``every_entity``: every known entity, for a language without a model; else curated ones).
    ``matches``: the text's known phrases (``matches_of``) when they are known already."""
    if matches is None:
        matches = matches_of(text, language, kb)
    # First pass: the evident entities give the article's countries (context for homonyms); only
    # phrases that can be entities here count ("Union Street" names no town of Union, US).
    context = context_of([match for match in matches
                          if _may_be_entity(match, mentions, text, language, every_entity)])
    money = currency_context(text)  # weaker: after the countries named and the language at home

    linked: list[Mention] = []
    for mention in mentions:
        inside = [match for match in matches if match.start >= mention.start and match.end <= mention.end]
        linked.append(_link_one(mention, inside, text, language, context, kb, money))
    linked = _prefer_known_persons(linked, matches, text, language, context)
    covered = [(mention.start, mention.end) for mention in linked]

    for match in matches:
        if any(start < match.end and match.start < end for start, end in covered):
            continue
        chosen = choose(list(match.candidates), language, context, money)
        if chosen is None or not free_text_allowed(match, chosen, every_entity=every_entity,
                                                   match_text=text[match.start:match.end], text=text,
                                                   language=language):
            continue
        linked.append(Mention(text[match.start:match.end], chosen.entity.label, match.start, match.end,
                              entity_id=chosen.entity.id, name=chosen.entity.name, link="kb"))
    linked.sort(key=lambda mention: mention.start)
    return _join_article_persons(linked, kb, context)


def _link_one(mention: Mention, inside: list[Match], text: str, language: str,
              context: frozenset[str], kb: KnowledgeBase, money: frozenset[str] = frozenset()) -> Mention:
    whole = kb.acronym(mention.text) or kb.phrase(phrase_key(mention.text))
    if whole:
        chosen = choose(whole, language, context, money)
        if chosen is not None:
            return replace(mention, entity_id=chosen.entity.id, name=chosen.entity.name,
                           label=chosen.entity.label, votes=mention.votes + 2, link="kb")
    for match in inside:
        chosen = choose(list(match.candidates), language, context, money)
        if chosen is None:
            continue
        before, after = text[mention.start:match.start], text[match.end:mention.end]
        person_inside = (chosen.entity.label == "PERSON" and match.last_word - match.first_word >= 2
                         and match.end == mention.end)
        score_after = not before and after and _SCORE.match(after)
        if person_inside or score_after:
            # "Conseil Giorgia Meloni" → "Giorgia Meloni"; "Manchester City 2-1" → "Manchester City".
            return Mention(text[match.start:match.end], chosen.entity.label, match.start, match.end,
                           mention.votes + 2, entity_id=chosen.entity.id, name=chosen.entity.name, link="kb-span")
    return mention


def _prefer_known_persons(mentions: list[Mention], matches: list[Match], text: str, language: str,
                          context: frozenset[str]) -> list[Mention]:
    """A known name of two words or more that the model cut or ran over ("Ursula von der" +
    "Leyen") replaces the mentions it overlaps, unless one of them already holds it whole."""
    result = mentions
    for match in matches:
        if match.last_word - match.first_word < 2:
            continue
        overlapping = [m for m in result if m.start < match.end and match.start < m.end]
        if not overlapping or any(m.start <= match.start and m.end >= match.end for m in overlapping):
            continue
        chosen = choose(list(match.candidates), language, context)
        if chosen is None or not chosen.entity.curated:
            continue
        result = [m for m in result if m not in overlapping]
        result.append(Mention(text[match.start:match.end], chosen.entity.label, match.start, match.end,
                              max(m.votes for m in overlapping) + 2, entity_id=chosen.entity.id,
                              name=chosen.entity.name, link="kb-span"))
    return sorted(result, key=lambda mention: mention.start)


def _join_article_persons(mentions: list[Mention], kb: KnowledgeBase, context: frozenset[str]) -> list[Mention]:
    """A lone word that ends one of the article's persons' names is that person; unknown names that
    spell a known person otherwise join it (see ``fuzzy_person``)."""
    persons: dict[str, Mention] = {}  # last lookup token → the person's longest mention
    for mention in mentions:
        tokens = [lookup_token(word) for word in _WORD.findall(mention.text)]
        if mention.label == "PERSON" and len(tokens) >= 2:
            current = persons.get(tokens[-1])
            if current is None or len(mention.text) > len(current.text):
                persons[tokens[-1]] = mention
    known_persons = [kb.by_id[m.entity_id] for m in mentions if m.entity_id and m.label == "PERSON" and m.entity_id in kb.by_id]
    result = []
    for mention in mentions:
        words = _WORD.findall(mention.text)
        if len(words) == 1 and lookup_token(words[0]) in persons:
            person = persons[lookup_token(words[0])]
            if person is not mention:
                result.append(replace(mention, label="PERSON", entity_id=person.entity_id, name=person.name,
                                      link=f"alias of {person.text!r}"))
                continue
        if not mention.entity_id and mention.label == "PERSON":
            found = fuzzy_person(mention.text, kb, known_persons, context)
            if found is not None:
                person_entity, evidence = found
                result.append(replace(mention, entity_id=person_entity.id, name=person_entity.name, link=evidence))
                continue
        result.append(mention)
    return result
