"""Recent band keys in the real Redis (state.recent_bands): a band is answered from Redis only when
every article written with it was recorded there, and never holds more than its oldest members."""

from __future__ import annotations

import pytest
import redis

from ingest.fingerprint import RECENT_BAND_MEMBERS, RecentBandRecord, RecentCopy
from state.recent_bands import RecentBandsInRedis

pytestmark = pytest.mark.integration


def _write(recent: RecentBandsInRedis, token: str, band: str, copies: list[tuple[str, int]], *,
           confirm: bool = False, dropped: tuple[str, ...] = ()) -> None:
    recent.record(RecentBandRecord(
        token=token, written=tuple(RecentCopy(article_id, ms, "ab" * 8, article_id, (band,) if not dropped else (),
                                              dropped) for article_id, ms in copies),
        confirmed=frozenset({band} if confirm else ()), refused=frozenset(), released=frozenset({band})))


def _full_band(recent: RecentBandsInRedis) -> None:
    """Band "0:b" born, confirmed, and written by more articles than it keeps."""
    first = recent.lookup("t0", ["0:b"], ["a00"])
    assert first is not None and first.reserved == {"0:b"}
    _write(recent, "t0", "0:b", [("a00", 1000)], confirm=True)
    for number in range(1, RECENT_BAND_MEMBERS + 4):
        assert recent.lookup(f"t{number}", ["0:b"], []) is not None
        _write(recent, f"t{number}", "0:b", [(f"a{number:02d}", 1000 + number)])


def test_a_band_keeps_its_oldest_members_and_is_known_only_once_confirmed_and_not_in_flight(
        redis_client: redis.Redis) -> None:
    recent = RecentBandsInRedis(redis_client, "p", 3600)
    first = recent.lookup("t0", ["0:b"], ["a00"])
    assert first is not None and first.reserved == {"0:b"} and not first.known
    again = recent.lookup("tx", ["0:b"], [])  # reserved, not confirmed: Elasticsearch answers
    assert again is not None and not again.known and not again.reserved
    _write(recent, "t0", "0:b", [("a00", 1000)], confirm=True)
    assert recent.lookup("ty", ["0:b"], []).known == {}  # type: ignore[union-attr]  # "tx" still in flight
    _write(recent, "tx", "0:b", [("a01", 1001)])
    _write(recent, "ty", "0:b", [])
    _full_band(RecentBandsInRedis(redis_client, "q", 3600))
    full = RecentBandsInRedis(redis_client, "q", 3600).lookup("tz", ["0:b"], [])
    assert full is not None
    assert full.known["0:b"] == tuple((f"a{number:02d}", 1000 + number) for number in range(RECENT_BAND_MEMBERS))
    assert set(full.documents) == {f"a{number:02d}" for number in range(RECENT_BAND_MEMBERS)}
    done = recent.lookup("tw", ["0:b"], [])
    assert done is not None and done.known["0:b"] == (("a00", 1000), ("a01", 1001))
    assert 0 < redis_client.pttl("vigie:dup:p:band:0:b") <= 3600 * 1000


@pytest.mark.parametrize("how", ["re-delivered", "changed"])
def test_a_full_band_whose_member_moves_or_leaves_is_left_to_elasticsearch(redis_client: redis.Redis,
                                                                           how: str) -> None:
    """A member re-written later (re-delivered) or without the band (changed text) could bring back an
    article the full set dropped: the band is forgotten, never answered incompletely."""
    recent = RecentBandsInRedis(redis_client, "p", 3600)
    _full_band(recent)
    assert recent.lookup("t-again", ["0:b"], ["a03"]) is not None
    if how == "re-delivered":
        _write(recent, "t-again", "0:b", [("a03", 5000)])
    else:
        _write(recent, "t-again", "0:b", [("a03", 5000)], dropped=("0:b",))
    assert redis_client.zcard("vigie:dup:p:band:0:b") == 0
    after = recent.lookup("t-after", ["0:b"], [])
    # not known: the next batch reserves it anew, and Elasticsearch, holding its articles, refuses it
    assert after is not None and "0:b" not in after.known and after.reserved == {"0:b"}


def test_a_band_not_yet_full_follows_its_members_exactly(redis_client: redis.Redis) -> None:
    recent = RecentBandsInRedis(redis_client, "p", 3600)
    assert recent.lookup("t0", ["0:b"], []) is not None
    _write(recent, "t0", "0:b", [("a1", 1000), ("a2", 1000), ("a3", 1002)], confirm=True)
    assert recent.lookup("t1", ["0:b"], []) is not None
    _write(recent, "t1", "0:b", [("a1", 3000)])  # re-delivered: now the newest
    assert recent.lookup("t2", ["0:b"], []) is not None
    _write(recent, "t2", "0:b", [("a2", 3001)], dropped=("0:b",))  # changed: no longer in the band
    known = recent.lookup("t3", ["0:b"], [])
    assert known is not None and known.known["0:b"] == (("a3", 1002), ("a1", 3000))
