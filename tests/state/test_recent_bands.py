"""Recent band keys in the real Redis (state.recent_bands): a band is answered from Redis only when
every article written with it was recorded there, never holds more than its oldest members, and the
lookup script chooses each article's original among them as index.dedup would."""

from __future__ import annotations

import pytest
import redis

from ingest.fingerprint import RECENT_BAND_MEMBERS, THRESHOLD, RecentBandRecord, RecentCopy, bands, signature
from state.recent_bands import RecentBandAnswer, RecentBandsInRedis

pytestmark = pytest.mark.integration

#: every article _write records has this signature; its first band key is the band of these tests
SIGNATURE = signature(" ".join(f"word{number}" for number in range(40)))
BAND = bands(SIGNATURE)[0]


def _write(recent: RecentBandsInRedis, token: str, band: str, copies: list[tuple[str, int]], *,
           confirm: bool = False, dropped: tuple[str, ...] = ()) -> None:
    recent.record(RecentBandRecord(
        token=token, written=tuple(RecentCopy(article_id, ms, SIGNATURE, article_id, (band,) if not dropped else (),
                                              dropped) for article_id, ms in copies),
        confirmed=frozenset({band} if confirm else ()), refused=frozenset(), released=frozenset({band})))


def _lookup(recent: RecentBandsInRedis, token: str, article_ids: list[str] = [],  # noqa: B006 - read only
            sig: str = SIGNATURE) -> RecentBandAnswer:
    """The batch ``token`` looks up BAND for ``article_ids`` (each with signature ``sig``)."""
    return recent.lookup(token, [BAND], [(article_id, sig) for article_id in article_ids],
                         candidates=20, threshold=THRESHOLD)


def _full_band(recent: RecentBandsInRedis) -> None:
    """BAND born, confirmed, and written by more articles than it keeps."""
    first = _lookup(recent, "t0", ["a00"])
    assert first.reserved == {BAND}
    _write(recent, "t0", BAND, [("a00", 1000)], confirm=True)
    for number in range(1, RECENT_BAND_MEMBERS + 4):
        _lookup(recent, f"t{number}")
        _write(recent, f"t{number}", BAND, [(f"a{number:02d}", 1000 + number)])


def test_a_band_keeps_its_oldest_members_and_is_known_only_once_confirmed_and_not_in_flight(
        redis_client: redis.Redis) -> None:
    recent = RecentBandsInRedis(redis_client, "p", 3600)
    first = _lookup(recent, "t0", ["a00"])
    assert first.reserved == {BAND} and not first.known and not first.best
    assert not redis_client.exists(f"vigie:dup:p:pending:{BAND}")  # its "0" is the reserver's mark
    again = _lookup(recent, "tx")  # reserved, not confirmed: Elasticsearch answers
    assert not again.known and not again.reserved
    _write(recent, "t0", BAND, [("a00", 1000)], confirm=True)
    assert not _lookup(recent, "ty").known  # "tx" still in flight
    _write(recent, "tx", BAND, [("a01", 1001)])
    _write(recent, "ty", BAND, [])
    full_store = RecentBandsInRedis(redis_client, "q", 3600)
    _full_band(full_store)
    full = _lookup(full_store, "tz", ["new"])
    assert full.known == {BAND}
    assert full_store.band_members(BAND) == tuple((f"a{number:02d}", 1000 + number)
                                                  for number in range(RECENT_BAND_MEMBERS))
    assert full.best == {"new": "a00"}  # every member is as similar: the oldest is the original
    done = _lookup(recent, "tw", ["a00"])
    assert done.known == {BAND} and recent.band_members(BAND) == (("a00", 1000), ("a01", 1001))
    assert done.best == {"a00": "a01"} and done.previous == {"a00": SIGNATURE}  # never itself
    assert 0 < redis_client.pttl(f"vigie:dup:p:band:{BAND}") <= 3600 * 1000


def test_the_script_chooses_the_most_similar_of_the_oldest_candidates(redis_client: redis.Redis) -> None:
    """Among the oldest 20 candidates: the most similar from THRESHOLD on, the oldest on a tie (ties of
    indexed_at by article id, byte by byte), and nothing below THRESHOLD or beyond the 20th."""
    recent = RecentBandsInRedis(redis_client, "s", 3600)
    _lookup(recent, "t0")
    values = [SIGNATURE[i: i + 8] for i in range(0, len(SIGNATURE), 8)]

    def changed(count: int) -> str:  # SIGNATURE with its last ``count`` values changed (BAND kept)
        return "".join(values[:64 - count]) + "".join(f"{number:08x}" for number in range(count))

    def write(token: str, article_id: str, ms: int, sig: str) -> None:
        recent.record(RecentBandRecord(token=token, written=(RecentCopy(article_id, ms, sig, f"c-{article_id}",
                                                                        (BAND,)),),
                                       # only the batch that reserved the band confirms it
                                       confirmed=frozenset({BAND} if token == "t0" else ()), refused=frozenset(),
                                       released=frozenset({BAND})))

    write("t0", "m-far", 1000, changed(30))  # similarity 34/64 < THRESHOLD
    for number, (article_id, ms, count) in enumerate([("m-b", 2000, 10), ("m-a", 2000, 10), ("m-c", 1500, 20)]):
        _lookup(recent, f"w{number}")
        write(f"w{number}", article_id, ms, changed(count))
    answer = _lookup(recent, "q", ["new"])
    assert answer.best == {"new": "c-m-a"}  # 54/64, tied with m-b at the same moment: "m-a" < "m-b"
    _write(recent, "q", BAND, [])  # the batch written: no longer in flight
    # 16 newer members as similar as m-c: the 20 oldest; then an identical one, the 21st, never a candidate
    for number in range(16):
        _lookup(recent, f"x{number}")
        write(f"x{number}", f"n{number:02d}", 3000 + number, changed(20))
    _lookup(recent, "y")
    write("y", "same", 9000, SIGNATURE)
    assert recent.band_members(BAND)[-1] == ("same", 9000)
    assert _lookup(recent, "q2", ["new"]).best == {"new": "c-m-a"}
    _write(recent, "q2", BAND, [])
    assert _lookup(recent, "q3", ["new"], sig=changed(40)).best == {}  # nothing similar enough


@pytest.mark.parametrize("where", ["first", "last"])
def test_a_candidate_at_the_threshold_is_chosen_and_one_value_under_it_is_not(redis_client: redis.Redis,
                                                                              where: str) -> None:
    """The script stops comparing a candidate once it cannot reach the score to beat; one that can only
    reach it exactly is still compared to the end (from THRESHOLD on a candidate is chosen), wherever
    its differing values are."""
    values = [SIGNATURE[i: i + 8] for i in range(0, len(SIGNATURE), 8)]
    edge = next(count for count in range(64) if (64 - count - 1) / 64 < THRESHOLD)  # the most that may differ

    def changed(count: int) -> str:  # SIGNATURE with ``count`` values changed, at its start or end (BAND kept)
        if where == "last":
            return "".join(values[:64 - count]) + "".join(f"{number:08x}" for number in range(count))
        kept = "".join(values[:4])  # BAND is the first values' band
        return kept + "".join(f"{number:08x}" for number in range(count)) + "".join(values[4 + count:])

    for namespace, count, expected in [("e1", edge, {"new": "c-m"}), ("e2", edge + 1, {})]:
        recent = RecentBandsInRedis(redis_client, f"{namespace}{where}", 3600)
        _lookup(recent, "t0")
        recent.record(RecentBandRecord(token="t0", written=(RecentCopy("m", 1000, changed(count), "c-m", (BAND,)),),
                                       confirmed=frozenset({BAND}), refused=frozenset(), released=frozenset({BAND})))
        assert (64 - count) / 64 >= THRESHOLD if expected else (64 - count) / 64 < THRESHOLD
        assert _lookup(recent, "q", ["new"]).best == expected


@pytest.mark.parametrize("how", ["re-delivered", "changed"])
def test_a_full_band_whose_member_moves_or_leaves_is_left_to_elasticsearch(redis_client: redis.Redis,
                                                                           how: str) -> None:
    """A member re-written later (re-delivered) or without the band (changed text) could bring back an
    article the full set dropped: the band is forgotten, never answered incompletely."""
    recent = RecentBandsInRedis(redis_client, "p", 3600)
    _full_band(recent)
    _lookup(recent, "t-again", ["a03"])
    if how == "re-delivered":
        _write(recent, "t-again", BAND, [("a03", 5000)])
    else:
        _write(recent, "t-again", BAND, [("a03", 5000)], dropped=(BAND,))
    assert redis_client.zcard(f"vigie:dup:p:band:{BAND}") == 0
    after = _lookup(recent, "t-after")
    # not known: the next batch reserves it anew, and Elasticsearch, holding its articles, refuses it
    assert BAND not in after.known and after.reserved == {BAND}


def test_a_band_not_yet_full_follows_its_members_exactly(redis_client: redis.Redis) -> None:
    recent = RecentBandsInRedis(redis_client, "p", 3600)
    _lookup(recent, "t0")
    _write(recent, "t0", BAND, [("a1", 1000), ("a2", 1000), ("a3", 1002)], confirm=True)
    _lookup(recent, "t1")
    _write(recent, "t1", BAND, [("a1", 3000)])  # re-delivered: now the newest
    _lookup(recent, "t2")
    _write(recent, "t2", BAND, [("a2", 3001)], dropped=(BAND,))  # changed: no longer in the band
    known = _lookup(recent, "t3", ["new"])
    assert known.known == {BAND} and recent.band_members(BAND) == (("a3", 1002), ("a1", 3000))
    assert known.best == {"new": "a3"}


def test_a_member_whose_record_expired_leaves_its_band_to_elasticsearch(redis_client: redis.Redis) -> None:
    recent = RecentBandsInRedis(redis_client, "e", 3600)
    _lookup(recent, "t0")
    _write(recent, "t0", BAND, [("a1", 1000), ("a2", 1001)], confirm=True)
    redis_client.delete("vigie:dup:e:doc:a1")
    answer = _lookup(recent, "t1", ["new"])
    assert BAND not in answer.known and not answer.reserved and answer.best == {}


def test_a_band_whose_reserver_never_records_stays_with_elasticsearch(redis_client: redis.Redis) -> None:
    """The batch that reserved a band died before recording its write: other batches come and go, the
    band stays busy (Elasticsearch answers) until its reservation expires, then is reserved anew."""
    recent = RecentBandsInRedis(redis_client, "d", 1)
    assert _lookup(recent, "dead").reserved == {BAND}
    for token in ("t1", "t2"):
        answer = _lookup(recent, token, ["new"])
        assert not answer.known and not answer.reserved and answer.best == {}
        _write(recent, token, BAND, [(f"a-{token}", 1000)])
    assert not redis_client.exists(f"vigie:dup:d:pending:{BAND}")  # their tokens released
    assert not _lookup(recent, "t3").known
    redis_client.delete(f"vigie:dup:d:born:{BAND}")  # what its expiry does
    assert _lookup(recent, "t4").reserved == {BAND}


def _reference_band(writes: list[list[tuple[str, int]]]) -> tuple[tuple[str, int], ...] | None:
    """What the band holds after ``writes``, article by article as the record script defines it (None:
    forgotten): a new member enters and the set keeps its RECENT_BAND_MEMBERS oldest (score, then id);
    a member re-written with another score moves, unless the set is full (the band is forgotten)."""
    members: dict[str, int] = {}
    for write in writes:
        for article_id, ms in write:
            if article_id not in members:
                members[article_id] = ms
                if len(members) > RECENT_BAND_MEMBERS:
                    del members[max(members, key=lambda member: (members[member], member.encode()))]
            elif members[article_id] != ms:
                if len(members) >= RECENT_BAND_MEMBERS:
                    return None
                members[article_id] = ms
    return tuple(sorted(members.items(), key=lambda item: (item[1], item[0].encode())))


@pytest.mark.parametrize("seed", range(6))
def test_writes_of_many_articles_leave_a_band_as_article_by_article_would(redis_client: redis.Redis,
                                                                           seed: int) -> None:
    """The record script reads a band once per write and skips an article a full set would drop at
    once: the set ends as the article-by-article definition says, ties, re-deliveries and a band
    forgotten included (random writes of up to 40 articles, scores with ties, ids re-used)."""
    import random

    rng = random.Random(seed)
    recent = RecentBandsInRedis(redis_client, f"m{seed}", 3600)
    assert _lookup(recent, "t-born").reserved == {BAND}
    _write(recent, "t-born", BAND, [], confirm=True)
    writes: list[list[tuple[str, int]]] = []
    given: dict[str, int] = {}
    for number in range(12):
        write = []
        for _ in range(rng.randrange(1, 40)):
            chance = rng.random()
            if given and chance < 0.1:  # re-delivered as it was
                article_id = rng.choice(sorted(given))
            elif given and chance < 0.1 + (0.02 if seed % 2 else 0.0):  # re-delivered later
                article_id = rng.choice(sorted(given))
                given[article_id] += 1 + rng.randrange(100)
            else:  # new, its time among the others' (ties included)
                article_id = f"a{rng.randrange(10 ** 6):06d}"  # ids in no order (ties go by id)
                given[article_id] = 1000 + rng.randrange(0, 300, 3) + 20 * number
            write.append((article_id, given[article_id]))
        _write(recent, f"t{number}", BAND, write)
        writes.append(write)
        expected = _reference_band(writes)
        if expected is None:  # forgotten: its keys are gone, and nothing is added to it afterwards
            assert redis_client.zcard(f"vigie:dup:m{seed}:band:{BAND}") == 0
            assert not redis_client.exists(f"vigie:dup:m{seed}:born:{BAND}")
            break
        assert recent.band_members(BAND) == expected, number
    assert 0 < redis_client.pttl(f"vigie:dup:m{seed}:band:{BAND}") <= 3600 * 1000 or expected is None
