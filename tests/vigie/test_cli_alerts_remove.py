"""`vigie alerts remove` as a person types it, with a real worker running: the alert leaves the list,
its past notifications stay, and the next matching article no longer fires it, while an alert kept
beside it still fires (so the worker's matching pass ran without it)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from celery import Celery

from tests.support.processes import Background, run_vigie, vigie_json, wait_until
from tests.support.samples import sample_item
from tests.support.pipeline import send

pytestmark = pytest.mark.integration


def fired(env: dict[str, str]) -> set[tuple[str, str]]:
    """(alert name, article id) of every notification made."""
    items = vigie_json(["alerts", "fired", "--limit", "100"], env)
    assert isinstance(items, list)
    return {(item["alert_name"], item["article_id"]) for item in items}


def test_a_removed_alert_is_no_longer_listed_and_no_longer_fires(
        env: dict[str, str], app: Celery, workers: Callable[..., Background]) -> None:
    kept = vigie_json(["alerts", "add", "Gardée", "--query", "Idleb"], env)
    removed = vigie_json(["alerts", "add", "Retirée", "--query", "Idleb"], env)
    assert isinstance(kept, dict) and isinstance(removed, dict)
    worker = workers()
    send(app, [sample_item("before")])
    assert wait_until(lambda: fired(env) == {("Gardée", "before"), ("Retirée", "before")}, timeout=120), \
        worker.output()[-4000:]

    result = run_vigie(["alerts", "remove", "retirée", "--json"], env, check=True)  # the name, whatever the case
    assert "alert 'Retirée' removed" in result.stderr
    listed = vigie_json(["alerts", "list"], env)
    assert [item["name"] for item in listed] == ["Gardée"]  # type: ignore[union-attr]
    shown = run_vigie(["alerts", "show", "Retirée"], env)
    assert shown.returncode != 0 and "Retirée" in shown.stderr and "Traceback" not in shown.stderr
    again = run_vigie(["alerts", "remove", removed["alert_id"]], env)
    assert again.returncode != 0 and "Traceback" not in again.stderr

    send(app, [sample_item("after")])
    # Both alerts are matched in one pass per article: once the kept one fired, the removed one had its chance.
    assert wait_until(lambda: ("Gardée", "after") in fired(env), timeout=120), worker.output()[-4000:]
    assert fired(env) == {("Gardée", "before"), ("Retirée", "before"), ("Gardée", "after")}
