"""Errors of the ingest stages. Each message names the feed URL or article id it concerns."""

from __future__ import annotations

from conf.logs import redacted_text


class VigieError(Exception):
    """Base of every error Vigie reports to a person (the CLI prints it without a traceback)."""

    #: short kebab-case kind, stable for scripts and the feed registry ("timeout", "not-a-feed", ...)
    kind: str = "error"
    #: whether trying again later may succeed (network, 5xx, a service down)
    transient: bool = False

    def __init__(self, message: str, *, kind: str | None = None, transient: bool | None = None) -> None:
        # Messages are shown and logged: a URL in them loses its password and secret parameters.
        super().__init__(redacted_text(message))
        if kind is not None:
            self.kind = kind
        if transient is not None:
            self.transient = transient

    @property
    def message(self) -> str:
        return str(self)

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "message": str(self)}


class FeedError(VigieError):
    """A feed could not be fetched or parsed; the message names the feed URL."""

    def __init__(self, feed_url: str, message: str, *, kind: str, transient: bool = False) -> None:
        super().__init__(message, kind=kind, transient=transient)
        self.feed_url = feed_url
        self.feed_link: str | None = None  # not-a-feed: the feed the HTML page links to, if any


class FetchError(VigieError):
    """A URL (feed or article page) could not be fetched; the message names the URL."""

    def __init__(self, url: str, message: str, *, kind: str, transient: bool = False,
                 status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, kind=kind, transient=transient)
        self.url = url
        self.status = status
        self.retry_after = retry_after


class ExtractionError(VigieError):
    """An article's text could not be extracted or analysed; the message names the article."""

    kind = "extraction-failed"
