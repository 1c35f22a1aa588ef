"""The candidate index of stories in the real Redis (state.story_candidates): not ready until a mark is
written; ranks by shared names (the rarest first), figures and words; keeps each article's window;
follows a story's keys as they change; drops merged stories; sweeps the stories last seen long before
the latest, and leaves to Elasticsearch an article whose window reaches before them."""

from __future__ import annotations

import pytest
import redis

from state import story_candidates
from state.story_candidates import CandidateQuery, IndexedStory, StoryCandidateIndex

pytestmark = pytest.mark.integration

DAY = 86400.0
T0 = 1_793_000_000.0  # 2026-10-26, in epoch seconds: the index follows the stories' times, not the clock
NOW = T0 + 40 * DAY


def story(story_id: str, names: list[str], terms: list[str] = [], numbers: list[str] = [],  # noqa: B006 - read only
          *, first: float = T0, last: float | None = None) -> IndexedStory:
    return IndexedStory(story_id, first, last if last is not None else first, tuple(names), tuple(terms),
                        tuple(numbers))


def query(names: list[str], terms: list[str] = [], numbers: list[str] = [], *,  # noqa: B006 - read only
          at: float = T0 + 3600, window: float = 3 * DAY) -> CandidateQuery:
    return CandidateQuery(tuple(names), tuple(terms), tuple(numbers), at - window, at + window)


def fresh(redis_client: redis.Redis) -> StoryCandidateIndex:
    return StoryCandidateIndex(redis_client, "test-candidates")


def test_not_ready_until_a_batch_is_recorded_with_its_mark(redis_client: redis.Redis) -> None:
    index = fresh(redis_client)
    assert index.candidates([query(["idlib"])], 12) is None
    index.record([story("s1", ["idlib"])], [], upto=None, span=6 * DAY, now=NOW)
    assert index.candidates([query(["idlib"])], 12) is None  # recorded, but no mark: a build under way
    index.record([], [], upto=T0 + 10, span=6 * DAY, now=NOW)
    assert index.upto() == T0 + 10
    assert index.candidates([query(["idlib"]), query(["patras"])], 12) == [["s1"], []]
    assert index.candidates([], 12) == []


def test_the_rarest_shared_names_rank_first_then_figures_then_words(redis_client: redis.Redis) -> None:
    index = fresh(redis_client)
    # 30 stories share a common name (a capital) and a word with the article; one shares two rare
    # names; one shares a figure only; one a word only; the article's own story is written first.
    busy = [story(f"s-other-{number:02d}", ["paris", f"minister {number}"], ["fr:gouvernement"])
            for number in range(30)]
    own = story("s-idleb", ["idleb", "vladimir poutine", "paris"], ["fr:cessez-le-feu"])
    figure = story("s-figure", ["berlin"], [], ["3.5"])
    word = story("s-word", ["madrid"], ["fr:frontière"])
    index.record([own, *busy, figure, word], [], upto=T0, span=6 * DAY, now=NOW)
    [found] = index.candidates([query(["idleb", "vladimir poutine", "paris"],
                                      ["fr:cessez-le-feu", "fr:gouvernement", "fr:frontière"], ["3.5"])], 12)
    assert found[0] == "s-idleb"
    assert len(found) == 12
    [found] = index.candidates([query(["lyon"], ["fr:frontière"], ["3.5"])], 12)
    assert found == ["s-figure", "s-word"]  # a rare figure counts more than a word


def test_ties_go_to_the_story_seen_last_then_by_id(redis_client: redis.Redis) -> None:
    index = fresh(redis_client)
    index.record([story("s-b", ["noto"], last=T0 + 60), story("s-a", ["noto"], last=T0 + 60),
                  story("s-c", ["noto"], last=T0 + 120)], [], upto=T0, span=6 * DAY, now=NOW)
    assert index.candidates([query(["noto"])], 12) == [["s-c", "s-a", "s-b"]]
    assert index.candidates([query(["noto"])], 2) == [["s-c", "s-a"]]


def test_an_article_meets_only_the_stories_of_its_window(redis_client: redis.Redis) -> None:
    index = fresh(redis_client)
    index.record([story("s-old", ["idlib"], first=T0 - 10 * DAY, last=T0 - 4 * DAY),
                  story("s-now", ["idlib"], first=T0 - DAY, last=T0),
                  story("s-later", ["idlib"], first=T0 + 5 * DAY, last=T0 + 5 * DAY)],
                 [], upto=T0, span=30 * DAY, now=NOW)
    assert index.candidates([query(["idlib"], at=T0)], 12) == [["s-now"]]


def test_a_story_written_again_is_found_by_its_new_keys_only(redis_client: redis.Redis) -> None:
    index = fresh(redis_client)
    index.record([story("s1", ["idlib", "ankara"], ["fr:trêve"])], [], upto=T0, span=6 * DAY, now=NOW)
    index.record([story("s1", ["idlib", "sotchi"], ["fr:réfugié"], last=T0 + 60)], [], upto=T0 + 60,
                 span=6 * DAY, now=NOW)
    assert index.candidates([query(["ankara"], ["fr:trêve"]), query(["sotchi"]), query([], ["fr:réfugié"])],
                            12) == [[], ["s1"], ["s1"]]
    assert index.story_keys("s1") == {"n": ["idlib", "sotchi"], "t": ["fr:réfugié"], "f": []}
    assert not redis_client.exists(index.namespace + "n:ankara")  # an emptied set is gone


def test_a_story_merged_away_leaves_the_index(redis_client: redis.Redis) -> None:
    index = fresh(redis_client)
    index.record([story("s1", ["idlib"]), story("s2", ["idlib", "sotchi"])], [], upto=T0, span=6 * DAY, now=NOW)
    index.record([story("s1", ["idlib", "sotchi"], last=T0 + 60)], ["s2"], upto=T0 + 60, span=6 * DAY, now=NOW)
    assert index.candidates([query(["sotchi"])], 12) == [["s1"]]
    assert index.story_keys("s2") is None and index.size() == 1


def test_stories_seen_long_before_the_latest_are_swept_and_older_windows_left_to_elasticsearch(
        redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(story_candidates, "SWEEP_MAX", 3)
    index = fresh(redis_client)
    index.record([story(f"s-old-{number}", ["idlib"], last=T0 + number) for number in range(5)], [],
                 upto=T0, span=6 * DAY, now=NOW)
    assert index.swept() == T0 + 4 - 6 * DAY and index.size() == 5
    # A story seen 7 days later: the others are more than 6 days older than it, swept 3 a record.
    index.record([story("s-new", ["idlib"], first=T0 + 7 * DAY)], [], upto=T0 + 7 * DAY, span=6 * DAY, now=NOW)
    assert index.swept() == T0 + DAY and index.size() == 3
    index.record([], [], upto=T0 + 7 * DAY, span=6 * DAY, now=NOW)
    assert index.size() == 1
    assert index.candidates([query(["idlib"], at=T0 + 7 * DAY), query(["idlib"], at=T0 + 2 * DAY)], 12) \
        == [["s-new"], None]  # the second article's window reaches before what the index holds


def test_an_article_dated_in_the_future_does_not_sweep_the_present(redis_client: redis.Redis) -> None:
    index = fresh(redis_client)
    index.record([story("s-now", ["idlib"], first=NOW - 60), story("s-2030", ["idlib"], first=NOW + 1000 * DAY)],
                 [], upto=NOW, span=6 * DAY, now=NOW)
    assert index.size() == 2 and index.swept() == NOW - 6 * DAY


def test_a_word_or_a_figure_held_by_too_many_stories_is_not_looked_at(redis_client: redis.Redis,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(story_candidates, "TERM_CAP", 3)
    index = fresh(redis_client)
    index.record([story(f"s{number}", [f"name {number}"], ["en:said"], ["2026"]) for number in range(4)]
                 + [story("s-rare", ["other"], ["en:landslide"])], [], upto=T0, span=6 * DAY, now=NOW)
    assert index.candidates([query([], ["en:said", "en:landslide"], ["2026"])], 12) == [["s-rare"]]
    assert index.candidates([query(["name 1"], ["en:said"], ["2026"])], 12) == [["s1"]]  # names are


def test_clear_forgets_the_whole_index(redis_client: redis.Redis) -> None:
    index = fresh(redis_client)
    index.record([story("s1", ["idlib"])], [], upto=T0, span=6 * DAY, now=NOW)
    index.clear()
    assert index.upto() is None and index.size() == 0 and not list(redis_client.scan_iter(index.namespace + "*"))
