"""`vigie alerts add|edit|show|fired` as a person types them, on the real services: `edit` changes only
the options given, prints a new secret once, refuses contradictions and unknown alerts in one line;
`fired --follow` prints each new notification once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from index.notifications import NotificationStore
from ingest.notification_records import Notification
from tests.index.factories import make_notification
from tests.support.processes import VIGIE, Background, run_vigie, vigie_json, wait_until

pytestmark = pytest.mark.integration


def test_edit_changes_only_what_is_given(env: dict[str, str]) -> None:
    added = vigie_json(["alerts", "add", "Migration", "--topic", "migration", "--query", "Turquie",
                       "--lang", "fr"], env)
    assert isinstance(added, dict) and added["delivery"]["webhook"] is None

    edited = vigie_json(["alerts", "edit", "MIGRATION", "--query", "Turquie OR Turkey", "--lang", "fr",
                         "--lang", "en", "--all-topics", "--min-score", "0.5"], env)
    assert isinstance(edited, dict)
    assert (edited["query"], edited["languages"], edited["all_topics"], edited["min_score"]) == (
        "Turquie OR Turkey", ["fr", "en"], True, 0.5)
    assert edited["topics"] == ["migration"] and edited["alert_id"] == added["alert_id"]
    assert edited["created_at"] == added["created_at"] and edited["updated_at"] > added["updated_at"]

    # A webhook given to an alert without one: a new secret, printed in full this once.
    hooked = run_vigie(["alerts", "edit", added["alert_id"], "--webhook", "http://127.0.0.1:9/hook",
                        "--digest", "daily"], env, check=True)
    secret = next(line.split(": ", 1)[1] for line in hooked.stdout.splitlines() if "secret:" in line)
    assert len(secret) == 64
    assert "changed: delivery" in hooked.stderr
    shown = vigie_json(["alerts", "show", "migration"], env)
    assert isinstance(shown, dict) and shown["delivery"] == {
        "webhook": "http://127.0.0.1:9/hook", "secret": f"…{secret[-4:]}", "mode": "daily"}

    renamed = vigie_json(["alerts", "edit", "migration", "--rename", "Migration Turquie", "--clear", "languages",
                          "--no-min-score", "--any-topic", "--digest", "none"], env)
    assert isinstance(renamed, dict)
    assert (renamed["name"], renamed["languages"], renamed["min_score"], renamed["all_topics"]) == (
        "Migration Turquie", [], None, False)
    assert renamed["delivery"]["mode"] == "immediate" and renamed["delivery"]["secret"] == f"…{secret[-4:]}"
    unhooked = vigie_json(["alerts", "edit", "Migration Turquie", "--no-webhook"], env)
    assert isinstance(unhooked, dict) and unhooked["delivery"]["webhook"] is None
    listed = vigie_json(["alerts", "list"], env)
    assert [item["name"] for item in listed] == ["Migration Turquie"]  # type: ignore[union-attr]


def test_edit_refuses_what_cannot_work_and_changes_nothing(env: dict[str, str]) -> None:
    added = vigie_json(["alerts", "add", "Trêves", "--topic", "ceasefire"], env)
    for args, message in ((["--topic", "nope"], "unknown topic nope"),
                          (["--query", "(Idleb"], "never closed"),
                          (["--digest", "daily"], "digest needs a webhook"),
                          (["--webhook", "file:///etc/passwd"], "uses file"),
                          (["--min-score", "0.5", "--no-min-score"], "contradict"),
                          (["--clear", "topics", "--topic", "migration"], "contradict"),
                          ([], "nothing to change")):
        result = run_vigie(["alerts", "edit", "Trêves", *args], env)
        assert result.returncode != 0, args
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    unknown = run_vigie(["alerts", "edit", "personne", "--query", "x"], env)
    assert unknown.returncode != 0 and "personne" in unknown.stderr and "Traceback" not in unknown.stderr
    assert vigie_json(["alerts", "show", "Trêves"], env) == added


def _note(alert: dict, article: str, made: datetime) -> Notification:  # type: ignore[type-arg]
    return make_notification(alert, article, mode="none", state="stored", created_at=made, due_at=None)


def test_fired_follow_prints_each_new_notification_once_late_ones_too(
        env: dict[str, str], settings: Settings, es: Elasticsearch) -> None:
    alert = vigie_json(["alerts", "add", "Suivi", "--query", "Idleb"], env)
    assert isinstance(alert, dict)
    store = NotificationStore(es, settings.index_prefix)
    now = datetime.now(timezone.utc)
    store.create([_note(alert, "old", now - timedelta(hours=1)), _note(alert, "before", now - timedelta(minutes=1))])
    store.refresh()
    follower = Background("fired", [VIGIE, "alerts", "fired", "--follow", "--json", "--limit", "1"], env).start()

    def printed() -> list[str]:
        return [json.loads(line)["article_id"] for line in follower.output().splitlines() if line.startswith("{")]

    try:
        assert wait_until(lambda: printed() == ["before"], 60), follower.output()
        store.create([_note(alert, "new", datetime.now(timezone.utc))])
        assert wait_until(lambda: printed() == ["before", "new"], 30), follower.output()
        # Made before the follower's position but written only now (a slow worker): printed too, once.
        store.create([_note(alert, "late", datetime.now(timezone.utc) - timedelta(seconds=5))])
        assert wait_until(lambda: printed() == ["before", "new", "late"], 30), follower.output()
        # Two more looks, each proven by a new notification it prints: nothing was printed twice meanwhile.
        for sentinel in ("after-1", "after-2"):
            store.create([_note(alert, sentinel, datetime.now(timezone.utc))])
            assert wait_until(lambda: printed()[-1:] == [sentinel], 30), follower.output()
        assert printed() == ["before", "new", "late", "after-1", "after-2"]
    finally:
        follower.stop(timeout=10)


def test_tags_are_added_replaced_cleared_and_shown(env: dict[str, str]) -> None:
    added = vigie_json(["alerts", "add", "Syrie", "--tag", "Moyen-Orient/Syrie", "--tag", " news "], env)
    assert added["tags"] == ["moyen-orient/syrie", "news"]  # compared as `vigie search --tag` compares them
    shown = run_vigie(["alerts", "show", "Syrie"], env, check=True).stdout
    assert "matches: from feeds tagged moyen-orient/syrie or news" in shown
    assert vigie_json(["alerts", "edit", "Syrie", "--tag", "Sport", "--query", "Idleb"], env)["tags"] == ["sport"]
    cleared = vigie_json(["alerts", "edit", "Syrie", "--clear", "tags"], env)
    assert cleared["tags"] == [] and cleared["query"] == "Idleb"
    refused = run_vigie(["alerts", "edit", "Syrie", "--clear", "tags", "--tag", "x"], env)
    assert refused.returncode == 2 and "--clear tags and new tags contradict each other" in refused.stderr
    assert "--tag" in run_vigie(["alerts", "add", "--help"], env, check=True).stdout
