"""Rows 2 and 6 of the hardening issue: one outbound-address policy for fetching and webhooks."""

from __future__ import annotations

import pytest

from collections.abc import Iterator

from conf.limits import ServiceEndpoint, WebhookLimits, fetch_limits, webhook_limits
from conf.settings import Settings
from ingest.errors import FetchError
from ingest.fetch import validate_feed_url
from ingest.transport import AddressPolicy, fetch_policy, webhook_policy
from ingest.webhook import WebhookError, WebhookSender, validate_webhook_url
from tests.support.webhooks import WebhookReceiver

METADATA = ["169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192", "168.63.129.16",
            "fd20:ce::254", "169.254.170.2", "::ffff:169.254.169.254", "::ffff:100.100.100.200",
            "64:ff9b::6464:64c8"]  # the last: 100.100.100.200 through NAT64


@pytest.fixture()
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.mark.parametrize("address", METADATA)
@pytest.mark.parametrize("private_allowed", [True, False])
def test_every_cloud_metadata_address_is_refused_whatever_the_setting(address: str, private_allowed: bool) -> None:
    assert AddressPolicy(private_allowed).refusal(address) is not None, address


def test_ipv6_loopback_is_loopback_not_reserved() -> None:
    assert AddressPolicy(True).refusal("::1") is None
    assert "loopback" in (AddressPolicy(False).refusal("::1") or "")


def test_the_ports_of_vigies_own_services_are_refused_even_with_private_addresses_allowed() -> None:
    settings = Settings(es_url="http://127.0.0.1:9210", redis_url="redis://127.0.0.1:6479/0", api_port=8766)
    policy = webhook_policy(webhook_limits(settings))
    assert policy.private_allowed
    for port, name in ((9210, "Elasticsearch"), (6479, "Redis"), (8766, "API")):
        for address in ("127.0.0.1", "::1", "127.0.0.2", "10.0.0.1"):
            assert name in (policy.refusal(address, port) or ""), (address, port)
    assert policy.refusal("127.0.0.1", 9211) is None  # another port of this machine is a local webhook
    with pytest.raises(FetchError) as error:
        validate_webhook_url("http://2130706433:9210/vigie-articles/_doc", policy)  # 127.0.0.1 in decimal
    assert error.value.kind == "blocked-address" and "Elasticsearch" in str(error.value)
    with pytest.raises(FetchError) as error:
        validate_feed_url("http://[::1]:6479/", fetch_policy(fetch_limits(settings)))
    assert "Redis" in str(error.value)


def test_webhooks_honour_the_private_address_setting(receiver: WebhookReceiver) -> None:
    refusing = Settings(fetch_private_addresses=False)
    with WebhookSender(webhook_limits(refusing)) as sender:
        with pytest.raises(WebhookError) as error:
            sender.post(receiver.url, b"{}", secret="s" * 32, idempotency_key="k", alert="a")
    assert error.value.kind == "blocked-address" and "VIGIE_WEBHOOK_PRIVATE_ADDRESSES" in str(error.value)
    assert receiver.received == []
    with pytest.raises(FetchError, match="VIGIE_WEBHOOK_PRIVATE_ADDRESSES"):
        validate_webhook_url(receiver.url, webhook_policy(webhook_limits(refusing)))
    # Their own setting wins over the fetch one, both ways.
    assert webhook_limits(Settings(fetch_private_addresses=False, webhook_private_addresses=True)).private_addresses
    assert not webhook_limits(Settings(webhook_private_addresses=False)).private_addresses
    with WebhookSender(webhook_limits(Settings())) as sender:
        assert sender.post(receiver.url, b"{}", secret="s" * 32, idempotency_key="k", alert="a").status == 200


def test_a_service_endpoint_on_a_public_address_is_refused_on_that_address_only() -> None:
    policy = AddressPolicy(True, (ServiceEndpoint("Elasticsearch", "93.184.215.14", 9200),))
    assert policy.refusal("93.184.215.14", 9200) is not None
    assert policy.refusal("93.184.215.15", 9200) is None
    assert WebhookLimits(user_agent="x").private_addresses
