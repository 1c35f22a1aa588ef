"""The Elasticsearch client and the translation of its failures into Vigie's errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TransportError
from elasticsearch import ApiError, Elasticsearch
from elasticsearch.serializer import JsonSerializer, NdjsonSerializer

from index.errors import IndexRejected, IndexUnavailable

T = TypeVar("T")

#: HTTP statuses after which trying again later may work.
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def connect(url: str, *, timeout: float = 30.0) -> Elasticsearch:
    """A client for ``url``: one node, or every node of a cluster, comma-separated (VIGIE_ES_URL).
    Retries inside the client stay short (Vigie's own retries wait longer), but a request that meets
    a dead node is tried once on each other node before it fails."""
    urls = [part.strip() for part in url.split(",") if part.strip()]
    return Elasticsearch(
        urls,
        request_timeout=timeout,
        max_retries=max(1, len(urls) - 1),
        retry_on_timeout=False,
        http_compress=False,
        serializers=SERIALIZERS,
    )


class _Orjson:
    """JSON to and from Elasticsearch with orjson: a story's centroid of hundreds of keys, read and
    written on every batch, parses about 3 × and serialises about 15 × faster than with the standard
    library. Whatever orjson refuses (a lone surrogate, an integer beyond 64 bits) goes through the
    standard library as before, so nothing is read or written differently."""

    _OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY

    def json_dumps(self, data: Any) -> bytes:
        try:
            return orjson.dumps(data, default=self.default, option=self._OPTIONS)  # type: ignore[attr-defined]
        except (orjson.JSONEncodeError, TypeError):
            return super().json_dumps(data)  # type: ignore[misc]

    def json_loads(self, data: bytes) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return super().json_loads(data)  # type: ignore[misc]


class OrjsonSerializer(_Orjson, JsonSerializer):
    pass


class OrjsonNdjsonSerializer(_Orjson, NdjsonSerializer):
    pass


#: The client's serializers by media type (the client applies them to the compatibility types too).
SERIALIZERS = {JsonSerializer.mimetype: OrjsonSerializer(), NdjsonSerializer.mimetype: OrjsonNdjsonSerializer()}


@contextmanager
def translated_errors(url: str, action: str) -> Iterator[None]:
    """Turn client exceptions into IndexUnavailable (transient) or IndexRejected (permanent)."""
    try:
        yield
    except (TransportConnectionError, ConnectionTimeout) as error:
        raise IndexUnavailable(f"Elasticsearch at {url} is unreachable while {action}: {error}") from error
    except ApiError as error:
        status = getattr(error, "status_code", None) or getattr(getattr(error, "meta", None), "status", None)
        if status in TRANSIENT_STATUSES:
            raise IndexUnavailable(
                f"Elasticsearch at {url} answered {status} while {action}: {error.message}"
            ) from error
        raise IndexRejected(f"Elasticsearch at {url} refused {action} ({status}): {error}") from error
    except TransportError as error:
        raise IndexUnavailable(f"Elasticsearch at {url} failed while {action}: {error}") from error


def refusals(results: Iterable[Mapping[str, Any]], done: Container[int] = range(200, 300),
             ) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """The bulk operation results (each item's inner object) not ``done``: those refused for now (a
    status in TRANSIENT_STATUSES: try again later) and those refused for good."""
    now, for_good = [], []
    for result in results:
        status = result.get("status", 500)
        if status not in done:
            (now if status in TRANSIENT_STATUSES else for_good).append(result)
    return now, for_good


def call(es: Elasticsearch, action: str, function: Callable[[], T]) -> T:
    """Run ``function`` with errors translated; ``action`` says what it was doing, for the message."""
    url = _url(es)
    with translated_errors(url, action):
        return function()


def create_index(es: Elasticsearch, index: str, **body: Any) -> bool:
    """Create ``index`` unless it exists. Several processes may bootstrap at the same moment, so
    "already exists" is success. True when this call created it. The index is ready when this returns
    (its primary shard started), whoever created it: a read right after does not meet a 503
    ``no_shard_available_action_exception`` or ``search_phase_execution_exception`` on a busy node."""
    if call(es, f"looking up {index}", lambda: es.indices.exists(index=index)):
        wait_primaries_active(es, index)  # another process may have created it a moment ago
        return False
    created = call(es, f"creating {index}", lambda: es.options(ignore_status=400).indices.create(index=index, **body))
    error = created.body.get("error") if isinstance(created.body, dict) else None
    if error and error.get("type") != "resource_already_exists_exception":
        raise IndexRejected(f"Elasticsearch refused creating {index}: {error.get('reason')}")
    wait_primaries_active(es, index)
    return not error


#: How long create_index (and a rollover) waits for the primaries of a new index (then goes on: the
#: next read says what is wrong).
PRIMARY_WAIT = 30.0


def wait_primaries_active(es: Elasticsearch, index: str, timeout: float = PRIMARY_WAIT) -> None:
    """Wait until every primary shard of ``index`` is active. Neither "yellow" nor "no initializing
    shard" says so: a new index is "yellow" while its primary is unassigned (the allocator places it
    a moment after the creation is published) and while it initializes, and a search then gets a 503
    (NoShardAvailableActionException). On a cluster that cannot place it, the wait ends after
    ``timeout`` and the caller goes on."""
    deadline = time.monotonic() + timeout
    while True:
        health = call(es, f"waiting for {index}", lambda: es.options(ignore_status=408).cluster.health(
            index=index, level="indices", timeout="1s"))
        state = health.body.get("indices", {}).get(index) if isinstance(health.body, dict) else None
        if state is None or state.get("active_primary_shards", 0) >= state.get("number_of_shards", 1):
            return  # gone again (deleted meanwhile), or every primary active
        if time.monotonic() >= deadline:
            return
        time.sleep(0.05)


def _url(es: Elasticsearch) -> str:
    try:
        node = es.transport.node_pool.all()[0]
        return node.base_url
    except (AttributeError, IndexError):
        return "Elasticsearch"
