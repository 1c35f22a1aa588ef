"""A local web of broken and hostile feed servers, on 127.0.0.1 only, for the fetch and parse tests.

One threaded HTTP/1.1 server; each path is one case (see ``ROUTES``). Big and endless bodies are
generated while they are sent and stop when the client hangs up, so nothing large is ever held in
memory here: the gzip bomb is 10 GB of zeros compressed on the fly, one megabyte at a time.
The server records every request (path and headers) and the peak number of requests in flight per
path, so tests can check what the client sent and how many connections it opened at once.
"""

from __future__ import annotations

import random
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import format_datetime
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import socket
from urllib.parse import parse_qs, urlsplit

# --- documents --------------------------------------------------------------------------------------

#: The French title every charset case must render exactly (é, ’ and œ are where charsets differ).
FRENCH_TITLE = "Élections : l’œuvre de Noël à Besançon"
FRENCH_SUMMARY = "Résumé : « déjà » vu, ça coûte 5 €."
LAST_MODIFIED = "Mon, 06 May 2024 10:00:00 GMT"
ETAG = '"v1-abc"'
#: A marker a test can put in a local file: if it ever shows up in parsed output, a file was read.
SECRET_MARKER = "VIGIE-LOCAL-FILE-MUST-NOT-LEAK"


def rss20(items: int = 3, *, channel_title: str = "Torture RSS", base: str = "http://news.example.org") -> bytes:
    entries = "".join(
        f"<item><title>Item {n}</title><link>{base}/articles/{n}.html</link>"
        f"<guid isPermaLink=\"false\">item-{n}</guid>"
        f"<description>&lt;p&gt;Summary {n}&lt;/p&gt;</description>"
        f"<pubDate>Mon, 06 May 2024 {n % 24:02d}:00:00 +0200</pubDate></item>"
        for n in range(1, items + 1)
    )
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{channel_title}</title>'
            f"<link>{base}/</link><language>en</language>{entries}</channel></rss>").encode()


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">
  <title>Torture Atom</title><id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <link href="http://atom.example.org/"/>
  <updated>2024-05-06T10:00:00Z</updated>
  <entry><id>tag:atom.example.org,2024:1</id><title>Premier</title>
    <link href="http://atom.example.org/1"/><updated>2024-05-06T10:00:00Z</updated>
    <summary type="html">&lt;p&gt;Un&lt;/p&gt;</summary></entry>
  <entry><id>tag:atom.example.org,2024:2</id><title>Second</title>
    <link href="http://atom.example.org/2"/><published>2024-05-05T09:30:00+02:00</published>
    <content type="html">&lt;p&gt;Deux, en entier&lt;/p&gt;</content></entry>
</feed>"""

RSS10 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="http://rdf.example.org/"><title>Torture RDF</title><link>http://rdf.example.org/</link>
    <description>RSS 1.0</description></channel>
  <item rdf:about="http://rdf.example.org/1"><title>RDF one</title><link>http://rdf.example.org/1</link>
    <dc:date>2024-05-06T10:00:00Z</dc:date></item>
  <item rdf:about="http://rdf.example.org/2"><title>RDF two</title><link>http://rdf.example.org/2</link></item>
</rdf:RDF>"""

RSS091 = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
  "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Torture 0.91</title><link>http://old.example.org/</link>
<description>old</description><language>fr</language>
<item><title>Caf&eacute; cr&egrave;me</title><link>http://old.example.org/1</link><description>x</description></item>
</channel></rss>"""


def french_feed(declaration: str | None) -> bytes:
    """A French feed in windows-1252, with or without an XML declaration naming its charset."""
    head = f'<?xml version="1.0" encoding="{declaration}"?>\n' if declaration else ""
    text = (f"{head}<rss version=\"2.0\"><channel><title>Fil français</title><link>http://fr.example.org/</link>"
            f"<item><title>{FRENCH_TITLE}</title><link>http://fr.example.org/1</link>"
            f"<description>{FRENCH_SUMMARY}</description></item></channel></rss>")
    return text.encode("cp1252")


def french_feed_utf8() -> bytes:
    return (f"<rss version=\"2.0\"><channel><title>Fil français</title><link>http://fr.example.org/</link>"
            f"<item><title>{FRENCH_TITLE}</title><link>http://fr.example.org/1</link>"
            f"<description>{FRENCH_SUMMARY}</description></item></channel></rss>").encode()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title><link>http://laughs.example.org/</link>
<item><title>Laugh &lol9;</title><link>http://laughs.example.org/1</link><description>&lol9;</description></item>
</channel></rss>"""


def xxe(path: str) -> bytes:
    """An XXE attempt reading ``path`` into the title and summary."""
    return (f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{path}">]>\n'
            f'<rss version="2.0"><channel><title>XXE &xxe;</title><link>http://xxe.example.org/</link>'
            f"<item><title>Leak &xxe;</title><link>http://xxe.example.org/1</link>"
            f"<description>&xxe;</description></item></channel></rss>").encode()


def xxe_parameter(dtd_url: str) -> bytes:
    """An external DTD through a parameter entity: the parser must never fetch ``dtd_url``."""
    return (f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY % remote SYSTEM "{dtd_url}"> %remote;]>\n'
            f'<rss version="2.0"><channel><title>XXE param</title><link>http://xxe.example.org/</link>'
            f"<item><title>Param &exfil;</title><link>http://xxe.example.org/2</link></item></channel></rss>").encode()


TRUNCATED = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Cut</title>'
             b"<item><title>Whole one</title><link>http://cut.example.org/1</link></item>"
             b"<item><title>Whole two</title><link>http://cut.example.org/2</link></item>"
             b"<item><title>Half thr")

DUPLICATES = b"""<rss version="2.0"><channel><title>Dups</title><link>http://dup.example.org/</link>
<item><title>First</title><guid isPermaLink="false">same-guid</guid><link>http://dup.example.org/1</link></item>
<item><title>First again</title><guid isPermaLink="false">same-guid</guid><link>http://dup.example.org/1b</link></item>
<item><title>Tracked</title><link>http://dup.example.org/2?utm_source=rss&amp;utm_medium=feed</link></item>
<item><title>Tracked again</title><link>HTTP://DUP.example.org:80/2?fbclid=abc#comments</link></item>
<item><title>Other</title><link>http://dup.example.org/3</link></item>
</channel></rss>"""

RELATIVE = b"""<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>Relative</title>
<link>/</link>
<item><title>Rel one</title><link>articles/1.html</link>
  <description>&lt;a href="../more.html"&gt;more&lt;/a&gt; &lt;img src="/img/1.png"&gt;</description></item>
<item><title>Rel two</title><link>/abs/2.html</link></item>
</channel></rss>"""

XML_BASE = b"""<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://cdn.example.net/news/">
<title>Based</title><entry><id>tag:b,1</id><title>B1</title><link href="2024/b1.html"/>
<content type="html">&lt;a href="x.html"&gt;x&lt;/a&gt;</content></entry></feed>"""

HOSTILE = b"""<rss version="2.0"><channel><title>Hostile</title><link>http://evil.example.org/</link>
<item><title>&lt;script&gt;alert('title')&lt;/script&gt;Hostile</title><link>javascript:alert(1)</link>
<guid isPermaLink="false">hostile-1</guid>
<description><![CDATA[<p onclick="steal()">Hi<script>alert(document.cookie)</script>
<img src="x.png" onerror="alert(1)"><a href="javascript:alert(2)">click</a>
<a href="JaVaScRiPt:alert(3)">click2</a><iframe src="http://evil.example.org/frame"></iframe>
<object data="evil.swf"></object><embed src="evil.swf"><form action="http://evil.example.org/post"><input name="p"></form>
<img src="data:image/svg+xml;base64,PHN2Zz48c2NyaXB0PmFsZXJ0KDEpPC9zY3JpcHQ+PC9zdmc+">
<style>body{display:none}</style><a href="http://ok.example.org/" style="position:fixed">fine</a></p>]]></description>
</item></channel></rss>"""

HTML_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><title>News</title>
<link rel="alternate" type="application/rss+xml" title="RSS" href="/feed/rss20">
</head><body><h1>Not a feed</h1><p>Welcome.</p></body></html>"""

JUNK_PREFIX = (b"<br />\n<b>Warning</b>:  Cannot modify header information in /var/www/feed.php on line 3<br />\n"
               + rss20(2))


def garbage(size: int = 4096, seed: int = 5) -> bytes:
    return random.Random(seed).randbytes(size)


def big_valid_feed(target_bytes: int = 9 * 1024 * 1024) -> bytes:
    """A valid RSS feed just under the default 10 MB limit, many items with long summaries."""
    filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 30
    parts = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Big</title>'
             "<link>http://big.example.org/</link>"]
    size = len(parts[0])
    n = 0
    while size < target_bytes - 4096:
        n += 1
        item = (f"<item><title>Big item {n}</title><link>http://big.example.org/{n}</link>"
                f"<description>&lt;p&gt;{filler}&lt;/p&gt;</description></item>")
        parts.append(item)
        size += len(item)
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def gzip_bytes(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def raw_deflate(data: bytes) -> bytes:
    """Deflate without the zlib header, as some servers send "deflate"."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


# --- the server -------------------------------------------------------------------------------------

Handler = Callable[["_RequestHandler"], None]
BIG_BYTES = 60 * 1024 * 1024
BOMB_BYTES = 10 * 1024 ** 3
DRIP_INTERVAL = 2.0


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[Recorded] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=dict)
    peak_in_flight: dict[str, int] = field(default_factory=dict)
    streamed: dict[str, int] = field(default_factory=dict)  # body bytes a finished stream got out, per path


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        route = parts.path
        state = self.server.state
        with state.lock:
            state.requests.append(Recorded(route, {k.lower(): v for k, v in self.headers.items()}))
            state.in_flight[route] = state.in_flight.get(route, 0) + 1
            state.peak_in_flight[route] = max(state.peak_in_flight.get(route, 0), state.in_flight[route])
        try:
            handler = ROUTES.get(route) or _prefix_route(route)
            if handler is None:
                self.reply(404, b"no such case", "text/plain")
            else:
                handler(self)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True  # the client hung up, as it should on hostile cases
        finally:
            with state.lock:
                state.in_flight[route] -= 1

    # helpers for routes
    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    def reply(self, status: int, body: bytes, content_type: str = "application/rss+xml",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def stream(self, chunks: Iterator[bytes], content_type: str = "application/rss+xml",
               headers: dict[str, str] | None = None, length: int | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.close_connection = True
        sent = 0
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
                self.wfile.flush()
                sent += len(chunk)
        finally:  # the client hung up (the write failed) or took it all: either way, say how much left
            state = self.server.state
            with state.lock:
                state.streamed[urlsplit(self.path).path] = sent

    def redirect(self, status: int, location: str) -> None:
        self.reply(status, b"", "text/plain", {"Location": location})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # hostile cases end with the client hanging up; that is the point, not an error


def _conditional(handler: _RequestHandler) -> None:
    if handler.headers.get("If-None-Match") == ETAG or handler.headers.get("If-Modified-Since") == LAST_MODIFIED:
        handler.send_response(304)
        handler.send_header("ETag", ETAG)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return
    handler.reply(200, rss20(3), headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED})


def _drip(handler: _RequestHandler) -> None:
    def bytes_slowly() -> Iterator[bytes]:
        for _ in range(30):  # stops by itself after a minute whatever the client does
            yield b"<"
            time.sleep(DRIP_INTERVAL)
    handler.stream(bytes_slowly(), length=1000)


def _drip_headers(handler: _RequestHandler) -> None:
    handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nX-Slow: ")
    handler.close_connection = True
    for _ in range(30):
        handler.wfile.write(b"a")
        handler.wfile.flush()
        time.sleep(DRIP_INTERVAL)


def _filler(total: int, chunk: int = 1024 * 1024) -> Iterator[bytes]:
    block = b"<" * chunk
    for _ in range(total // chunk):
        yield block


def _gzip_bomb(handler: _RequestHandler) -> None:
    def compressed_zeros() -> Iterator[bytes]:
        # 10 GB of zeros compressed while being sent (about 10 MB on the wire if anyone read it all).
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = bytes(1024 * 1024)
        for _ in range(BOMB_BYTES // len(zeros)):
            piece = compressor.compress(zeros)
            if piece:
                yield piece
        yield compressor.flush()
    handler.stream(compressed_zeros(), headers={"Content-Encoding": "gzip"})


def _slow(handler: _RequestHandler) -> None:
    time.sleep(int(handler.query.get("ms", ["300"])[0]) / 1000)
    handler.reply(200, rss20(1))


def _status(code: int, headers: dict[str, str] | None = None) -> Handler:
    return lambda h: h.reply(code, f"status {code}".encode(), "text/plain", headers)


def _retry_after_date(handler: _RequestHandler) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    handler.reply(429, b"slow down", "text/plain", {"Retry-After": when})


def _chain(handler: _RequestHandler) -> None:
    hops = int(urlsplit(handler.path).path.rsplit("/", 1)[-1])
    if hops <= 0:
        handler.reply(200, rss20(1))
    else:
        handler.redirect(302, f"/redirect/chain/{hops - 1}")


def _prefix_route(route: str) -> Handler | None:
    if route.startswith("/redirect/chain/"):
        return _chain
    return None


_BIG_VALID: list[bytes] = []


def _big_valid(handler: _RequestHandler) -> None:
    if not _BIG_VALID:
        _BIG_VALID.append(big_valid_feed())
    handler.reply(200, _BIG_VALID[0])


ROUTES: dict[str, Handler] = {
    # well-formed feeds
    "/feed/rss20": lambda h: h.reply(200, rss20(3)),
    "/feed/atom": lambda h: h.reply(200, ATOM, "application/atom+xml"),
    "/feed/rss10": lambda h: h.reply(200, RSS10, "application/rdf+xml"),
    "/feed/rss091": lambda h: h.reply(200, RSS091, "text/xml"),
    "/feed/conditional": _conditional,
    "/feed/gzip": lambda h: h.reply(200, gzip_bytes(rss20(3)), headers={"Content-Encoding": "gzip"}),
    "/feed/deflate": lambda h: h.reply(200, zlib.compress(rss20(3)), headers={"Content-Encoding": "deflate"}),
    "/feed/raw-deflate": lambda h: h.reply(200, raw_deflate(rss20(3)), headers={"Content-Encoding": "deflate"}),
    "/feed/brotli": lambda h: h.reply(200, b"\x8b\x00\x80", headers={"Content-Encoding": "br"}),
    "/feed/big-valid": _big_valid,
    "/slow": _slow,
    # HTTP failures
    "/status/404": _status(404),
    "/status/410": _status(410),
    "/status/500": _status(500),
    "/status/503": _status(503, {"Retry-After": "30"}),
    "/status/429": _status(429, {"Retry-After": "120"}),
    "/status/429-date": _retry_after_date,
    # redirects
    "/redirect/loop-a": lambda h: h.redirect(302, "/redirect/loop-b"),
    "/redirect/loop-b": lambda h: h.redirect(302, "/redirect/loop-a"),
    "/redirect/file": lambda h: h.redirect(302, "file:///etc/passwd"),
    "/redirect/metadata": lambda h: h.redirect(302, "http://169.254.169.254/latest/meta-data/"),
    "/redirect/moved": lambda h: h.redirect(301, "/feed/rss20"),
    "/redirect/relative": lambda h: h.redirect(307, "../feed/atom"),
    # slow, big, bombs
    "/drip": _drip,
    "/drip-headers": _drip_headers,
    "/big": lambda h: h.stream(_filler(BIG_BYTES), length=BIG_BYTES),
    "/big-chunked": lambda h: h.stream(_filler(BIG_BYTES)),
    "/gzip-bomb": _gzip_bomb,
    # not feeds
    "/html": lambda h: h.reply(200, HTML_PAGE, "text/html; charset=utf-8"),
    "/html-as-rss": lambda h: h.reply(200, HTML_PAGE, "application/rss+xml"),
    "/empty": lambda h: h.reply(200, b""),
    "/garbage": lambda h: h.reply(200, garbage(), "application/octet-stream"),
    "/json": lambda h: h.reply(200, b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
                               "application/feed+json"),
    "/path-body": lambda h: h.reply(200, b"/etc/passwd", "text/plain"),
    # XML attacks
    "/billion-laughs": lambda h: h.reply(200, BILLION_LAUGHS),
    "/xxe": lambda h: h.reply(200, xxe("/etc/passwd")),
    "/xxe-parameter": lambda h: h.reply(200, xxe_parameter(f"http://127.0.0.1:{h.server.server_port}/evil.dtd")),
    "/evil.dtd": lambda h: h.reply(200, b'<!ENTITY exfil SYSTEM "file:///etc/passwd">', "application/xml-dtd"),
    # charsets
    "/charset/cp1252-declared": lambda h: h.reply(200, french_feed("windows-1252"), "application/rss+xml"),
    "/charset/latin1-declared": lambda h: h.reply(200, french_feed("ISO-8859-1"), "application/rss+xml"),
    "/charset/cp1252-undeclared": lambda h: h.reply(200, french_feed(None), "application/rss+xml"),
    "/charset/header-only": lambda h: h.reply(200, french_feed(None), "text/xml; charset=ISO-8859-1"),
    "/charset/header-lies-utf8": lambda h: h.reply(200, french_feed(None), "text/xml; charset=utf-8"),
    "/charset/header-lies-latin1": lambda h: h.reply(200, french_feed_utf8(), "text/xml; charset=iso-8859-1"),
    "/charset/utf16": lambda h: h.reply(200, "\ufeff".encode("utf-16-le") + french_feed_utf8().decode()
                                        .encode("utf-16-le"), "application/rss+xml"),
    # broken but recoverable, and the rest of the zoo
    "/truncated": lambda h: h.reply(200, TRUNCATED),
    "/duplicates": lambda h: h.reply(200, DUPLICATES),
    "/relative": lambda h: h.reply(200, RELATIVE),
    "/xml-base": lambda h: h.reply(200, XML_BASE, "application/atom+xml"),
    "/hostile": lambda h: h.reply(200, HOSTILE),
    "/junk-prefix": lambda h: h.reply(200, JUNK_PREFIX),
}


class TortureServer:
    """The server on a free port of 127.0.0.1, in a daemon thread; ``url(path)`` builds addresses."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _RequestHandler)
        self._server.state = _State()
        self._thread = threading.Thread(target=self._server.serve_forever, name="torture-server", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_port

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> TortureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def requests_to(self, path: str) -> list[Recorded]:
        with self._server.state.lock:
            return [r for r in self._server.state.requests if r.path == path]

    def peak_in_flight(self, path: str) -> int:
        with self._server.state.lock:
            return self._server.state.peak_in_flight.get(path, 0)

    def streamed(self, path: str, timeout: float = 60) -> int:
        """How many body bytes the stream answering ``path`` got out (into the socket's buffers or to the
        client) before it ended, once it has ended: far less than the body when the client hung up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._server.state.lock:
                if path in self._server.state.streamed:
                    return self._server.state.streamed[path]
            time.sleep(0.02)
        raise AssertionError(f"the stream answering {path} did not end within {timeout} s")

    def reset(self) -> None:
        with self._server.state.lock:
            self._server.state.requests.clear()
            self._server.state.peak_in_flight.clear()
            self._server.state.streamed.clear()


@contextmanager
def running_server() -> Iterator[TortureServer]:
    server = TortureServer().start()
    try:
        yield server
    finally:
        server.stop()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
