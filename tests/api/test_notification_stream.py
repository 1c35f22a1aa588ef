"""The live notifications (`GET /api/notifications/stream`): a match made by the real pipeline (a real
`celery worker` analysing, indexing and evaluating the sample story, then POSTing to a local webhook
receiver) arrives on the stream with its delivery, and a stream resumed with `Last-Event-ID` goes on
after it without sending it again. Then the bookkeeping behind it, without services."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest
from celery import Celery

from index.notification_follow import Position, Unsent
from ingest.notification_records import Notification, notification_id
from tests.index.factories import make_notification
from tests.support.api import ApiServer
from tests.support.processes import Background, wait_until
from tests.support.samples import sample_item
from tests.support.sse import EventReader, ServerEvent
from tests.support.webhooks import WebhookReceiver
from vigie.api.notification_stream import DeliveryWatch

PIPELINE_TIMEOUT = 180  # the first article loads the French model in the worker


def notification_of(reader: EventReader, article_id: str, timeout: float, worker: Background) -> ServerEvent:
    try:
        return reader.wait_for(lambda item: item.event == "notification" and item.data["article_id"] == article_id,
                               timeout)
    except AssertionError as error:
        raise AssertionError(f"{error}\nworker:\n{worker.output()[-3000:]}") from None


@pytest.mark.integration
def test_a_match_made_by_the_pipeline_arrives_live_and_a_resumed_stream_does_not_repeat_it(
        api_server: ApiServer, pipeline_worker: Background, celery_app: Celery) -> None:
    # Answers only once the test has seen the notification pending on the stream: both steps are seen.
    receiver = WebhookReceiver(answer_on_release=True)
    stream_url = f"{api_server.base_url}/api/notifications/stream"
    try:
        with httpx.Client(base_url=api_server.base_url, timeout=30) as client:
            alert = client.post("/api/alerts", headers=api_server.auth, json={
                "name": "Migration Turquie", "topics": ["migration"], "query": "Turquie", "webhook": receiver.url}).json()
            with EventReader(stream_url) as live:
                assert live.status == 200
                celery_app.send_task("vigie.process_items", args=[[sample_item("live-1").to_dict()]])
                first = notification_of(live, "live-1", PIPELINE_TIMEOUT, pipeline_worker)
                data = first.data
                assert data["notification_id"] == notification_id(alert["alert_id"], "live-1")
                assert (data["alert_id"], data["alert_name"]) == (alert["alert_id"], "Migration Turquie")
                assert data["title"].startswith("Le président turc Recep Tayyip Erdogan")
                assert [topic["name"] for topic in data["matched"]["topics"]] == ["migration"]
                assert data["matched"]["terms"] == ["Turquie"] and "Turquie" in data["matched"]["entities"]
                assert any("<mark>Turquie</mark>" in text for text in data["matched"]["highlights"]["text"])
                assert first.id == Position.of(Notification.from_dict(data)).encode()
                # Its delivery, as it moves: pending while the receiver holds the POST, then delivered once
                # it answered.
                assert data["state"] == "pending", data
                assert receiver.acknowledged() == []
                receiver.release()
                update = live.wait_for(lambda item: item.event == "notification-update", timeout=60)
                assert update.id is None and update.data["notification_id"] == data["notification_id"]
                assert (update.data["state"], update.data["attempts"]) == ("delivered", 1)
                assert len(receiver.acknowledged()) == 1

            # Reconnecting after the first event: the next match comes, the first does not again.
            with EventReader(stream_url, headers={"Last-Event-ID": first.id}) as resumed:
                celery_app.send_task("vigie.process_items", args=[[sample_item("live-2").to_dict()]])
                second = notification_of(resumed, "live-2", PIPELINE_TIMEOUT, pipeline_worker)
                assert [item.data["article_id"] for item in resumed.received("notification")] == ["live-2"]
                assert Position.parse(second.id) > Position.parse(first.id)
            # A new page asks for the newest ones first: both, oldest first.
            with EventReader(f"{stream_url}?backlog=5") as fresh:
                fresh.wait_for(lambda item: item.data.get("article_id") == "live-2", timeout=30)
                assert [(item.data["article_id"], item.id) for item in fresh.received("notification")] == [
                    ("live-1", first.id), ("live-2", second.id)]
            # And the list says the same, newest first, both delivered in the end.
            listed = client.get("/api/notifications", params={"alert": "migration turquie"}).json()
            assert [item["article_id"] for item in listed] == ["live-2", "live-1"]
            assert [post.json["article_id"] for post in receiver.wait_for(2, timeout=60, acknowledged=True)] == [
                "live-1", "live-2"]
            assert wait_until(lambda: [item["state"] for item in client.get(
                "/api/notifications", params={"alert": "migration turquie"}).json()] == ["delivered", "delivered"], 60)
    finally:
        receiver.close()


@pytest.mark.integration
def test_stream_requests_a_client_gets_wrong(api_server: ApiServer) -> None:
    with httpx.Client(base_url=api_server.base_url, timeout=30) as client:
        unknown = client.get("/api/notifications/stream", params={"alert": "nobody"})
        assert unknown.status_code == 404 and unknown.json()["kind"] == "alert-not-found"
        for headers, params in (({"Last-Event-ID": "yesterday"}, {}), ({"Last-Event-ID": "12-XYZ"}, {}),
                                ({}, {"backlog": 101}), ({}, {"backlog": -1})):
            response = client.get("/api/notifications/stream", headers=headers, params=params)
            assert response.status_code == 422 and response.json()["kind"] == "invalid-request", (headers, params)


# -- the bookkeeping, without services ----------------------------------------------------------------


T0 = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def note(name: str, seconds: float, state: str = "pending", attempts: int = 0) -> Notification:
    return make_notification("a", name, alert_name="A", title=name, state=state,
                             created_at=T0 + timedelta(seconds=seconds), due_at=None, attempts=attempts)


def test_positions_follow_the_index_order_and_round_trip_as_event_ids() -> None:
    one, two = note("one", 0.0004), note("two", 1)
    assert Position.of(one).ms == Position.at(T0).ms  # whole milliseconds, truncated, as Elasticsearch keeps them
    assert Position.of(one) < Position.of(two) and Position.at(T0) < Position.of(one)
    assert Position.parse(Position.of(two).encode()) == Position.of(two)
    for wrong in ("", "abc", "12", "-1-ab", "12-AB", "1" * 16 + "-ab", "12-ab\nid: 3", "12-ab\n"):
        with pytest.raises(ValueError):
            Position.parse(wrong)


def test_each_notification_is_sent_once_late_ones_too_and_the_position_never_goes_back() -> None:
    unsent = Unsent(Position.at(T0))
    a, b, c = note("a", 1), note("b", 2), note("c", 3)
    sent = unsent.take([b, a])
    assert [(item.article_id, position) for item, position in sent] == [("a", Position.of(a)), ("b", Position.of(b))]
    assert unsent.take([a, b]) == []
    late = note("late", 1.5)  # made before b, searchable only now
    assert [(item.article_id, position) for item, position in unsent.take([a, late, b, c])] == [
        ("late", Position.of(b)), ("c", Position.of(c))]  # sent, without moving the position back
    assert unsent.window_start == T0 + timedelta(seconds=3) - timedelta(seconds=30)
    # What falls out of the window is forgotten: the index query no longer returns it either.
    far = note("far", 100)
    assert [item.article_id for item, _ in unsent.take([far])] == ["far"] and unsent._sent.keys() == {far.notification_id}


def test_resuming_after_a_position_skips_what_the_client_had() -> None:
    a, b = note("a", 1), note("b", 2)
    unsent = Unsent(Position.of(a))
    unsent.had([a])
    assert [item.article_id for item, _ in unsent.take([a, b])] == ["b"]


def test_delivery_changes_are_reported_while_pending() -> None:
    watch = DeliveryWatch(size=2)
    watch.add(note("stored", 1, state="stored"))
    assert not watch
    for name in ("x", "y", "z"):
        watch.add(note(name, 1))
    assert watch.ids() == [note("y", 1).notification_id, note("z", 1).notification_id]  # the newest are kept
    retried = note("y", 1, attempts=1)
    assert watch.changed([retried, note("z", 1)]) == [retried]
    assert watch.changed([retried]) == []
    delivered = note("y", 1, state="delivered", attempts=2)
    assert watch.changed([delivered]) == [delivered] and watch.ids() == [note("z", 1).notification_id]
