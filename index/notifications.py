"""Notifications: one document per (alert, article) in ``<prefix>-notifications``, and its delivery state.

The id is derived from the pair (``notification_id``) and the document is written with
``op_type=create``: whatever the retries, re-deliveries and re-indexings, an article matches an alert
once; the second write answers 409 and the caller knows the notification already exists.

The records (``Notification``, ``Matched``, the states, the ids) are in ``ingest.notification_records``;
the webhook body, its signature and its POST in ``ingest.webhook``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from elasticsearch import Elasticsearch

from index.client import TRANSIENT_STATUSES, call
from index.errors import IndexRejected, IndexUnavailable
from index.mappings import notifications_index, notifications_index_body
from index.stores import IndexStore, delete_matching
from ingest.models import iso_time
from ingest.notification_records import DELIVERED, DIGEST_MODES, FAILED, PENDING, Notification


@dataclass(frozen=True)
class CreateOutcome:
    created: tuple[Notification, ...] = ()
    existing: tuple[str, ...] = ()  # ids that were already there (an article seen again)


#: Oldest first; the id breaks ties, so paging never skips or repeats one.
_OLDEST_FIRST = [{"created_at": "asc"}, {"notification_id": "asc"}]


class NotificationStore(IndexStore):
    def __init__(self, es: Elasticsearch, prefix: str) -> None:
        super().__init__(es, notifications_index(prefix), notifications_index_body, "notifications")

    def create(self, notifications: Sequence[Notification]) -> CreateOutcome:
        """Write each notification unless it exists (``op_type=create``). IndexUnavailable when any of
        them could not be written for a transient reason: creating again is harmless."""
        if not notifications:
            return CreateOutcome()
        self.ensure_ready()
        operations: list[dict[str, Any]] = []
        for item in notifications:
            operations.append({"create": {"_index": self.index, "_id": item.notification_id}})
            operations.append(item.to_dict())
        response = call(self.es, f"writing {len(notifications)} notifications",
                        lambda: self.es.bulk(operations=operations))
        by_id = {item.notification_id: item for item in notifications}
        created: list[Notification] = []
        existing: list[str] = []
        for entry in response["items"]:
            result = entry["create"]
            status = result.get("status", 500)
            if status in (200, 201):
                created.append(by_id[result["_id"]])
            elif status == 409:
                existing.append(result["_id"])
            elif status in TRANSIENT_STATUSES:
                raise IndexUnavailable(f"Elasticsearch was busy writing notification {result['_id']} ({status})")
            else:
                error = result.get("error", {})
                raise IndexRejected(f"Elasticsearch refused notification {result['_id']} ({status}): "
                                    f"{error.get('type')}: {error.get('reason')}")
        return CreateOutcome(created=tuple(created), existing=tuple(existing))

    def get(self, notification: str) -> Notification | None:
        """One notification (real time: no refresh needed), or None."""
        self.ensure_ready()
        found = call(self.es, f"reading notification {notification}",
                     lambda: self.es.options(ignore_status=404).get(index=self.index, id=notification))
        return Notification.from_dict(found["_source"]) if found.body.get("found") else None

    def get_many(self, ids: Sequence[str]) -> list[Notification]:
        if not ids:
            return []
        self.ensure_ready()
        found = call(self.es, f"reading {len(ids)} notifications",
                     lambda: self.es.mget(index=self.index, ids=list(ids)))
        return [Notification.from_dict(doc["_source"]) for doc in found["docs"] if doc.get("found")]

    # -- delivery state ------------------------------------------------------------------------------

    def mark_delivered(self, notification: str, attempts: int, digest: str | None = None,
                       at: datetime | None = None) -> None:
        self._update(notification, {"state": DELIVERED, "attempts": attempts, "last_error": None,
                                    "delivered_at": iso_time(at or _now()), "digest_id": digest})

    def delete_older_than(self, cutoff: datetime) -> int:
        """Remove the notifications made before ``cutoff`` whose delivery is over (pending ones stay,
        whatever their age); how many were removed."""
        self.ensure_ready()
        query = {"bool": {"filter": [{"range": {"created_at": {"lt": iso_time(cutoff)}}}],
                          "must_not": [{"term": {"state": PENDING}}]}}
        return delete_matching(self.es, self.index, query, "deleting old notifications")

    def record_failure(self, notification: str, attempts: int, error: str, due_at: datetime) -> None:
        """An attempt failed and another one is due at ``due_at``."""
        self._update(notification, {"attempts": attempts, "last_error": error, "due_at": iso_time(due_at)})

    def mark_failed(self, notification: str, attempts: int, error: str) -> None:
        """Attempts spent or a permanent refusal: the notification is dead-lettered."""
        self._update(notification, {"state": FAILED, "attempts": attempts, "last_error": error})

    def reset(self, notification: str) -> bool:
        """A failed notification made pending again, its attempts from zero (a dead letter replayed).
        False when it is not failed (delivered meanwhile, or unknown)."""
        current = self.get(notification)
        if current is None or current.state != FAILED:
            return False
        self._update(notification, {"state": PENDING, "attempts": 0, "due_at": iso_time(_now())})
        return True

    def mark_many_delivered(self, ids: Iterable[str], digest: str, attempts: int) -> None:
        """The notifications a digest listed, once its receiver acknowledged it."""
        fields = {"state": DELIVERED, "attempts": attempts, "last_error": None, "delivered_at": iso_time(_now()),
                  "digest_id": digest}
        operations: list[dict[str, Any]] = []
        for item in ids:
            operations.append({"update": {"_index": self.index, "_id": item}})
            operations.append({"doc": fields})
        if operations:
            response = call(self.es, "marking a digest's notifications delivered",
                            lambda: self.es.bulk(operations=operations, refresh="wait_for"))
            if response.get("errors"):
                raise IndexUnavailable("Elasticsearch did not mark every notification of a digest delivered")

    def _update(self, notification: str, fields: dict[str, Any]) -> None:
        call(self.es, f"updating notification {notification}",
             lambda: self.es.update(index=self.index, id=notification, doc=fields))

    # -- listing -------------------------------------------------------------------------------------

    def recent(self, alert_id: str | None = None, limit: int = 20, since: datetime | None = None,
               state: str | None = None) -> list[Notification]:
        """The newest notifications first (of one alert, since a moment, in a state)."""
        hits = self.search(self._query(alert_id, since, state), limit,
                           [{"created_at": "desc"}, {"notification_id": "desc"}])
        return [Notification.from_dict(hit["_source"]) for hit in hits]

    def newer(self, after: tuple[str, str] | None, alert_id: str | None = None, since: datetime | None = None,
              limit: int = 100) -> tuple[list[Notification], tuple[str, str] | None]:
        """Notifications after the cursor ``after`` (created_at, id), oldest first, and the new cursor:
        what `vigie alerts fired --follow` polls."""
        extra: dict[str, Any] = {"search_after": list(after)} if after else {}
        hits = self.search(self._query(alert_id, since, None), limit, _OLDEST_FIRST, **extra)
        found = [Notification.from_dict(hit["_source"]) for hit in hits]
        cursor = tuple(hits[-1]["sort"]) if hits else after
        return found, cursor  # type: ignore[return-value]

    def pending_digests(self, until: datetime) -> list[Notification]:
        """Pending notifications of digest alerts created before ``until``."""
        self.refresh()
        query = {"bool": {"filter": [
            {"term": {"state": PENDING}}, {"terms": {"mode": list(DIGEST_MODES)}},
            {"range": {"created_at": {"lt": iso_time(until)}}},
        ]}}
        return [Notification.from_dict(hit["_source"]) for hit in self.scan(query, _OLDEST_FIRST)]

    def stale_pending(self, before: datetime) -> list[Notification]:
        """Pending immediate notifications due before ``before``: their delivery task was lost."""
        query = {"bool": {"filter": [
            {"term": {"state": PENDING}}, {"term": {"mode": "immediate"}},
            {"range": {"due_at": {"lt": iso_time(before)}}},
        ]}}
        return [Notification.from_dict(hit["_source"]) for hit in self.scan(query, _OLDEST_FIRST)]

    def match_counts(self, alert_ids: Sequence[str]) -> dict[str, tuple[int, datetime | None]]:
        """alert id -> (notifications made, when the last one was made): how often each alert fired.
        An alert without any is absent."""
        if not alert_ids:
            return {}
        self.ensure_ready()
        aggs = {"alerts": {"terms": {"field": "alert_id", "size": len(alert_ids)},
                           "aggs": {"last": {"max": {"field": "created_at"}}}}}
        response = call(self.es, "counting the matches of alerts", lambda: self.es.search(
            index=self.index, size=0, query={"terms": {"alert_id": list(alert_ids)}}, aggs=aggs))
        counts: dict[str, tuple[int, datetime | None]] = {}
        for bucket in response["aggregations"]["alerts"]["buckets"]:
            last = bucket["last"].get("value_as_string")
            counts[bucket["key"]] = (int(bucket["doc_count"]), datetime.fromisoformat(last.replace("Z", "+00:00"))
                                     if last else None)
        return counts

    def refresh(self) -> None:
        self.ensure_ready()
        call(self.es, f"refreshing {self.index}", lambda: self.es.indices.refresh(index=self.index))

    def _query(self, alert_id: str | None, since: datetime | None, state: str | None) -> dict[str, Any]:
        clauses: list[dict[str, Any]] = []
        if alert_id:
            clauses.append({"term": {"alert_id": alert_id}})
        if since:
            clauses.append({"range": {"created_at": {"gte": iso_time(since)}}})
        if state:
            clauses.append({"term": {"state": state}})
        return {"bool": {"filter": clauses}}


def _now() -> datetime:
    return datetime.now(timezone.utc)
