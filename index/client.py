"""The Elasticsearch client and the translation of its failures into Vigie's errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TransportError
from elasticsearch import ApiError, Elasticsearch

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
    )


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
        _wait_started(es, index)  # another process may have created it a moment ago
        return False
    created = call(es, f"creating {index}", lambda: es.options(ignore_status=400).indices.create(index=index, **body))
    error = created.body.get("error") if isinstance(created.body, dict) else None
    if error and error.get("type") != "resource_already_exists_exception":
        raise IndexRejected(f"Elasticsearch refused creating {index}: {error.get('reason')}")
    call(es, f"waiting for {index}", lambda: es.cluster.health(index=index, wait_for_status="yellow", timeout="30s"))
    if error:
        _wait_started(es, index)
    return not error


def _wait_started(es: Elasticsearch, index: str) -> None:
    """Wait (5 s at most) until no shard of ``index`` is initializing. A new index is already "yellow"
    while its primary initializes, and a search then gets a 503 (NoShardAvailableActionException); on
    a cluster recovering a node, the wait ends after 5 s and the caller goes on."""
    call(es, f"waiting for {index}", lambda: es.options(ignore_status=408).cluster.health(
        index=index, wait_for_no_initializing_shards=True, timeout="5s"))


def _url(es: Elasticsearch) -> str:
    try:
        node = es.transport.node_pool.all()[0]
        return node.base_url
    except (AttributeError, IndexError):
        return "Elasticsearch"
