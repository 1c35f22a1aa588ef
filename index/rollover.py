"""Rollover without ILM: the articles alias over dated backing indices, rolled and expired by Vigie.

The local distribution has no ILM module, but its ``_rollover`` API works on a write alias. The alias
``<prefix>-articles`` points at every backing index (``<prefix>-articles-v<N>``, then
``...-v<N>-000002``, ``-000003``...): searches, stats, alerts, backtests, stories and entity pages
read through it and so across all of them; exactly one of them is its write index, where new
articles go.

An article written again (a redelivery, a changed article with the same id) must replace its one
document, wherever it lives: ``locate`` finds the backing index that holds each id with a real-time
multi-get (it reads the translog, so a document written a millisecond ago and not yet refreshed is
found), and the writer sends it there instead of to the write index.

Rollover is checked by the scheduler's tick (worker.retention) and by `vigie index rollover`: the
conditions (VIGIE_ROLLOVER_MAX_DOCS, _MAX_AGE, _MAX_SIZE) are evaluated by Elasticsearch in the same
request, so two checkers at once roll the index once. Retention (VIGIE_RETENTION_DAYS) deletes the
backing indices that stopped receiving new articles (were rolled over) more than N days ago; the
write index is never deleted.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from elasticsearch import Elasticsearch

from index.client import call, wait_primaries_active
from index.errors import IndexRejected
from index.mappings import articles_alias

_BACKING = re.compile(r"^(?P<base>.+-v\d+)(?:-(?P<generation>\d{6}))?$")


@dataclass(frozen=True)
class RolloverPolicy:
    """When the write index is rolled over; no condition set: never (unless forced)."""

    max_docs: int | None = None
    max_age: str | None = None  # Elasticsearch time units: 30d, 12h
    max_size: str | None = None  # primary store size: 50gb

    def conditions(self) -> dict[str, Any]:
        conditions: dict[str, Any] = {}
        if self.max_docs:
            conditions["max_docs"] = self.max_docs
        if self.max_age:
            conditions["max_age"] = self.max_age
        if self.max_size:
            conditions["max_size"] = self.max_size
        return conditions

    @property
    def active(self) -> bool:
        return bool(self.conditions())


@dataclass(frozen=True)
class BackingIndex:
    """One index behind the articles alias, as `vigie index status` shows it."""

    name: str
    documents: int
    size_bytes: int
    created: datetime
    is_write_index: bool
    #: when it stopped receiving new articles (the next one's creation); None for the write index
    rolled_at: datetime | None

    def to_dict(self, now: datetime) -> dict[str, Any]:
        return {"index": self.name, "documents": self.documents, "size_bytes": self.size_bytes,
                "created": self.created.isoformat(), "age_days": round((now - self.created).total_seconds() / 86400, 3),
                "write_index": self.is_write_index,
                "rolled_at": self.rolled_at.isoformat() if self.rolled_at else None}


@dataclass(frozen=True)
class RolloverResult:
    rolled_over: bool
    old_index: str
    new_index: str | None
    #: each condition and whether it was met (empty when forced)
    conditions: dict[str, bool]

    def to_dict(self) -> dict[str, Any]:
        return {"rolled_over": self.rolled_over, "old_index": self.old_index, "new_index": self.new_index,
                "conditions": self.conditions}


def alias_members(es: Elasticsearch, prefix: str) -> tuple[list[str], str | None]:
    """The indices behind the articles alias and its write index (None when the alias is missing).
    A lone index whose alias does not say ``is_write_index`` is its write index (an installation
    made before rollover; ``ensure_write_index`` marks it)."""
    alias = articles_alias(prefix)
    response = call(es, "reading the articles alias", lambda: es.options(ignore_status=404).indices.get_alias(name=alias))
    if response.meta.status == 404:
        return [], None
    members = dict(response.body)
    write = next((name for name, body in members.items()
                  if body.get("aliases", {}).get(alias, {}).get("is_write_index")), None)
    if write is None and len(members) == 1:
        write = next(iter(members))
    return sorted(members), write


def ensure_write_index(es: Elasticsearch, prefix: str) -> bool:
    """Migrate a single-index installation to the rollover layout: its alias must name its index as
    the write index before a second index joins it (else rollover would move the alias away and
    searches would lose every older article). True when something was changed. Idempotent."""
    alias = articles_alias(prefix)
    response = call(es, "reading the articles alias", lambda: es.options(ignore_status=404).indices.get_alias(name=alias))
    if response.meta.status == 404:
        return False
    members = dict(response.body)
    if len(members) != 1:
        return False
    name, body = next(iter(members.items()))
    if body.get("aliases", {}).get(alias, {}).get("is_write_index"):
        return False
    call(es, f"making {name} the write index of {alias}",
         lambda: es.indices.put_alias(index=name, name=alias, is_write_index=True))
    return True


def next_index_name(current: str) -> str:
    """``vigie-articles-v2`` → ``vigie-articles-v2-000002``; ``...-v2-000002`` → ``...-v2-000003``."""
    match = _BACKING.match(current)
    if not match:
        raise IndexRejected(f"cannot roll over {current}: its name does not end in -v<N> or -v<N>-<6 digits>")
    generation = int(match.group("generation") or 1)
    return f"{match.group('base')}-{generation + 1:06d}"


def rollover(es: Elasticsearch, prefix: str, policy: RolloverPolicy, *, force: bool = False) -> RolloverResult | None:
    """Roll the articles write index over when a condition of ``policy`` is met (or ``force``).
    None when there is nothing to check (no alias yet, or no condition and not forced)."""
    members, write = alias_members(es, prefix)
    if write is None or (not force and not policy.active):
        return None
    ensure_write_index(es, prefix)
    alias = articles_alias(prefix)
    new_index = next_index_name(write)
    conditions = {} if force else policy.conditions()
    response = call(es, f"rolling {alias} over from {write}", lambda: es.options(ignore_status=400).indices.rollover(
        alias=alias, new_index=new_index, **({"conditions": conditions} if conditions else {})))
    error = response.body.get("error") if isinstance(response.body, dict) else None
    if error:
        if error.get("type") == "resource_already_exists_exception":  # another checker rolled it
            return RolloverResult(False, write, None, {})
        raise IndexRejected(f"Elasticsearch refused rolling {alias} over from {write}: {error.get('reason')}")
    rolled = bool(response.body.get("rolled_over"))
    if rolled:
        # Searches and the dedup lookup read the old index by search: make what it holds visible now.
        call(es, f"refreshing {write}", lambda: es.indices.refresh(index=write))
        wait_primaries_active(es, new_index)
    return RolloverResult(rolled, write, new_index if rolled else None,
                          {key: bool(value) for key, value in (response.body.get("conditions") or {}).items()})


def backing_indices(es: Elasticsearch, prefix: str) -> list[BackingIndex]:
    """Every index behind the articles alias, oldest first, with its documents, size and age."""
    members, write = alias_members(es, prefix)
    if not members:
        return []
    names = ",".join(members)
    stats = call(es, "reading the articles indices' statistics",
                 lambda: es.indices.stats(index=names, metric="store"))["indices"]
    settings = call(es, "reading the articles indices' settings",
                    lambda: es.indices.get_settings(index=names, name="index.creation_date"))
    created = {name: datetime.fromtimestamp(int(body["settings"]["index"]["creation_date"]) / 1000, timezone.utc)
               for name, body in settings.body.items()}
    ordered = sorted(members, key=lambda name: created[name])
    found: list[BackingIndex] = []
    for position, name in enumerate(ordered):
        primaries = stats.get(name, {}).get("primaries", {})
        following = ordered[position + 1] if position + 1 < len(ordered) else None
        found.append(BackingIndex(
            name=name,
            # _count, not the statistics' docs.count: that one counts the nested topic documents too.
            documents=int(call(es, f"counting {name}", lambda: es.count(index=name))["count"]),
            size_bytes=int(primaries.get("store", {}).get("size_in_bytes", 0)),
            created=created[name],
            is_write_index=name == write,
            rolled_at=created[following] if following and name != write else None,
        ))
    return found


def delete_expired(es: Elasticsearch, prefix: str, days: float, now: datetime) -> list[str]:
    """Delete the backing indices rolled over before ``now - days``; their names. Never the write index."""
    cutoff = now - timedelta(days=days)
    expired = [index.name for index in backing_indices(es, prefix)
               if not index.is_write_index and index.rolled_at is not None and index.rolled_at < cutoff]
    for name in expired:
        call(es, f"deleting the expired articles index {name}", lambda: es.indices.delete(index=name))
    return expired


def locate(es: Elasticsearch, prefix: str, ids: Sequence[str]) -> dict[str, str]:
    """The backing index holding each of ``ids`` that exists, when the alias has several (else {}:
    writes and reads through the alias reach the one index). A real-time multi-get, so a document
    written but not yet refreshed is found too."""
    members, _ = alias_members(es, prefix)
    if len(members) <= 1 or not ids:
        return {}
    return _holders(es, {article_id: members for article_id in ids})


#: Seconds the write path (index.store) trusts the alias's members and write index as it last read
#: them, instead of reading the alias for every batch. Correctness does not rest on it: an article sent
#: through the alias that lands elsewhere than the cached write index shows a rollover by another
#: process, and is then put back where it already lived (``index.store.ArticleStore._put_back``).
LAYOUT_SECONDS = 10.0


@dataclass(frozen=True)
class AliasLayout:
    """The indices behind the articles alias and its write index, as read at one moment."""

    members: tuple[str, ...]
    write: str | None


class CachedLayout:
    """The articles alias's layout as last read, trusted for ``seconds``: the write path's ``locate``
    without an alias lookup per batch."""

    def __init__(self, es: Elasticsearch, prefix: str, seconds: float = LAYOUT_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.es, self.prefix, self.seconds, self.clock = es, prefix, seconds, clock
        self._layout: AliasLayout | None = None
        self._read_at = 0.0

    def current(self) -> AliasLayout:
        if self._layout is None or self.clock() - self._read_at > self.seconds:
            members, write = alias_members(self.es, self.prefix)
            self._layout, self._read_at = AliasLayout(tuple(members), write), self.clock()
        return self._layout

    def forget(self) -> None:
        self._layout = None

    def locate(self, ids: Sequence[str]) -> tuple[AliasLayout, dict[str, str]]:
        """The layout, and the index holding each of ``ids`` that lives in a backing index other than
        the write index (those must be written there; the others go through the alias)."""
        layout = self.current()
        older = [name for name in layout.members if name != layout.write]
        if not older or not ids:
            return layout, {}
        return layout, _holders(self.es, {article_id: older for article_id in ids})


def _holders(es: Elasticsearch, where: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """The index holding each article id among the indices given for it: one real-time multi-get,
    so a document written but not yet refreshed is found too."""
    docs = [{"_index": name, "_id": article_id} for article_id, indices in where.items() for name in indices]
    if not docs:
        return {}
    first = next(iter(where))
    response = call(es, f"locating {len(where)} articles among the backing indices (first {first})",
                    lambda: es.mget(docs=docs, source=False))
    return {doc["_id"]: doc["_index"] for doc in response["docs"] if doc.get("found")}


def earlier_copies(es: Elasticsearch, prefix: str, landed: Mapping[str, str]) -> dict[str, str]:
    """For articles just written through the alias (article id -> the index they landed in): the
    other backing index already holding each, if any (what a stale layout missed)."""
    members, _ = alias_members(es, prefix)
    return _holders(es, {article_id: [name for name in members if name != index]
                         for article_id, index in landed.items()})
