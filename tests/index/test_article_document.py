"""The indexed article as a typed record: the bulk body it writes and the record read back from it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

from index.article_document import ArticleDocument, article_document
from tests.index.factories import analysed, person, place, topic

INDEXED_AT = datetime(2026, 11, 21, 9, 30, tzinfo=timezone.utc)


def _document() -> ArticleDocument:
    item = analysed("ankara", title="Erdogan à Ankara", text="Erdogan reçoit à Ankara.",
                    entities=(person("Erdogan"), place("Ankara")), topics=(topic("diplomacy", 0.75),),
                    signature="00ff00ff00ff00ff")
    return article_document(item, INDEXED_AT, cluster_id="wire")


def test_the_bulk_body_is_plain_json_and_reads_back_as_the_same_record() -> None:
    document = _document()
    body = document.to_dict()
    source = json.loads(json.dumps(body))  # what Elasticsearch keeps as _source
    assert source == body
    assert ArticleDocument.from_source(source) == document
    assert body["entities"]["person"][0]["text"] == "Erdogan" and body["entities"]["location"][0]["key"] == "ankara"
    assert body["topics"] == [{"name": "diplomacy", "score": 0.75, "evidence": ["diplomacy"], "iptc": "", "iptc_top": "",
                              "parent": None}]
    assert (body["cluster_id"], body["story_key"], body["indexed_at"]) == ("wire", "wire", INDEXED_AT.isoformat())


def test_the_story_is_written_only_once_assigned() -> None:
    document = _document()
    assert "story_id" not in document.to_dict()  # as before typing: no story_id field until assignment
    assigned = replace(document, story_id="s-1", story_key="s-1")
    body = assigned.to_dict()
    assert (body["story_id"], body["story_key"]) == ("s-1", "s-1")
    assert ArticleDocument.from_source(body) == assigned


def test_a_document_of_an_older_version_reads_back_with_defaults() -> None:
    old = ArticleDocument.from_source({"article_id": "old", "title": "Ancien", "text": "Un texte."})
    assert (old.article_id, old.language, old.entity_list, old.topics, old.story_id) == ("old", "und", (), (), None)
