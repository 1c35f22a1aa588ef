"""Errors of the index layer. Messages name the Elasticsearch URL or the article concerned."""

from __future__ import annotations

from ingest.errors import VigieError


class IndexUnavailable(VigieError):
    """Elasticsearch cannot be reached or is overloaded: transient, retry later."""

    kind = "index-unavailable"
    transient = True


class IndexRejected(VigieError):
    """Elasticsearch refused a document or a request for a reason retrying will not fix."""

    kind = "index-rejected"


class QuerySyntaxError(VigieError):
    """A search or alert query does not parse; the message says where."""

    kind = "query-syntax"

    def __init__(self, query: str, position: int, reason: str) -> None:
        pointer = f"{query}\n{' ' * position}^"
        super().__init__(f"cannot parse query at character {position + 1}: {reason}\n{pointer}")
        self.query = query
        self.position = position
        self.reason = reason
