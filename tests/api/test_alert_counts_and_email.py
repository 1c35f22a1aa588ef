"""How often each alert fired (API, command line), the e-mail target of an alert, and the delivery
counters in /metrics: a real API server on real Elasticsearch and Redis."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
import redis

from index.notifications import NotificationStore
from state.counters import count_notification
from tests.api.test_alerts_api import NOW, clean, create, made  # noqa: F401 (clean is a fixture)
from tests.support.api import ApiServer
from tests.support.processes import run_vigie, vigie_json

pytestmark = pytest.mark.integration


def test_the_list_of_alerts_says_how_often_each_fired(api_server: ApiServer, client: httpx.Client,
                                                       clean: NotificationStore) -> None:  # noqa: F811
    busy = create(client, api_server, name="Turquie", query="Turquie")
    quiet = create(client, api_server, name="Liban", query="Liban")
    clean.create([made(busy, "a", ago=timedelta(hours=3)), made(busy, "b", ago=timedelta(minutes=5)),
                  made(busy, "c", ago=timedelta(hours=1))])
    clean.refresh()

    plain = client.get("/api/alerts").json()
    assert all("fired" not in alert for alert in plain)  # only when asked: the list stays as it was
    listed = {alert["name"]: alert["fired"] for alert in client.get("/api/alerts", params={"counts": "true"}).json()}
    assert listed["Liban"] == {"matches": 0, "last_match": None}
    assert listed["Turquie"]["matches"] == 3
    assert abs(datetime.fromisoformat(listed["Turquie"]["last_match"]) - (NOW - timedelta(minutes=5))) < timedelta(seconds=1)

    on_cli = {alert["name"]: alert["fired"] for alert in vigie_json(["alerts", "list"], api_server.env)}
    assert on_cli["Turquie"]["matches"] == 3 and on_cli["Liban"] == {"matches": 0, "last_match": None}
    text = run_vigie(["alerts", "list"], api_server.env, check=True).stdout
    assert "fired: 3 match(es), last " in text and "fired: 0 match(es)\n" in text + "\n"
    assert quiet["alert_id"] in text


def test_an_alert_goes_to_an_email_address(api_server: ApiServer, client: httpx.Client,
                                           clean: NotificationStore) -> None:  # noqa: F811
    alert = create(client, api_server, name="Par courriel", query="Idleb", email="ana@example.org", digest="daily")
    assert alert["delivery"] == {"webhook": None, "secret": "", "mode": "daily", "email": "ana@example.org"}
    assert client.get(f"/api/alerts/{alert['alert_id']}").json()["delivery"]["email"] == "ana@example.org"
    shown = run_vigie(["alerts", "show", "Par courriel"], api_server.env, check=True).stdout
    assert "delivery: e-mail to ana@example.org (daily)" in shown

    for body, problem in (({"email": "not an address"}, "is not one address"),
                          ({"email": "ana@example.org", "webhook": "http://127.0.0.1:9/hook"}, "not both")):
        refused = client.post("/api/alerts", headers=api_server.auth, json={"name": "x", "query": "a", **body})
        assert refused.status_code == 422 and problem in refused.text, refused.text
    changed = client.patch(f"/api/alerts/{alert['alert_id']}", headers=api_server.auth, json={"email": None})
    # No target left for a daily digest: refused, as a digest without a webhook always was.
    assert changed.status_code == 422 and "needs a webhook or an e-mail address" in changed.text
    moved = client.patch(f"/api/alerts/{alert['alert_id']}", headers=api_server.auth,
                         json={"email": "bo@example.org", "digest": None})
    assert moved.status_code == 200 and moved.json()["delivery"] == {"webhook": None, "secret": "",
                                                                     "mode": "immediate", "email": "bo@example.org"}


def _metric(text: str, channel: str, outcome: str) -> float:
    line = f'vigie_notification_messages_total{{channel="{channel}",outcome="{outcome}"}} '
    (value,) = [row[len(line):] for row in text.splitlines() if row.startswith(line)]
    return float(value)


def test_metrics_count_notification_messages_per_channel_and_outcome(api_server: ApiServer, client: httpx.Client,
                                                                     module_redis: redis.Redis) -> None:
    before = client.get("/metrics").text
    assert "# HELP vigie_notification_messages_total" in before
    start = {(channel, outcome): _metric(before, channel, outcome)
             for channel in ("webhook", "email") for outcome in ("sent", "retried", "failed")}
    count_notification(module_redis, "email", "sent")
    count_notification(module_redis, "email", "retried")
    count_notification(module_redis, "email", "sent")
    count_notification(module_redis, "webhook", "failed")
    after = client.get("/metrics").text
    grown = {key: _metric(after, *key) - value for key, value in start.items()}
    assert grown == {("webhook", "sent"): 0, ("webhook", "retried"): 0, ("webhook", "failed"): 1,
                     ("email", "sent"): 2, ("email", "retried"): 1, ("email", "failed"): 0}
