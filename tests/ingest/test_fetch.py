"""ingest.fetch against the local torture server: every hostile answer ends as a bounded FetchError."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpcore
import httpx
import pytest

from conf.limits import FetchLimits
from ingest.errors import FetchError
from ingest.fetch import PAGE_ACCEPT, Fetcher, _connect_error, validate_feed_url
from ingest.transport import allowed_addresses, parse_retry_after
from tests.ingest.torture_server import BIG_BYTES, ETAG, LAST_MODIFIED, TortureServer, closed_port, rss20

LIMITS = FetchLimits(user_agent="Vigie/0.1 (+https://github.com/vigie-news/vigie; tests)", total_timeout=3.0)


@pytest.fixture(scope="module")
def server() -> Iterator[TortureServer]:
    server = TortureServer().start()
    yield server
    server.stop()


@pytest.fixture()
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(LIMITS) as fetcher:
        yield fetcher


def fetch_error(fetcher: Fetcher, url: str, **kwargs: object) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url, **kwargs)  # type: ignore[arg-type]
    return caught.value


# --- the happy path and what is sent -----------------------------------------------------------------


def test_fetches_a_feed_with_its_validators_and_names_vigie(server: TortureServer, fetcher: Fetcher) -> None:
    result = fetcher.fetch(server.url("/feed/conditional"))
    assert result.status == 200 and not result.not_modified
    assert result.body == rss20(3)
    assert result.etag == ETAG and result.last_modified == LAST_MODIFIED
    assert result.content_type == "application/rss+xml"
    sent = server.requests_to("/feed/conditional")[-1].headers
    assert "Vigie" in sent["user-agent"]
    assert "application/rss+xml" in sent["accept"]
    assert sent["accept-encoding"] == "gzip, deflate"


def test_unchanged_feed_costs_one_304_with_etag_or_last_modified(server: TortureServer, fetcher: Fetcher) -> None:
    by_etag = fetcher.fetch(server.url("/feed/conditional"), etag=ETAG)
    by_date = fetcher.fetch(server.url("/feed/conditional"), last_modified=LAST_MODIFIED)
    for result in (by_etag, by_date):
        assert result.not_modified and result.status == 304 and result.body == b""
    assert by_etag.etag == ETAG
    assert server.requests_to("/feed/conditional")[-2].headers["if-none-match"] == ETAG
    assert server.requests_to("/feed/conditional")[-1].headers["if-modified-since"] == LAST_MODIFIED


@pytest.mark.parametrize("path", ["/feed/gzip", "/feed/deflate", "/feed/raw-deflate"])
def test_compressed_bodies_are_inflated(server: TortureServer, fetcher: Fetcher, path: str) -> None:
    result = fetcher.fetch(server.url(path))
    assert result.body == rss20(3)
    assert result.wire_bytes < len(result.body)


def test_page_fetch_asks_for_html(server: TortureServer, fetcher: Fetcher) -> None:
    result = fetcher.fetch_page(server.url("/html"))
    assert result.content_type == "text/html" and result.encoding == "utf-8"
    assert server.requests_to("/html")[-1].headers["accept"] == PAGE_ACCEPT


# --- schemes and redirects ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/feed.xml", "javascript:alert(1)",
                                 "gopher://127.0.0.1/", "data:text/xml,<rss/>"])
def test_only_http_and_https_are_fetched(fetcher: Fetcher, url: str) -> None:
    error = fetch_error(fetcher, url)
    assert error.kind == "unsupported-scheme"
    assert url.split(":")[0] in str(error) and not error.transient


@pytest.mark.parametrize("url", ["http://", "http:///path-only", "not a url at all"])
def test_invalid_urls_are_named(fetcher: Fetcher, url: str) -> None:
    error = fetch_error(fetcher, url)
    assert error.kind in {"invalid-url", "unsupported-scheme"}
    assert repr(url) in str(error) or url in str(error)


def test_validate_feed_url_for_the_registry() -> None:
    assert validate_feed_url(" https://Café.example/feed?a=1 ") == "https://xn--caf-dma.example/feed?a=1"
    for url, kind in [("file:///etc/passwd", "unsupported-scheme"), ("feed://x.org/rss", "unsupported-scheme"),
                      ("https://", "invalid-url"), ("x.org/feed", "unsupported-scheme")]:
        with pytest.raises(FetchError) as caught:
            validate_feed_url(url)
        assert caught.value.kind == kind


def test_redirect_to_file_is_refused_on_the_hop(server: TortureServer, fetcher: Fetcher) -> None:
    error = fetch_error(fetcher, server.url("/redirect/file"))
    assert error.kind == "unsupported-scheme"
    assert "file:///etc/passwd" in str(error) and server.url("/redirect/file") in str(error)


def test_redirect_loop_stops_at_once(server: TortureServer, fetcher: Fetcher) -> None:
    server.reset()
    error = fetch_error(fetcher, server.url("/redirect/loop-a"))
    assert error.kind == "too-many-redirects" and "loop" in str(error)
    assert len(server.requests_to("/redirect/loop-a")) == 1 and len(server.requests_to("/redirect/loop-b")) == 1


def test_redirects_are_bounded(server: TortureServer, fetcher: Fetcher) -> None:
    assert fetcher.fetch(server.url("/redirect/chain/5")).url == server.url("/redirect/chain/0")
    error = fetch_error(fetcher, server.url("/redirect/chain/6"))
    assert error.kind == "too-many-redirects" and "more than 5" in str(error)


def test_permanent_and_relative_redirects(server: TortureServer, fetcher: Fetcher) -> None:
    moved = fetcher.fetch(server.url("/redirect/moved"))
    assert moved.url == server.url("/feed/rss20") and moved.permanent_redirect == server.url("/feed/rss20")
    relative = fetcher.fetch(server.url("/redirect/relative"))
    assert relative.url == server.url("/feed/atom") and relative.permanent_redirect is None


# --- HTTP errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "kind", "transient", "status"), [
    ("/status/404", "http-404", False, 404),
    ("/status/410", "http-410", False, 410),
    ("/status/500", "server-error", True, 500),
    ("/status/503", "server-error", True, 503),
    ("/status/429", "rate-limited", True, 429),
])
def test_http_errors_have_kinds(server: TortureServer, fetcher: Fetcher, path: str, kind: str, transient: bool,
                                status: int) -> None:
    error = fetch_error(fetcher, server.url(path))
    assert (error.kind, error.transient, error.status) == (kind, transient, status)
    assert server.url(path) in str(error)


def test_retry_after_seconds_and_date_are_honoured(server: TortureServer, fetcher: Fetcher) -> None:
    assert fetch_error(fetcher, server.url("/status/429")).retry_after == 120.0
    assert fetch_error(fetcher, server.url("/status/503")).retry_after == 30.0
    by_date = fetch_error(fetcher, server.url("/status/429-date")).retry_after
    assert by_date is not None and 80 <= by_date <= 91


def test_parse_retry_after() -> None:
    now = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
    assert parse_retry_after("0") == 0.0
    assert parse_retry_after(" 3600 ") == 3600.0
    assert parse_retry_after(format_datetime(now + timedelta(minutes=2), usegmt=True), now=now) == 120.0
    assert parse_retry_after(format_datetime(now - timedelta(minutes=2), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None and parse_retry_after("-5") is None


def test_closed_port_is_connection_refused(fetcher: Fetcher) -> None:
    url = f"http://127.0.0.1:{closed_port()}/feed.xml"
    error = fetch_error(fetcher, url)
    assert error.kind == "connection-refused" and error.transient and url in str(error)


def test_name_resolution_failure_is_dns() -> None:
    # Built from the exception httpcore raises, so no resolver outside this machine is queried.
    try:
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as cause:
            raise httpcore.ConnectError("unresolvable") from cause
    except httpcore.ConnectError as error:
        mapped = _connect_error("http://nowhere.invalid/feed", httpx.URL("http://nowhere.invalid/feed"), error)
    assert mapped.kind == "dns" and mapped.transient and "nowhere.invalid" in str(mapped)


def _resolver(answer: object, delay: float = 0.0):  # type: ignore[no-untyped-def]
    """A stand-in for the system resolver for host names (no name outside this machine is looked up);
    addresses go to the real one, as when the connection is made to the address chosen."""
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> object:
        try:
            ipaddress.ip_address(host)
            return real(host, port, *args, **kwargs)  # type: ignore[arg-type]
        except ValueError:
            pass
        time.sleep(delay)
        if isinstance(answer, BaseException):
            raise answer
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in answer]  # type: ignore[union-attr]
    return getaddrinfo


def test_a_resolver_that_hangs_is_cut_by_the_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _resolver(["127.0.0.1"], delay=5.0))
    limits = FetchLimits(user_agent="Vigie/test", connect_timeout=0.5, total_timeout=3.0)
    started = time.monotonic()
    with Fetcher(limits) as fetcher:
        error = fetch_error(fetcher, "http://slow-resolver.test/feed.xml")
    assert error.kind == "timeout" and error.transient and "slow-resolver.test" in str(error)
    assert time.monotonic() - started < 2.0  # not the resolver's 5 s


def test_a_resolver_slower_than_the_total_timeout_is_cut_by_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _resolver(["127.0.0.1"], delay=5.0))
    limits = FetchLimits(user_agent="Vigie/test", connect_timeout=10.0, total_timeout=1.0)
    started = time.monotonic()
    with Fetcher(limits) as fetcher:
        error = fetch_error(fetcher, "http://slow-resolver.test/feed.xml")
    assert error.kind == "timeout" and "1 s in total" in str(error)
    assert time.monotonic() - started < 2.0


def test_an_unknown_host_through_the_fetcher_is_dns(monkeypatch: pytest.MonkeyPatch, fetcher: Fetcher) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _resolver(socket.gaierror(socket.EAI_NONAME, "Name or service not known")))
    error = fetch_error(fetcher, "http://nowhere.invalid/feed.xml")
    assert error.kind == "dns" and error.transient and "nowhere.invalid" in str(error)


def test_every_address_of_a_host_is_tried_in_turn(monkeypatch: pytest.MonkeyPatch, server: TortureServer,
                                                   fetcher: Fetcher) -> None:
    port = httpx.URL(server.url("/")).port
    # The first address refuses (nothing listens on 127.0.0.2), the second is the torture server.
    monkeypatch.setattr(socket, "getaddrinfo", _resolver(["127.0.0.2", "127.0.0.1"]))
    result = fetcher.fetch(f"http://two-addresses.test:{port}/feed/conditional")
    assert result.status == 200 and result.body == rss20(3)


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/feed.xml",
                                 "http://0.0.0.0/feed.xml", "http://[::ffff:169.254.169.254]/"])
def test_link_local_and_unspecified_addresses_are_never_fetched(fetcher: Fetcher, url: str) -> None:
    error = fetch_error(fetcher, url)
    assert error.kind == "blocked-address" and not error.transient and "does not fetch from" in str(error)


def test_a_name_resolving_to_the_metadata_address_is_refused(monkeypatch: pytest.MonkeyPatch, fetcher: Fetcher) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _resolver(["169.254.169.254"]))
    error = fetch_error(fetcher, "http://metadata.test/computeMetadata/v1/")
    assert error.kind == "blocked-address" and "metadata.test (169.254.169.254) is a link-local address" in str(error)


def test_a_redirect_to_the_metadata_address_is_refused_on_the_hop(server: TortureServer, fetcher: Fetcher) -> None:
    error = fetch_error(fetcher, server.url("/redirect/metadata"))
    assert error.kind == "blocked-address" and "169.254.169.254" in str(error)


def test_private_addresses_are_refused_when_turned_off(monkeypatch: pytest.MonkeyPatch, server: TortureServer) -> None:
    limits = FetchLimits(user_agent="Vigie/test", private_addresses=False)
    with Fetcher(limits) as guarded:
        assert fetch_error(guarded, server.url("/feed/rss20")).kind == "blocked-address"  # 127.0.0.1
        for address in ("10.1.2.3", "192.168.1.1", "172.16.0.1", "fd00::1"):
            monkeypatch.setattr(socket, "getaddrinfo", _resolver([address]))
            error = fetch_error(guarded, "http://intranet.test/feed.xml")
            assert error.kind == "blocked-address" and "VIGIE_FETCH_PRIVATE_ADDRESSES" in str(error), address
    # On by default: this machine's own feeds are fetched.
    with Fetcher(FetchLimits(user_agent="Vigie/test")) as open_fetcher:
        assert open_fetcher.fetch(server.url("/feed/rss20")).status == 200


def test_a_name_with_public_and_private_addresses_keeps_the_public_ones() -> None:
    # (Checked without connecting: this machine reaches no public address.)
    assert allowed_addresses("mixed.test", ["10.1.2.3", "93.184.215.14", "169.254.1.1"], False) == ["93.184.215.14"]
    assert allowed_addresses("mixed.test", ["10.1.2.3", "93.184.215.14", "169.254.1.1"], True) == ["10.1.2.3", "93.184.215.14"]


def test_unknown_content_encoding_is_refused(server: TortureServer, fetcher: Fetcher) -> None:
    assert fetch_error(fetcher, server.url("/feed/brotli")).kind == "unsupported-encoding"


# --- time and size bounds ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_total_timeout_stops_a_server_dripping_bytes(server: TortureServer, path: str) -> None:
    limits = FetchLimits(user_agent="Vigie/test", read_timeout=10.0, total_timeout=2.5)
    started = time.monotonic()
    with Fetcher(limits) as fetcher:
        error = fetch_error(fetcher, server.url(path))
    took = time.monotonic() - started
    assert error.kind == "timeout" and error.transient and "2.5 s in total" in str(error)
    assert 2.4 <= took < 4.0  # the read timeout (10 s) alone would never fire: a byte comes every 2 s


def test_read_timeout_fires_before_the_total(server: TortureServer) -> None:
    limits = FetchLimits(user_agent="Vigie/test", read_timeout=0.5, total_timeout=20.0)
    started = time.monotonic()
    with Fetcher(limits) as fetcher:
        error = fetch_error(fetcher, server.url("/drip"))
    assert error.kind == "timeout" and "sent nothing for 0.5 s" in str(error)
    assert time.monotonic() - started < limits.total_timeout  # the read timeout, not the total, ended it


def _peak_while(fn: object) -> tuple[int, object]:
    tracemalloc.start()
    try:
        outcome: object = fn()  # type: ignore[operator]
    except FetchError as error:
        outcome = error
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, outcome


def test_announced_60mb_body_is_refused_before_reading(server: TortureServer, fetcher: Fetcher) -> None:
    server.reset()
    peak, error = _peak_while(lambda: fetcher.fetch(server.url("/big")))
    assert isinstance(error, FetchError) and error.kind == "too-large" and "62,914,560" in str(error)
    assert peak < 3_000_000  # the server thread holds a 1 MB chunk
    # The client hung up at the headers: the server got out only what the sockets' buffers took.
    assert server.streamed("/big") < BIG_BYTES // 4


def test_unannounced_60mb_body_is_cut_at_the_limit(server: TortureServer) -> None:
    limits = FetchLimits(user_agent="Vigie/test", max_body_bytes=2 * 1024 * 1024)
    with Fetcher(limits) as fetcher:
        peak, error = _peak_while(lambda: fetcher.fetch(server.url("/big-chunked")))
    assert isinstance(error, FetchError) and error.kind == "too-large"
    assert peak < 3 * limits.max_body_bytes


def test_gzip_bomb_never_inflates_past_the_limit(server: TortureServer, fetcher: Fetcher) -> None:
    peak, error = _peak_while(lambda: fetcher.fetch(server.url("/gzip-bomb")))
    # Cut by the size limit, not by the total timeout (that would be kind "timeout"): it stopped inflating.
    assert isinstance(error, FetchError) and error.kind == "too-large" and "decompressed" in str(error)
    assert peak < 2 * LIMITS.max_body_bytes + 1_000_000  # 10 GB announced by the compression ratio


# --- concurrency -------------------------------------------------------------------------------------


def test_per_host_concurrency_is_limited_whatever_the_threads(server: TortureServer) -> None:
    server.reset()
    limits = FetchLimits(user_agent="Vigie/test", per_host_concurrency=2)
    results: list[int] = []
    with Fetcher(limits) as fetcher:
        def poll() -> None:
            results.append(fetcher.fetch(server.url("/slow?ms=300")).status)
        threads = [threading.Thread(target=poll) for _ in range(6)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == [200] * 6
    assert server.peak_in_flight("/slow") == 2
    assert time.monotonic() - started >= 0.85  # three waves of two


def test_fetcher_is_shared_safely_by_threads(server: TortureServer, fetcher: Fetcher) -> None:
    paths = ["/feed/rss20", "/feed/atom", "/feed/gzip", "/status/404", "/redirect/moved", "/feed/rss10"] * 4
    outcomes: dict[int, object] = {}

    def run(index: int, path: str) -> None:
        try:
            outcomes[index] = fetcher.fetch(server.url(path)).status
        except FetchError as error:
            outcomes[index] = error.kind

    threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(paths)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = {"/status/404": "http-404"}
    assert [outcomes[i] for i in range(len(paths))] == [expected.get(p, 200) for p in paths]


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        FetchLimits(user_agent=" ")
    with pytest.raises(ValueError):
        FetchLimits(user_agent="Vigie", total_timeout=0)
    with pytest.raises(ValueError):
        FetchLimits(user_agent="Vigie", max_body_bytes=0)
