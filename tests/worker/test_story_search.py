"""Candidate stories from the index kept in Redis (worker.story_search), with the real Redis and
Elasticsearch: the same stories as searching Elasticsearch on a stream of events and look-alikes; the
index rebuilt when Redis lost it; what a holder wrote and never recorded (killed in between) caught up
by the next holder; an article whose window reaches before what the index keeps searched in
Elasticsearch."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.stories import StoryStore
from ingest.models import AnalyzedArticle
from ingest.stories import story_id_for
from tests.index.factories import analysed, person, place
from tests.worker.story_articles import T0, budget, quake
from worker import story_assignment
from worker.runtime import Runtime
from worker.story_search import candidate_index
from worker.story_tasks import assign_stories

pytestmark = pytest.mark.integration


def index_and_assign(rt: Runtime, items: list[AnalyzedArticle]) -> list[str]:
    outcome = rt.store.index_batch(items, refresh=True)
    return [assignment.story_id for assignment in assign_stories(rt, items, outcome.documents)]


@pytest.fixture()
def searches(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The articles each search of Elasticsearch for candidates was made for."""
    made: list[list[str]] = []
    search = StoryStore.candidate_ids

    def counted(self: StoryStore, articles, window_hours, **kwargs):  # type: ignore[no-untyped-def]
        if articles:
            made.append([item.article_id for item in articles])
        return search(self, articles, window_hours, **kwargs)

    monkeypatch.setattr(StoryStore, "candidate_ids", counted)
    return made


_EVENTS = {
    # event: (names, words by language, a figure)
    "noto": (("Noto", "Ishikawa", "Wajima"), {"en": "earthquake magnitude tsunami warning building collapse",
                                              "fr": "séisme magnitude alerte tsunami immeuble effondrer",
                                              "de": "erdbeben stärke tsunamiwarnung gebäude einsturz"}, "7.4"),
    "hualien": (("Hualien", "Taiwan", "Taroko"), {"en": "earthquake magnitude landslide tunnel rescue",
                                                  "fr": "séisme magnitude glissement tunnel secours",
                                                  "de": "erdbeben stärke erdrutsch tunnel rettung"}, "6.1"),
    "idlib": (("Idlib", "Recep Tayyip Erdogan", "Vladimir Putin"), {
        "en": "ceasefire talks refugee border offensive", "fr": "cessez-le-feu négociation réfugié frontière offensive",
        "es": "alto el fuego negociación refugiado frontera ofensiva"}, "3"),
    "gaza": (("Gaza", "Doha", "Rafah"), {"en": "ceasefire hostage truce aid crossing",
                                        "fr": "cessez-le-feu otage trêve aide passage",
                                        "es": "alto el fuego rehén tregua ayuda paso"}, "42"),
    "brest": (("Brest", "Finistère", "Ciarán"), {"fr": "tempête rafale vent coupure électricité",
                                                "en": "storm gust wind power cut", "de": "sturm böe wind stromausfall"},
              "180"),
}
_OUTLETS = ("wire", "daily", "radio", "weekly")


def stream() -> list[AnalyzedArticle]:
    """Five events (two earthquakes, two ceasefires, a storm), each told by four outlets in two or three
    languages over a day and a half, interleaved in time; with one local story told once."""
    items: list[tuple[float, AnalyzedArticle]] = []
    for number, (event, (names, words, figure)) in enumerate(_EVENTS.items()):
        languages = list(words)
        for outlet_number, outlet in enumerate(_OUTLETS):
            language = languages[outlet_number % len(languages)]
            hours = number * 3 + outlet_number * 9.5
            vocabulary = words[language].split()
            lemmas = " ".join(vocabulary[outlet_number % 2:] + [f"{outlet}{event}", figure] + vocabulary[:2])
            entities = tuple(person(name) if " " in name else place(name) for name in names[:2 + outlet_number % 2])
            items.append((hours, analysed(
                f"{event}-{outlet}", title=f"{names[0]}: {' '.join(vocabulary[:3])} ({outlet})",
                text=f"{' '.join(names)} {' '.join(vocabulary)} {figure} {outlet} {event}.", lemmas=lemmas,
                language=language, entities=entities, url=f"https://{outlet}-{language}.example/{event}",
                published=T0 + timedelta(hours=hours))))
    items.append((20.0, budget("budget-once", 20.0)))
    return [item for _, item in sorted(items, key=lambda pair: (pair[0], pair[1].article.article_id))]


def assign_stream(rt: Runtime) -> dict[str, str]:
    items = stream()
    stories: dict[str, str] = {}
    for start in range(0, len(items), 4):
        batch = items[start:start + 4]
        stories.update(zip([item.article.article_id for item in batch], index_and_assign(rt, batch)))
    return stories


def test_the_index_in_redis_makes_the_stories_a_search_of_elasticsearch_makes(
        settings: Settings, es: Elasticsearch, redis_client: redis.Redis, searches: list[list[str]]) -> None:
    with_index = assign_stream(Runtime(settings))
    assert searches == []  # every candidate came from Redis
    redis_client.flushdb()  # the document frequencies too: the second stream starts as the first did
    off = settings.model_copy(update={"story_candidate_index": False, "index_prefix": f"{settings.index_prefix}-off"})
    searched = assign_stream(Runtime(off))
    assert searches  # the same stream, searched in Elasticsearch
    assert not list(redis_client.scan_iter("vigie:stories:ix:*"))  # and nothing written to the index
    assert with_index == searched
    # and right: each event one story, the look-alikes (two earthquakes, two ceasefires) apart
    events = {event: {with_index[f"{event}-{outlet}"] for outlet in _OUTLETS} for event in _EVENTS}
    assert all(len(stories) == 1 for stories in events.values())
    assert len(set().union(*events.values())) == len(_EVENTS) and len(with_index) == 21


def test_the_index_is_built_again_from_elasticsearch_when_redis_lost_it(
        settings: Settings, es: Elasticsearch, searches: list[list[str]]) -> None:
    rt = Runtime(settings)
    first = index_and_assign(rt, [quake("q-en", "en"), budget("b1", 0.5)])
    index = candidate_index(rt)
    assert index is not None and index.size() == 2 and index.upto() is not None
    index.clear()  # Redis restarted without its data (or from a snapshot older than the stories)
    assert index.upto() is None
    assert index_and_assign(rt, [quake("q-fr", "fr", 1)]) == [first[0]]
    assert index.size() == 2 and index.upto() is not None
    assert searches == []  # built before the batch looked for candidates: no search of Elasticsearch


def test_what_a_holder_wrote_and_did_not_record_is_caught_up_by_the_next_holder(
        settings: Settings, es: Elasticsearch, monkeypatch: pytest.MonkeyPatch) -> None:
    first = Runtime(settings)
    index_and_assign(first, [budget("b1")])  # the index is built and marked
    # The holder writes a story to Elasticsearch and is killed before recording it in the index.
    with monkeypatch.context() as patched:
        patched.setattr(story_assignment, "record_written", lambda *args, **kwargs: None)
        [founded] = index_and_assign(first, [quake("q-en", "en")])
    index = candidate_index(first)
    assert index is not None and index.story_keys(founded) is None
    # Another assigner takes the lock over: it reads what was written since the index's mark.
    second = Runtime(settings)
    assert index_and_assign(second, [quake("q-fr", "fr", 1)]) == [founded]
    assert index.story_keys(founded) is not None


def test_an_article_whose_window_reaches_before_what_the_index_keeps_is_searched_in_elasticsearch(
        settings: Settings, es: Elasticsearch, searches: list[list[str]]) -> None:
    rt = Runtime(settings)
    [noto] = index_and_assign(rt, [quake("q-en", "en")])
    # A story ten days later: the index keeps two windows (72 h each) before its latest story.
    index_and_assign(rt, [budget("b-later", 240)])
    index = candidate_index(rt)
    assert index is not None and index.story_keys(noto) is None
    assert searches == []
    # A late article of the earthquake, dated an hour after the first: found through Elasticsearch.
    assert index_and_assign(rt, [quake("q-fr", "fr", 1)]) == [noto]
    assert searches == [["q-fr"]]
    assert story_id_for("q-en") == noto
