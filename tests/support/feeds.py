"""A local web server for tests: RSS feeds, article pages and any other document, on 127.0.0.1, counting
the requests it answers per path (the one helper module for local feeds and pages)."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORDS = (
    "gouvernement accord frontière réfugiés ministre négociations armée région conseil sécurité "
    "président sommet économie élection parlement crise aide humanitaire ville habitants pluie "
    "entreprise marché énergie gaz électricité hôpital école police justice tribunal enquête"
).split()


@dataclass(frozen=True)
class Story:
    guid: str
    title: str
    text: str
    published: datetime

    def content_html(self) -> str:
        return "".join(f"<p>{escape(paragraph)}</p>" for paragraph in self.text.split("\n\n"))


def make_story(number: int, words: int = 120, prefix: str = "story") -> Story:
    """A French-looking article with a unique title and text (deterministic)."""
    seed = int(hashlib.sha256(f"{prefix}-{number}".encode()).hexdigest(), 16)
    chosen = [WORDS[(seed >> (i % 200)) % len(WORDS) if i % 7 else (seed + i) % len(WORDS)] for i in range(words)]
    sentences = [" ".join(chosen[i : i + 12]).capitalize() + "." for i in range(0, len(chosen), 12)]
    text = f"Dépêche numéro {number} de {prefix}. " + " ".join(sentences)
    paragraphs = "\n\n".join(text[i : i + 400] for i in range(0, len(text), 400))
    return Story(guid=f"urn:test:{prefix}:{number}", title=f"Article {number} de {prefix}", text=paragraphs,
                 published=datetime(2026, 11, 1, tzinfo=timezone.utc) + timedelta(minutes=number))


def rss(stories: list[Story], base: str, title: str = "Test") -> bytes:
    items = "".join(
        f"<item><title>{escape(s.title)}</title><link>{base}/page/{escape(s.guid)}</link>"
        f"<guid isPermaLink=\"false\">{escape(s.guid)}</guid><pubDate>{format_datetime(s.published)}</pubDate>"
        f"<description>{escape(s.text[:200])}</description>"
        f"<content:encoded><![CDATA[{s.content_html()}]]></content:encoded></item>"
        for s in stories
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>{escape(title)}</title>'
            f"<link>{base}/</link><description>t</description>{items}</channel></rss>").encode("utf-8")


class FeedServer:
    """Feeds at /feed/<name>.xml (each answers 304 when its ETag has not changed), article pages at
    /pages/<name> (404 for a page never published) and any document at any path (``serve``)."""

    def __init__(self) -> None:
        self.feeds: dict[str, list[Story]] = {}
        self.requests: Counter[str] = Counter()
        self.pages: dict[str, str] = {}
        self.documents: dict[str, tuple[str, bytes]] = {}  # path -> (content type, body)
        self.titles: dict[str, str] = {}  # feed name -> its channel title (default "Test")
        self.first_served: dict[str, float] = {}  # guid → when a feed response first carried it
        lock = threading.Lock()
        self._lock = lock
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                with lock:
                    server.requests[self.path] += 1
                    document = server.documents.get(self.path)
                    name = self.path.removeprefix("/feed/").removesuffix(".xml")
                    stories = list(server.feeds.get(name, [])) if self.path.startswith("/feed/") else None
                    title = server.titles.get(name, "Test")
                    page = server.pages.get(self.path.removeprefix("/pages/")) if self.path.startswith("/pages/") else None
                if document is not None:
                    page_type, body = document
                elif page is not None:
                    page_type, body = "text/html; charset=utf-8", page.encode()
                if document is not None or page is not None:
                    self.send_response(200)
                    self.send_header("Content-Type", page_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if stories is None:
                    self.send_error(404)
                    return
                body = rss(stories, server.base_url, title)
                etag = '"' + hashlib.sha1(body).hexdigest() + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                now = time.monotonic()
                with lock:
                    for story in stories:
                        server.first_served.setdefault(story.guid, now)
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def publish(self, name: str, stories: list[Story], title: str | None = None) -> str:
        with self._lock:
            self.feeds[name] = stories
            if title is not None:
                self.titles[name] = title
        return f"{self.base_url}/feed/{name}.xml"

    def page(self, name: str, html: str) -> str:
        """Serve ``html`` as an article page; its URL."""
        with self._lock:
            self.pages[name] = html
        return f"{self.base_url}/pages/{name}"

    def serve(self, path: str, body: str | bytes, content_type: str = "text/html; charset=utf-8") -> str:
        """Serve ``body`` at ``path`` (which starts with "/"); its URL."""
        with self._lock:
            self.documents[path] = (content_type, body.encode("utf-8") if isinstance(body, str) else body)
        return self.url(path)

    def url(self, path: str) -> str:
        return self.base_url + path

    def append(self, name: str, story: Story, keep: int = 50) -> None:
        """Add a story at the top of a feed, which keeps its ``keep`` newest items (as real feeds do)."""
        with self._lock:
            self.feeds[name] = [story, *self.feeds.get(name, [])][:keep]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class PageServer(FeedServer):
    """A FeedServer started with HTML pages at the given paths (path -> HTML)."""

    def __init__(self, pages: dict[str, str]) -> None:
        super().__init__()
        for path, html in pages.items():
            self.serve(path, html)


def closed_port_url(path: str = "/feed.xml") -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused): a dead feed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
