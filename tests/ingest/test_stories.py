"""Story clustering (ingest.stories): features, assignment, near duplicates, redelivery, window, merges."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

import pytest

from ingest.models import Analysis, AnalyzedArticle, Article, Entity
from ingest.stories import (
    NORM_CHANGES,
    Frequencies,
    StoryCentroid,
    StoryClusterer,
    StoryFeatures,
    StoryParams,
    features_of,
    name_key,
    names_in,
    numbers_in,
    params_from,
    similarity,
    story_id_for,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


def analysed(article_id: str, language: str, title: str, text: str, lemmas: str, *,
             hours: float = 0, entities: tuple[object, ...] = ()) -> AnalyzedArticle:
    article = Article(article_id=article_id, title=title, body=text, is_html=False, text_source="content",
                      url=f"https://outlet-{article_id}.example/a", published=T0 + timedelta(hours=hours))
    analysis = Analysis(language=language, language_confidence=1.0, title=title, text=text,
                        entities=entities, topics=(), lemmas=lemmas)  # type: ignore[arg-type]
    return AnalyzedArticle(article, analysis)


def test_numbers_are_read_the_same_whatever_the_convention() -> None:
    assert numbers_in("1,200 dead") == numbers_in("1.200 Tote") == numbers_in("1 200 morts") == {"1200"}
    assert numbers_in("rate of 2.25%") == numbers_in("taux de 2,25 %") == {"2.25"}
    assert numbers_in("in 2026, 3 people and 7 dogs") == frozenset()


def test_places_and_spellings_of_a_name_meet_across_languages() -> None:
    french = names_in("Le gouvernement de l'Allemagne et la ville de Khartoum.", "fr")
    german = names_in("Die Regierung in Deutschland und die Stadt Khartum.", "de")
    assert name_key("germany") in french and name_key("germany") in german
    assert name_key("khartoum") == name_key("khartum") and name_key("khartoum") in german
    # A capitalised word at the start of a sentence is not a name by itself.
    assert "the" not in names_in("The storm. Then rain.", "en") and name_key("then") not in names_in("The storm. Then rain.", "en")


def test_entity_identity_is_used_when_the_analysis_gives_one() -> None:
    @dataclass(frozen=True)
    class EntityWithId:
        text: str
        label: str
        mentions: int
        spans: tuple[tuple[int, int], ...]
        key: str
        id: str

    plain = Entity("Lionel Messi", "PERSON", 2, (), key="lionel messi")
    with_id = EntityWithId("Leo Messi", "PERSON", 1, (), key="leo messi", id="Q615")
    features = features_of(analysed("a1", "en", "Messi", "Messi and Leo Messi.", "messi", entities=(plain, with_id)))
    assert features.entities == ("lionel messi", "Q615")
    assert "id:Q615" in features.names


def _features(article_id: str, language: str, terms: dict[str, int], names: tuple[str, ...],
              numbers: tuple[str, ...] = (), hours: float = 0, cluster_id: str = "") -> StoryFeatures:
    total = sum(terms.values())
    return StoryFeatures(
        article_id=article_id, time=T0 + timedelta(hours=hours), language=language, title=article_id,
        terms={f"{language}:{term}": count / total for term, count in terms.items()},
        names={name: 1 / len(names) for name in names}, numbers=frozenset(numbers),
        cluster_id=cluster_id or article_id,
    )


CEASEFIRE_EN = _features("en1", "en", {"ceasefire": 2, "army": 1, "truce": 1, "aid": 1}, ("khrtm", "rsf", "jeddah"), ("400000",))
CEASEFIRE_FR = _features("fr1", "fr", {"trêve": 2, "armée": 1, "aide": 1}, ("khrtm", "fsr", "jeddah"), ("400000",), hours=1)
CEASEFIRE_EN2 = _features("en2", "en", {"ceasefire": 1, "truce": 1, "convoy": 1}, ("khrtm", "rsf", "omdurman"), hours=20)
OTHER_CEASEFIRE = _features("en3", "en", {"ceasefire": 1, "rebels": 2, "observers": 1, "signed": 1, "advance": 1}, ("goma", "m23", "doha"), ("150",), hours=2)
UNRELATED = _features("en4", "en", {"phone": 2, "battery": 1, "camera": 1}, ("pixel", "google"), hours=3)
STREAM = [CEASEFIRE_EN, CEASEFIRE_FR, OTHER_CEASEFIRE, UNRELATED, CEASEFIRE_EN2]


def test_an_event_in_two_languages_is_one_story_and_a_look_alike_is_another() -> None:
    clusterer = StoryClusterer()
    for features in STREAM:
        clusterer.add(features)
    labels = clusterer.labels()
    assert labels["en1"] == labels["fr1"] == labels["en2"]
    assert len({labels["en1"], labels["en3"], labels["en4"]}) == 3
    assert labels["en1"] == story_id_for("en1")  # a story is named after the article that founded it


def test_figures_alone_carry_no_article_into_a_story() -> None:
    """Two shared figures ("12", "20": in half the news) with no shared name: not the same event, in
    another language (they were the whole score there, 0.25 against a threshold of 0.24) or in the same
    one (where they tipped a weak match of common words over it); with a shared name they still count."""
    story = StoryCentroid.founded_by("s1", _features("en1", "en", {"council": 2, "vote": 1, "budget": 1},
                                                     ("lndn", "sadiq"), ("12", "20")))
    frequencies = Frequencies(40, dict.fromkeys(("en:council", "en:vote", "en:budget", "en:match", "name:lndn",
                                                 "name:sadiq", "name:lyon"), 1))
    params = StoryParams()
    french = _features("fr1", "fr", {"match": 1, "but": 1}, ("lyon",), ("12", "20"), hours=1)
    assert similarity(french, story, frequencies, params) == 0.0
    english = _features("en2", "en", {"council": 1, "match": 2, "goal": 1}, ("lyon",), ("12", "20"), hours=1)
    without_figures = replace(english, numbers=frozenset())
    assert similarity(english, story, frequencies, params) == similarity(without_figures, story, frequencies, params)
    with_a_name = replace(english, names={"lyon": 0.5, "sadiq": 0.5})
    assert similarity(with_a_name, story, frequencies, params) > similarity(
        replace(with_a_name, numbers=frozenset()), story, frequencies, params)


def test_one_shared_place_is_no_event() -> None:
    """A building fire in a city does not join the flood story of that city on the city's name alone
    (in the same language: a few common words; in another: the name was the whole score); a second
    shared name, or a shared figure, counts fully again."""
    flood = _features("f1", "es", {"riada": 2, "lluvia": 1, "muerto": 1, "barro": 1, "vecino": 1},
                      ("vlnc", "paiporta", "chiva"), ("62",))
    story = StoryCentroid.founded_by("s1", flood)
    frequencies = Frequencies(40, dict.fromkeys(
        ("es:riada", "es:lluvia", "es:muerto", "es:barro", "es:vecino", "es:incendio", "es:bombero",
         "name:vlnc", "name:paiporta", "name:chiva", "name:benimaclet"), 1))
    params = StoryParams()
    fire = _features("f2", "es", {"incendio": 2, "bombero": 1, "muerto": 1, "edificio": 1}, ("vlnc",), hours=3)
    assert similarity(fire, story, frequencies, replace(params, lone_name=1.0)) >= params.threshold  # as before
    assert similarity(fire, story, frequencies, params) < params.threshold
    abroad = _features("f3", "en", {"fire": 2, "firefighter": 1}, ("vlnc",), hours=3)
    assert similarity(abroad, story, frequencies, params) < params.threshold
    with_two = replace(fire, names={"vlnc": 0.5, "paiporta": 0.5})
    assert similarity(with_two, story, frequencies, params) >= params.threshold
    with_the_toll = replace(abroad, numbers=frozenset({"62"}))  # the city and the flood's toll
    assert similarity(with_the_toll, story, frequencies, params) >= params.threshold
    # An identity shared beside its name is one place, not two.
    with_id = replace(fire, names={"vlnc": 0.5, "id:gn:3625549": 0.5})
    story_with_id = StoryCentroid.founded_by("s2", replace(flood, names={**flood.names, "id:gn:3625549": 0.25}))
    assert similarity(with_id, story_with_id, frequencies, params) < params.threshold


def test_days_and_months_are_no_names() -> None:
    found = names_in("The council met on Monday, as in March, and the mayor of London spoke. "
                     "Der Rat tagte am Montag im Mai in Berlin.", "en")
    assert not {name_key(word) for word in ("monday", "march", "montag", "mai")} & set(found)
    assert name_key("london") in found and name_key("berlin") in found


def test_the_same_stream_in_the_same_order_gives_the_same_stories() -> None:
    runs = []
    for _ in range(2):
        clusterer = StoryClusterer()
        assignments = [clusterer.add(features) for features in STREAM]
        runs.append((clusterer.labels(), [(a.story_id, a.reason, a.score) for a in assignments]))
    assert runs[0] == runs[1]


def test_a_redelivered_article_keeps_its_one_membership() -> None:
    clusterer = StoryClusterer()
    first = clusterer.add(CEASEFIRE_EN)
    clusterer.add(CEASEFIRE_FR)
    again = clusterer.add(CEASEFIRE_EN)
    assert again.reason == "already" and again.story_id == first.story_id
    assert clusterer.stories[first.story_id].size == 2


def test_a_near_duplicate_joins_its_original_story_whatever_its_words() -> None:
    clusterer = StoryClusterer()
    clusterer.add(CEASEFIRE_EN)
    clusterer.add(UNRELATED)
    copy = _features("copy", "en", {"phone": 3}, ("pixel",), cluster_id="en1", hours=1)
    assignment = clusterer.add(copy)
    assert assignment.reason == "near-duplicate" and assignment.story_id == story_id_for("en1")


def test_an_article_after_the_window_starts_a_new_story() -> None:
    clusterer = StoryClusterer(StoryParams(window_hours=12))
    clusterer.add(CEASEFIRE_EN)
    late = _features("late", "en", {"ceasefire": 2, "army": 1, "truce": 1, "aid": 1}, ("khrtm", "rsf", "jeddah"),
                     ("400000",), hours=13)
    assert clusterer.add(late).created
    same_time = _features("soon", "en", {"ceasefire": 2, "army": 1, "truce": 1, "aid": 1}, ("khrtm", "rsf", "jeddah"),
                          ("400000",), hours=11)
    fresh = StoryClusterer(StoryParams(window_hours=12))
    fresh.add(CEASEFIRE_EN)
    assert not fresh.add(same_time).created


def test_two_stories_that_converge_are_merged_and_the_merge_is_recorded() -> None:
    clusterer = StoryClusterer(StoryParams(threshold=0.3, merge_threshold=0.3))
    # Two halves of one event, far enough apart in words to start apart.
    left = _features("l1", "en", {"quake": 2, "magnitude": 1}, ("noto",), ("7.4",))
    right = _features("r1", "en", {"tsunami": 2, "warning": 1}, ("wajima",), hours=1)
    assert clusterer.add(left).created and clusterer.add(right).created
    bridge = _features("b1", "en", {"quake": 2, "magnitude": 1, "tsunami": 2, "warning": 1}, ("noto", "wajima"),
                       ("7.4",), hours=2)
    assignment = clusterer.add(bridge)
    assert len(assignment.merges) == 1
    merge = assignment.merges[0]
    assert {merge.absorbed, merge.into} == {story_id_for("l1"), story_id_for("r1")}
    labels = clusterer.labels()
    assert labels["l1"] == labels["r1"] == labels["b1"] == merge.into
    assert clusterer.stories[merge.into].size == 3 and merge.absorbed not in clusterer.stories


def test_a_centroid_survives_its_json_form() -> None:
    story = StoryCentroid.founded_by("s1", CEASEFIRE_EN).with_member(CEASEFIRE_FR)
    assert StoryCentroid.from_dict(story.to_dict()) == story


def test_params_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        params_from(0, 0.2, 0.4)
    with pytest.raises(ValueError):
        params_from(72, 0.5, 0.4)
    assert params_from(24, 0.3, 0.5).window_hours == 24


def test_a_story_norm_kept_between_articles_is_the_norm_summed_key_by_key() -> None:
    """``Frequencies.squared_norm`` keeps each story's norm as sums that follow the counts; after every
    kind of change (an article added, counts read from elsewhere, a story grown into a new centroid,
    more changes than are kept) it must equal the sum of (value × idf)² over the story's keys."""
    import math
    import random

    rng = random.Random(7)
    words = [f"w{number}" for number in range(400)]

    def vector(prefix: str, size: int) -> dict[str, float]:
        return {f"{prefix}{word}": rng.random() * 3 for word in rng.sample(words, size)}

    def summed(story: dict[str, float], frequencies: Frequencies, key_prefix: str, keep: str | None) -> float:
        return sum((value * frequencies.idf(key_prefix + key)) ** 2 for key, value in story.items()
                   if keep is None or key.startswith(keep))

    frequencies = Frequencies(50, {f"fr:{word}": rng.randint(0, 50) for word in rng.sample(words, 200)})
    stories = [{**vector("fr:", 150), **vector("en:", 60)} for _ in range(4)]
    names = [vector("", 40) for _ in range(3)]
    checked = 0
    for step in range(NORM_CHANGES * 2 + 5):
        change = step % 5
        if change == 3:  # counts read from where they are kept
            frequencies.counted({f"fr:{word}": rng.randint(0, 90) for word in rng.sample(words, 30)})
        elif change == 4:  # a story grew: its centroid is a new mapping
            stories[step % 4] = {**stories[step % 4], **vector("fr:", 20)}
        else:
            frequencies.add(StoryFeatures(
                article_id=f"a{step}", time=T0, language="fr", title="", terms=vector("fr:", 60),
                names=vector("", 8), numbers=frozenset(), cluster_id=f"a{step}", source="", entities=(), topics=()))
        for story in stories:
            for keep in ("fr:", "en:", None):
                assert math.isclose(frequencies.squared_norm(story, keep=keep), summed(story, frequencies, "", keep),
                                    rel_tol=1e-12)
                checked += 1
        for story in names:
            assert math.isclose(frequencies.squared_norm(story, "name:"), summed(story, frequencies, "name:", None),
                                rel_tol=1e-12)
            checked += 1
    assert checked == (NORM_CHANGES * 2 + 5) * 15
