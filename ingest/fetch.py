"""HTTP fetching of feeds and article pages: the only network code in ingest/.

Everything a hostile or broken server can do is bounded here, so the parsers above only ever see a
limited number of bytes that arrived in a limited time:

- only ``http`` and ``https``, checked again on every redirect hop (a ``Location: file:///…`` is refused);
- never a link-local address (169.254.169.254 is where cloud metadata services answer), and no
  loopback or private address when ``private_addresses`` is off; checked on the resolved addresses
  of every connection, redirects included;
- host names resolved within the connect timeout (``_resolve``); connect and read timeouts per
  operation, and a *total* deadline that every socket operation of the
  fetch consults (see ``_DeadlineBackend``), so a server dripping one byte every few seconds, in the
  headers or in the body, is cut off at ``total_timeout``;
- a body limit on the bytes received *and* on the bytes after decompression; gzip and deflate are
  inflated here with bounded ``decompressobj`` calls, so a gzip bomb never grows past the limit in memory;
- bounded redirects followed by hand, conditional GET (ETag, Last-Modified), ``Retry-After`` parsed;
- at most ``per_host_concurrency`` fetches at a time to one host, whatever the number of threads.

Built on httpcore (httpx's transport layer) for its public network-backend hook, with httpx's URL
parser for IDNA hosts and percent-encoding. One ``Fetcher`` is shared by all the poller's threads.
"""

from __future__ import annotations

import email.utils
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import httpcore
import httpx

from conf.limits import FetchLimits
from ingest.errors import FetchError

#: What a feed poll asks for: feed types first, anything else accepted (many feeds are served as text/html).
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
#: What an article page fetch asks for.
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"

_ALLOWED_SCHEMES = ("http", "https")
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_PERMANENT_REDIRECTS = {301, 308}
#: 4xx answers worth retrying later: request timeout, too early, too many requests.
_TRANSIENT_CLIENT_ERRORS = {408, 425, 429}
#: Content-Encoding layers inflated here; we only advertise these two.
_INFLATABLE = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}
_MAX_ENCODING_LAYERS = 2


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


# --- the total deadline -----------------------------------------------------------------------------


class _Deadline:
    """The deadline of the fetch running in the current thread, consulted by every socket operation.

    Per-operation timeouts alone cannot stop a server that sends one byte every few seconds: each read
    succeeds. Bounding each operation by the time left until the deadline does, in the headers as well
    as the body. The deadline is per thread because a connection serves one request at a time, and a
    synchronous request runs start to end in the thread that made it.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def running(self, seconds: float) -> Iterator[None]:
        self._local.at = time.monotonic() + seconds
        try:
            yield
        finally:
            self._local.at = None

    def remaining(self) -> float | None:
        at = getattr(self._local, "at", None)
        return None if at is None else at - time.monotonic()

    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0

    def bound(self, timeout: float | None, expired: type[Exception]) -> float | None:
        left = self.remaining()
        if left is None:
            return timeout
        if left <= 0:
            raise expired("total timeout exceeded")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname,
                                      self._deadline.bound(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


#: Resolves host names for every Fetcher, so that a fetch can stop waiting for a resolver that hangs
#: (the thread finishes in the background, bounded by the system resolver's own timeouts).
_RESOLVER = ThreadPoolExecutor(max_workers=8, thread_name_prefix="vigie-resolve")


class _BlockedAddress(httpcore.ConnectError):
    """The host is, or resolves to, an address Vigie does not fetch from."""


def _refused_network(address: str, private_allowed: bool) -> str | None:
    """Why ``address`` is not fetched from, or None. Link-local (169.254/16, where cloud metadata
    services answer, and fe80::/10), unspecified, multicast and reserved addresses never are;
    loopback and private networks only when allowed."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_link_local:
        return "a link-local address (where cloud metadata services answer)"
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return "an unspecified, multicast or reserved address"
    if not private_allowed and (ip.is_loopback or ip.is_private):
        return "a loopback or private address (VIGIE_FETCH_PRIVATE_ADDRESSES is off)"
    return None


def _checked(host: str, addresses: list[str], private_allowed: bool) -> list[str]:
    """``addresses`` without the refused ones; _BlockedAddress when none is left."""
    allowed = [address for address in addresses if _refused_network(address, private_allowed) is None]
    if not allowed:
        why = _refused_network(addresses[0], private_allowed)
        shown = host if host == addresses[0] else f"{host} ({addresses[0]})"
        raise _BlockedAddress(f"{shown} is {why}, which Vigie does not fetch from")
    return allowed


def _resolve(host: str, port: int, timeout: float | None) -> list[str]:
    """The addresses of ``host`` (itself when it is one), in the resolver's order, within ``timeout``."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    future = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout)
    except FutureTimeout:
        future.cancel()
        raise httpcore.ConnectTimeout(f"resolving {host} took more than {timeout:g} s") from None
    except (socket.gaierror, UnicodeError) as error:
        raise httpcore.ConnectError(str(error)) from error
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise httpcore.ConnectError(f"{host} has no address") from socket.gaierror(f"{host} has no address")
    return addresses


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's synchronous sockets, with every timeout shortened to the fetch's remaining time."""

    def __init__(self, deadline: _Deadline, private_addresses: bool = True) -> None:
        self._inner = httpcore.SyncBackend()
        self._deadline = deadline
        self._private_addresses = private_addresses

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[tuple[int, int, int | bytes | None]] | None = None,
                    ) -> httpcore.NetworkStream:
        # The host name is resolved here, within the connect timeout and the deadline: the system's
        # resolver (getaddrinfo) takes no timeout and would otherwise hold a fetch as long as it likes.
        # The addresses are checked, then connected to as checked: a name that resolves differently
        # a second time (DNS rebinding) cannot slip through.
        addresses = _checked(host, _resolve(host, port, self._deadline.bound(timeout, httpcore.ConnectTimeout)),
                             self._private_addresses)
        last: httpcore.ConnectError | None = None
        for address in addresses:
            bounded = self._deadline.bound(timeout, httpcore.ConnectTimeout)
            try:
                stream = self._inner.connect_tcp(address, port, bounded, local_address,
                                                 socket_options)  # type: ignore[arg-type]
            except httpcore.ConnectError as error:
                last = error  # the next address of the host, as socket.create_connection does
                continue
            return _DeadlineStream(stream, self._deadline)
        assert last is not None  # _resolve answers at least one address
        raise last

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[tuple[int, int, int | bytes | None]] | None = None,
                            ) -> httpcore.NetworkStream:
        raise httpcore.UnsupportedProtocol("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


# --- bounded decompression --------------------------------------------------------------------------


class _TooLarge(Exception):
    pass


class _Inflater:
    """One Content-Encoding layer (gzip or deflate), never producing more than it is allowed to."""

    def __init__(self, kind: str) -> None:
        self._kind = kind
        # 32+15 accepts both gzip and zlib headers; servers mislabel one as the other.
        self._z = zlib.decompressobj(47)
        self._started = False
        self._finished = False

    def feed(self, data: bytes, allowance: int) -> bytes:
        """Inflate ``data``; raise ``_TooLarge`` past ``allowance`` bytes of output (for this call)."""
        parts: list[bytes] = []
        produced = 0
        while data and not self._finished:
            try:
                # max_length bounds the memory a bomb can take: at most allowance + 1 bytes per call.
                out = self._z.decompress(data, allowance - produced + 1)
            except zlib.error:
                if self._kind == "deflate" and not self._started:
                    # "deflate" is sometimes sent raw, without the zlib header the RFC asks for.
                    self._z = zlib.decompressobj(-15)
                    self._started = True
                    continue
                raise
            self._started = True
            produced += len(out)
            if produced > allowance:
                raise _TooLarge
            parts.append(out)
            data = self._z.unconsumed_tail
            if self._z.eof:
                data = self._z.unused_data
                if data and data.startswith(b"\x1f\x8b"):
                    self._z = zlib.decompressobj(47)  # concatenated gzip members
                else:
                    self._finished = True  # trailing padding after the stream is ignored, as browsers do
        return b"".join(parts)


def _content_encodings(value: str | None, url: str) -> list[str]:
    layers = [part.strip().lower() for part in (value or "").split(",") if part.strip()]
    layers = [layer for layer in layers if layer != "identity"]
    unknown = [layer for layer in layers if layer not in _INFLATABLE]
    if unknown or len(layers) > _MAX_ENCODING_LAYERS:
        raise FetchError(url, f"{url} answered with Content-Encoding {value!r}, which Vigie does not decode "
                              f"(it asks for gzip or deflate only).", kind="unsupported-encoding")
    return [_INFLATABLE[layer] for layer in layers]


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


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or an HTTP-date); None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


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


def _parse_url(url: str, *, context: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, UnicodeError, ValueError) as error:
        raise FetchError(url, f"{url!r} is not a valid URL{context}: {error}.", kind="invalid-url") from None
    if parsed.scheme not in _ALLOWED_SCHEMES:
        scheme = parsed.scheme or "no scheme"
        raise FetchError(url, f"{url} uses {scheme}{context}; Vigie fetches only http and https URLs.",
                         kind="unsupported-scheme")
    if not parsed.host:
        raise FetchError(url, f"{url!r} has no host name{context}.", kind="invalid-url")
    return parsed


def validate_feed_url(url: str) -> str:
    """``url`` normalised (IDNA host, percent-encoding) if Vigie can fetch it; ``FetchError`` if not.

    Kinds: ``invalid-url`` (no host, unparsable) or ``unsupported-scheme`` (anything but http/https).
    """
    return str(_parse_url(url.strip(), context=""))


class Fetcher:
    """Fetches URLs within ``FetchLimits``; thread-safe, share one per process and ``close()`` it."""

    def __init__(self, limits: FetchLimits) -> None:
        self.limits = limits
        self._deadline = _Deadline()
        # The pool itself is unbounded: the caller's threads and the per-host semaphores bound it.
        self._pool = httpcore.ConnectionPool(
            max_connections=None,
            keepalive_expiry=15.0,
            network_backend=_DeadlineBackend(self._deadline, limits.private_addresses),
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
        current = _parse_url(url, context="")
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
        layers = [_Inflater(kind) for kind in reversed(_content_encodings(got.get("content-encoding"), feed_url))]
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
        except _TooLarge:
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
        if following.scheme not in _ALLOWED_SCHEMES:
            # Checked on every hop: an http feed must not be able to send us to file:// or ftp://.
            raise FetchError(feed_url, f"{feed_url} redirects to {location.strip()}, which is not an http or "
                                       "https URL; Vigie refuses to follow it.", kind="unsupported-scheme")
        following = _parse_url(str(following), context=f" (a redirect from {feed_url})")
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


def reason(error: BaseException) -> str:
    """What went wrong under an httpcore error, in the words of its cause."""
    cause = error.__cause__ or error.__context__
    return str(cause or error) or type(cause or error).__name__


def connect_failure(error: httpcore.ConnectError, url: httpx.URL, subject: str) -> tuple[str, str, bool]:
    """(message, kind, transient) for a connection to ``url`` that could not be made; ``subject`` names
    what it was for ("http://…/feed.xml", "the webhook http://…"). Shared by fetching and webhooks."""
    if isinstance(error, _BlockedAddress):
        return f"Vigie did not connect for {subject}: {error}.", "blocked-address", False
    cause = error.__cause__ or error.__context__
    host = f"{url.host}:{url.port}" if url.port else url.host
    if isinstance(cause, socket.gaierror):
        return f"The host name of {subject} ({url.host}) could not be resolved ({cause}).", "dns", True
    if isinstance(cause, ConnectionRefusedError):
        return f"{host} refused the connection for {subject} (nothing listens there).", "connection-refused", True
    if isinstance(cause, ssl.SSLError):
        return f"The TLS handshake with {host} failed for {subject} ({cause}).", "tls-error", False
    return f"Could not connect to {host} for {subject} ({reason(error)}).", "connection-failed", True


def _connect_error(feed_url: str, url: httpx.URL, error: httpcore.ConnectError) -> FetchError:
    message, kind, transient = connect_failure(error, url, feed_url)
    return FetchError(feed_url, message, kind=kind, transient=transient)
