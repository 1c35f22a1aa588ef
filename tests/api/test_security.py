"""The pieces of vigie.api.security and vigie.api.token, without a server."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from conf.settings import Settings
from vigie.api.rate_limit import TokenBucket
from vigie.api.security import allowed_hosts
from vigie.api.token import TokenError, api_token, token_path


def test_a_token_is_generated_once_private_and_then_reused(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    first = api_token(settings)
    path = token_path(settings.home)
    assert first.source == str(path) and len(first.value) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert api_token(settings).value == first.value
    assert "value" not in repr(first) and first.value not in repr(first)
    path.chmod(0o644)
    assert api_token(settings).value == first.value and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_configured_token_wins_and_must_be_long_enough(tmp_path: Path) -> None:
    token = api_token(Settings(home=tmp_path, api_token="s3cret-s3cret-s3cret"))
    assert token.source == "VIGIE_API_TOKEN" and token.matches("s3cret-s3cret-s3cret")
    assert not token.matches("s3cret-s3cret-s3cre") and not token.matches("") and not token.matches("é" * 20)
    assert not token_path(tmp_path).exists()
    with pytest.raises(TokenError, match="at least 16"):
        api_token(Settings(home=tmp_path, api_token="short"))
    assert api_token(Settings(home=tmp_path, api_token="  ")).source == str(token_path(tmp_path))  # blank: unset


def test_an_unusable_token_file_is_refused(tmp_path: Path) -> None:
    token_path(tmp_path).write_text("tiny\n")
    os.chmod(token_path(tmp_path), 0o600)
    with pytest.raises(TokenError, match="delete it"):
        api_token(Settings(home=tmp_path))


def test_token_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(per_minute=6, burst=2, clock=lambda: now[0])
    assert bucket.take("a") == 0 and bucket.take("a") == 0
    assert bucket.take("a") == pytest.approx(10.0)  # 6 a minute: one every 10 s
    assert bucket.take("b") == 0  # per client
    now[0] = 5.0
    assert bucket.take("a") == pytest.approx(5.0)
    now[0] = 10.0
    assert bucket.take("a") == 0 and bucket.take("a") > 0
    now[0] = 1000.0
    assert bucket.take("a") == 0 and bucket.take("a") == 0 and bucket.take("a") > 0  # never more than the burst


def test_token_bucket_forgets_idle_clients_rather_than_grow() -> None:
    now = [0.0]
    bucket = TokenBucket(per_minute=60, burst=1, clock=lambda: now[0])
    bucket.MAX_CLIENTS = 3
    for client in ("a", "b", "c"):
        bucket.take(client)
    now[0] = 10.0
    bucket.take("d")
    assert set(bucket._buckets) == {"d"}


def test_allowed_hosts() -> None:
    assert "localhost" in allowed_hosts("127.0.0.1", ()) and "127.0.0.1" in allowed_hosts("127.0.0.1", ())
    assert allowed_hosts("0.0.0.0", ()) is None  # listening everywhere: the person chose the names
    assert allowed_hosts("0.0.0.0", ("vigie.lan",)) == ["vigie.lan"]
