"""ingest.articles: one function from a feed item to the article analysed (content, else the page's
main text, else the summary with the reason), and the signature of the stored record."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conf.limits import FetchLimits
from ingest.articles import MIN_CONTENT_CHARS, analysed_article, article_for, needs_page
from ingest.fetch import Fetcher
from ingest.fingerprint import signature
from ingest.identity import article_id
from ingest.models import Analysis, FeedItem

PARAGRAPHS = [
    "Les négociations entre les deux délégations ont repris mardi matin dans la capitale, après trois "
    "semaines d'interruption marquées par des accusations réciproques de violations du cessez-le-feu.",
    "Selon plusieurs diplomates présents, le texte discuté prévoit un retrait progressif des forces "
    "stationnées le long de la ligne de démarcation ainsi que la réouverture de deux points de passage.",
    "Les organisations humanitaires réclament depuis des mois un accès sans entrave aux zones touchées, "
    "où des dizaines de milliers de personnes déplacées vivent dans des camps de fortune.",
    "Aucune date n'a été fixée pour la signature d'un éventuel accord, ont précisé les médiateurs, qui "
    "espèrent néanmoins parvenir à un compromis avant la fin du mois.",
]
ARTICLE_PAGE = (
    "<html><head><title>Reprise des négociations</title></head><body><nav>Accueil | Monde</nav>"
    "<article><h1>Reprise des négociations</h1>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    + "</article><footer>Tous droits réservés</footer></body></html>"
).encode()
FETCHED_AT = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


class _Handler(BaseHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).requests.append(self.path)
        if self.path == "/article":
            body, status = ARTICLE_PAGE, 200
        elif self.path == "/menu-only":
            body, status = b"<html><body><nav>Accueil</nav></body></html>", 200
        else:
            body, status = b"gone", 404
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(FetchLimits(user_agent="Vigie/0.1 (tests)", total_timeout=5.0)) as fetcher:
        yield fetcher


def item(url: str | None, *, summary: str = "<p>Les négociations reprennent.</p>",
         content: str | None = None) -> FeedItem:
    return FeedItem(article_id=article_id(None, url or "urn:item", "Reprise des négociations", None), feed_url="http://127.0.0.1/feed.xml",
                    url=url, title="Reprise des négociations", summary=summary, content=content)


def test_full_content_is_used_and_no_page_is_fetched(site: str, fetcher: Fetcher) -> None:
    content = "<p>" + " ".join(PARAGRAPHS) + "</p>"
    assert len(content) >= MIN_CONTENT_CHARS
    _Handler.requests.clear()
    article = article_for(item(f"{site}/article", content=content), fetcher, fetched_at=FETCHED_AT)
    assert article.text_source == "content" and article.body == content and article.is_html
    assert _Handler.requests == []


def test_a_teaser_is_not_full_content_and_the_page_text_is_extracted(site: str, fetcher: Fetcher) -> None:
    teaser = item(f"{site}/article", content="<p>Lire la suite…</p>")
    assert needs_page(teaser)
    article = article_for(teaser, fetcher, fetched_at=FETCHED_AT)
    assert article.text_source == "page" and not article.is_html and article.fetch_error is None
    assert PARAGRAPHS[1] in article.body and "Tous droits réservés" not in article.body
    assert article.fetched_at == FETCHED_AT and article.article_id == teaser.article_id


@pytest.mark.parametrize(("path", "reason"), [("/missing", "http-404: "),
                                              ("/menu-only", "no article text found in the page")])
def test_a_page_that_gives_nothing_falls_back_to_the_summary_with_the_reason(
        site: str, fetcher: Fetcher, path: str, reason: str) -> None:
    article = article_for(item(f"{site}{path}"), fetcher, fetched_at=FETCHED_AT)
    assert article.text_source == "summary" and article.body == "<p>Les négociations reprennent.</p>"
    assert article.fetch_error is not None and article.fetch_error.startswith(reason)


def test_without_a_fetcher_or_a_link_the_summary_is_used(site: str) -> None:
    _Handler.requests.clear()
    assert article_for(item(f"{site}/article"), None, fetched_at=FETCHED_AT).text_source == "summary"
    assert not needs_page(item(None))
    assert article_for(item(None), None, fetched_at=FETCHED_AT).fetch_error is None
    assert _Handler.requests == []


def test_the_stored_record_carries_the_signature_of_the_analysed_text() -> None:
    article = article_for(item(None), None, fetched_at=FETCHED_AT)
    analysis = Analysis(language="fr", language_confidence=0.99, title=article.title, text=" ".join(PARAGRAPHS),
                        entities=(), topics=())
    record = analysed_article(article, analysis)
    assert record.article is article and record.analysis is analysis
    assert record.signature == signature(analysis.text) and record.signature
