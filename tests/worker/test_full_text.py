"""Items with a summary only: the worker fetches the article page, or indexes the summary, marked so."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from celery import Celery
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.store import ArticleStore
from ingest.models import FeedItem
from tests.support.processes import Background
from tests.support.feeds import FeedServer
from tests.support.pipeline import send, wait_for_count

pytestmark = pytest.mark.integration

PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Crue</title></head><body>
<nav>Accueil · Monde · Lire aussi : nos autres articles</nav>
<article><h1>La Loire en crue</h1>
<p>La Loire est sortie de son lit mardi à Orléans, où des centaines d'habitants ont été évacués par les
pompiers. La préfecture a déclenché l'alerte rouge pour les inondations dans trois départements.</p>
<p>Les pluies diluviennes de la semaine ont saturé les sols, selon Météo-France, qui prévoit une décrue
lente à partir de jeudi. Le ministre de l'Intérieur s'est rendu sur place.</p></article>
<footer>Partager sur Facebook · Twitter</footer></body></html>"""


def test_page_fetched_when_the_feed_has_a_summary_only_and_summary_kept_when_it_fails(
    app: Celery, settings: Settings, es: Elasticsearch, feed_server: FeedServer, workers: Callable[..., Background],
) -> None:
    feed = f"{feed_server.base_url}/feed/crue.xml"
    fetched = FeedItem(article_id="crue", feed_url=feed, url=feed_server.page("crue.html", PAGE),
                       title="La Loire en crue", summary="<p>La Loire est sortie de son lit.</p>")
    missing = FeedItem(article_id="gone", feed_url=feed, url=f"{feed_server.base_url}/pages/gone.html",
                       title="Un article disparu", summary="<p>Le résumé seul reste : la Loire déborde à Tours.</p>")
    send(app, [fetched, missing])
    workers()
    assert wait_for_count(es, settings, 2, timeout=120) == 2
    store = ArticleStore(es, settings.index_prefix)
    page = store.get("crue")
    assert page is not None and page["text_source"] == "page" and page["fetch_error"] is None
    assert "Météo-France" in page["text"] and "Partager sur Facebook" not in page["text"]
    assert "natural-disaster" in page["topic_names"]
    summary = store.get("gone")
    assert summary is not None and summary["text_source"] == "summary"
    assert summary["fetch_error"].startswith("http-404")
    assert "la Loire déborde à Tours" in summary["text"]
