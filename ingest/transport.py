"""The network side shared by fetching (ingest.fetch) and webhooks (ingest.webhook).

- ``Deadline`` and ``DeadlineBackend``: httpcore's sockets with every timeout shortened to the time
  left before the whole request's deadline, host names resolved within it;
- the address policy (``AddressPolicy``, one for fetching and webhooks): cloud metadata, link-local,
  unspecified, multicast and reserved addresses and the ports of Vigie's own services are never
  connected to, loopback and private ones only when allowed; checked on the resolved addresses of
  every hop, and when a feed or webhook is added (``AddressPolicy.check_url``);
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
from dataclasses import dataclass
from datetime import UTC, datetime

import httpcore
import httpx

from conf.limits import FetchLimits, ServiceEndpoint, WebhookLimits
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
    """The host is, or resolves to, an address Vigie does not fetch from (or POST to)."""


#: The instance metadata services of the clouds, which hand out credentials to whoever asks from the
#: machine: never connected to, whatever the private-address setting (most are link-local, refused as
#: such too; the others are listed because nothing else would refuse them).
METADATA_ADDRESSES: dict[str, str] = {
    "169.254.169.254": "AWS, GCP, Azure, OpenStack, DigitalOcean, Hetzner and Oracle metadata",
    "169.254.170.2": "AWS ECS task metadata",
    "169.254.170.23": "AWS EKS pod identity",
    "169.254.169.123": "AWS time service",
    "169.254.0.23": "Tencent Cloud metadata",
    "fd00:ec2::254": "AWS metadata (IPv6)",
    "fd00:ec2::23": "AWS EKS pod identity (IPv6)",
    "fd00:ec2::123": "AWS time service (IPv6)",
    "fd20:ce::254": "GCP metadata (IPv6)",
    "168.63.129.16": "Azure WireServer",
    "100.100.100.200": "Alibaba Cloud metadata",
    "192.0.0.192": "Oracle Cloud metadata",
}
_METADATA = {ipaddress.ip_address(address): name for address, name in METADATA_ADDRESSES.items()}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which addresses a fetch or a webhook POST may connect to.

    Always refused: cloud metadata addresses (IPv4 and IPv6), link-local, unspecified, multicast and
    reserved addresses, and the ports of Vigie's own services (``protected``: Elasticsearch, Redis,
    the API) on this machine, a private network or the service's own address. Loopback and private
    networks only when ``private_allowed`` (``setting`` names the variable that says so, for the
    message). An IPv6 address embedding an IPv4 one (mapped, 6to4, NAT64) is judged by the latter.
    """

    private_allowed: bool = True
    protected: tuple[ServiceEndpoint, ...] = ()
    setting: str = "VIGIE_FETCH_PRIVATE_ADDRESSES"

    def refusal(self, address: str, port: int | None = None) -> str | None:
        """Why ``address`` (and ``port``) is not connected to, or None."""
        ip = ipaddress.ip_address(address.strip("[]").split("%")[0])
        if ip.is_link_local:
            return "a link-local address (where cloud metadata services answer)"
        if ip in _METADATA:
            return f"a cloud metadata address ({_METADATA[ip]})"
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            why = self.refusal(str(embedded), port)
            return None if why is None else f"{why} (as {embedded})"
        if port is not None:
            for service in self.protected:
                if port == service.port and (ip.is_loopback or ip.is_private or not ip.is_global
                                             or _same_address(ip, service.host)):
                    return f"the port of Vigie's own {service.name} ({service.port})"
        if ip.is_loopback:  # before "reserved": ::1 is in ::/8
            return None if self.private_allowed else f"a loopback address ({self.setting} is off)"
        if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
            return "an unspecified, multicast or reserved address"
        if not self.private_allowed and (ip.is_private or not ip.is_global):
            return f"a loopback or private address ({self.setting} is off)"
        return None

    def allowed(self, host: str, addresses: list[str], port: int | None = None) -> list[str]:
        """``addresses`` without the refused ones; BlockedAddress when none is left."""
        allowed = [address for address in addresses if self.refusal(address, port) is None]
        if not allowed:
            why = self.refusal(addresses[0], port)
            shown = host if host.strip("[]") == addresses[0] else f"{host} ({addresses[0]})"
            raise BlockedAddress(f"{shown} is {why}, which Vigie does not fetch from or post to")
        return allowed

    def check_url(self, url: httpx.URL, timeout: float) -> None:
        """BlockedAddress when ``url``'s host is, or resolves to, only refused addresses: what a feed or
        a webhook is checked with when it is added or changed. A name that does not resolve now
        passes (it is checked again at every connection, as DNS can change)."""
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = resolve(url.host, port, timeout)
        except (httpcore.ConnectError, httpcore.ConnectTimeout):
            return
        self.allowed(url.host, addresses, port)


def fetch_policy(limits: FetchLimits) -> AddressPolicy:
    return AddressPolicy(limits.private_addresses, limits.protected, "VIGIE_FETCH_PRIVATE_ADDRESSES")


def webhook_policy(limits: WebhookLimits) -> AddressPolicy:
    return AddressPolicy(limits.private_addresses, limits.protected, "VIGIE_WEBHOOK_PRIVATE_ADDRESSES")


def checked_target(url: str, policy: AddressPolicy | None, *, context: str, timeout: float = 5.0) -> httpx.URL:
    """``parse_http_url``, then (with a policy) the address check of a feed or webhook being added:
    ``FetchError`` of kind ``blocked-address`` naming the reason."""
    parsed = parse_http_url(url, context=context)
    if policy is not None:
        try:
            policy.check_url(parsed, timeout)
        except BlockedAddress as error:
            raise FetchError(url, f"{error}{context}.", kind="blocked-address") from None
    return parsed


def _embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _same_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")) == ip
    except ValueError:
        return False


def refused_network(address: str, private_allowed: bool) -> str | None:
    """Why ``address`` is not fetched from, or None (``AddressPolicy.refusal`` without service ports)."""
    return AddressPolicy(private_allowed).refusal(address)


def allowed_addresses(host: str, addresses: list[str], private_allowed: bool) -> list[str]:
    """``addresses`` without the refused ones; BlockedAddress when none is left."""
    return AddressPolicy(private_allowed).allowed(host, addresses)


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

    def __init__(self, deadline: Deadline, policy: AddressPolicy | None = None) -> None:
        self._inner = httpcore.SyncBackend()
        self._deadline = deadline
        self._policy = policy or AddressPolicy()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[tuple[int, int, int | bytes | None]] | None = None,
                    ) -> httpcore.NetworkStream:
        # The host name is resolved here, within the connect timeout and the deadline: the system's
        # resolver (getaddrinfo) takes no timeout and would otherwise hold a fetch as long as it likes.
        # The addresses are checked, then connected to as checked: a name that resolves differently
        # a second time (DNS rebinding) cannot slip through.
        addresses = self._policy.allowed(
            host, resolve(host, port, self._deadline.bound(timeout, httpcore.ConnectTimeout)), port)
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
