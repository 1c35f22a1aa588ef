"""`vigie feeds` as a person uses it, on real Redis and local feeds (127.0.0.1 only): import checks each
feed and names the dead, duplicate and not-a-feed entries; OPML folders become tags and come back as
folders; feeds are named by title anywhere; add follows the feed a page links to; list is a table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.opml import read_opml
from tests.support.feeds import FeedServer, closed_port_url, make_story
from tests.support.processes import run_vigie, vigie_json

pytestmark = pytest.mark.integration


@pytest.fixture()
def server() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


def _opml(server: FeedServer, dead: str) -> str:
    wire = server.publish("wire", [make_story(1, prefix="wire")], title="Le Fil Monde")
    sport = server.publish("sport", [make_story(2, prefix="sport")], title="Stade")
    server.publish("site", [make_story(3, prefix="site")], title="Site news")
    home = server.serve("/site.html", '<html><head><link rel="alternate" type="application/rss+xml" '
                                      'href="/feed/site.xml"></head><body>home</body></html>')
    about = server.serve("/about.html", "<html><body>about us, no feed</body></html>")
    missing = server.url("/gone.xml")
    return f"""<?xml version="1.0"?><opml version="2.0"><head><title>Mine</title></head><body>
      <outline text="News"><outline text="World">
        <outline type="rss" text="Wire" xmlUrl="{wire}"/></outline>
        <outline type="rss" text="Home page" xmlUrl="{home}"/>
      </outline>
      <outline text="Sport"><outline type="rss" text="Stadium" xmlUrl="{sport}"/>
        <outline type="rss" text="Wire in sport" xmlUrl="{wire}"/></outline>
      <outline type="rss" text="Closed port" xmlUrl="{dead}"/>
      <outline type="rss" text="Gone" xmlUrl="{missing}"/>
      <outline type="rss" text="About page" xmlUrl="{about}"/>
    </body></opml>"""


def test_import_reports_every_problem_by_name_and_keeps_folders(env: dict[str, str], server: FeedServer,
                                                                 tmp_path: Path) -> None:
    dead = closed_port_url()
    source = tmp_path / "mine.opml"
    source.write_text(_opml(server, dead))
    result = vigie_json(["feeds", "import", str(source)], env)
    wire, sport, site = (server.url(f"/feed/{name}.xml") for name in ("wire", "sport", "site"))
    assert sorted(result["added"]) == sorted([wire, sport, site])
    assert result["followed_links"] == [{"page": server.url("/site.html"), "feed": site}]
    assert [(item["name"], item["kept"]) for item in result["dead"]] == [("Closed port", False), ("Gone", False)]
    assert result["dead"][1]["kind"] == "http-404"
    assert [item["name"] for item in result["not_a_feed"]] == ["About page"]
    assert [(item["url"], item["name"]) for item in result["duplicates"]] == [(wire, "Wire in sport")]

    text = run_vigie(["feeds", "import", str(source)], env, check=True)
    assert "already followed 3" in text.stdout and "duplicates 1" in text.stdout and "dead 2" in text.stdout
    assert f"dead Closed port <{dead}>" in text.stdout and "not a feed About page" in text.stdout
    assert "--keep-dead" in text.stdout
    assert "checking feeds" not in text.stderr  # progress only on a terminal

    listed = {feed["url"]: feed for feed in vigie_json(["feeds", "list"], env)}
    assert listed[wire]["tags"] == ["News/World", "Sport"] and listed[wire]["title"] == "Le Fil Monde"
    assert listed[site]["tags"] == ["News"] and listed[sport]["display_name"] == "Stadium"

    exported = run_vigie(["feeds", "export"], env, check=True).stdout
    back = {sub.url: sub.tags for sub in read_opml(exported.encode(), "export").subscriptions}
    assert back == {wire: ("News/World", "Sport"), sport: ("Sport",), site: ("News",)}

    kept = vigie_json(["feeds", "import", str(source), "--keep-dead"], env)
    assert sorted(kept["added"]) == sorted([dead, server.url("/gone.xml")])
    assert all(item["kept"] for item in kept["dead"])


def test_add_follows_the_linked_feed_and_refuses_dead_and_plain_pages(env: dict[str, str], server: FeedServer) -> None:
    feed = server.publish("front", [make_story(1, prefix="front")], title="Front Page Daily")
    page = server.serve("/index.html", '<html><head><link rel="alternate" type="application/rss+xml" '
                                       'href="/feed/front.xml"></head></html>')
    added = vigie_json(["feeds", "add", page], env)
    assert (added["url"], added["title"], added["display_name"]) == (feed, "Front Page Daily", "Front Page Daily")
    plain = run_vigie(["feeds", "add", server.serve("/plain.html", "<html><body>x</body></html>")], env)
    assert plain.returncode == 1 and "is an HTML page, not a feed" in plain.stderr
    dead = closed_port_url()
    refused = run_vigie(["feeds", "add", dead], env)
    assert refused.returncode == 1 and dead in refused.stderr and "--keep-dead" in refused.stderr
    kept = vigie_json(["feeds", "add", dead, "--keep-dead", "--name", "Down for now"], env)
    assert kept["url"] == dead and kept["check"]["verdict"] == "dead"
    assert sorted(feed["url"] for feed in vigie_json(["feeds", "list"], env)) == sorted([feed, dead])


def test_feeds_are_named_by_title_anywhere_and_list_is_a_table(env: dict[str, str], server: FeedServer) -> None:
    url = server.publish("paper", [make_story(1, prefix="paper")], title="The Morning Paper")
    added = vigie_json(["feeds", "add", url], env)
    shown = vigie_json(["feeds", "show", "the morning paper"], env)
    assert shown["id"] == added["id"]
    renamed = vigie_json(["feeds", "rename", "The Morning Paper", "Morning"], env)
    assert (renamed["name"], renamed["title"], renamed["display_name"]) == ("Morning", "The Morning Paper", "Morning")
    due = vigie_json(["feeds", "poll", "Morning"], env)
    assert due["id"] == added["id"] and due["next_poll"] <= vigie_json(["feeds", "show", url], env)["next_poll"]
    tagged = vigie_json(["feeds", "tag", "Morning", "Daily", "News/Local"], env)
    assert tagged["tags"] == ["Daily", "News/Local"]
    assert [feed["id"] for feed in vigie_json(["feeds", "list", "--tag", "news"], env)] == [added["id"]]
    assert vigie_json(["feeds", "list", "--tag", "sport"], env) == []

    table = run_vigie(["feeds", "list"], env, check=True).stdout.splitlines()
    header = table[0]
    assert header.split()[:3] == ["NAME", "STATUS", "EVERY"]
    assert table[1].startswith("Morning ") and table[1].index(added["id"]) == header.index("ID")
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?!\.)", table[1])  # to the second, no microseconds

    missing = run_vigie(["feeds", "show", "Evening"], env)
    assert missing.returncode == 1 and "no followed feed is 'Evening'" in missing.stderr
    removed = run_vigie(["feeds", "remove", "Morning"], env, check=True)
    assert f"removed {url}" in removed.stdout
    assert vigie_json(["feeds", "list"], env) == []
