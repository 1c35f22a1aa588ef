"""VIGIE_FETCH_FULL_TEXT: with `false` the worker indexes an item that has a summary only as it is and
never asks for its page; with `true` it follows the link and indexes the page's text."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from celery import Celery
from elasticsearch import Elasticsearch

from index.store import ArticleStore
from ingest.models import FeedItem
from tests.support.feeds import PageServer
from tests.support.processes import Background
from tests.support.pipeline import send, wait_for_count
from conf.settings import Settings

pytestmark = pytest.mark.integration

PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Crue</title></head><body>
<nav>Accueil · Monde · Lire aussi : nos autres articles</nav>
<article><h1>La Loire en crue</h1>
<p>La Loire est sortie de son lit mardi à Orléans, où des centaines d'habitants ont été évacués par les
pompiers. La préfecture a déclenché l'alerte rouge pour les inondations dans trois départements.</p>
<p>Les pluies diluviennes de la semaine ont saturé les sols, selon Météo-France, qui prévoit une décrue
lente à partir de jeudi. Le ministre de l'Intérieur s'est rendu sur place.</p></article>
<footer>Partager sur Facebook · Twitter</footer></body></html>"""
SUMMARY = "<p>La Loire est sortie de son lit à Orléans, selon le résumé du flux.</p>"


@pytest.fixture()
def pages() -> Iterator[PageServer]:
    server = PageServer({"/crue.html": PAGE})
    yield server
    server.close()


def _item(pages: PageServer) -> FeedItem:
    return FeedItem(article_id="crue", feed_url=pages.url("/feed.xml"), url=pages.url("/crue.html"),
                    title="La Loire en crue", summary=SUMMARY)


PAGE_WORDS, SUMMARY_WORDS = "Météo-France", "selon le résumé du flux"


@pytest.mark.parametrize(("full_text", "page_requests", "source", "present", "absent"), [
    ("false", 0, "summary", SUMMARY_WORDS, PAGE_WORDS),
    ("true", 1, "page", PAGE_WORDS, SUMMARY_WORDS),
], ids=["off", "on"])
def test_a_summary_only_item_is_followed_to_its_page_only_when_full_text_is_on(
    full_text: str, page_requests: int, source: str, present: str, absent: str, app: Celery, settings: Settings,
    es: Elasticsearch, pages: PageServer, workers: Callable[..., Background],
) -> None:
    workers(VIGIE_FETCH_FULL_TEXT=full_text)
    send(app, [_item(pages)])
    # The page is fetched (or not) before the article is written: once it is indexed, the count is final.
    assert wait_for_count(es, settings, 1, timeout=120) == 1
    document = ArticleStore(es, settings.index_prefix).get("crue")
    assert document is not None
    assert pages.requests["/crue.html"] == page_requests
    assert document["text_source"] == source and document["fetch_error"] is None
    assert present in document["text"] and absent not in document["text"]
