"""The network side shared by fetching (ingest.fetch) and webhooks (ingest.webhook).

- ``Deadline`` and ``DeadlineBackend``: httpcore's sockets with every timeout shortened to the time
  left before the whole request's deadline, host names resolved within it;
- the address policy: link-local, unspecified, multicast and reserved addresses are never connected
  to, loopback and private ones only when allowed; checked on the resolved addresses of every hop;
- ``parse_http_url``: only http and https URLs with a host;
- ``connect_failure``: one classification of connection failures (message, kind, transient).
"""

from __future__ import annotations

import email.utils
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from datetime import UTC, datetime

import httpcore
import httpx

from ingest.errors import FetchError

ALLOWED_SCHEMES = ("http", "https")


class Deadline:
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


class DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
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
        return DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


#: Resolves host names for every Fetcher, so that a fetch can stop waiting for a resolver that hangs
#: (the thread finishes in the background, bounded by the system resolver's own timeouts).
RESOLVER = ThreadPoolExecutor(max_workers=8, thread_name_prefix="vigie-resolve")


class BlockedAddress(httpcore.ConnectError):
    """The host is, or resolves to, an address Vigie does not fetch from."""


def refused_network(address: str, private_allowed: bool) -> str | None:
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


def allowed_addresses(host: str, addresses: list[str], private_allowed: bool) -> list[str]:
    """``addresses`` without the refused ones; BlockedAddress when none is left."""
    allowed = [address for address in addresses if refused_network(address, private_allowed) is None]
    if not allowed:
        why = refused_network(addresses[0], private_allowed)
        shown = host if host == addresses[0] else f"{host} ({addresses[0]})"
        raise BlockedAddress(f"{shown} is {why}, which Vigie does not fetch from")
    return allowed


def resolve(host: str, port: int, timeout: float | None) -> list[str]:
    """The addresses of ``host`` (itself when it is one), in the resolver's order, within ``timeout``."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    future = RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
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


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's synchronous sockets, with every timeout shortened to the fetch's remaining time."""

    def __init__(self, deadline: Deadline, private_addresses: bool = True) -> None:
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
        addresses = allowed_addresses(host, resolve(host, port, self._deadline.bound(timeout, httpcore.ConnectTimeout)),
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
            return DeadlineStream(stream, self._deadline)
        assert last is not None  # _resolve answers at least one address
        raise last

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[tuple[int, int, int | bytes | None]] | None = None,
                            ) -> httpcore.NetworkStream:
        raise httpcore.UnsupportedProtocol("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def parse_http_url(url: str, *, context: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, UnicodeError, ValueError) as error:
        raise FetchError(url, f"{url!r} is not a valid URL{context}: {error}.", kind="invalid-url") from None
    if parsed.scheme not in ALLOWED_SCHEMES:
        scheme = parsed.scheme or "no scheme"
        raise FetchError(url, f"{url} uses {scheme}{context}; Vigie fetches only http and https URLs.",
                         kind="unsupported-scheme")
    if not parsed.host:
        raise FetchError(url, f"{url!r} has no host name{context}.", kind="invalid-url")
    return parsed


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


def reason(error: BaseException) -> str:
    """What went wrong under an httpcore error, in the words of its cause."""
    cause = error.__cause__ or error.__context__
    return str(cause or error) or type(cause or error).__name__


def connect_failure(error: httpcore.ConnectError, url: httpx.URL, subject: str) -> tuple[str, str, bool]:
    """(message, kind, transient) for a connection to ``url`` that could not be made; ``subject`` names
    what it was for ("http://…/feed.xml", "the webhook http://…"). Shared by fetching and webhooks."""
    if isinstance(error, BlockedAddress):
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
