"""Writing articles: index bootstrap and bulk writes by article id (the document: index.article_document).

``_id`` is the article id, so a re-delivered article overwrites its own document and a changed
article (same id, new content) replaces it: one document per article, whatever the retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from elasticsearch import Elasticsearch

from conf.logs import log_event
from index.article_document import ArticleDocument, article_document
from index.client import TRANSIENT_STATUSES, call, create_index, refusals
from index.dedup import RecentBands, assign_clusters
from index.rollover import CachedLayout, alias_members, earlier_copies, ensure_write_index, locate
from index.stores import delete_matching
from index.errors import IndexUnavailable
from index.mappings import (
    ARTICLE_STORY_PROPERTIES,
    ARTICLES_VERSION,
    articles_alias,
    articles_index,
    articles_template,
    articles_template_name,
)
from ingest.models import AnalyzedArticle, Entity

log = logging.getLogger("vigie.index")


@dataclass(frozen=True)
class BulkOutcome:
    """What became of each article of a bulk write."""

    indexed: tuple[str, ...] = ()
    retry: tuple[str, ...] = ()  # refused for a transient reason (429, node busy): try again
    rejected: tuple[tuple[str, str], ...] = ()  # (article id, reason): retrying will not help
    created: int = 0
    updated: int = 0
    took_ms: int = 0
    #: the documents written, by article id, as stored (what alerts are matched against); story
    #: assignment replaces a document by its copy holding the story (worker.story_tasks)
    documents: dict[str, ArticleDocument] = field(default_factory=dict)
    #: articles whose near-duplicate candidates came from the recent band keys, not Elasticsearch
    recent_lookups: int = 0
    #: the story written with an article (``with_stories``): the one it is expected to end in;
    #: ``documents`` do not carry it (alerts on a story wait for the story consumer's assignment)
    stories: dict[str, str] = field(default_factory=dict)


@dataclass
class _Counts:
    indexed: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    created: int = 0
    updated: int = 0


def _written(response: Any) -> list[dict[str, Any]]:
    """The results of a bulk write's ``index`` operations (its ``delete`` ones left out)."""
    return [entry["index"] for entry in response["items"] if "index" in entry]


class ArticleStore:
    """The articles index of one Vigie installation (its alias, template and current version)."""

    def __init__(self, es: Elasticsearch, prefix: str, recent: RecentBands | None = None) -> None:
        self.es = es
        self.prefix = prefix
        self.alias = articles_alias(prefix)
        #: recent band keys for the near-duplicate lookup (state.recent_bands); None: Elasticsearch only
        self.recent = recent
        #: the alias's backing indices and write index as last read (index.rollover): not read per batch
        self.layout = CachedLayout(es, prefix)

    def ensure_ready(self) -> str:
        """Create the template, the current index and the alias when missing. Idempotent.

        Returns the name of the index the alias points at.
        """
        self.layout.forget()
        call(
            self.es, "installing the articles index template",
            lambda: self.es.indices.put_index_template(
                name=articles_template_name(self.prefix), **articles_template(self.prefix)
            ),
        )
        exists = call(self.es, "looking up the articles alias", lambda: self.es.indices.exists_alias(name=self.alias))
        if exists:
            # Fields added since the index was made (additive): the story block of index.mappings.
            call(self.es, "adding the story fields to the articles mapping",
                 lambda: self.es.indices.put_mapping(index=self.alias, properties=ARTICLE_STORY_PROPERTIES))
            # An installation from before rollover: its one index becomes the alias's write index.
            ensure_write_index(self.es, self.prefix)
            _, write = alias_members(self.es, self.prefix)
            return write or ""
        index = articles_index(self.prefix, ARTICLES_VERSION)
        if not create_index(self.es, index, aliases={self.alias: {"is_write_index": True}}):
            # Another process created it (or it was left without its alias): point the alias at it.
            call(self.es, f"pointing {self.alias} at {index}",
                 lambda: self.es.indices.put_alias(index=index, name=self.alias, is_write_index=True))
        return index  # create_index waited until its primaries are active

    def delete(self, article_id: str) -> bool:
        """Remove one article (every index version behind the alias); False when there was none."""
        return delete_matching(self.es, self.alias, {"ids": {"values": [article_id]}},
                               f"deleting article {article_id}", self._forget_recent) > 0

    def delete_feed_articles(self, feed_url: str) -> int:
        """Remove every article of the feed at ``feed_url``; how many were removed."""
        return delete_matching(self.es, self.alias, {"term": {"feed": feed_url}},
                               f"deleting the articles of {feed_url}", self._forget_recent)

    def _forget_recent(self, article_ids: list[str]) -> None:
        if self.recent is None:
            return
        try:
            self.recent.forget(article_ids)
        except Exception as error:  # noqa: BLE001 - Redis down: the deletion stands; its bands expire
            log_event(log, "articles.recent_bands_not_cleared", logging.WARNING, articles=len(article_ids),
                      first_article=article_ids[0] if article_ids else None, error=str(error))

    def index_batch(self, items: Sequence[AnalyzedArticle], *, refresh: bool = False,
                    with_stories: bool = False,
                    guess: Callable[[Sequence[str]], Mapping[str, str]] | None = None) -> BulkOutcome:
        """Bulk-write ``items`` by article id. Raises IndexUnavailable when the node cannot be reached.

        ``with_stories`` (stories on): each article is written with the story it is expected to end in
        (``expected_stories``; ``guess``: the story each original of the batch would join now, from
        the article ids), so that the story consumer re-indexes it to mark its story only when the
        expectation was wrong."""
        if not items:
            return BulkOutcome()
        now = datetime.now(timezone.utc)
        plan = assign_clusters(self.es, self.prefix, items, self.recent)
        clusters = plan.clusters
        # An article already stored in an older backing index (rollover) is replaced there, never
        # copied into the write index: one document per article id across the alias.
        layout, placed = self.layout.locate([item.article.article_id for item in items])
        operations: list[dict[str, Any]] = []
        documents: dict[str, ArticleDocument] = {}
        for item in items:
            article_id = item.article.article_id
            documents[article_id] = article_document(item, now, clusters[article_id])
        stories = self._expected_stories(documents, guess) if with_stories else {}
        written: dict[str, dict[str, Any]] = {}  # each article's body as sent (with its expected story)
        for article_id, document in documents.items():
            operations.append({"index": {"_index": placed.get(article_id, self.alias), "_id": article_id}})
            story = stories.get(article_id)
            written[article_id] = (replace(document, story_id=story, story_key=story) if story else document).to_dict()
            operations.append(written[article_id])
            if article_id in placed:
                # A stray copy elsewhere (a put-back cut short by an Elasticsearch failure, then this
                # retry) goes: deleting a document that is not there is a no-op (404) in a bulk.
                operations += [{"delete": {"_index": name, "_id": article_id}}
                               for name in layout.members if name != placed[article_id]]
        response = call(
            self.es, f"bulk-indexing {len(items)} articles",
            lambda: self.es.bulk(operations=operations, refresh="wait_for" if refresh else False),
        )
        relocated = self._put_back(response, layout.write, placed, written, refresh)
        outcome = replace(self._outcome(response, documents), recent_lookups=plan.answered_recently)
        if relocated:
            outcome = replace(outcome, created=outcome.created - relocated, updated=outcome.updated + relocated)
        outcome = replace(outcome, stories={article_id: story for article_id, story in stories.items()
                                            if article_id in outcome.documents})
        if self.recent is not None and plan.token:
            # Only once Elasticsearch has answered: a crash or an error before leaves the batch's bands
            # marked in flight, so they are answered by Elasticsearch until they expire.
            self.recent.record(plan.record(items, outcome.indexed, now))
        return outcome

    def _expected_stories(self, documents: Mapping[str, ArticleDocument],
                          guess: Callable[[Sequence[str]], Mapping[str, str]] | None) -> dict[str, str]:
        from index.stories import expected_stories  # index.stories reads the articles alias too

        return expected_stories(self.es, self.prefix, {
            article_id: document.cluster_id or article_id for article_id, document in documents.items()}, guess)

    def _put_back(self, response: Any, write: str | None, placed: Mapping[str, str],
                  written: Mapping[str, dict[str, Any]], refresh: bool) -> int:
        """After a bulk write with the cached layout: when an article sent through the alias landed
        in another index than the cached write index, another process rolled the alias over since
        it was read, and an article the layout did not place may live in an index it did not search.
        Each such article is written back where it lived and removed from where it landed: one
        document per article id, where it was, as without the cache. How many were moved back."""
        landed = {result["_id"]: result["_index"] for result in _written(response)
                  if result.get("status") in (200, 201) and result["_id"] not in placed
                  and result.get("_index") != write}
        if not landed:
            return 0
        self.layout.forget()
        earlier = earlier_copies(self.es, self.prefix, landed)
        if not earlier:
            return 0
        operations: list[dict[str, Any]] = []
        for article_id, index in earlier.items():
            operations += [{"index": {"_index": index, "_id": article_id}}, written[article_id],
                           {"delete": {"_index": landed[article_id], "_id": article_id}}]
        answer = call(self.es, f"putting {len(earlier)} articles back in their backing index after a rollover "
                      f"(first {next(iter(earlier))})",
                      lambda: self.es.bulk(operations=operations, refresh="wait_for" if refresh else False))
        for entry in answer["items"]:
            result = entry.get("index") or entry.get("delete") or {}
            if result.get("status", 500) >= 300 and result.get("status") != 404:
                raise IndexUnavailable(f"putting article {result.get('_id')} back in {result.get('_index')} "
                                       f"after a rollover: status {result.get('status')}")
        log_event(log, "articles.put_back_after_rollover", logging.INFO, articles=len(earlier),
                  first_article=next(iter(earlier)), index=earlier[next(iter(earlier))])
        created = {result["_id"] for result in _written(response) if result.get("result") == "created"}
        return sum(1 for article_id in earlier if article_id in created)

    @staticmethod
    def _outcome(response: Any, documents: dict[str, ArticleDocument]) -> BulkOutcome:
        counts = _Counts()
        # A stray copy left (index_batch): refused for now, the article is written again and the copy
        # deleted on retry; refused for good, the copy stays and is logged with the article.
        now, for_good = refusals((entry["delete"] for entry in response["items"] if "delete" in entry), (200, 404))
        strays = {result["_id"] for result in now}
        for result in for_good:
            log_event(log, "articles.stray_copy_kept", logging.WARNING, article=result["_id"],
                      index=result.get("_index"), status=result.get("status"),
                      error=(result.get("error") or {}).get("type"))
        for result in _written(response):
            article_id = result["_id"]
            status = result.get("status", 500)
            if status in (200, 201) and article_id in strays:
                counts.retry.append(article_id)
            elif status in (200, 201):
                counts.indexed.append(article_id)
                if result.get("result") == "created":
                    counts.created += 1
                else:
                    counts.updated += 1
            elif status in TRANSIENT_STATUSES:
                counts.retry.append(article_id)
            else:
                reason = result.get("error", {})
                counts.rejected.append((article_id, f"{status}: {reason.get('type')}: {reason.get('reason')}"))
        return BulkOutcome(
            indexed=tuple(counts.indexed),
            retry=tuple(counts.retry),
            rejected=tuple(counts.rejected),
            created=counts.created,
            updated=counts.updated,
            took_ms=int(response.get("took", 0)),
            documents={article_id: documents[article_id] for article_id in counts.indexed},
        )

    def update_entities(self, changes: Mapping[str, Sequence[Entity]]) -> tuple[str, ...]:
        """Give stored articles new entities (article id -> its entities, re-identified): a partial
        update of each document's entity fields where it lives (index.rollover), never a second
        document. The ids updated; an article deleted meanwhile is skipped. Raises IndexUnavailable
        (node unreachable, or a transient refusal), IndexRejected (any other refusal)."""
        from index.entity_merges import entity_fields  # index.entity_merges shapes the fields, as re-labelling does
        from index.errors import IndexRejected

        if not changes:
            return ()
        placed = locate(self.es, self.prefix, list(changes))
        operations: list[dict[str, Any]] = []
        for article_id, entities in changes.items():
            operations += [{"update": {"_index": placed.get(article_id, self.alias), "_id": article_id}},
                           {"doc": entity_fields(entities)}]
        response = call(self.es, f"updating the entities of {len(changes)} articles (first: {next(iter(changes))})",
                        lambda: self.es.bulk(operations=operations))
        updated: list[str] = []
        for entry in response["items"]:
            result = entry["update"]
            status = result.get("status", 500)
            if status < 300:
                updated.append(result["_id"])
            elif status in TRANSIENT_STATUSES:
                raise IndexUnavailable(f"updating the entities of article {result['_id']}: status {status}")
            elif status != 404:
                raise IndexRejected(f"Elasticsearch refused the entities of article {result['_id']}: "
                                    f"{result.get('error')}")
        return tuple(updated)

    def get(self, article_id: str) -> dict[str, Any] | None:
        """One article's stored document, or None."""
        return self.get_many([article_id]).get(article_id)

    def get_many(self, article_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored documents of ``article_ids`` that exist, by id, in one real-time multi-get (an
        article written but not yet refreshed is found too). When the alias has several backing
        indices (a get through it is refused), each id is asked of every one of them."""
        wanted = list(dict.fromkeys(article_ids))
        if not wanted:
            return {}
        members, _ = alias_members(self.es, self.prefix)
        indices = members if len(members) > 1 else [self.alias]
        docs = [{"_index": index, "_id": article_id} for article_id in wanted for index in indices]
        response = call(self.es, f"reading {len(wanted)} articles (first: {wanted[0]})",
                        lambda: self.es.mget(docs=docs))
        return {doc["_id"]: doc["_source"] for doc in response["docs"] if doc.get("found")}

    def count(self, query: dict[str, Any] | None = None) -> int:
        body = {"query": query} if query else {}
        response = call(self.es, "counting articles", lambda: self.es.count(index=self.alias, **body))
        return int(response["count"])

    def refresh(self) -> None:
        call(self.es, "refreshing the articles index", lambda: self.es.indices.refresh(index=self.alias))

    def ping(self) -> bool:
        try:
            call(self.es, "checking cluster health", lambda: self.es.cluster.health(timeout="2s"))
            return True
        except IndexUnavailable:
            return False
