"""The feed registry through `vigie feeds`: durable, importable, exportable, and health-aware."""

from __future__ import annotations

from pathlib import Path

import pytest

from conf.settings import Settings
from ingest.opml import OpmlError, parse_opml
from tests.support.processes import run_vigie, vigie_json
from vigie.services import embedded_services

OPML = """<?xml version="1.0"?>
<opml version="2.0"><head><title>Newsroom</title></head><body>
  <outline text="Monde">
    <outline type="rss" text="Le Wire" xmlUrl="https://wire.example.org/rss.xml"/>
    <outline type="rss" title="World desk" xmlUrl="https://world.example.com/atom"/>
  </outline>
  <outline type="rss" text="Not a web feed" xmlUrl="file:///etc/passwd"/>
</body></opml>"""


def _list(env: dict[str, str]) -> dict[str, dict]:  # type: ignore[type-arg]
    return {feed["url"]: feed for feed in vigie_json(["feeds", "list"], env)}


@pytest.mark.integration
def test_add_list_remove_and_survive_a_redis_restart(env: dict[str, str], settings: Settings) -> None:
    # example.org names no real feed: --keep-dead follows it although the check finds it dead
    added = vigie_json(["feeds", "add", "https://wire.example.org/rss.xml", "--name", "Le Wire",
                        "--interval", "120", "--keep-dead"], env)
    assert added["name"] == "Le Wire" and added["interval"] == 120 and added["adaptive"] is False
    again = run_vigie(["feeds", "add", "https://WIRE.example.org/rss.xml#top"], env)
    assert again.returncode == 1 and "already followed" in again.stderr  # same canonical URL
    refused = run_vigie(["feeds", "add", "file:///etc/passwd"], env)
    assert refused.returncode == 1 and "only http and https" in refused.stderr and "Traceback" not in refused.stderr

    redis_service, _ = embedded_services(settings)
    redis_service.stop()
    redis_service.start()
    listed = _list(env)
    assert list(listed) == ["https://wire.example.org/rss.xml"]
    assert listed["https://wire.example.org/rss.xml"]["status"] == "new"

    run_vigie(["feeds", "remove", added["id"]], env, check=True)
    assert _list(env) == {}
    missing = run_vigie(["feeds", "remove", "https://nowhere.example.org/"], env)
    assert missing.returncode == 1 and "no followed feed" in missing.stderr


@pytest.mark.integration
def test_import_and_export_opml(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "newsroom.opml"
    source.write_text(OPML)
    result = vigie_json(["feeds", "import", str(source), "--keep-dead"], env)  # example.org: dead, kept
    assert result["added"] == ["https://wire.example.org/rss.xml", "https://world.example.com/atom"]
    assert [item["url"] for item in result["refused"]] == ["file:///etc/passwd"]
    again = vigie_json(["feeds", "import", str(source), "--keep-dead"], env)
    assert again["added"] == [] and len(again["already_followed"]) == 2
    exported = run_vigie(["feeds", "export"], env, check=True).stdout
    assert [(s.url, s.name) for s in parse_opml(exported.encode(), "export")] == [
        ("https://wire.example.org/rss.xml", "Le Wire"), ("https://world.example.com/atom", "World desk")]


def test_hostile_opml_expands_nothing() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">
    <!ENTITY xxe SYSTEM "file:///etc/passwd">]>
    <opml version="2.0"><body><outline text="&b;&xxe;" xmlUrl="https://x.example.org/&b;"/></body></opml>"""
    with pytest.raises(OpmlError, match="bomb.opml declares XML entities"):
        parse_opml(bomb, "bomb.opml")


def test_not_opml_is_a_clear_error() -> None:
    with pytest.raises(OpmlError, match="not OPML"):
        parse_opml(b"<rss version='2.0'/>", "feed.xml")
    with pytest.raises(OpmlError, match="not valid OPML"):
        parse_opml(b"<opml><body>", "broken.opml")
