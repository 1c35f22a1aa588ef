"""What the alert and notification stores share: an index created when first needed, searches that
translate Elasticsearch's errors, and reading a whole result page by page (``search_after``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from elasticsearch import Elasticsearch

from index.client import call, create_index

PAGE = 500


def delete_matching(es: Elasticsearch, index: str, query: dict[str, Any], what: str,
                    deleted_ids: Callable[[list[str]], None] | None = None) -> int:
    """Delete every document of ``index`` (an index, alias or pattern) matching ``query``, a page of
    ids then one bulk request at a time (the embedded Elasticsearch has no delete-by-query: that is
    the reindex module); how many were deleted. ``deleted_ids`` is told the ids of each page deleted."""
    deleted = 0
    while True:
        hits = call(es, what, lambda: es.options(ignore_status=404).search(
            index=index, query=query, size=PAGE, source=False))
        found = hits.body.get("hits", {}).get("hits", []) if hits.meta.status != 404 else []
        if not found:
            return deleted
        operations = [{"delete": {"_index": hit["_index"], "_id": hit["_id"]}} for hit in found]
        response = call(es, what, lambda: es.bulk(operations=operations, refresh=True))
        gone = [item["delete"]["_id"] for item in response["items"] if item["delete"].get("result") == "deleted"]
        if deleted_ids is not None and gone:
            deleted_ids(gone)
        deleted += len(gone)


class IndexStore:
    """One index of records. ``body``: the index's settings and mappings (``index.mappings``)."""

    def __init__(self, es: Elasticsearch, index: str, body: Callable[[], dict[str, Any]], what: str) -> None:
        self.es = es
        self.index = index
        self._body = body
        self._what = what  # "alerts", "notifications": in error messages
        self._ready = False

    def ensure_ready(self) -> None:
        """Create the index when missing, or add the fields its mapping gained since it was made (new
        fields are additive: the per-story fields of alerts and notifications). Idempotent."""
        if self._ready:
            return
        body = self._body()
        if not create_index(self.es, self.index, **body):
            call(self.es, f"updating the {self._what} mapping", lambda: self.es.indices.put_mapping(
                index=self.index, properties=body["mappings"]["properties"]))
        self._ready = True

    def search(self, query: dict[str, Any], size: int, sort: list[dict[str, str]],
               **extra: Any) -> list[dict[str, Any]]:
        """One page of hits; IndexUnavailable while Elasticsearch is down."""
        self.ensure_ready()
        return call(self.es, f"listing {self._what}", lambda: self.es.search(
            index=self.index, query=query, size=size, sort=sort, **extra))["hits"]["hits"]

    def count(self, query: dict[str, Any] | None = None) -> int:
        """How many records match ``query`` (all of them by default)."""
        self.ensure_ready()
        return int(call(self.es, f"counting {self._what}", lambda: self.es.count(
            index=self.index, query=query or {"match_all": {}}))["count"])

    def scan(self, query: dict[str, Any], sort: list[dict[str, str]], page: int = PAGE) -> Iterator[dict[str, Any]]:
        """Every hit of ``query`` in ``sort`` order (which must end on a unique field), a page at a time."""
        after: list[Any] | None = None
        while True:
            hits = self.search(query, page, sort, **({"search_after": after} if after else {}))
            yield from hits
            if len(hits) < page:
                return
            after = hits[-1]["sort"]
