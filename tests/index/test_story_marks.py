"""Marking an article's story on its document (index.stories.StoryStore.mark_articles), against the real
Elasticsearch: a transient refusal raises (the assignment is tried again), an article deleted meanwhile
is logged by id and the others are marked."""

from __future__ import annotations

import logging

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.errors import IndexUnavailable
from index.mappings import articles_alias
from index.store import ArticleStore
from index.stories import StoryStore
from tests.index.factories import analysed

pytestmark = pytest.mark.integration


def test_a_mark_refused_for_a_while_raises_and_a_missing_article_is_logged(
        es: Elasticsearch, settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    articles = ArticleStore(es, settings.index_prefix)
    index = articles.ensure_ready()
    articles.index_batch([analysed("m1", title="Storm Babet floods Scotland", text="Storm Babet flooded Brechin."),
                          analysed("m2", title="Budget vote", text="The council voted its budget.")], refresh=True)
    stories = StoryStore(es, settings.index_prefix)
    stories.ensure_ready()
    # The flood-stage block: Elasticsearch answers writes with 429 until it is lifted (transient).
    es.indices.put_settings(index=index, settings={"index.blocks.read_only_allow_delete": True})
    try:
        with pytest.raises(IndexUnavailable, match="m1"):
            stories.mark_articles({"m1": "s-storm"})
    finally:
        es.indices.put_settings(index=index, settings={"index.blocks.read_only_allow_delete": None})
    with caplog.at_level(logging.WARNING, logger="vigie.index"):
        stories.mark_articles({"m1": "s-storm", "gone": "s-storm", "m2": "s-budget"})
    refused = [record for record in caplog.records if record.getMessage() == "story.mark_refused"]
    assert [(record.article, record.status) for record in refused] == [("gone", 404)]  # type: ignore[attr-defined]
    articles.refresh()
    assert es.get(index=articles_alias(settings.index_prefix), id="m1")["_source"]["story_id"] == "s-storm"
    assert es.get(index=articles_alias(settings.index_prefix), id="m2")["_source"]["story_key"] == "s-budget"
