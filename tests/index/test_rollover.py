"""Rollover without ILM against the real Elasticsearch: the articles alias over several backing indices,
one document per article id across all of them, reads across all of them, retention, the migration
of a single-index installation, and `vigie index rollover` / `vigie index status` as a person types them."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import redis
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.errors import IndexUnavailable
from index.mappings import ARTICLES_VERSION, articles_alias, articles_index
from index.migrate import current_index, migrate
from index.rollover import RolloverPolicy, alias_members, backing_indices, delete_expired, next_index_name, rollover
from index.search import SearchFilters, SearchRequest, search
from index.stories import StoryStore
from index.store import ArticleStore
from tests.index.factories import analysed, person
from tests.support.processes import run_vigie, vigie_json
from worker.retention import RetentionSweep, roll_and_expire

pytestmark = pytest.mark.integration


@pytest.fixture()
def store(es: Elasticsearch, settings: Settings) -> ArticleStore:
    store = ArticleStore(es, settings.index_prefix)
    store.ensure_ready()
    return store


def _ids_by_index(es: Elasticsearch, prefix: str) -> dict[str, list[str]]:
    es.indices.refresh(index=articles_alias(prefix))
    hits = es.search(index=articles_alias(prefix), size=1000, source=False, query={"match_all": {}})["hits"]["hits"]
    found: dict[str, list[str]] = {}
    for hit in hits:
        found.setdefault(hit["_id"], []).append(hit["_index"])
    return found


def test_next_index_names() -> None:
    assert next_index_name("vigie-articles-v2") == "vigie-articles-v2-000002"
    assert next_index_name("vigie-articles-v2-000002") == "vigie-articles-v2-000003"
    assert next_index_name("news-articles-v10-000099") == "news-articles-v10-000100"


def test_rewritten_article_stays_in_its_backing_index_and_reads_span_all(
        es: Elasticsearch, settings: Settings, store: ArticleStore) -> None:
    prefix = settings.index_prefix
    first = store.ensure_ready()
    store.index_batch([analysed(f"old-{i}", title=f"Ancien {i}", entities=(person("Erdogan"),)) for i in range(5)])
    # Not refreshed on purpose: the rollover must still find these ids in the old index.
    result = rollover(es, prefix, RolloverPolicy(), force=True)
    assert result is not None and result.rolled_over and result.old_index == first
    assert result.new_index == f"{first}-000002"
    members, write = alias_members(es, prefix)
    assert members == sorted([first, f"{first}-000002"]) and write == f"{first}-000002"
    assert store.ensure_ready() == write

    # A redelivery right after the rollover (no refresh in between) and a new article in one batch.
    outcome = store.index_batch([analysed("old-2", title="Ancien 2, corrigé"), analysed("new-1", title="Nouveau")])
    assert (outcome.created, outcome.updated) == (1, 1)
    where = _ids_by_index(es, prefix)
    assert where["old-2"] == [first] and where["new-1"] == [write]
    assert all(len(indices) == 1 for indices in where.values()) and len(where) == 6

    # Reads through the alias: get, search, count, delete, and the story mark (an update by id).
    stored = store.get("old-2")
    assert stored is not None and stored["title"] == "Ancien 2, corrigé"
    assert store.get("new-1") is not None and store.get("missing") is None
    # The multi-get asks every backing index: each id found once, in whichever index holds it.
    many = store.get_many(["old-2", "new-1", "missing", "old-0", "old-2"])
    assert sorted(many) == ["new-1", "old-0", "old-2"] and many["old-2"]["title"] == "Ancien 2, corrigé"
    assert store.count() == 6
    page = search(es, prefix, SearchRequest(query="Ancien", filters=SearchFilters(), limit=50, collapse=False))
    assert page.total == 5
    StoryStore(es, prefix).mark_articles({"old-3": "story-x", "new-1": "story-y"})
    es.indices.refresh(index=articles_alias(prefix))
    assert store.get("old-3")["story_id"] == "story-x" and store.get("new-1")["story_id"] == "story-y"
    assert _ids_by_index(es, prefix)["old-3"] == [first]
    assert store.delete("old-4") and store.count() == 5


def test_conditions_roll_once_and_retention_keeps_the_write_index(
        es: Elasticsearch, settings: Settings, store: ArticleStore) -> None:
    prefix = settings.index_prefix
    policy = RolloverPolicy(max_docs=5)
    store.index_batch([analysed(f"a-{i}") for i in range(4)], refresh=True)
    early = rollover(es, prefix, policy)
    assert early is not None and not early.rolled_over and early.conditions == {"[max_docs: 5]": False}
    store.index_batch([analysed(f"b-{i}") for i in range(3)], refresh=True)
    rolled = rollover(es, prefix, policy)
    assert rolled is not None and rolled.rolled_over
    again = rollover(es, prefix, policy)  # the new write index is empty: nothing to do
    assert again is not None and not again.rolled_over
    assert len(alias_members(es, prefix)[0]) == 2

    indices = backing_indices(es, prefix)
    assert [(i.documents, i.is_write_index) for i in indices] == [(7, False), (0, True)]
    assert indices[0].rolled_at == indices[1].created and indices[1].rolled_at is None
    now = datetime.now(timezone.utc)
    assert delete_expired(es, prefix, days=1, now=now) == []  # rolled over seconds ago
    assert delete_expired(es, prefix, days=1, now=now + timedelta(days=2)) == [indices[0].name]
    assert alias_members(es, prefix) == ([indices[1].name], indices[1].name)
    assert store.count() == 0
    # With only the write index left, nothing more is ever deleted.
    assert delete_expired(es, prefix, days=1, now=now + timedelta(days=30)) == []


def test_scheduler_check_rolls_past_max_docs(es: Elasticsearch, settings: Settings, store: ArticleStore) -> None:
    store.index_batch([analysed(f"a-{i}") for i in range(3)], refresh=True)
    checked = settings.model_copy(update={"rollover_max_docs": 3})
    result, deleted = roll_and_expire(checked, es, datetime.now(timezone.utc))
    assert result is not None and result.rolled_over and deleted == []
    unset = settings.model_copy(update={"rollover_max_docs": None})
    assert roll_and_expire(unset, es, datetime.now(timezone.utc)) == (None, [])


def test_single_index_installation_is_migrated_to_the_alias_layout(
        es: Elasticsearch, settings: Settings, env: dict[str, str]) -> None:
    prefix = settings.index_prefix
    old = articles_index(prefix, 0)
    # An installation from before rollover: its alias does not say which index is written.
    es.indices.create(index=old, mappings={"dynamic": True, "properties": {"title": {"type": "text"}}},
                      settings={"number_of_replicas": 0}, aliases={articles_alias(prefix): {}})
    es.index(index=old, id="kept", document={"title": "Ancien article"}, refresh=True)

    rolled = vigie_json(["index", "rollover", "--force"], env)
    assert rolled == {"rolled_over": True, "old_index": old, "new_index": f"{old}-000002",
                      "conditions": {}, "deleted": []}
    text = run_vigie(["index", "rollover"], env, check=True).stdout
    assert "no rollover condition is set" in text
    status = vigie_json(["index", "status"], env)
    assert {key: status[key] for key in ("alias", "index", "documents", "up_to_date")} == {
        "alias": articles_alias(prefix), "index": f"{old}-000002", "documents": 1, "up_to_date": False}
    assert [(b["index"], b["documents"], b["write_index"]) for b in status["backing"]] == [
        (old, 1, False), (f"{old}-000002", 0, True)]
    assert status["rollover"] == {} and status["retention_days"] is None
    shown = run_vigie(["index", "status"], env, check=True).stdout
    assert f"{old}-000002" in shown and "(write index)" in shown and "keep everything" in shown

    by_docs = vigie_json(["index", "rollover"], {**env, "VIGIE_ROLLOVER_MAX_DOCS": "1"})
    assert by_docs["rolled_over"] is False and by_docs["conditions"] == {"[max_docs: 1]": False}

    # `vigie index migrate` moves every backing index into one index of the code's version.
    es.index(index=articles_alias(prefix), id="newer", document={"title": "Nouvel article"}, refresh=True)
    report = migrate(es, prefix)
    assert report is not None and report.source == f"{old},{old}-000002"
    assert report.target == articles_index(prefix, ARTICLES_VERSION) and report.documents == 2
    assert alias_members(es, prefix) == ([report.target], report.target)
    assert current_index(es, prefix) == report.target
    assert migrate(es, prefix) is None
    # Rolled generations of the code's version need no migration either.
    rollover(es, prefix, RolloverPolicy(), force=True)
    assert migrate(es, prefix) is None


def test_the_scheduler_tick_checks_rollover_every_period(
        es: Elasticsearch, settings: Settings, store: ArticleStore, redis_client: redis.Redis) -> None:
    store.index_batch([analysed(f"a-{i}") for i in range(2)], refresh=True)
    checked = settings.model_copy(update={"rollover_max_docs": 2, "rollover_check_seconds": 60.0})
    sweep = RetentionSweep(checked, redis_client, es_factory=lambda: es)
    now = time.time()
    sweep.tick(now)
    assert len(alias_members(es, settings.index_prefix)[0]) == 2
    store.index_batch([analysed(f"b-{i}") for i in range(2)], refresh=True)
    sweep.tick(now + 30)  # within the period: not checked again
    assert len(alias_members(es, settings.index_prefix)[0]) == 2
    sweep.tick(now + 61)
    assert len(alias_members(es, settings.index_prefix)[0]) == 3


def test_a_rollover_by_another_process_is_caught_by_the_write_paths_cached_layout(
        es: Elasticsearch, settings: Settings, store: ArticleStore) -> None:
    """The write path reads the alias's layout once for a while (index.rollover.CachedLayout); another
    process rolling the alias over meanwhile must not make it copy an article into the new write index:
    the next batch's new articles land in the new write index, its re-deliveries stay where they were."""
    prefix = settings.index_prefix
    first = store.ensure_ready()
    store.layout.seconds = 3600  # the store trusts what it read for the whole test: every batch sees it stale
    store.index_batch([analysed(f"old-{i}", title=f"Ancien {i}") for i in range(4)])
    other = ArticleStore(es, prefix)  # another worker process, with its own layout
    second = rollover(es, prefix, RolloverPolicy(), force=True).new_index  # type: ignore[union-attr]
    other.index_batch([analysed("new-0", title="Nouveau 0")])
    assert store.layout.current().members == (first,)  # stale: one index

    outcome = store.index_batch([analysed("old-1", title="Ancien 1, corrigé"), analysed("new-0", title="Nouveau 0, bis"),
                                 analysed("new-1", title="Nouveau 1")])
    assert (outcome.created, outcome.updated) == (1, 2) and len(outcome.indexed) == 3
    assert _ids_by_index(es, prefix) == {**{f"old-{i}": [first] for i in range(4)},
                                         "new-0": [second], "new-1": [second]}
    assert store.get("old-1")["title"] == "Ancien 1, corrigé"  # type: ignore[index]

    # Stale again, now with two indices: rolled over a second time by the other process.
    assert store.layout.current().members == tuple(sorted([first, second]))
    third = rollover(es, prefix, RolloverPolicy(), force=True).new_index  # type: ignore[union-attr]
    other.index_batch([analysed("new-2", title="Nouveau 2")])
    outcome = store.index_batch([analysed("new-0", title="Nouveau 0, ter"), analysed("new-2", title="Nouveau 2, bis"),
                                 analysed("old-2", title="Ancien 2, corrigé"), analysed("new-3", title="Nouveau 3")])
    assert (outcome.created, outcome.updated) == (1, 3)
    assert _ids_by_index(es, prefix) == {**{f"old-{i}": [first] for i in range(4)}, "new-0": [second],
                                         "new-1": [second], "new-2": [third], "new-3": [third]}
    assert store.get("new-0")["title"] == "Nouveau 0, ter"  # type: ignore[index]
    assert store.count() == 8


def test_a_put_back_cut_short_by_an_outage_leaves_one_document_once_the_batch_is_retried(
        es: Elasticsearch, settings: Settings, store: ArticleStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """The write path's stale layout sends a re-delivery into the new write index; Elasticsearch fails
    before the article is put back where it lived, so the task is retried: the retry writes the article
    where it lived and deletes the stray copy, one document per article id (two before)."""
    import index.store

    prefix = settings.index_prefix
    first = store.ensure_ready()
    store.layout.seconds = 3600  # stale for the whole test
    store.index_batch([analysed(f"old-{i}", title=f"Ancien {i}") for i in range(2)])
    second = rollover(es, prefix, RolloverPolicy(), force=True).new_index  # type: ignore[union-attr]
    real = index.store.earlier_copies

    def outage(*args: object, **kwargs: object) -> dict[str, str]:
        raise IndexUnavailable("Elasticsearch went away between the bulk write and the put-back")

    monkeypatch.setattr(index.store, "earlier_copies", outage)
    with pytest.raises(IndexUnavailable):
        store.index_batch([analysed("old-1", title="Ancien 1, corrigé")])
    assert sorted(_ids_by_index(es, prefix)["old-1"]) == sorted([first, second])  # the stray copy the outage left

    monkeypatch.setattr(index.store, "earlier_copies", real)
    outcome = store.index_batch([analysed("old-1", title="Ancien 1, corrigé"), analysed("new-0", title="Nouveau 0")])
    assert (outcome.created, outcome.updated, outcome.retry) == (1, 1, ())
    assert _ids_by_index(es, prefix) == {"old-0": [first], "old-1": [first], "new-0": [second]}
    assert store.get("old-1")["title"] == "Ancien 1, corrigé"  # type: ignore[index]
    # An article with no stray copy: its deletes find nothing (404) and change nothing.
    outcome = store.index_batch([analysed("old-0", title="Ancien 0, corrigé")])
    assert (outcome.created, outcome.updated, outcome.retry, outcome.rejected) == (0, 1, (), ())
    assert _ids_by_index(es, prefix) == {"old-0": [first], "old-1": [first], "new-0": [second]}
