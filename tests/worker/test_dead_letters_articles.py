"""Articles whose index stays unreachable: retried VIGIE_MAX_RETRIES times with backoff, then kept in
the dead-letter list, which `vigie dlq list` shows and `vigie dlq retry` replays into the index once
Elasticsearch answers again (the same worker, never restarted)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from celery import Celery
from elasticsearch import Elasticsearch

from index.store import ArticleStore
from tests.support.processes import Background, run_vigie, vigie_json, wait_until
from tests.support.tcp_gate import TcpGate
from tests.support.feeds import make_story
from tests.support.pipeline import count, feed_items, send
from conf.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture()
def es_gate(settings: Settings) -> Iterator[TcpGate]:
    target = urlsplit(settings.es_url)
    gate = TcpGate(target.hostname or "127.0.0.1", target.port or 9200)
    yield gate
    gate.close()


def test_articles_dead_lettered_after_max_retries_then_replayed_once_the_index_answers(
    env: dict[str, str], settings: Settings, es: Elasticsearch, app: Celery, es_gate: TcpGate,
    workers: Callable[..., Background],
) -> None:
    items = feed_items([make_story(n, prefix="dlq") for n in range(3)])
    ids = sorted(item.article_id for item in items)
    worker = workers(VIGIE_ES_URL=es_gate.url, VIGIE_MAX_RETRIES="2", VIGIE_RETRY_BACKOFF_MAX="1")
    send(app, items)

    def letters() -> list[dict]:  # type: ignore[type-arg]
        listed = vigie_json(["dlq", "list"], env)
        assert isinstance(listed, list)
        return listed

    assert wait_until(lambda: bool(letters()), timeout=90, interval=1), worker.output()[-4000:]
    (entry,) = letters()
    # The first try and VIGIE_MAX_RETRIES retries, then the whole batch is kept, with why.
    assert entry["error_kind"] == "index-unavailable" and entry["attempts"] == 3
    assert entry["task"] == "vigie.index_articles" and sorted(entry["article_ids"]) == ids
    assert es_gate.url in entry["error"] and "payload" not in entry
    assert worker.output().count("articles.deferred") == 2
    text = run_vigie(["dlq", "list"], env, check=True).stdout
    assert entry["entry_id"] in text and "index-unavailable  3 article(s) after 3 attempt(s)" in text
    assert all(article_id in text for article_id in ids)
    assert count(es, settings) == 0

    es_gate.open()  # Elasticsearch reachable again for the same worker
    replayed = vigie_json(["dlq", "retry", "--all"], env)
    assert replayed == {"replayed": [entry["entry_id"]], "articles": 3}
    assert wait_until(lambda: count(es, settings) == 3, timeout=60, interval=1), worker.output()[-4000:]
    assert letters() == []
    assert run_vigie(["dlq", "list"], env, check=True).stdout.strip() == "the dead-letter list is empty"
    store = ArticleStore(es, settings.index_prefix)
    for item in items:
        document = store.get(item.article_id)
        assert document is not None and document["title"] == item.title and document["language"] == "fr"
