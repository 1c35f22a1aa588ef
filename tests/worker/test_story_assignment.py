"""Story assignment after indexing, with the real Redis and Elasticsearch: records, redelivery, the race
of two workers on the first two articles of an event, near duplicates and merges."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from elasticsearch import Elasticsearch

from index.stories import StoryStore
from index.store import ArticleStore
from ingest.models import AnalyzedArticle
from ingest.stories import features_of, story_id_for
from tests.index.factories import analysed, person, place
from tests.worker.story_articles import T0, budget, quake
from conf.settings import Settings
from worker.runtime import Runtime
from worker.story_memory import recent_stories
from worker.story_tasks import assign_stories


def index_and_assign(rt: Runtime, items: list[AnalyzedArticle]) -> list[str]:
    outcome = rt.store.index_batch(items, refresh=True)
    assignments = assign_stories(rt, items, outcome.documents)
    return [assignment.story_id for assignment in assignments]


def test_an_event_in_two_languages_is_one_story_with_its_record(settings: Settings, es: Elasticsearch) -> None:
    rt = Runtime(settings)
    stories = index_and_assign(rt, [quake("q-en", "en"), budget("b1", 0.5), quake("q-fr", "fr", 1)])
    assert stories[0] == stories[2] == story_id_for("q-en") and stories[1] != stories[0]
    store = StoryStore(rt.es, settings.index_prefix)
    record = store.get(stories[0])
    assert record is not None
    assert record.size == 2 and record.languages == ("en", "fr")
    assert record.headline == "Magnitude 7.4 earthquake strikes Noto peninsula"
    assert set(record.sources) == {"en-outlet-q-en.example", "fr-outlet-q-fr.example"}
    assert "noto" in record.top_entities and record.top_topics == ("disasters",)
    assert record.first_seen == T0 and record.last_seen == T0 + timedelta(hours=1)
    assert sum(record.hours.values()) == 2
    rt.store.refresh()
    assert rt.store.get("q-fr")["story_id"] == stories[0]  # type: ignore[index]
    store.refresh()  # listings are searches: they see the stories after a refresh (every STORIES_REFRESH_SECONDS)
    assert [member["article_id"] for member in store.members_of(stories[0])] == ["q-en", "q-fr"]


def test_a_redelivered_article_keeps_one_membership(settings: Settings, es: Elasticsearch) -> None:
    rt = Runtime(settings)
    first = index_and_assign(rt, [quake("q-en", "en"), quake("q-fr", "fr", 1)])
    again = index_and_assign(rt, [quake("q-fr", "fr", 1)])  # delivered again: indexed again, assigned again
    assert again == [first[1]]
    record = StoryStore(rt.es, settings.index_prefix).get(first[0])
    assert record is not None and record.size == 2
    rt.store.refresh()
    assert rt.store.get("q-fr")["story_id"] == first[0]  # type: ignore[index]


def test_two_workers_on_the_first_two_articles_of_an_event_make_one_story(settings: Settings,
                                                                           es: Elasticsearch) -> None:
    # Two runtimes: two sets of clients, as two worker processes have. Both start assigning at once.
    first, second = Runtime(settings), Runtime(settings)
    store = StoryStore(first.es, settings.index_prefix)
    store.ensure_ready()
    rounds = 5
    for round_ in range(rounds):
        # Each round is a new event ten days after the last, out of the window of the ones before.
        items = [quake(f"q-en-{round_}", "en", hours=240 * round_), quake(f"q-fr-{round_}", "fr", hours=240 * round_)]
        outcomes = [first.store.index_batch([items[0]], refresh=True),
                    second.store.index_batch([items[1]], refresh=True)]
        barrier = threading.Barrier(2)
        results: dict[int, list[str]] = {}

        def run(slot: int, rt: Runtime, item: AnalyzedArticle, documents: dict) -> None:
            barrier.wait()
            results[slot] = [a.story_id for a in assign_stories(rt, [item], documents)]

        threads = [threading.Thread(target=run, args=(0, first, items[0], outcomes[0].documents)),
                   threading.Thread(target=run, args=(1, second, items[1], outcomes[1].documents))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert results[0] == results[1] and len(results[0]) == 1, (round_, results)
    store.refresh()
    assert [record.size for record in store.list()] == [2] * rounds


def test_a_wire_copy_joins_its_original_story(settings: Settings, es: Elasticsearch) -> None:
    rt = Runtime(settings)
    original = quake("q-en", "en")
    index_and_assign(rt, [original, budget("b1", 0.5)])
    # A copy with other words (a rewritten headline, say) but the same near-duplicate cluster.
    copy = replace(budget("copy", 1), signature="")
    outcome = rt.store.index_batch([copy], refresh=True)
    documents = {"copy": replace(outcome.documents["copy"], cluster_id="q-en")}
    [assignment] = assign_stories(rt, [copy], documents)
    assert assignment.reason == "near-duplicate" and assignment.story_id == story_id_for("q-en")


def converging() -> tuple[AnalyzedArticle, AnalyzedArticle, AnalyzedArticle]:
    """Two articles of two stories, then one that tells both (the stories converge)."""
    left = analysed("l1", title="Quake hits Noto", text="A strong quake hit Noto overnight with magnitude 7.4.",
                    lemmas="strong quake hit noto overnight magnitude", language="en", published=T0)
    right = analysed("r1", title="Tsunami warning in Wajima", text="A tsunami warning was issued for Wajima.",
                     lemmas="tsunami warning issue wajima", language="en", published=T0 + timedelta(hours=1))
    bridge = analysed("b1", title="Quake and tsunami warning", text="The quake hit Noto with magnitude 7.4 "
                      "and a tsunami warning was issued for Wajima.",
                      lemmas="quake hit noto magnitude tsunami warning issue wajima strong overnight",
                      language="en", published=T0 + timedelta(hours=2))
    return left, right, bridge


def test_converging_stories_are_merged_and_the_merge_is_visible(settings: Settings, es: Elasticsearch) -> None:
    rt = Runtime(settings.model_copy(update={"story_threshold": 0.3, "story_merge_threshold": 0.3}))
    left, right, bridge = converging()
    first = index_and_assign(rt, [left])
    second = index_and_assign(rt, [right])
    assert first != second
    [merged] = index_and_assign(rt, [bridge])
    store = StoryStore(rt.es, settings.index_prefix)
    absorbed = ({first[0], second[0]} - {merged}).pop()
    survivor, gone = store.get(merged), store.get(absorbed)
    assert survivor is not None and gone is not None
    assert survivor.size == 3 and gone.merged_into == merged
    assert [merge["absorbed"] for merge in survivor.merges] == [absorbed]
    assert store.memberships(["l1", "r1", "b1"]) == {"l1": merged, "r1": merged, "b1": merged}
    store.refresh()
    assert [record.story_id for record in store.list()] == [merged]
    ArticleStore(rt.es, settings.index_prefix).refresh()
    assert {rt.store.get(a)["story_id"] for a in ("l1", "r1", "b1")} == {merged}  # type: ignore[index]


def test_stories_that_converge_within_one_batch_are_merged_without_writing_the_absorbed_one(
        settings: Settings, es: Elasticsearch) -> None:
    # Found on the bench of many living stories (bench/story_candidates.py): a story founded and merged
    # away in the same batch was never written, and its merge mark (an update) failed the whole batch.
    rt = Runtime(settings.model_copy(update={"story_threshold": 0.3, "story_merge_threshold": 0.3}))
    left, right, bridge = converging()
    stories = index_and_assign(rt, [left, right, bridge])
    merged = stories[2]
    store = StoryStore(rt.es, settings.index_prefix)
    survivor = store.get(merged)
    assert survivor is not None and survivor.size == 3
    absorbed = ({story_id_for("l1"), story_id_for("r1")} - {merged}).pop()
    assert [merge["absorbed"] for merge in survivor.merges] == [absorbed]  # the merge stays visible
    assert store.get(absorbed) is None  # founded and merged away in one batch: never written
    assert store.memberships(["l1", "r1", "b1"]) == {"l1": merged, "r1": merged, "b1": merged}
    ArticleStore(rt.es, settings.index_prefix).refresh()
    assert {rt.store.get(a)["story_id"] for a in ("l1", "r1", "b1")} == {merged}  # type: ignore[index]
    assert index_and_assign(rt, [left, right, bridge]) == [merged] * 3  # redelivered: the same story


def test_stories_not_yet_searchable_are_still_found_by_their_writer_and_after_a_handoff(
        settings: Settings, es: Elasticsearch) -> None:
    # No periodic refresh at all: a story written is readable by id, never searchable until refreshed.
    first, second = Runtime(settings), Runtime(settings)
    store = StoryStore(first.es, settings.index_prefix)
    store.ensure_ready()
    es.indices.put_settings(index=f"{store.index},{store.members}", settings={"index": {"refresh_interval": "-1"}})
    recent_stories(first).seconds = 3600  # never searchable here: remembered however slow the machine is
    # One assigner, batch after batch (the single story consumer): it remembers what it wrote.
    [alone] = index_and_assign(first, [quake("q-en", "en")])
    [joined] = index_and_assign(first, [quake("q-fr", "fr", 1)])
    assert joined == alone == story_id_for("q-en")
    assert es.count(index=store.index)["count"] == 0  # nothing was made searchable on the way
    # Another assigner takes the lock next: it refreshes first, so it finds the story too.
    [third] = index_and_assign(second, [quake("q-en2", "en", 2)])
    assert third == alone
    # And the first, after that handoff, reads the story as the second left it (size 3, not 2).
    [fourth] = index_and_assign(first, [quake("q-fr2", "fr", 3)])
    record = store.get(alone)
    assert fourth == alone and record is not None and record.size == 4


def test_a_wire_copy_is_written_with_its_original_story_and_not_indexed_again(settings: Settings,
                                                                               es: Elasticsearch) -> None:
    from ingest.fingerprint import signature

    rt = Runtime(settings)
    wire = signature(" ".join(f"paragraph{i % 97} word{i}" for i in range(400)))
    [story] = index_and_assign(rt, [quake("q-en", "en", signature=wire)])
    copy = quake("q-copy", "en", 0.5, signature=wire)
    outcome = rt.store.index_batch([copy], refresh=True, with_stories=True)
    assert outcome.documents["q-copy"].cluster_id == "q-en" and outcome.stories == {"q-copy": story}
    assert rt.store.get("q-copy")["story_id"] == story  # type: ignore[index]  # searchable with it at once
    [assignment] = assign_stories(rt, [copy], outcome.documents, stored=outcome.stories)
    assert (assignment.reason, assignment.story_id) == ("near-duplicate", story)
    alias = f"{settings.index_prefix}-articles"
    assert es.get(index=alias, id="q-copy")["_version"] == 1  # not re-indexed to mark its story
    # A copy said to be written with a story it does not end in (its original's merged away meanwhile,
    # say) is marked: here written without one, and said to have another.
    late = quake("q-late", "en", 0.7, signature=wire)
    outcome = rt.store.index_batch([late], refresh=True)
    assert "story_id" not in rt.store.get("q-late")  # type: ignore[operator]
    [assignment] = assign_stories(rt, [late], outcome.documents, stored={"q-late": "s-merged-away"})
    assert assignment.story_id == story
    assert es.get(index=alias, id="q-late")["_version"] == 2
    assert rt.store.get("q-late")["story_id"] == story  # type: ignore[index]
    # Stories off (the default): a copy is written without a story, as before.
    plain = rt.store.index_batch([quake("q-plain", "en", 0.8, signature=wire)], refresh=True)
    assert plain.stories == {} and "story_id" not in rt.store.get("q-plain")  # type: ignore[operator]


def test_an_original_is_written_with_the_story_it_founds_and_marked_only_when_it_joins_another(
        settings: Settings, es: Elasticsearch) -> None:
    from ingest.fingerprint import signature

    rt = Runtime(settings)
    alias = f"{settings.index_prefix}-articles"
    wire = signature(" ".join(f"paragraph{i % 97} word{i}" for i in range(400)))
    # An original, a copy of it in the same batch, and an unrelated article: each written with the
    # story it will found (the copy with its original's), none indexed again once assigned.
    batch = [quake("q-en", "en", signature=wire), quake("q-copy", "en", 0.2, signature=wire), budget("b1", 0.5)]
    outcome = rt.store.index_batch(batch, refresh=True, with_stories=True)
    assert outcome.stories == {"q-en": story_id_for("q-en"), "q-copy": story_id_for("q-en"),
                               "b1": story_id_for("b1")}
    assert rt.store.get("q-en")["story_key"] == story_id_for("q-en")  # type: ignore[index]  # collapses with its copy
    # The alerts of the indexing task still see no story (per-story alerts wait for the consumer).
    assert all(document.story_id is None for document in outcome.documents.values())
    assignments = assign_stories(rt, batch, outcome.documents, stored=outcome.stories)
    assert [(a.reason, a.story_id) for a in assignments] == [
        ("new", story_id_for("q-en")), ("near-duplicate", story_id_for("q-en")), ("new", story_id_for("b1"))]
    assert [es.get(index=alias, id=article_id)["_version"] for article_id in ("q-en", "q-copy", "b1")] == [1, 1, 1]
    # An original that joins an existing story, written without a guess, was expected to found its
    # own: it is marked, once.
    joiner = quake("q-fr", "fr", 1)
    outcome = rt.store.index_batch([joiner], refresh=True, with_stories=True)
    assert outcome.stories == {"q-fr": story_id_for("q-fr")}
    [assignment] = assign_stories(rt, [joiner], outcome.documents, stored=outcome.stories)
    assert assignment.story_id == story_id_for("q-en")
    rt.store.refresh()
    assert es.get(index=alias, id="q-fr")["_version"] == 2
    assert rt.store.get("q-fr")["story_id"] == rt.store.get("q-fr")["story_key"] == story_id_for("q-en")  # type: ignore[index]
    # Delivered again, it is written with the story of its membership and not marked again; its
    # membership stays one.
    outcome = rt.store.index_batch([joiner], refresh=True, with_stories=True)
    assert outcome.stories == {"q-fr": story_id_for("q-en")}
    [again] = assign_stories(rt, [joiner], outcome.documents, stored=outcome.stories)
    assert (again.reason, again.story_id) == ("already", story_id_for("q-en"))
    rt.store.refresh()
    assert es.get(index=alias, id="q-fr")["_version"] == 3  # the redelivery's write, no mark after it
    assert rt.store.get("q-fr")["story_id"] == story_id_for("q-en")  # type: ignore[index]
    store = StoryStore(rt.es, settings.index_prefix)
    store.refresh()
    assert [m["article_id"] for m in store.members_of(story_id_for("q-en"))] == ["q-en", "q-copy", "q-fr"]


def test_the_indexing_task_guesses_the_story_an_original_joins_and_the_consumer_need_not_mark_it(
        settings: Settings, es: Elasticsearch, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from worker import story_assignment
    from worker.story_guess import guess_stories, index_articles_with_stories
    from worker.story_tasks import assign_queued

    rt = Runtime(settings)
    alias = f"{settings.index_prefix}-articles"
    store = StoryStore(rt.es, settings.index_prefix)
    index_and_assign(rt, [quake("q-en", "en"), budget("b1", 0.5)])
    store.refresh()  # the stories searchable, as a second after the consumer wrote them
    # Two originals joining the quake (one in each language), one joining the budget, a new event,
    # and a second article of that event in the same batch: each guessed as the consumer decides it.
    batch = [quake("q-fr", "fr", 1), quake("q-en2", "en", 1.5), budget("b2", 0.7),
             analysed("f1", title="Wildfire near Patras forces evacuations",
                      text="A wildfire near Patras forced the evacuation of three villages, firefighters said.",
                      lemmas="wildfire patras force evacuation village firefighter", language="en",
                      entities=(place("Patras"),), url="https://a.example/f1", published=T0 + timedelta(hours=1)),
             analysed("f2", title="Patras wildfire: villages evacuated",
                      text="Firefighters evacuated villages as a wildfire spread near Patras.",
                      lemmas="patras wildfire village evacuate firefighter wildfire spread", language="en",
                      entities=(place("Patras"),), url="https://b.example/f2", published=T0 + timedelta(hours=1.2))]
    outcome, guess = index_articles_with_stories(rt, batch)
    assert guess is not None
    assert outcome.stories == {"q-fr": story_id_for("q-en"), "q-en2": story_id_for("q-en"),
                               "b2": story_id_for("b1"), "f1": story_id_for("f1"), "f2": story_id_for("f1")}
    assert guess.candidates["q-fr"] == [story_id_for("q-en")] and guess.candidates["f1"] == []
    # The consumer takes the guess's candidates instead of searching again (they are fresh): neither
    # the candidate index nor Elasticsearch is asked.
    searches: list[list[str]] = []
    search = story_assignment.search_candidates
    monkeypatch.setattr(story_assignment, "search_candidates", lambda rt_, store_, items, window, **kw: (
        searches.append([item.article_id for item in items]), search(rt_, store_, items, window, **kw))[1])
    features = [features_of(item, outcome.documents[item.article.article_id].cluster_id or "") for item in batch]
    searched = {article_id: (guess.searched_at, ids) for article_id, ids in guess.candidates.items()}
    assignments = assign_queued(rt, features, stored=outcome.stories, searched=searched)
    assert {a.article_id: a.story_id for a in assignments} == outcome.stories
    assert [ids for ids in searches if ids] == []
    rt.store.refresh()
    assert [es.get(index=alias, id=item.article.article_id)["_version"] for item in batch] == [1] * 5
    assert rt.store.get("q-fr")["story_key"] == story_id_for("q-en")  # type: ignore[index]
    # Candidates searched too long ago are searched again (a story written since may be in neither).
    stale = quake("q-stale", "en", 2)
    assign_queued(rt, [features_of(stale)], searched={"q-stale": (time.time() - 60, [])})
    assert searches[-1] == ["q-stale"]
    # So are candidates searched before this assigner took the lock over from another (which may have
    # written a story since, in neither the search nor this assigner's memory).
    searched_then = time.time()
    rt.redis.set("vigie:stories:holder", "another-assigner")
    handed = quake("q-handed", "en", 2.5)
    assign_queued(rt, [features_of(handed)], searched={"q-handed": (searched_then, [])})
    assert searches[-1] == ["q-handed"]
    fresh = quake("q-fresh", "en", 2.6)
    assign_queued(rt, [features_of(fresh)], searched={"q-fresh": (time.time(), [story_id_for("q-en")])})
    assert [ids for ids in searches if ids][-1] == ["q-handed"]  # searched after the handover: taken
    # The guess reads and writes nothing the consumer owns: no membership, no frequency counted.
    documents_counted = rt.redis.get("vigie:stories:documents")
    assert guess_stories(rt, [features_of(quake("q-es", "en", 2))]).stories == {"q-es": story_id_for("q-en")}
    assert rt.redis.get("vigie:stories:documents") == documents_counted
    assert "q-es" not in store.memberships(["q-es"])

    # A guess that fails leaves the expectation as without it: indexing goes on.
    def broken(originals: object) -> dict[str, str]:
        raise RuntimeError("guess broken")

    late = quake("q-late", "en", 3)
    outcome = rt.store.index_batch([late], refresh=True, with_stories=True, guess=broken)
    assert outcome.indexed == ("q-late",) and outcome.stories == {"q-late": story_id_for("q-late")}


def test_a_copy_in_the_batch_of_its_original_joins_it_and_one_without_a_story_is_compared(
        settings: Settings, es: Elasticsearch) -> None:
    rt = Runtime(settings)
    original, budget_copy = quake("q-en", "en"), budget("b-copy", 0.2)
    outcome = rt.store.index_batch([original, budget_copy, quake("q-fr", "fr", 1)], refresh=True)
    documents = dict(outcome.documents)
    # b-copy: a copy of q-en by its cluster (other words); q-fr: a copy of an article that has no story.
    documents["b-copy"] = replace(documents["b-copy"], cluster_id="q-en")
    documents["q-fr"] = replace(documents["q-fr"], cluster_id="never-assigned")
    assignments = assign_stories(rt, [original, budget_copy, quake("q-fr", "fr", 1)], documents)
    assert [a.reason for a in assignments] == ["new", "near-duplicate", "similar"]
    assert {a.story_id for a in assignments} == {story_id_for("q-en")}


def test_document_frequencies_are_read_once_per_holder_and_stay_those_of_every_article(
        settings: Settings, es: Elasticsearch) -> None:
    import redis

    from ingest.stories import Frequencies, features_of
    from worker.story_memory import DF_KEY, DOCUMENTS_KEY

    first, second = Runtime(settings), Runtime(settings)
    asked: list[str] = []
    hmget = first.redis.hmget

    def counted_hmget(name: str, keys: list[str]) -> list[object]:
        asked.extend(keys)
        return hmget(name, keys)

    first.redis.hmget = counted_hmget  # type: ignore[method-assign]
    names = {"fr": "Poutine", "en": "Putin"}
    batches = [[quake(f"q-{n}-{language}", language, n), replace_text(budget(f"b-{n}", n), language, names)]
               for n, language in enumerate(["en", "en", "fr", "en"])]
    seen: list[AnalyzedArticle] = []
    for number, batch in enumerate(batches[:2]):
        asked.clear()
        index_and_assign(first, batch)
        # The same holder batch after batch: Redis is asked only for keys it never read.
        assert not set(asked) & {key for item in seen for key in frequency_keys(item)}, number
        seen += batch
    # Another assigner writes a batch (a handoff): the first forgets what it knew and reads again
    # (the second's counts are in Redis only).
    index_and_assign(second, batches[2])
    seen += batches[2]
    asked.clear()
    index_and_assign(first, batches[3])
    assert set(frequency_keys(batches[3][0])) <= set(asked)
    seen += batches[3]
    # Redis holds the frequencies of every article, non-ASCII keys included (the counts go as JSON).
    expected = Frequencies()
    for item in seen:
        expected.add(features_of(item))
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    assert int(client.get(DOCUMENTS_KEY) or 0) == expected.documents == len(seen)
    assert {key: int(value) for key, value in client.hgetall(DF_KEY).items()} == dict(expected.counts)
    assert any(not key.isascii() for key in expected.counts)


def frequency_keys(item: AnalyzedArticle) -> list[str]:
    from ingest.stories import features_of

    features = features_of(item)
    return [*features.terms, *(f"name:{name}" for name in features.names)]


def replace_text(item: AnalyzedArticle, language: str, names: dict[str, str]) -> AnalyzedArticle:
    """``item`` in ``language`` about ``names[language]`` (a key with an accent or not)."""
    lemmas = f"{item.analysis.lemmas} réunion {names[language].lower()}"
    analysis = replace(item.analysis, language=language, lemmas=lemmas, entities=(person(names[language]),))
    return replace(item, analysis=analysis)


def test_the_holder_reads_from_elasticsearch_only_the_stories_it_has_not_seen_and_keeps_them_as_written(
        settings: Settings, es: Elasticsearch) -> None:
    from worker.story_memory import story_store

    first, second = Runtime(settings), Runtime(settings)
    store = story_store(first)
    read: list[str] = []
    drafts = store.drafts

    def counted_drafts(story_ids: list[str]):  # type: ignore[no-untyped-def]
        read.extend(story_ids)
        return drafts(story_ids)

    store.drafts = counted_drafts  # type: ignore[method-assign]
    names = {"fr": "Poutine", "en": "Putin"}
    batches = [[quake(f"k-{n}-{language}", language, n), replace_text(budget(f"kb-{n}", n), language, names)]
               for n, language in enumerate(["en", "fr", "en", "fr"])]
    index_and_assign(first, batches[0])
    known = set(recent_stories(first).drafts)
    assert known  # the stories it wrote
    read.clear()
    index_and_assign(first, batches[1])
    # The same holder: the stories it wrote are candidates again, and none is read from Elasticsearch.
    assert not set(read) & known
    kept = recent_stories(first).drafts
    # What it keeps is what Elasticsearch holds.
    assert StoryStore(es, settings.index_prefix).drafts(sorted(kept)) == kept
    # Another assigner writes a batch (a handoff): the first forgets and reads its candidates again.
    index_and_assign(second, batches[2])
    read.clear()
    index_and_assign(first, batches[3])
    assert set(read) & known
