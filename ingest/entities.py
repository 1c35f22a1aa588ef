"""Named entities an analyst can trust: spaCy's mentions, tidied, de-junked and merged.

spaCy gives mentions ("président Erdogan", "Erdogan-Poutine", "Samedi"); an analyst wants one entity
per real-world name in the article. In order:

1. labels: every model's labels map to PERSON, LOCATION, ORGANIZATION or MISC (one table, LABELS);
   dates, numbers and amounts are not entities here. Two cues outvote the model: a person's title
   just before a name ("le président chinois Xi Jinping" is a PERSON) and a head word inside it
   ("Fondation ..." is an ORGANIZATION, "... County" a LOCATION);
2. tidying: lower-case determiners and, for persons, titles are cut ("président Erdogan" → "Erdogan");
   a trailing possessive or punctuation goes; a mention run across a paragraph break is cut there;
3. junk: single letters, numbers, sentence fragments and mentions made only of common words
   ("Samedi", "Etat turc", "ministre de l'Intérieur") are dropped;
4. repairs: "Erdogan-Poutine" becomes two mentions when both halves are names seen elsewhere in the
   article; "Kremlin Dmitri Peskov" loses its leading "Kremlin" when that stands alone elsewhere;
   "Bassirou" + "Diomaye Faye" become one person when "Bassirou" never stands alone;
5. merging: mentions with the same key (case, accents and leading determiner folded) are one entity,
   labelled by majority vote; a person's shorter forms ("Erdogan") join the one longer form that
   contains them ("Recep Tayyip Erdogan"), which becomes the entity's text.

The word lists behind these rules are data: ``ingest/data/entity_words.yaml``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from functools import cache

from spacy.tokens import Doc, Span, Token
from spacy.util import get_lang_class

from ingest.clean import fold_key
from ingest.entity_kb import KnowledgeBase
from ingest.entity_linking import Match, link_mentions, unknown_id
from ingest.mentions import Mention, entity_key, word_lists
from ingest.models import Entity, EntityLabel
from ingest.title_persons import titled_persons

#: Model label → Vigie label; None: not a named entity for Vigie (dates, quantities).
#: French/Spanish/German models use PER/LOC/ORG/MISC, English ones OntoNotes, Polish NKJP.
LABELS: dict[str, EntityLabel | None] = {
    "PER": "PERSON", "PERSON": "PERSON", "persName": "PERSON",
    "LOC": "LOCATION", "GPE": "LOCATION", "FAC": "LOCATION", "placeName": "LOCATION", "geogName": "LOCATION",
    "ORG": "ORGANIZATION", "orgName": "ORGANIZATION",
    "MISC": "MISC", "NORP": "MISC", "EVENT": "MISC", "PRODUCT": "MISC", "WORK_OF_ART": "MISC", "LAW": "MISC",
    "LANGUAGE": "MISC",
    "DATE": None, "TIME": None, "PERCENT": None, "MONEY": None, "QUANTITY": None, "ORDINAL": None,
    "CARDINAL": None, "date": None, "time": None,
}
#: A label no table entry knows (a model added later) is kept as MISC rather than lost.
_UNKNOWN_LABEL: EntityLabel = "MISC"

_MAX_WORDS = 6
# Sentence punctuation inside a mention, or a full stop after a lower-case word ("ministre. Il"),
# means the model ran over a sentence boundary. "St. Louis" and "M. Poutine" are not caught.
_SENTENCE_PUNCTUATION = re.compile(r"[!?;:«»\"\n]|[a-zà-ÿ]{3,}\.\s")
_ELIDED = re.compile(r"^\w'")
_WORD = re.compile(r"\w+")


def entities_of(doc: Doc, text_start: int = 0, kb: KnowledgeBase | None = None) -> tuple[Entity, ...]:
    """The entities of a parsed article.

    ``doc`` is the title and the text (or the text alone); ``text_start`` is where the text begins
    in it. Spans index into the text; a mention in the title counts in ``mentions`` but has no span.
    With a knowledge base, every entity gets its identity (``ingest.entity_linking``).
    """
    text = doc.text  # built from the tokens on each access: once
    return entities_from_mentions(tidy_mentions(doc.ents, text), text, doc.lang_, text_start, kb)


def entities_from_mentions(mentions: Sequence[Mention], text: str, language: str, text_start: int = 0,
                           kb: KnowledgeBase | None = None,
                           matches: Sequence[Match] | None = None) -> tuple[Entity, ...]:
    """The entities of an article from its tidied mentions (``tidy_mentions``; offsets into ``text``,
    the analysed string): repairs, linking, merging. A wire copy's mentions come partly from its
    original's analysis (ingest.reuse), and so may the knowledge base's phrases found in its text
    (``matches``; found here when None)."""
    mentions = split_compounds(mentions, text)
    if kb is not None:
        mentions = link_mentions(mentions, text, language, kb, every_entity=False, matches=matches)
    return merge_mentions(mentions, text_start)


def known_entities_of(text: str, language: str, kb: KnowledgeBase, text_start: int = 0) -> tuple[Entity, ...]:
    """The knowledge base's entities named in a text of a language without an NER model
    (places, countries, known persons and organisations; Russian case endings understood), and the
    persons named after their title (``ingest.title_persons``), known or not."""
    return merge_mentions(link_mentions(titled_persons(text, language), text, language, kb, every_entity=True),
                          text_start)


def tidy_mentions(spans: Iterable[Span], text: str) -> list[Mention]:
    """Normalised labels, leading determiners and titles cut, junk dropped (``text``: the doc's)."""
    words = word_lists()
    mentions = []
    for span in spans:
        stop_words = _stop_words(span.doc.lang_)
        label = LABELS.get(span.label_, _UNKNOWN_LABEL)
        if label is None:
            continue
        votes = 1
        if label != "PERSON" and _after_person_title(span):
            # A title is stronger evidence than the model's guess: it outvotes one other mention.
            label, votes = "PERSON", 2
        for piece in _paragraph_pieces(span):
            # "ministre de l'Intérieur" is a person's title, not an organisation.
            if label != "PERSON" and piece[0].is_lower and fold_key(piece[0].text) in words.titles:
                continue
            tokens = _trimmed(piece, person=label == "PERSON")
            if not tokens:
                continue
            start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
            name = text[start:end]
            if is_junk(name, stop_words):
                continue
            headed = _label_from_head(name)
            if headed is not None and headed != label:
                # The name says what it is ("Fondation ..."): that outvotes the model.
                mentions.append(Mention(name, headed, start, end, 2))
            else:
                mentions.append(Mention(name, label, start, end, votes))
    return mentions


def _label_from_head(text: str) -> EntityLabel | None:
    """ORGANIZATION or LOCATION when the name begins or ends with a word that says so."""
    words = re.split(r"[\s-]+", fold_key(text))
    ends = {words[0], words[-1]} if len(words) > 1 else set()
    lists = word_lists()
    if ends & lists.organization_heads:
        return "ORGANIZATION"
    if ends & lists.location_heads:
        return "LOCATION"
    return None


@cache
def _stop_words(language: str) -> frozenset[str]:
    try:
        return frozenset(get_lang_class(language).Defaults.stop_words)
    except ImportError:
        return frozenset()


def _paragraph_pieces(span: Span) -> list[list[Token]]:
    """The parts of a mention on each side of a paragraph break: the model sometimes runs a title's
    last name into the text's first words ("Bayern\n\nLe Paris Saint-Germain")."""
    pieces: list[list[Token]] = [[]]
    for token in span:
        if token.is_space and "\n" in token.text:
            pieces.append([])
        else:
            pieces[-1].append(token)
    return [piece for piece in pieces if piece]


def _after_person_title(span: Span) -> bool:
    """Whether a name of two to four capitalised words follows a person's title, at most one word
    (an adjective, a comma) apart: "le président chinois Xi Jinping", "Le président sortant,
    Macky Sall". The small models often label such unfamiliar names as places or MISC."""
    words = span.text.split()
    if not 2 <= len(words) <= 4 or not all(word[0].isupper() for word in words):
        return False
    lists = word_lists()
    before = [token for token in span.doc[max(span.start - 3, 0):span.start] if token.text != ","]
    for token in reversed(before[-2:]):
        folded = fold_key(token.text)
        if folded in lists.titles:
            return True
        # "président du Paris Saint-Germain": a preposition, a name or punctuation ends the search.
        if not token.is_lower or token.is_punct or folded in lists.connectors:
            return False
    return False


#: Prepositions the model sometimes takes into a place's or an organisation's name ("braderie de Lille"
#: read as "de Lille"). Not cut from persons: "de Gaulle", "di Maio" are their names.
_LEADING_PREPOSITIONS = frozenset({"de", "d'", "d’", "du", "des", "of", "di", "del", "della", "dei", "degli"})


def _trimmed(tokens: list[Token], *, person: bool) -> list[Token]:
    words = word_lists()
    while tokens and (tokens[0].is_punct or tokens[0].is_space
                      or (tokens[0].text.islower() and fold_key(tokens[0].text) in words.determiners)
                      or (not person and len(tokens) > 1 and tokens[0].text.islower()
                          and fold_key(tokens[0].text) in _LEADING_PREPOSITIONS)
                      or (person and len(tokens) > 1 and fold_key(tokens[0].text) in words.titles)):
        tokens = tokens[1:]
    while tokens and (tokens[-1].is_punct or tokens[-1].is_space or tokens[-1].lower_ in ("'s", "’s", "'")):
        tokens = tokens[:-1]
    return tokens


def is_junk(text: str, stop_words: Collection[str] = frozenset()) -> bool:
    """Whether a mention cannot be a name: too short, a number, a fragment, or common words only.

    ``stop_words``: the language's function words; two of them (not counting the connectors names
    use, "de", "of") make a sentence fragment: "Ce sera sans aucun doute".
    """
    letters = [char for char in text if char.isalpha()]
    # "G7" and "5G" are names; "A", "2011" and "%" are not.
    if len(text) < 2 or not letters or (len(letters) == 1 and not any(char.isdigit() for char in text)):
        return True
    if _SENTENCE_PUNCTUATION.search(text):
        return True
    lists = word_lists()
    words = [_ELIDED.sub("", word) or word for word in text.split()]  # "d'Idleb" is capitalised
    folded = [fold_key(word) for word in words]
    name_words = [word for word in folded if word not in lists.connectors and word not in lists.determiners]
    if len(name_words) > _MAX_WORDS:
        return True
    if sum(1 for word, key in zip(words, folded) if word.lower() in stop_words and key not in lists.connectors) >= 2:
        return True
    if not any(char.isupper() or char.islower() for char in letters):
        return False  # a script without case (Arabic, CJK): the case rules do not apply
    capitalised = [key for word, key in zip(words, folded) if word[0].isupper() or word[0].isdigit()]
    # All lower-case ("préfecture de la"), or capitals only on common words ("Samedi", "Etat turc",
    # "Premier ministre bulgare").
    return not capitalised or all(key in lists.never | lists.titles | lists.determiners for key in capitalised)


def split_compounds(mentions: Sequence[Mention], text: str) -> list[Mention]:
    """Repair names the model cut or glued, using the article's other mentions (``text`` is what the
    offsets index):

    - a lone word the model took for a place right before a person's name ("Bassirou" + "Diomaye
      Faye") is the first name: joined, unless that word stands alone elsewhere in the article;
    - "Kremlin Dmitri Peskov" loses its head when "Kremlin" stands alone elsewhere;
    - "Erdogan-Poutine" is split when both halves are names of the article.
    """
    standalone = _standalone_non_persons(mentions, text)
    joined: list[Mention] = []
    for mention in mentions:
        previous = joined[-1] if joined else None
        if (previous is not None and mention.label == "PERSON" and previous.label != "PERSON"
                and " " not in previous.text and previous.key not in standalone
                and _adjacent(previous, mention, text)):
            joined[-1] = Mention(text[previous.start:mention.end], "PERSON", previous.start, mention.end, mention.votes)
        else:
            joined.append(mention)
    known_keys = {mention.key: mention.label for mention in joined}
    surnames = {mention.key.split()[-1] for mention in joined if mention.label == "PERSON"}
    result: list[Mention] = []
    for mention in joined:
        result.extend(_split_hyphenated(mention, known_keys, surnames) or _split_leading_name(mention, standalone)
                      or [mention])
    return result


def _adjacent(first: Mention, second: Mention, text: str) -> bool:
    return second.start == first.end + 1 and text[first.end] == " "


def _standalone_non_persons(mentions: Sequence[Mention], text: str) -> dict[str, EntityLabel]:
    """Non-person names that occur at least once not glued to a person's name that follows."""
    standalone: dict[str, EntityLabel] = {}
    for index, mention in enumerate(mentions):
        following = mentions[index + 1] if index + 1 < len(mentions) else None
        glued = following is not None and following.label == "PERSON" and _adjacent(mention, following, text)
        if mention.label != "PERSON" and not glued:
            standalone.setdefault(mention.key, mention.label)
    return standalone


def _split_hyphenated(mention: Mention, known: dict[str, EntityLabel], surnames: set[str]) -> list[Mention]:
    if "-" not in mention.text or " " in mention.text:
        return []
    parts, mentions, offset = mention.text.split("-"), [], mention.start
    for part in parts:
        key = entity_key(part)
        label = "PERSON" if key in surnames else known.get(key)
        if label is None or key == mention.key:
            return []
        mentions.append(Mention(part, label, offset, offset + len(part)))
        offset += len(part) + 1
    return mentions if len(mentions) > 1 else []


def _split_leading_name(mention: Mention, standalone: dict[str, EntityLabel]) -> list[Mention]:
    if mention.label != "PERSON":
        return []
    words = mention.text.split(" ")
    for cut in range(len(words) - 2, 0, -1):  # keep at least two words of the person's name
        head = " ".join(words[:cut])
        if entity_key(head) in standalone:
            head_end = mention.start + len(head)
            tail_start = head_end + 1
            return [
                Mention(head, standalone[entity_key(head)], mention.start, head_end),
                Mention(mention.text[tail_start - mention.start:], "PERSON", tail_start, mention.end),
            ]
    return []


def merge_mentions(mentions: Sequence[Mention], text_start: int = 0) -> tuple[Entity, ...]:
    """One entity per name (see the module docstring), most mentioned first. Linked mentions group
    by their entity's id; the others by key, then persons' shorter forms join their longer ones, and
    names with the same romanised key join (an unknown name's id comes from that key)."""
    groups: dict[str, list[Mention]] = {}
    for mention in mentions:
        groups.setdefault(mention.entity_id or mention.key, []).append(mention)
    labels = {key: _majority_label(group, text_start) for key, group in groups.items()}
    _merge_person_aliases(groups, labels)

    by_id: dict[str, list[Mention]] = {}
    for key, group in groups.items():
        linked = next((mention for mention in group if mention.entity_id), None)
        label = linked.label if linked is not None else labels[key]
        longest = max(group, key=_display_rank)
        identity = linked.entity_id if linked is not None else unknown_id(label, longest.text)
        by_id.setdefault(identity, []).extend(replace(mention, label=label) if linked is None else mention
                                              for mention in group)

    entities = []
    for identity, group in by_id.items():
        linked = next((mention for mention in group if mention.entity_id), None)
        longest = max(group, key=_display_rank)
        label = linked.label if linked is not None else _majority_label(group, text_start)
        spans = tuple(sorted((m.start - text_start, m.end - text_start) for m in group if m.start >= text_start))
        variants = tuple(dict.fromkeys(mention.text for mention in group))
        entities.append(Entity(text=longest.text, label=label, mentions=len(group), spans=spans,
                               key=entity_key(longest.text), id=identity,
                               name=linked.name if linked is not None else longest.text, variants=variants))
    first_seen = {entity.id: min((span[0] for span in entity.spans), default=-1) for entity in entities}
    return tuple(sorted(entities, key=lambda entity: (-entity.mentions, first_seen[entity.id], entity.key)))


def _display_rank(mention: Mention) -> tuple[int, bool, int]:
    # The longest name ("Recep Tayyip Erdogan"); "Paris Saint-Germain" over "Le Paris Saint-Germain".
    leading_determiner = fold_key(mention.text.split()[0]) in word_lists().determiners
    return len(_WORD.findall(mention.key)), not leading_determiner, len(mention.text)


def _majority_label(group: Sequence[Mention], text_start: int) -> EntityLabel:
    votes: Counter[EntityLabel] = Counter()
    for mention in group:
        votes[mention.label] += mention.votes
    best = max(votes.values())
    # A tie goes to the longest form, then to running text over the title (headlines, often in
    # title case, are where the models err most).
    for mention in sorted(group, key=lambda mention: (-len(mention.text), mention.start < text_start)):
        if votes[mention.label] == best:
            return mention.label
    return group[0].label


def _merge_person_aliases(groups: dict[str, list[Mention]], labels: dict[str, EntityLabel]) -> None:
    persons = [key for key in groups if labels[key] == "PERSON"]
    words = {key: _WORD.findall(key) for key in persons}
    # Shortest first, so "Poutine" joins "Vladimir Poutine" before anything else joins anything.
    for short in sorted(persons, key=lambda key: len(words[key])):
        containers = [key for key in persons
                      if key != short and key in groups and len(words[key]) > len(words[short])
                      and _contains(words[key], words[short])]
        if not containers:
            continue
        longest = max(containers, key=lambda key: len(words[key]))
        # "Bush" in "George Bush" and "Laura Bush": not one person, leave it alone.
        if all(_contains(words[longest], words[key]) for key in containers):
            groups[longest].extend(groups.pop(short))


def _contains(longer: Sequence[str], shorter: Sequence[str]) -> bool:
    size = len(shorter)
    return any(list(longer[at:at + size]) == list(shorter) for at in range(len(longer) - size + 1))
