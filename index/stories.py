"""Stories in Elasticsearch: the story records, each article's membership, candidates for assignment.

Two indexes:

- ``<prefix>-stories``: one document per story, by story id: what a reader sees (headline, languages,
  sources, size, first and last seen, top entities and topics, counts per hour, merges) and, kept
  whole and never searched, the centroid ``ingest.stories`` compares articles with. A story merged
  into another keeps its document with ``merged_into`` set, so an old link still leads somewhere and
  the merge stays visible.
- ``<prefix>-story-members``: one document per article, by article id: its story. The source of truth
  of membership: an article indexed again (a redelivery) overwrites its article document, not its
  membership, so it keeps its story. The article document carries a copy (``story_id``) for search.

Nothing here decides anything: ``ingest.stories.decide`` does; the worker (worker.story_tasks) runs it
under a lock and writes its outcome through ``StoryStore.save``.
"""

from __future__ import annotations

import base64
import logging
import zlib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
from elasticsearch import Elasticsearch

from conf.logs import log_event
from index.client import call, create_index, refusals
from index.errors import IndexRejected, IndexUnavailable
from index.mappings import (
    ARTICLE_STORY_PROPERTIES,
    articles_alias,
    members_index,
    stories_index,
    stories_index_body,
    story_members_index_body,
)
from index.rollover import locate
from ingest.stories import Merge, StoryCentroid, StoryFeatures, story_id_for

log = logging.getLogger("vigie.index")

#: Candidate stories fetched per article: the best by shared names and words within the window. Six
#: since 2026-12-06 (twelve before): with 2,400 living stories of real text in the window, the story an
#: article of the labelled stream joined was the first or second ranked every time, and 24, 12, 6 and 4
#: made the same stories (bench/story_candidates.py, docs/performance.md); each one fewer is read,
#: weighed and compared on both sides.
CANDIDATES = 6
#: Names, words and numbers of an article used to look for candidates.
_QUERY_NAMES = 20
_QUERY_TERMS = 30
#: What a story record lists of its sources, entities and topics.
_TOP_SOURCES = 200
_TOP_ENTITIES = 10
_TOP_TOPICS = 5
#: Hours of per-hour counts a record keeps (a sparkline, and the baseline of trends).
_HOURS_KEPT = 24 * 14

def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


def _never_written(item: Mapping[str, Any]) -> bool:
    """Whether a bulk item is a merge's mark (the only update ``StoryStore.save`` sends) on a missing story."""
    update = item.get("update")
    return (update is not None and update.get("status") == 404
            and (update.get("error") or {}).get("type") == "document_missing_exception")


def _hour(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H")


def packed_centroid(centroid: StoryCentroid) -> str:
    """A story's centroid as it is written (``centroid_packed``, index.mappings): its JSON
    (``StoryCentroid.to_dict``), compressed with zlib (level 1: a story is written again whenever an
    article joins it), in base64. orjson writes each float so that it reads back exact."""
    return base64.b64encode(zlib.compress(orjson.dumps(centroid.to_dict()), 1)).decode("ascii")


def unpacked_centroid(source: Mapping[str, Any]) -> Mapping[str, Any]:
    """The centroid's JSON form from a story document: packed (``packed_centroid``), or whole as
    stories written before 2026-12-06 keep it."""
    packed = source.get("centroid_packed")
    if packed is None:
        return source["centroid"]
    try:
        return orjson.loads(zlib.decompress(base64.b64decode(packed)))
    except (ValueError, zlib.error) as error:
        raise IndexRejected(f"the centroid of story {source.get('story_id', '?')} cannot be read: {error}") from error


def _top(counts: Mapping[str, int], limit: int) -> list[str]:
    return [key for key, _ in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]]


@dataclass(frozen=True)
class StoryRecord:
    """A story as a reader sees it."""

    story_id: str
    headline: str
    headline_article: str
    languages: tuple[str, ...]
    sources: tuple[str, ...]
    size: int
    first_seen: datetime
    last_seen: datetime
    top_entities: tuple[str, ...]
    top_topics: tuple[str, ...]
    hours: Mapping[str, int]  # "YYYY-MM-DDTHH" (UTC) -> articles first seen in that hour
    language_counts: Mapping[str, int]
    merged_into: str | None = None
    merges: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_source(cls, source: Mapping[str, Any]) -> StoryRecord:
        tallies = source.get("tallies") or {}
        return cls(
            story_id=source["story_id"], headline=source.get("headline") or "",
            headline_article=source.get("headline_article") or "",
            languages=tuple(source.get("languages") or ()), sources=tuple(source.get("sources") or ()),
            size=int(source.get("size") or 0),
            first_seen=datetime.fromisoformat(source["first_seen"]),
            last_seen=datetime.fromisoformat(source["last_seen"]),
            top_entities=tuple(source.get("top_entities") or ()), top_topics=tuple(source.get("top_topics") or ()),
            hours=dict(tallies.get("hours") or {}), language_counts=dict(tallies.get("languages") or {}),
            merged_into=source.get("merged_into"), merges=tuple(source.get("merges") or ()),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.story_id, "headline": self.headline, "headline_article": self.headline_article,
            "languages": list(self.languages), "language_counts": dict(self.language_counts),
            "sources": list(self.sources), "size": self.size,
            "first_seen": self.first_seen.isoformat(), "last_seen": self.last_seen.isoformat(),
            "top_entities": list(self.top_entities), "top_topics": list(self.top_topics),
            "hours": dict(sorted(self.hours.items())), "merged_into": self.merged_into,
            "merges": [dict(merge) for merge in self.merges],
        }

    def summary(self) -> dict[str, Any]:
        """What a search hit says of its story."""
        return {"id": self.story_id, "headline": self.headline, "size": self.size}


@dataclass
class StoryDraft:
    """A story being updated during one assignment batch: its centroid and its tallies."""

    centroid: StoryCentroid
    tallies: dict[str, dict[str, int]] = field(default_factory=dict)
    merges: list[dict[str, Any]] = field(default_factory=list)
    headline_article: str = ""
    #: The search keys last written (``document``): what the candidate index records.
    written_keys: dict[str, list[str]] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_source(cls, source: Mapping[str, Any]) -> StoryDraft:
        tallies = {name: dict(values) for name, values in (source.get("tallies") or {}).items()}
        return cls(StoryCentroid.from_dict(unpacked_centroid(source)), tallies, list(source.get("merges") or ()),
                   source.get("headline_article") or "")

    def count(self, features: StoryFeatures) -> None:
        for name, keys in (("sources", [features.source] if features.source else []),
                           ("entities", features.entities[:_TOP_ENTITIES]), ("topics", features.topics),
                           ("languages", [features.language]), ("hours", [_hour(features.time)])):
            tally = self.tallies.setdefault(name, {})
            for key in keys:
                tally[key] = tally.get(key, 0) + 1
        if not self.headline_article:
            self.headline_article = features.article_id

    def absorb(self, other: StoryDraft) -> None:
        for name, values in other.tallies.items():
            tally = self.tallies.setdefault(name, {})
            for key, count in values.items():
                tally[key] = tally.get(key, 0) + count
        self.merges.extend(other.merges)

    def search_keys(self) -> dict[str, list[str]]:
        """What candidate search matches an article against: the centroid's strongest names, words
        and figures."""
        centroid = self.centroid
        return {"names": _top({k: round(v * 1e6) for k, v in centroid.names.items()}, 60),
                "terms": _top({k: round(v * 1e6) for k, v in centroid.terms.items()}, 120),
                "numbers": _top(dict(centroid.numbers), 40)}

    def document(self, now: datetime) -> dict[str, Any]:
        centroid = self.centroid
        self.written_keys = self.search_keys()
        hours = self.tallies.get("hours", {})
        if len(hours) > _HOURS_KEPT:
            self.tallies["hours"] = dict(sorted(hours.items())[-_HOURS_KEPT:])
        self.tallies["sources"] = dict(Counter(self.tallies.get("sources", {})).most_common(_TOP_SOURCES * 2))
        self.tallies["entities"] = dict(Counter(self.tallies.get("entities", {})).most_common(_TOP_ENTITIES * 10))
        return {
            "story_id": centroid.story_id,
            "headline": centroid.headline,
            "headline_article": self.headline_article,
            "languages": sorted(centroid.languages),
            "sources": _top(self.tallies.get("sources", {}), _TOP_SOURCES),
            "size": centroid.size,
            "first_seen": _iso(centroid.first_seen),
            "last_seen": _iso(centroid.last_seen),
            "updated_at": _iso(now),
            "top_entities": _top(self.tallies.get("entities", {}), _TOP_ENTITIES),
            "top_topics": _top(self.tallies.get("topics", {}), _TOP_TOPICS),
            **self.written_keys,
            "merged_into": None,
            "merges": self.merges,
            "centroid_packed": packed_centroid(centroid),
            "tallies": self.tallies,
        }


@dataclass(frozen=True)
class StoryKeys:
    """What candidate search matches a story by (``StoryDraft.search_keys``), with its window; a story
    merged away names where it went (``merged_into``)."""

    story_id: str
    first_seen: datetime
    last_seen: datetime
    names: tuple[str, ...]
    terms: tuple[str, ...]
    numbers: tuple[str, ...]
    merged_into: str | None = None


@dataclass(frozen=True)
class Membership:
    article_id: str
    story_id: str
    features: StoryFeatures
    reason: str
    score: float


class StoryStore:
    """The stories and memberships of one Vigie installation."""

    def __init__(self, es: Elasticsearch, prefix: str) -> None:
        self.es = es
        self.prefix = prefix
        self.index = stories_index(prefix)
        self.members = members_index(prefix)

    def ensure_ready(self) -> None:
        """Create both indexes and add ``story_id`` to the articles mapping. Idempotent."""
        for index, body in ((self.index, stories_index_body()), (self.members, story_members_index_body())):
            if not create_index(self.es, index, **body):
                # Created refreshing every second (the memberships until 2026-12-02, the stories until
                # 2026-12-03) or, the memberships, only while searched (until 2026-12-03): each is set
                # to its body's interval.
                interval = body["settings"].get("refresh_interval")
                call(self.es, f"setting how often {index} is refreshed", lambda: self.es.indices.put_settings(
                    index=index, settings={"index.refresh_interval": interval}))
                # The fields its mapping gained since it was made, as index.stores does (additive:
                # ``centroid_packed`` since 2026-12-06; older stories are read as they are and packed
                # when next written).
                properties = body["mappings"]["properties"]
                call(self.es, f"updating the mapping of {index}", lambda: self.es.indices.put_mapping(
                    index=index, properties=properties))
        alias = articles_alias(self.prefix)
        if call(self.es, "looking up the articles alias", lambda: self.es.indices.exists_alias(name=alias)):
            call(self.es, "adding the story fields to the articles mapping",
                 lambda: self.es.indices.put_mapping(index=alias, properties=ARTICLE_STORY_PROPERTIES))

    # -- reading ---------------------------------------------------------------------------------

    def memberships(self, article_ids: Sequence[str], living: Collection[str] = ()) -> dict[str, str]:
        """The story of each article that has one (merges followed). ``living``: stories the caller
        knows are not merged (the assigner's own, worker.story_memory), not read again."""
        if not article_ids:
            return {}
        response = call(self.es, f"reading the stories of {len(article_ids)} articles",
                        lambda: self.es.mget(index=self.members, ids=list(article_ids), source=["story_id"]))
        found = {doc["_id"]: doc["_source"]["story_id"] for doc in response["docs"] if doc.get("found")}
        resolved = self.resolve(set(found.values()) - set(living))
        return {article_id: resolved.get(story, story) for article_id, story in found.items()}

    def resolve(self, story_ids: Iterable[str]) -> dict[str, str]:
        """Each story id, followed through merges to the story that lives on."""
        result = {story: story for story in story_ids}
        pending = set(result)
        for _ in range(10):  # merge chains are short; the bound guards against a cycle
            if not pending:
                break
            drafts = self._sources(sorted(pending), ["merged_into"])
            moved = {story: source["merged_into"] for story, source in drafts.items() if source.get("merged_into")}
            for origin, current in result.items():
                if current in moved:
                    result[origin] = moved[current]
            pending = set(moved.values())
        return result

    def _sources(self, story_ids: Sequence[str], fields: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        if not story_ids:
            return {}
        kwargs: dict[str, Any] = {"source": list(fields)} if fields else {}
        response = call(self.es, f"reading {len(story_ids)} stories",
                        lambda: self.es.mget(index=self.index, ids=list(story_ids), **kwargs))
        return {doc["_id"]: doc["_source"] for doc in response["docs"] if doc.get("found")}

    def drafts(self, story_ids: Sequence[str]) -> dict[str, StoryDraft]:
        return {story: StoryDraft.from_source(source) for story, source in self._sources(story_ids).items()
                if not source.get("merged_into")}

    @staticmethod
    def query_keys(features: StoryFeatures) -> dict[str, list[str]]:
        """The names, words and figures of an article that candidate search looks for."""
        return {"names": [name for name, _ in sorted(features.names.items(), key=lambda p: (-p[1], p[0]))[:_QUERY_NAMES]],
                "terms": [term for term, _ in sorted(features.terms.items(), key=lambda p: (-p[1], p[0]))[:_QUERY_TERMS]],
                "numbers": sorted(features.numbers)}

    @classmethod
    def _candidate_query(cls, features: StoryFeatures, window_hours: float) -> dict[str, Any] | None:
        keys = cls.query_keys(features)
        # A scored clause per name and figure: a ``terms`` clause gives every story it matches the same
        # score, so among the stories sharing a name, a word and a figure with the article, the ``size``
        # kept were any of them (index order), and the story the article belongs to could be left out.
        # Scored, the stories sharing the most and the rarest names and figures come first. Words stay
        # one clause (constant score): they are many and common, and scoring them costs more.
        should: list[dict[str, Any]] = [
            *({"term": {"names": {"value": name, "boost": 2.0}}} for name in keys["names"]),
            *({"term": {"numbers": number}} for number in keys["numbers"])]
        if keys["terms"]:
            should.append({"terms": {"terms": keys["terms"]}})
        if not should:
            return None
        window = timedelta(hours=window_hours)
        return {"bool": {
            "should": should, "minimum_should_match": 1,
            "filter": [{"range": {"last_seen": {"gte": _iso(features.time - window)}}},
                       {"range": {"first_seen": {"lte": _iso(features.time + window)}}}],
            "must_not": [{"exists": {"field": "merged_into"}}],
        }}

    def candidate_ids(self, articles: Sequence[StoryFeatures], window_hours: float,
                      limit: int = CANDIDATES) -> list[list[str]]:
        """For each article, the stories seen within the window that share the most names, words or
        figures with it, best first: one multi-search for the whole batch, ids only."""
        searches: list[dict[str, Any]] = []
        asked: list[int] = []
        for position, features in enumerate(articles):
            query = self._candidate_query(features, window_hours)
            if query is not None:
                # Ids from doc values, no stored field read: fetching ``_id`` decompresses the stored
                # block of every hit, whose large sources (centroids) made it most of the search's cost.
                # No total counted: the best ``limit`` are the same, and stories that cannot enter
                # them are skipped instead of scored (docs/performance.md).
                searches += [{"index": self.index}, {"query": query, "size": limit, "_source": False,
                                                     "stored_fields": "_none_", "docvalue_fields": ["story_id"],
                                                     "track_total_hits": False}]
                asked.append(position)
        found: list[list[str]] = [[] for _ in articles]
        if not searches:
            return found
        response = call(self.es, f"looking for the stories of {len(asked)} articles",
                        lambda: self.es.msearch(searches=searches))
        for position, result in zip(asked, response["responses"]):
            if "error" in result:
                raise IndexUnavailable(f"looking for the story of article {articles[position].article_id} "
                                       f"failed: {result['error']}")
            found[position] = [hit["fields"]["story_id"][0] for hit in result["hits"]["hits"]]
        return found

    def latest_seen(self) -> datetime | None:
        """When the most recently active living story was last seen (None: no story)."""
        response = call(self.es, "reading the latest story", lambda: self.es.search(
            index=self.index, query={"bool": {"must_not": [{"exists": {"field": "merged_into"}}]}}, size=1,
            sort=[{"last_seen": "desc"}], source=["last_seen"], track_total_hits=False))
        hits = response["hits"]["hits"]
        return datetime.fromisoformat(hits[0]["_source"]["last_seen"]) if hits else None

    def keys_since(self, since: datetime | None, seen_from: datetime | None, page: int = 500) -> Iterator[StoryKeys]:
        """The search keys of every story written since ``since`` (all of them when None) and last seen
        from ``seen_from`` (any time when None), and of every story merged away since ``since``: what
        rebuilds a candidate index kept elsewhere (worker.story_search). Searches: refresh first to see
        the latest writes."""
        changed: list[dict[str, Any]] = [] if seen_from is None else [
            {"range": {"last_seen": {"gte": _iso(seen_from)}}}]
        if since is not None:
            changed.append({"range": {"updated_at": {"gte": _iso(since)}}})
            query: dict[str, Any] = {"bool": {"should": [
                {"bool": {"filter": changed, "must_not": [{"exists": {"field": "merged_into"}}]}},
                {"bool": {"filter": [{"range": {"updated_at": {"gte": _iso(since)}}},
                                     {"exists": {"field": "merged_into"}}]}}], "minimum_should_match": 1}}
        else:
            query = {"bool": {"filter": changed, "must_not": [{"exists": {"field": "merged_into"}}]}}
        after: list[Any] | None = None
        while True:
            extra: dict[str, Any] = {"search_after": after} if after is not None else {}
            response = call(self.es, "reading the search keys of stories", lambda: self.es.search(
                index=self.index, query=query, size=page, sort=[{"story_id": "asc"}], track_total_hits=False,
                source=["story_id", "first_seen", "last_seen", "names", "terms", "numbers", "merged_into"], **extra))
            hits = response["hits"]["hits"]
            for hit in hits:
                source = hit["_source"]
                yield StoryKeys(source["story_id"], datetime.fromisoformat(source["first_seen"]),
                                datetime.fromisoformat(source["last_seen"]), tuple(source.get("names") or ()),
                                tuple(source.get("terms") or ()), tuple(source.get("numbers") or ()),
                                source.get("merged_into") or None)
            if len(hits) < page:
                return
            after = hits[-1]["sort"]

    def get(self, story_id: str) -> StoryRecord | None:
        sources = self._sources([story_id])
        return StoryRecord.from_source(sources[story_id]) if story_id in sources else None

    def records(self, story_ids: Sequence[str]) -> dict[str, StoryRecord]:
        return {story: StoryRecord.from_source(source) for story, source in self._sources(list(story_ids)).items()}

    def list(self, *, since: datetime | None = None, topic: str | None = None, entity: str | None = None,
             story_ids: Sequence[str] | None = None, limit: int = 20) -> list[StoryRecord]:
        """Living stories, most recently active and biggest first."""
        filters: list[dict[str, Any]] = []
        if since is not None:
            filters.append({"range": {"last_seen": {"gte": _iso(since)}}})
        if topic:
            filters.append({"term": {"top_topics": topic}})
        if entity:
            filters.append({"term": {"top_entities": entity}})
        if story_ids is not None:
            filters.append({"ids": {"values": list(story_ids)}})
        query = {"bool": {"filter": filters, "must_not": [{"exists": {"field": "merged_into"}}]}}
        response = call(self.es, "listing stories", lambda: self.es.search(
            index=self.index, query=query, size=limit, source={"excludes": ["centroid", "centroid_packed", "names", "terms"]},
            sort=[{"last_seen": "desc"}, {"size": "desc"}, {"story_id": "asc"}]))
        return [StoryRecord.from_source(hit["_source"]) for hit in response["hits"]["hits"]]

    def members_of(self, story_id: str, limit: int = 200) -> list[dict[str, Any]]:
        """The articles of a story (merged stories included), in time order."""
        absorbed = [story_id]
        response = call(self.es, f"reading the merges into {story_id}", lambda: self.es.search(
            index=self.index, query={"term": {"merged_into": story_id}}, size=1000, source=False))
        absorbed += [hit["_id"] for hit in response["hits"]["hits"]]
        response = call(self.es, f"reading the articles of story {story_id}", lambda: self.es.search(
            index=self.members, query={"terms": {"story_id": absorbed}}, size=limit,
            sort=[{"time": "asc"}, {"article_id": "asc"}]))
        return [hit["_source"] for hit in response["hits"]["hits"]]

    # -- writing ---------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Make every story and membership written so far searchable (candidate search, listings)."""
        call(self.es, "refreshing the stories", lambda: self.es.indices.refresh(index=f"{self.index},{self.members}"))

    def save(self, drafts: Sequence[StoryDraft], memberships: Sequence[Membership], merges: Sequence[Merge],
             now: datetime | None = None, *, refresh: bool = False, stored: Mapping[str, str] | None = None) -> None:
        """Write the stories changed, the new memberships (and their copy on the articles), the merges.

        ``stored``: the story each article document was written with (the one it was expected to end
        in, ``expected_stories``); an article whose membership names that story is not marked
        again (marking re-indexes the whole article document, Elasticsearch's biggest cost in stories).

        Reads by id (``memberships``, ``drafts``) see them at once; searches after the next refresh
        (every ``STORIES_REFRESH_SECONDS``), or at once with ``refresh``. The assigner does not
        refresh: it keeps the stories it wrote last in memory (worker.story_memory)."""
        now = now or datetime.now(timezone.utc)
        operations: list[dict[str, Any]] = []
        for draft in drafts:
            operations += [{"index": {"_index": self.index, "_id": draft.centroid.story_id}}, draft.document(now)]
        for merge in merges:
            operations += [{"update": {"_index": self.index, "_id": merge.absorbed}},
                           {"doc": {"merged_into": merge.into, "updated_at": _iso(now)}}]
        for member in memberships:
            operations += [{"index": {"_index": self.members, "_id": member.article_id}}, {
                "article_id": member.article_id, "story_id": member.story_id,
                "language": member.features.language, "source": member.features.source,
                "time": _iso(member.features.time), "reason": member.reason, "score": member.score,
                "assigned_at": _iso(now)}]
        if operations:
            response = call(self.es, f"writing {len(drafts)} stories and {len(memberships)} memberships",
                            lambda: self.es.bulk(operations=operations))
            # A merge's mark on a story never written (founded and absorbed in one batch) has nothing to
            # mark: the story that lives on records the merge.
            errors = [item for item in response["items"] if next(iter(item.values())).get("status", 500) >= 300
                      and not _never_written(item)]
            if errors:
                raise IndexUnavailable(f"writing stories failed for {len(errors)} items: {errors[0]}")
        if merges:
            call(self.es, "refreshing the story members", lambda: self.es.indices.refresh(index=self.members))
        for merge in merges:
            self._move_members(merge.absorbed, merge.into)
        if refresh:
            self.refresh()
        stored = stored or {}
        self.mark_articles({member.article_id: member.story_id for member in memberships
                            if stored.get(member.article_id) != member.story_id})

    def _move_members(self, absorbed: str, into: str) -> None:
        """Point the memberships (and article copies) of a merged story at the story it went into.

        The local Elasticsearch has no update-by-query (no reindex module): search, then bulk-update."""
        while True:
            response = call(self.es, f"reading the articles of story {absorbed}", lambda: self.es.search(
                index=self.members, query={"term": {"story_id": absorbed}}, size=1000, source=False))
            ids = [hit["_id"] for hit in response["hits"]["hits"]]
            if not ids:
                return
            operations: list[dict[str, Any]] = []
            for article_id in ids:
                operations += [{"update": {"_index": self.members, "_id": article_id}}, {"doc": {"story_id": into}}]
            call(self.es, f"moving {len(ids)} articles of story {absorbed} into {into}",
                 lambda: self.es.bulk(operations=operations, refresh=True))
            self.mark_articles({article_id: into for article_id in ids})
            if len(ids) < 1000:
                return

    def mark_articles(self, stories: Mapping[str, str]) -> None:
        """Copy each article's story onto its article document (searchable, shown with hits).

        A transient refusal of any of them (429, node busy) raises IndexUnavailable: the assignment is
        tried again later, and the article, then already a member, is marked again. An article
        deleted meanwhile, or refused for good, keeps its membership (the record of its story) and is
        logged by id."""
        if not stories:
            return
        alias = articles_alias(self.prefix)
        placed = locate(self.es, self.prefix, list(stories))  # an article in an older backing index is updated there
        operations: list[dict[str, Any]] = []
        for article_id, story in stories.items():
            operations += [{"update": {"_index": placed.get(article_id, alias), "_id": article_id}},
                           {"doc": {"story_id": story, "story_key": story}}]
        response = call(self.es, f"marking the story of {len(stories)} articles",
                        lambda: self.es.bulk(operations=operations))
        if not response.get("errors"):
            return
        now, for_good = refusals(entry["update"] for entry in response["items"])
        if now:
            raise IndexUnavailable(f"marking the story of article {now[0]['_id']}: status {now[0].get('status')}")
        for result in for_good:
            log_event(log, "story.mark_refused", logging.WARNING, article=result["_id"],
                      story=stories.get(result["_id"]), status=result.get("status"),
                      error=(result.get("error") or {}).get("type"))


# -- the story an article is written with -----------------------------------------------------------


def expected_stories(es: Elasticsearch, prefix: str, originals: Mapping[str, str],
                     guess: Callable[[Sequence[str]], Mapping[str, str]] | None = None) -> dict[str, str]:
    """For each article about to be written (id -> the id of its near-duplicate original, itself for
    an original), the story it is expected to end in, so that the indexing task writes it with the
    article and the story consumer need not re-index the article to mark it:

    - an article that already has a story (a redelivery) keeps it;
    - a wire copy whose original has a story joins that story (``ingest.stories.decide`` puts a copy
      in its original's story);
    - any other original, the story ``guess`` gives it (the one it would join among the stories
      searchable now, ``worker.story_tasks.guess_stories``), else the story it founds when it finds
      no story to join (``ingest.stories.story_id_for``); its copies in the batch go with it.

    An expectation the consumer does not confirm costs one mark (the article re-indexed), nothing
    else. Until the consumer has written a story it founds (a moment later), the expected story has no
    record: hits show no story for the article meanwhile, as before (``attach_stories``). A guess
    that fails is logged and left out: indexing never waits on it."""
    expected = {article_id: story_id_for(original) for article_id, original in originals.items()}
    wanted = sorted({*originals, *originals.values()})
    response = call(es, f"reading the stories of {len(wanted)} articles (first: {wanted[0]})",
                    lambda: es.options(ignore_status=404).mget(index=members_index(prefix), ids=wanted,
                                                                source=["story_id"])) if wanted else None
    found = {doc["_id"]: doc["_source"]["story_id"]
             for doc in (response.body.get("docs", []) if response is not None else []) if doc.get("found")}
    # Merges are not followed here (a read of the stories, for nothing nearly always): the consumer
    # that merges two stories moves the merged one's memberships at once (``_move_members``), so a
    # membership names a merged story only if that consumer stopped between the two writes; the
    # consumer then decides the living story and marks the article, as for any expectation it does
    # not confirm.
    unsettled = [article_id for article_id, original in originals.items()
                 if original == article_id and article_id not in found]
    guessed: Mapping[str, str] = {}
    if guess is not None and unsettled:
        try:
            guessed = guess(unsettled)
        except Exception as error:  # noqa: BLE001 - a guess only spares a mark; indexing goes on
            log_event(log, "stories.guess_failed", logging.WARNING, articles=len(unsettled),
                      first_article=unsettled[0], error=f"{type(error).__name__}: {error}")
    for article_id, original in originals.items():
        if article_id in found:
            expected[article_id] = found[article_id]
        elif original in found:
            expected[article_id] = found[original]
        elif original in guessed:
            expected[article_id] = guessed[original]
    return expected


# -- the articles of several stories at once (the Stories front page) -----------------------------


def articles_of_stories(es: Elasticsearch, prefix: str, story_ids: Sequence[str],
                        per_story: int = 8) -> dict[str, dict[str, Any]]:
    """For each story, its first ``per_story`` articles (time order) with their titles, and their ids
    grouped by language then source: one search of the memberships (collapsed by story) and one read
    of the titles, whatever the number of stories."""
    ids = sorted(set(story_ids))
    if not ids or not call(es, "looking up the story members index",
                           lambda: es.indices.exists(index=members_index(prefix))):
        return {}
    response = call(es, f"reading the articles of {len(ids)} stories", lambda: es.search(
        index=members_index(prefix), query={"terms": {"story_id": ids}}, size=len(ids), source=False,
        collapse={"field": "story_id", "inner_hits": {"name": "first", "size": per_story,
                                                      "sort": [{"time": "asc"}, {"article_id": "asc"}]}}))
    members: dict[str, list[dict[str, Any]]] = {}
    for hit in response["hits"]["hits"]:
        inner = hit["inner_hits"]["first"]["hits"]["hits"]
        if inner:
            members[inner[0]["_source"]["story_id"]] = [item["_source"] for item in inner]
    article_ids = [member["article_id"] for rows in members.values() for member in rows]
    titles: dict[str, dict[str, Any]] = {}
    if article_ids:
        # A search by ids, not mget: the alias may cover several backing indices (index.rollover).
        found = call(es, f"reading the titles of {len(article_ids)} articles", lambda: es.search(
            index=articles_alias(prefix), query={"ids": {"values": article_ids}}, size=len(article_ids),
            source=["title", "url"]))
        titles = {doc["_id"]: doc["_source"] for doc in found["hits"]["hits"]}
    result: dict[str, dict[str, Any]] = {}
    for story, rows in members.items():
        articles = [{"id": m["article_id"], "title": titles.get(m["article_id"], {}).get("title") or "",
                     "url": titles.get(m["article_id"], {}).get("url"), "language": m.get("language"),
                     "source": m.get("source"), "time": m.get("time"), "reason": m.get("reason"),
                     "score": m.get("score")} for m in rows]
        result[story] = {"articles": articles, "by_language": by_language(articles)}
    return result


def by_language(articles: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """Article ids by language, then by source (in the order given)."""
    grouped: dict[str, dict[str, list[str]]] = {}
    for article in articles:
        grouped.setdefault(article.get("language") or "und", {}).setdefault(article.get("source") or "-", []).append(
            article["id"])
    return grouped


# -- search hits and their stories ---------------------------------------------------------------

#: The field search collapses on: the article's story (the one expected until it is assigned, with
#: stories on), else its near-duplicate cluster.
COLLAPSE_FIELD = "story_key"


def attach_stories(es: Elasticsearch, prefix: str, hits: Sequence[Any]) -> tuple[Any, ...]:
    """The hits, each with ``story`` = {"id", "headline", "size"} of its (living) story, or None."""
    from dataclasses import replace

    ids = sorted({hit.story_id for hit in hits if getattr(hit, "story_id", None)})
    if not ids:
        return tuple(hits)
    response = call(es, f"reading the stories of {len(ids)} hits", lambda: es.options(ignore_status=404).mget(
        index=stories_index(prefix), ids=ids, source=["story_id", "headline", "size", "merged_into"]))
    sources = {doc["_id"]: doc["_source"] for doc in response.body.get("docs", []) if doc.get("found")}
    moved = sorted({source["merged_into"] for source in sources.values() if source.get("merged_into")} - set(sources))
    if moved:
        sources.update(StoryStore(es, prefix)._sources(moved, ["story_id", "headline", "size", "merged_into"]))

    def summary(story_id: str) -> dict[str, Any] | None:
        for _ in range(10):
            source = sources.get(story_id)
            if source is None:
                return None
            if not source.get("merged_into"):
                return {"id": story_id, "headline": source.get("headline") or "", "size": int(source.get("size") or 0)}
            story_id = source["merged_into"]
        return None

    return tuple(replace(hit, story=summary(hit.story_id)) if hit.story_id else hit for hit in hits)
