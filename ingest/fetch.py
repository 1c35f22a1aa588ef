"""HTTP fetching of feeds and article pages (with ingest.transport and ingest.webhook, the only
network code in ingest/).

Everything a hostile or broken server can do is bounded here, so the parsers above only ever see a
limited number of bytes that arrived in a limited time:

- only ``http`` and ``https``, checked again on every redirect hop (a ``Location: file:///…`` is refused);
- never a link-local address (169.254.169.254 is where cloud metadata services answer), and no
  loopback or private address when ``private_addresses`` is off; checked on the resolved addresses
  of every connection, redirects included;
- host names resolved within the connect timeout (``ingest.transport.resolve``); connect and read timeouts per
  operation, and a *total* deadline that every socket operation of the
  fetch consults (see ``ingest.transport.DeadlineBackend``), so a server dripping one byte every few seconds, in the
  headers or in the body, is cut off at ``total_timeout``;
- a body limit on the bytes received *and* on the bytes after decompression; gzip and deflate are
  inflated with bounded ``decompressobj`` calls (``ingest.decompress``), so a gzip bomb never grows past the limit in memory;
- bounded redirects followed by hand, conditional GET (ETag, Last-Modified), ``Retry-After`` parsed;
- at most ``per_host_concurrency`` fetches at a time to one host, whatever the number of threads.

Built on httpcore (httpx's transport layer) for its public network-backend hook, with httpx's URL
parser for IDNA hosts and percent-encoding. One ``Fetcher`` is shared by all the poller's threads.
"""

from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass, replace

import httpcore
import httpx

from conf.limits import FetchLimits
from ingest.decompress import Inflater, TooLarge, content_encodings
from ingest.errors import FetchError
from ingest.transport import (
    ALLOWED_SCHEMES,
    AddressPolicy,
    Deadline,
    DeadlineBackend,
    checked_target,
    connect_failure,
    fetch_policy,
    parse_http_url,
    parse_retry_after,
    reason,
)

#: What a feed poll asks for: feed types first, anything else accepted (many feeds are served as text/html).
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
#: What an article page fetch asks for.
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"

_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_PERMANENT_REDIRECTS = {301, 308}
#: 4xx answers worth retrying later: request timeout, too early, too many requests.
_TRANSIENT_CLIENT_ERRORS = {408, 425, 429}
#: Content-Encoding layers inflated here; we only advertise these two.


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One successful answer (2xx, or 304 when ``not_modified``), after redirects."""

    url: str  # final URL, after redirects
    status: int
    body: bytes  # decompressed; empty when not_modified
    content_type: str | None  # media type, lower case, without parameters ("application/rss+xml")
    encoding: str | None  # charset parameter of Content-Type, as sent (may be wrong: ingest.feeds checks)
    etag: str | None
    last_modified: str | None
    not_modified: bool
    elapsed: float  # seconds, whole fetch including redirects
    wire_bytes: int = 0  # bytes received for the body, before decompression
    permanent_redirect: str | None = None  # the final URL when every redirect hop was 301/308


# --- small header helpers ---------------------------------------------------------------------------


def _media_type(content_type: str | None) -> tuple[str | None, str | None]:
    """``text/xml; charset="ISO-8859-1"`` -> ("text/xml", "ISO-8859-1")."""
    if not content_type:
        return None, None
    media, _, params = content_type.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'").strip() or None
    return (media.strip().lower() or None), charset


class _Headers:
    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._values: dict[str, str] = {}
        for name, value in raw:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1").strip()
            # Repeated headers are joined as HTTP allows; ETag and the like are never repeated in practice.
            self._values[key] = f"{self._values[key]}, {text}" if key in self._values else text

    def get(self, name: str) -> str | None:
        return self._values.get(name)


# --- the fetcher ------------------------------------------------------------------------------------


def validate_feed_url(url: str, policy: AddressPolicy | None = None) -> str:
    """``url`` normalised (IDNA host, percent-encoding) if Vigie can fetch it; ``FetchError`` if not.

    Kinds: ``invalid-url`` (no host, unparsable), ``unsupported-scheme`` (anything but http/https),
    ``blocked-address`` (with a ``policy``: the host is only addresses it refuses).
    """
    return str(checked_target(url.strip(), policy, context=""))


class Fetcher:
    """Fetches URLs within ``FetchLimits``; thread-safe, share one per process and ``close()`` it."""

    def __init__(self, limits: FetchLimits) -> None:
        self.limits = limits
        self._deadline = Deadline()
        # The pool itself is unbounded: the caller's threads and the per-host semaphores bound it.
        self._pool = httpcore.ConnectionPool(
            max_connections=None,
            keepalive_expiry=15.0,
            network_backend=DeadlineBackend(self._deadline, fetch_policy(limits)),
        )
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._hosts_lock = threading.Lock()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._pool.close()

    def fetch_page(self, url: str) -> FetchResult:
        """An article page (HTML accept header), within the same limits as a feed."""
        return self.fetch(url, accept=PAGE_ACCEPT)

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              accept: str = FEED_ACCEPT) -> FetchResult:
        """GET ``url`` following redirects; a 2xx or 304 is returned, anything else raises ``FetchError``."""
        started = time.monotonic()
        current = parse_http_url(url, context="")
        headers = [("User-Agent", self.limits.user_agent), ("Accept", accept),
                   ("Accept-Encoding", "gzip, deflate")]
        if etag:
            headers.append(("If-None-Match", etag))
        if last_modified:
            headers.append(("If-Modified-Since", last_modified))

        visited: list[str] = [str(current)]
        all_permanent = True
        held: threading.BoundedSemaphore | None = self._slot(current)
        held.acquire()  # waiting for a free slot is not the server's fault: the deadline starts after it
        try:
            with self._deadline.running(self.limits.total_timeout):
                while True:
                    outcome = self._request_once(url, current, headers, started)
                    if isinstance(outcome, FetchResult):
                        return _with_redirect_info(outcome, visited, all_permanent)
                    status, location = outcome
                    all_permanent = all_permanent and status in _PERMANENT_REDIRECTS
                    following = self._next_hop(url, current, location, visited)
                    visited.append(str(following))
                    if _host_key(following) != _host_key(current):
                        held.release()
                        held = None
                        slot = self._slot(following)
                        if not slot.acquire(timeout=max(0.0, self._deadline.remaining() or 0.0)):
                            raise self._timeout_error(url, following, started)
                        held = slot
                    current = following
        finally:
            if held is not None:
                held.release()

    # -- one hop --------------------------------------------------------------------------------------

    def _request_once(self, feed_url: str, url: httpx.URL, headers: list[tuple[str, str]],
                      started: float) -> FetchResult | tuple[int, str]:
        """One GET: a result, or (status, Location) for a redirect to follow."""
        limits = self.limits
        timeouts = {"connect": limits.connect_timeout, "read": limits.read_timeout,
                    "write": limits.read_timeout, "pool": limits.total_timeout}
        target = httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path)
        try:
            with self._pool.stream("GET", target, headers=headers, extensions={"timeout": timeouts}) as response:
                got = _Headers(response.headers)
                status = response.status
                if status in _REDIRECT_STATUSES and got.get("location"):
                    _drain(response)
                    return status, got.get("location") or ""
                if status == 304:
                    _drain(response)
                    return self._result(url, status, b"", got, not_modified=True, started=started, wire=0)
                if not 200 <= status < 300:
                    _drain(response)
                    raise self._status_error(feed_url, url, status, got)
                body, wire = self._read_body(feed_url, url, response, got)
                return self._result(url, status, body, got, not_modified=False, started=started, wire=wire)
        except httpcore.TimeoutException:
            raise self._timeout_error(feed_url, url, started) from None
        except httpcore.ConnectError as error:
            raise _connect_error(feed_url, url, error) from None
        except (httpcore.ReadError, httpcore.WriteError) as error:
            raise FetchError(feed_url, f"The connection to {url.host} broke while fetching {feed_url} "
                                       f"({reason(error)}).", kind="connection-lost", transient=True) from None
        except (httpcore.RemoteProtocolError, httpcore.LocalProtocolError) as error:
            raise FetchError(feed_url, f"{url.host} did not answer {feed_url} with valid HTTP "
                                       f"({reason(error)}).", kind="protocol-error", transient=True) from None
        except httpcore.UnsupportedProtocol as error:
            raise FetchError(feed_url, f"{url} cannot be fetched: {error}.", kind="unsupported-scheme") from None

    def _read_body(self, feed_url: str, url: httpx.URL, response: httpcore.Response,
                   got: _Headers) -> tuple[bytes, int]:
        limit = self.limits.max_body_bytes
        declared = got.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise _too_large(feed_url, url, limit, f"it announces {int(declared):,} bytes")
        layers = [Inflater(kind) for kind in reversed(content_encodings(got.get("content-encoding"), feed_url))]
        parts: list[bytes] = []
        wire = produced = 0
        try:
            for chunk in response.iter_stream():
                wire += len(chunk)
                if wire > limit:
                    raise _too_large(feed_url, url, limit, "it sent more")
                for layer in layers:
                    chunk = layer.feed(chunk, limit - produced if layer is layers[-1] else limit)
                produced += len(chunk)
                parts.append(chunk)
        except TooLarge:
            raise _too_large(feed_url, url, limit, "it inflates past that once decompressed") from None
        except zlib.error as error:
            raise FetchError(feed_url, f"{url} sent a body that is not valid {got.get('content-encoding')} "
                                       f"data ({error}).", kind="bad-compression") from None
        return b"".join(parts), wire

    def _result(self, url: httpx.URL, status: int, body: bytes, got: _Headers, *, not_modified: bool,
                started: float, wire: int) -> FetchResult:
        media, charset = _media_type(got.get("content-type"))
        return FetchResult(url=str(url), status=status, body=body, content_type=media, encoding=charset,
                           etag=got.get("etag"), last_modified=got.get("last-modified"),
                           not_modified=not_modified, elapsed=time.monotonic() - started, wire_bytes=wire)

    def _next_hop(self, feed_url: str, current: httpx.URL, location: str, visited: list[str]) -> httpx.URL:
        try:
            following = current.join(location.strip())
        except (httpx.InvalidURL, UnicodeError, ValueError):
            raise FetchError(feed_url, f"{feed_url} redirects to {location!r}, which is not a valid URL.",
                             kind="invalid-url") from None
        if following.scheme not in ALLOWED_SCHEMES:
            # Checked on every hop: an http feed must not be able to send us to file:// or ftp://.
            raise FetchError(feed_url, f"{feed_url} redirects to {location.strip()}, which is not an http or "
                                       "https URL; Vigie refuses to follow it.", kind="unsupported-scheme")
        following = parse_http_url(str(following), context=f" (a redirect from {feed_url})")
        if str(following) in visited:
            chain = " -> ".join([*visited[visited.index(str(following)):], str(following)])
            raise FetchError(feed_url, f"{feed_url} redirects in a loop: {chain}.", kind="too-many-redirects")
        if len(visited) > self.limits.max_redirects:
            raise FetchError(feed_url, f"{feed_url} redirected more than {self.limits.max_redirects} times "
                                       f"(last to {following}).", kind="too-many-redirects")
        return following

    # -- errors ---------------------------------------------------------------------------------------

    def _status_error(self, feed_url: str, url: httpx.URL, status: int, got: _Headers) -> FetchError:
        retry_after = parse_retry_after(got.get("retry-after"))
        where = feed_url if str(url) == feed_url else f"{feed_url} (at {url})"
        if status == 429:
            wait = f"; it asks to wait {retry_after:.0f} s" if retry_after is not None else ""
            return FetchError(feed_url, f"{where} answered HTTP 429 Too Many Requests{wait}.", kind="rate-limited",
                              transient=True, status=status, retry_after=retry_after)
        if status >= 500:
            return FetchError(feed_url, f"{where} answered HTTP {status}, a server error; Vigie will try again.",
                              kind="server-error", transient=True, status=status, retry_after=retry_after)
        if 400 <= status < 500:
            hint = {404: " Not Found", 410: " Gone", 401: " Unauthorized", 403: " Forbidden"}.get(status, "")
            return FetchError(feed_url, f"{where} answered HTTP {status}{hint}.", kind=f"http-{status}",
                              transient=status in _TRANSIENT_CLIENT_ERRORS, status=status, retry_after=retry_after)
        return FetchError(feed_url, f"{where} answered HTTP {status}, which is not a usable response.",
                          kind="http-error", status=status)

    def _timeout_error(self, feed_url: str, url: httpx.URL, started: float) -> FetchError:
        limits = self.limits
        if self._deadline.expired() or time.monotonic() - started >= limits.total_timeout:
            why = f"took more than {limits.total_timeout:g} s in total"
        else:
            why = (f"did not connect within {limits.connect_timeout:g} s or sent nothing "
                   f"for {limits.read_timeout:g} s")
        where = feed_url if str(url) == feed_url else f"{feed_url} (at {url.host})"
        return FetchError(feed_url, f"Fetching {where} {why}.", kind="timeout", transient=True)

    def _slot(self, url: httpx.URL) -> threading.BoundedSemaphore:
        key = _host_key(url)
        with self._hosts_lock:
            slot = self._hosts.get(key)
            if slot is None:
                slot = self._hosts[key] = threading.BoundedSemaphore(self.limits.per_host_concurrency)
            return slot


def _drain(response: httpcore.Response, limit: int = 64 * 1024) -> None:
    """Read a small unwanted body (304, redirect, error page) so the connection can be reused.

    A response closed before its end closes its connection: every 304 of a poll would cost a new one.
    Past ``limit`` bytes it is cheaper to hang up.
    """
    seen = 0
    for chunk in response.iter_stream():
        seen += len(chunk)
        if seen > limit:
            return


def _host_key(url: httpx.URL) -> str:
    return f"{url.host.lower()}:{url.port or (443 if url.scheme == 'https' else 80)}"


def _with_redirect_info(result: FetchResult, visited: list[str], all_permanent: bool) -> FetchResult:
    if len(visited) < 2 or not all_permanent:
        return result
    return replace(result, permanent_redirect=result.url)


def _too_large(feed_url: str, url: httpx.URL, limit: int, why: str) -> FetchError:
    where = feed_url if str(url) == feed_url else f"{feed_url} (at {url})"
    return FetchError(feed_url, f"{where} is larger than the {limit:,}-byte limit: {why}.", kind="too-large")


def _connect_error(feed_url: str, url: httpx.URL, error: httpcore.ConnectError) -> FetchError:
    message, kind, transient = connect_failure(error, url, feed_url)
    return FetchError(feed_url, message, kind=kind, transient=transient)
