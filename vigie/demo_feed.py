"""The demo feed `vigie up` serves on 127.0.0.1: one RSS item, the sample French wire story.

The item carries a summary only and links to an article page, so the demo exercises the whole path a
real feed takes: poll, queue, fetch the page, extract, analyse, index.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from email.utils import format_datetime
from datetime import datetime, timezone
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

SAMPLE = "erdogan-poutine-idleb.fr.txt"
ARTICLE_PATH = "/articles/erdogan-poutine-idleb.html"
FEED_PATH = "/feed.xml"
PUBLISHED = datetime(2020, 3, 3, 9, 30, tzinfo=timezone.utc)


#: The wire's own headline: short, as an editor writes it, not the story's first sentence.
HEADLINE = "Syrie : Erdogan attendu jeudi à Moscou pour parler d'Idleb avec Poutine"


@dataclass(frozen=True)
class DemoStory:
    title: str
    summary: str
    paragraphs: tuple[str, ...]

    @property
    def lead(self) -> str:
        """The story's first sentence (what many feeds put in <title> when they have no headline)."""
        return self.paragraphs[0].split(". ")[0].rstrip(".") + "."


def demo_story() -> DemoStory:
    """The sample with its headline, a summary (its first two sentences) and paragraphs."""
    text = resources.files("vigie").joinpath("data", SAMPLE).read_text(encoding="utf-8").strip()
    sentences = [part.strip() + "." for part in text.split(". ") if part.strip()]
    sentences[-1] = sentences[-1].rstrip(".") + "."
    paragraphs = tuple(" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4))
    return DemoStory(title=HEADLINE, summary=" ".join(sentences[:2]), paragraphs=paragraphs)


def feed_xml(base_url: str, story: DemoStory) -> bytes:
    link = base_url + ARTICLE_PATH
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
  <channel>
    <title>Vigie demo wire</title>
    <link>{escape(base_url)}/</link>
    <description>A local demo feed served by `vigie up`.</description>
    <language>fr</language>
    <item>
      <title>{escape(story.title)}</title>
      <link>{escape(link)}</link>
      <guid isPermaLink="false">urn:vigie:demo:erdogan-poutine-idleb</guid>
      <pubDate>{format_datetime(PUBLISHED)}</pubDate>
      <description>{escape(story.summary)}</description>
    </item>
  </channel>
</rss>
""".encode("utf-8")


def article_html(story: DemoStory) -> bytes:
    body = "\n".join(f"      <p>{escape(paragraph)}</p>" for paragraph in story.paragraphs)
    return f"""<!doctype html>
<html lang="fr">
  <head><meta charset="utf-8"><title>{escape(story.title)}</title></head>
  <body>
    <nav><a href="/">Accueil</a> · <a href="/monde">Monde</a></nav>
    <article>
      <h1>{escape(story.title)}</h1>
{body}
    </article>
    <footer>Vigie demo wire — a local page served by `vigie up`.</footer>
  </body>
</html>
""".encode("utf-8")


class DemoFeedServer:
    """A threaded HTTP server on 127.0.0.1 serving the demo feed and its article page."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        story = demo_story()
        server_holder: dict[str, str] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                base = server_holder["base"]
                if self.path == FEED_PATH:
                    self._send(feed_xml(base, story), "application/rss+xml; charset=utf-8")
                elif self.path == ARTICLE_PATH:
                    self._send(article_html(story), "text/html; charset=utf-8")
                else:
                    self.send_error(404)

            def _send(self, body: bytes, content_type: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # the poller logs what it fetched

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://{host}:{self.httpd.server_address[1]}"
        server_holder["base"] = self.base_url
        self.feed_url = self.base_url + FEED_PATH
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="demo-feed", daemon=True)

    def start(self) -> DemoFeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
