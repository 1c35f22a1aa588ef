"""`vigie search` and `vigie stats` options as a person types them, on the real services: pages
(--offset, --page), language codes in any case, an unknown topic is an error listing the topics,
--tag (OPML folders), stats --entity, the feed's own title as the source, newest first without words."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.store import ArticleStore
from state.registry import registry_for
from tests.index.factories import analysed, person, topic
from tests.support.processes import run_vigie, vigie_json

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)
WIRE = "http://wire.example.org/rss.xml"
SPORT = "http://sport.example.org/rss.xml"


@pytest.fixture()
def indexed(env: dict[str, str], settings: Settings, es: Elasticsearch) -> None:
    store = ArticleStore(es, settings.index_prefix)
    store.ensure_ready()
    store.index_batch([
        *(analysed(f"wire-{n}", title=f"Trêve numéro {n}", text=f"Une trêve, jour {n}.", feed=WIRE,
                   topics=(topic("ceasefire"),), entities=(person("Erdogan"),) if n % 2 else (),
                   published=START + timedelta(hours=n)) for n in range(7)),
        analysed("sport-en", title="Match report", text="The match ended in a truce.", language="en", feed=SPORT,
                 published=START + timedelta(hours=30)),
    ], refresh=True)
    registry = registry_for(settings)
    registry.add(WIRE, title="Le Fil", tags=("News/World",), poll_now=False)
    registry.add(SPORT, name="Stadium", tags=("Sport",), poll_now=False)


def test_pages_and_the_default_order(env: dict[str, str], indexed: None) -> None:
    first = vigie_json(["search", "--topic", "ceasefire", "--limit", "3"], env)
    second = vigie_json(["search", "--topic", "ceasefire", "--limit", "3", "--offset", "3"], env)
    third = vigie_json(["search", "--topic", "ceasefire", "--limit", "3", "--page", "3"], env)
    order = [hit["id"] for page in (first, second, third) for hit in page["hits"]]
    assert order == [f"wire-{n}" for n in range(6, -1, -1)]  # no words: newest first
    assert (second["offset"], third["offset"], third["total"]) == (3, 6, 7)
    text = run_vigie(["search", "--topic", "ceasefire", "--limit", "3"], env, check=True).stdout
    assert text.startswith("7 article(s) for '', 1-3 shown") and "more: --offset 3 (or --page 2)" in text
    assert "source: Le Fil" in text  # the feed's own title, not its URL


def test_language_codes_in_any_case_and_unknown_topics(env: dict[str, str], indexed: None) -> None:
    assert [hit["id"] for hit in vigie_json(["search", "--lang", "EN"], env)["hits"]] == ["sport-en"]
    assert vigie_json(["search", "--topic", "Ceasefire"], env)["total"] == 7
    unknown = run_vigie(["search", "--topic", "cricket"], env)
    assert unknown.returncode == 2 and "unknown topic cricket" in unknown.stderr
    assert "ceasefire" in unknown.stderr and "sport" in unknown.stderr  # the known topics, listed
    stats = run_vigie(["stats", "--topic", "cricket"], env)
    assert stats.returncode == 2 and "known topics:" in stats.stderr


def test_tags_titles_and_stats_by_entity(env: dict[str, str], indexed: None) -> None:
    tagged = vigie_json(["search", "--tag", "news"], env)
    assert tagged["total"] == 7 and {hit["feed_title"] for hit in tagged["hits"]} == {"Le Fil"}
    assert [hit["id"] for hit in vigie_json(["search", "--tag", "Sport"], env)["hits"]] == ["sport-en"]
    assert [hit["feed_title"] for hit in vigie_json(["search", "truce"], env)["hits"]] == ["Stadium"]
    assert vigie_json(["search", "--tag", "Nothing"], env)["total"] == 0

    by_entity = vigie_json(["stats", "--entity", "Erdogan"], env)
    assert by_entity["total"] == 3 and by_entity["feeds"] == [{"key": WIRE, "count": 3}]
    assert vigie_json(["stats", "--tag", "sport"], env)["total"] == 1
    assert "feeds: Le Fil 7, Stadium 1" in run_vigie(["stats"], env, check=True).stdout  # names, not URLs
    help_text = run_vigie(["stats", "--help"], env, check=True).stdout
    for option in ("--query", "--lang", "--topic", "--entity", "--feed", "--tag", "--since", "--until", "--top"):
        line = next(line for line in help_text.splitlines() if line.strip().startswith(option))
        assert len(line.split(maxsplit=2)) == 3 or option == "--query", line  # every filter says what it does
