"""Moving the articles to a new mapping version without downtime (the reindex module is not in the
local distribution, so: scroll and bulk).

1. create ``<prefix>-articles-v<N>`` from the current template;
2. copy every document of the old index (scroll, bulk) while workers keep writing to the old one;
3. swap the alias in one atomic request: from now on writers and readers use the new index;
4. catch up: documents the old index received during the copy are copied again, unless the new index
   already holds a newer write (optimistic concurrency on ``seq_no``/``primary_term``);
5. the old index is kept (closed by nobody) until a person deletes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from elasticsearch import Elasticsearch

from index.client import call
from index.rollover import alias_members
from index.mappings import ARTICLES_VERSION, articles_alias, articles_index, articles_template, articles_template_name

Progress = Callable[[str, int, int], None]

CATCH_UP_MARGIN_SECONDS = 60


@dataclass(frozen=True)
class MigrationReport:
    source: str
    target: str
    copied: int
    caught_up: int
    skipped_newer: int
    documents: int  # in the target at the end

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def current_index(es: Elasticsearch, prefix: str) -> str:
    """The alias's write index (with rollover, the newest of its backing indices)."""
    members, write = alias_members(es, prefix)
    if write is None:
        aliases = call(es, "reading the articles alias", lambda: es.indices.get_alias(name=articles_alias(prefix)))
        return next(iter(aliases.body))
    return write


def _scroll(es: Elasticsearch, index: str, query: dict[str, Any], size: int = 500) -> Iterator[dict[str, Any]]:
    page = call(es, f"reading {index}", lambda: es.search(index=index, query=query, size=size, scroll="2m",
                                                           sort=["_doc"]))
    scroll_id = page.get("_scroll_id")
    try:
        while page["hits"]["hits"]:
            yield from page["hits"]["hits"]
            page = call(es, f"reading {index}", lambda: es.scroll(scroll_id=scroll_id, scroll="2m"))
            scroll_id = page.get("_scroll_id")
    finally:
        if scroll_id:
            es.options(ignore_status=404).clear_scroll(scroll_id=scroll_id)


def _copy(es: Elasticsearch, source: str, target: str, query: dict[str, Any], progress: Progress | None,
          total: int, phase: str) -> int:
    copied = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal copied
        if batch:
            response = call(es, f"writing into {target}", lambda: es.bulk(operations=batch))
            failed = [item["index"] for item in response["items"] if item["index"].get("status", 500) >= 300]
            if failed:
                raise RuntimeError(f"copy into {target} refused {len(failed)} documents, e.g. {failed[0]}")
            copied += len(batch) // 2
            batch.clear()
            if progress:
                progress(phase, copied, total)

    for hit in _scroll(es, source, query):
        batch.append({"index": {"_index": target, "_id": hit["_id"]}})
        batch.append(hit["_source"])
        if len(batch) >= 1000:
            flush()
    flush()
    return copied


def _catch_up(es: Elasticsearch, source: str, target: str, since: str) -> tuple[int, int]:
    """Copy what the old index received since ``since`` unless the new one holds a newer write."""
    copied = skipped = 0
    for hit in _scroll(es, source, {"range": {"indexed_at": {"gte": since}}}):
        current = es.options(ignore_status=404).get(index=target, id=hit["_id"])
        if current.body.get("found"):
            if (current["_source"].get("indexed_at") or "") >= (hit["_source"].get("indexed_at") or ""):
                skipped += 1
                continue
            response = es.options(ignore_status=409).index(
                index=target, id=hit["_id"], document=hit["_source"],
                if_seq_no=current["_seq_no"], if_primary_term=current["_primary_term"],
            )
        else:
            response = es.options(ignore_status=409).create(index=target, id=hit["_id"], document=hit["_source"])
        if response.meta.status == 409:  # a worker wrote it meanwhile: theirs is newer
            skipped += 1
        else:
            copied += 1
    return copied, skipped


def migrate(es: Elasticsearch, prefix: str, version: int = ARTICLES_VERSION,
            progress: Progress | None = None) -> MigrationReport | None:
    """Move the articles alias to ``version``; None when it already points there."""
    alias = articles_alias(prefix)
    current = current_index(es, prefix)
    target = articles_index(prefix, version)
    if current == target or current.startswith(f"{target}-"):  # rolled-over generations of this version
        return None
    # Every backing index behind the alias (rollover) moves into the one new index.
    sources = alias_members(es, prefix)[0] or [current]
    source = ",".join(sources)
    call(es, "installing the articles template",
         lambda: es.indices.put_index_template(name=articles_template_name(prefix), **articles_template(prefix, version)))
    if not call(es, f"looking up {target}", lambda: es.indices.exists(index=target)):
        call(es, f"creating {target}", lambda: es.indices.create(index=target))
    # Writers stamp indexed_at before their bulk request reaches the node, and a scroll sees only
    # refreshed documents: refresh first, and catch up from a minute before, to miss nothing.
    started = (datetime.now(timezone.utc) - timedelta(seconds=CATCH_UP_MARGIN_SECONDS)).isoformat()
    call(es, f"refreshing {source}", lambda: es.indices.refresh(index=source))
    total = int(call(es, f"counting {source}", lambda: es.count(index=source))["count"])
    copied = _copy(es, source, target, {"match_all": {}}, progress, total, "copy")
    call(es, f"pointing {alias} at {target}", lambda: es.indices.update_aliases(actions=[
        *({"remove": {"index": name, "alias": alias}} for name in sources),
        {"add": {"index": target, "alias": alias, "is_write_index": True}},
    ]))
    call(es, f"refreshing {source}", lambda: es.indices.refresh(index=source))
    caught_up, skipped = _catch_up(es, source, target, started)
    call(es, f"refreshing {target}", lambda: es.indices.refresh(index=target))
    documents = int(call(es, f"counting {target}", lambda: es.count(index=target))["count"])
    return MigrationReport(source=source, target=target, copied=copied, caught_up=caught_up,
                           skipped_newer=skipped, documents=documents)
