"""Sending a webhook: signed body, idempotency key, and a clear kind for each way a receiver fails."""

from __future__ import annotations

import socket

import pytest

from conf.limits import WebhookLimits
from ingest.webhook import WebhookError, WebhookSender, signature, signature_matches
from tests.support.webhooks import WebhookReceiver

SECRET = "s3cret-s3cret-s3cret"
BODY = '{"alert":{"name":"migration Turquie"},"title":"Erdogan à Moscou"}'.encode()


@pytest.fixture()
def sender() -> WebhookSender:
    with WebhookSender(WebhookLimits(user_agent="Vigie-test", connect_timeout=2, total_timeout=2)) as sender:
        yield sender


@pytest.fixture()
def receiver() -> WebhookReceiver:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def post(sender: WebhookSender, url: str) -> object:
    return sender.post(url, BODY, secret=SECRET, idempotency_key="n-123", alert="a-1")


def test_signature_is_the_hmac_sha256_of_the_exact_body() -> None:
    import hashlib
    import hmac

    assert signature(SECRET, BODY) == "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert signature_matches(SECRET, BODY, signature(SECRET, BODY))
    assert not signature_matches(SECRET, BODY + b" ", signature(SECRET, BODY))
    assert not signature_matches("other-secret-other", BODY, signature(SECRET, BODY))
    assert not signature_matches(SECRET, BODY, None)


def test_a_2xx_acknowledges_and_the_receiver_can_check_everything(sender: WebhookSender,
                                                                   receiver: WebhookReceiver) -> None:
    result = post(sender, receiver.url)
    assert result.status == 200  # type: ignore[attr-defined]
    (got,) = receiver.posts()
    assert got.body == BODY
    assert signature_matches(SECRET, got.body, got.headers["x-vigie-signature"])
    assert got.headers["idempotency-key"] == "n-123" and got.headers["x-vigie-alert"] == "a-1"
    assert got.headers["user-agent"] == "Vigie-test"
    assert got.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("status, kind, transient", [
    (500, "server-error", True), (503, "server-error", True), (429, "rate-limited", True),
    (408, "http-408", True), (404, "http-404", False), (401, "http-401", False), (410, "http-410", False),
    (302, "http-302", False),
])
def test_each_answer_has_a_kind_and_says_whether_to_retry(sender: WebhookSender, receiver: WebhookReceiver,
                                                          status: int, kind: str, transient: bool) -> None:
    receiver.status = status
    with pytest.raises(WebhookError) as error:
        post(sender, receiver.url)
    assert (error.value.kind, error.value.transient, error.value.status) == (kind, transient, status)
    assert receiver.url in str(error.value)


def test_a_slow_receiver_is_cut_off_at_the_total_timeout(sender: WebhookSender, receiver: WebhookReceiver) -> None:
    receiver.delay = 5
    with pytest.raises(WebhookError) as error:
        post(sender, receiver.url)
    assert error.value.kind == "timeout" and error.value.transient


def test_a_receiver_dripping_its_answer_is_cut_off_too(sender: WebhookSender) -> None:
    dripping = WebhookReceiver(drip=True)
    try:
        with pytest.raises(WebhookError) as error:
            post(sender, dripping.url)
        assert error.value.kind == "timeout"
        assert len(dripping.posts()) == 1  # it did reach the receiver: cut off while reading the answer
    finally:
        dripping.close()


def test_nothing_listening_is_a_refused_connection(sender: WebhookSender) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(WebhookError) as error:
        post(sender, f"http://127.0.0.1:{port}/hook")
    assert error.value.kind == "connection-refused" and error.value.transient


def test_a_webhook_on_the_metadata_address_is_refused_for_good(sender: WebhookSender) -> None:
    # The shared connection guard of ingest.fetch: never POSTed, and not worth retrying.
    with pytest.raises(WebhookError) as error:
        post(sender, "http://169.254.169.254/latest/meta-data/")
    assert error.value.kind == "blocked-address" and not error.value.transient
    assert "the webhook http://169.254.169.254/latest/meta-data/" in str(error.value)


def test_only_http_and_https(sender: WebhookSender) -> None:
    with pytest.raises(WebhookError) as error:
        post(sender, "ftp://127.0.0.1/hook")
    assert error.value.kind == "unsupported-scheme" and not error.value.transient
    assert "ftp://127.0.0.1/hook is not an http or https URL" in str(error.value)
